"""Run the command line: ``python -m spiral``."""

from spiral.cli import main

main()
