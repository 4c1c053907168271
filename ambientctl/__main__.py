"""`python -m ambientctl`."""

from ambientctl.cli import main

main()
