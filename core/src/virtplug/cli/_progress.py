"""Progress for long waits: shown on a terminal (stderr), silent when piped."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["wait_with_progress"]

_T = TypeVar("_T")

#: Seconds before the progress line appears (quick operations print nothing).
SHOW_AFTER = 0.3
_TICK = 0.1
_SPINNER = "|/-\\"


def wait_with_progress(
    label: str,
    func: Callable[[], _T],
    *,
    limit: float | None = None,
    enabled: bool = True,
) -> _T:
    """Run *func* and, on a TTY, draw ``label... 3s/30s`` on stderr until it returns.

    The result (or exception) of *func* is passed through unchanged.
    """
    stream = sys.stderr
    if not enabled or not stream.isatty():
        return func()
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = func()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=work, name="virtplug-cli-wait", daemon=True)
    start = time.monotonic()
    worker.start()
    shown = False
    tick = 0
    while worker.is_alive():
        worker.join(_TICK)
        elapsed = time.monotonic() - start
        if worker.is_alive() and elapsed >= SHOW_AFTER:
            total = f"/{limit:g}s" if limit is not None else ""
            spin = _SPINNER[tick % len(_SPINNER)]
            stream.write(f"\r{spin} {label}... {elapsed:.0f}s{total} ")
            stream.flush()
            shown = True
            tick += 1
    if shown:
        stream.write(f"\r{' ' * (len(label) + 24)}\r")
        stream.flush()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]
