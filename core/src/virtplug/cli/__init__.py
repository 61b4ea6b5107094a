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
    """Run ``virtplug`` with *argv* (default: the process arguments) and exit.

    As the console script (*argv* ``None``), start-up runs with the cyclic garbage
    collector paused: importing the core, click and a driver and opening the
    connection allocate tens of thousands of long-lived objects, which the collector
    would otherwise scan again and again while they are made (about 5 ms). Once the
    connection is open, what exists is frozen (:func:`gc.freeze`) and collection
    resumes for the command itself; before exit everything is frozen again so the
    interpreter's final collection does not walk it (about 8 ms more). Nothing is
    skipped: exit handlers run and streams are flushed as usual.
    """
    from virtplug.cli import _app

    if argv is not None:
        sys.exit(_app.run(argv))
    _app.pause_gc()
    try:
        code = _app.run(argv)
    finally:
        _app.resume_gc()
        import gc

        gc.freeze()
    sys.exit(code)
