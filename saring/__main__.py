"""`python -m saring ...` is the `saring` command."""

from saring.cli import main

main()
