"""The ``virtplug`` command line: virsh's commands over virtplug drivers.

``main()`` is the console script. Commands live in ``_domain``, ``_network``,
``_storage`` and ``_host``; the root group, exit codes and error policy in
``_app``. Heavy modules (the XML codec, drivers) load only when a command needs
them, so start-up stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``virtplug`` with *argv* (default: the process arguments) and exit."""
    from virtplug.cli._app import run

    sys.exit(run(argv))
