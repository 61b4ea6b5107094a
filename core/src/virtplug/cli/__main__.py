"""``python -m virtplug.cli``."""

from virtplug.cli import main

main()
