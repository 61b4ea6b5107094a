"""Per-call deadlines: a hung driver becomes a failure with a diagnosis, never a stuck run.

Every driver call the suite makes runs in a daemon worker thread; the caller
waits at most the profile's timeout. On expiry the caller raises
:class:`DriverHung` carrying the operation, the deadline and the stack of the
hung worker (where the driver is stuck). The worker is abandoned (daemon
threads never block interpreter exit). After :data:`TRIP_AFTER` hung calls on
one target, the target is tripped: further calls fail at once, so a dead
backend costs seconds, not the number of tests times the timeout.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["TRIP_AFTER", "ConformanceFailure", "Deadline", "DriverHung"]

_T = TypeVar("_T")

#: Hung calls after which a target fails every further call at once.
TRIP_AFTER = 3


class ConformanceFailure(AssertionError):
    """A conformance violation found by the suite.

    :ivar operation: the operation at fault, when the check knows it (the
        certificate attributes the failure to that operation only).
    """

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class DriverHung(ConformanceFailure):
    """A driver call did not return within its deadline."""


class Deadline:
    """Runs callables under a deadline; one instance per target.

    :ivar timeout: seconds each call may take.
    :ivar hung: descriptions of the calls that hung, in order.
    """

    def __init__(self, driver: str, timeout: float) -> None:
        self.driver = driver
        self.timeout = timeout
        self.hung: list[str] = []
        self._lock = threading.Lock()

    @property
    def tripped(self) -> bool:
        """True once :data:`TRIP_AFTER` calls have hung."""
        return len(self.hung) >= TRIP_AFTER

    def run(self, operation: str, func: Callable[[], _T]) -> _T:
        """Call *func* in a worker thread; raise :class:`DriverHung` after the timeout."""
        if self.tripped:
            raise DriverHung(
                f"driver '{self.driver}' is hung ({len(self.hung)} calls never returned, "
                f"first: {self.hung[0]}); {operation} not attempted",
                operation=operation,
            )
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["result"] = func()
            except BaseException as exc:
                box["error"] = exc

        worker = threading.Thread(
            target=work, name=f"vpc-{self.driver}-{operation}", daemon=True
        )
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            frame = sys._current_frames().get(worker.ident or -1)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no stack)"
            with self._lock:
                self.hung.append(operation)
            raise DriverHung(
                f"driver '{self.driver}' did not return from {operation} within "
                f"{self.timeout:g} s (hung driver). Where it is stuck:\n{stack}",
                operation=operation,
            )
        if "error" in box:
            error: BaseException = box["error"]
            raise error
        result: _T = box["result"]
        return result
