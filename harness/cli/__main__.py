"""``python -m harness.cli``: the tinyhil command line."""

from harness.cli import main

main()
