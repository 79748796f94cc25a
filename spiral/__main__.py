"""Run the command line: ``python -m spiral``, and the ``spiral`` command."""

from __future__ import annotations

import sys


def main() -> None:
    """Start the command line; a Ctrl-C while it is still loading is one line and exit 130."""
    try:
        from spiral.cli import main as command
    except KeyboardInterrupt:
        print("interrupted: nothing written", file=sys.stderr)
        sys.exit(130)
    command()


if __name__ == "__main__":
    main()
