"""`python -m gridmap` runs the command line."""

from gridmap.cli import main

main()
