from spiral.cli import main

main()
