"""Per-call deadlines: a hung driver becomes a failure with a diagnosis, never a stuck run.

Every driver call the suite makes runs on a reusable daemon worker thread; the
caller waits at most the profile's timeout. On expiry the caller raises
:class:`DriverHung` carrying the operation, the deadline and the stack of the
hung worker (where the driver is stuck). The worker is abandoned (daemon
threads never block interpreter exit). An operation that hung once is not
called again in the run, and after :data:`TRIP_AFTER` hung operations on one
target every further call fails at once, so a dead backend costs seconds, not
the number of checks times the timeout.
"""

from __future__ import annotations

import faulthandler
import pathlib
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import IO, Any, TypeVar

__all__ = ["TRIP_AFTER", "WATCHDOG", "ConformanceFailure", "Deadline", "DriverHung", "Watchdog"]

_T = TypeVar("_T")

#: Hung operations after which a target fails every further call at once.
TRIP_AFTER = 5


class ConformanceFailure(AssertionError):  # noqa: N818 - a failure, not an error
    """A conformance violation found by the suite.

    :ivar operation: the operation at fault, when the check knows it (the
        certificate attributes the failure to that operation only).
    """

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.operation = operation


class DriverHung(ConformanceFailure):
    """A driver call did not return within its deadline."""


class Watchdog:
    """The last resort against a frozen process.

    A driver call that blocks while holding the GIL (a C binding that does not
    release it) stops every Python thread, so the per-call deadline can never fire.

    Armed, the watchdog uses :func:`faulthandler.dump_traceback_later`, whose timer
    runs in C without the GIL: every driver call re-arms it, and when no call starts
    or ends for *seconds*, the tracebacks of all threads are written to *path* and
    the process exits with status 1. The CLI runs the suite in a child process and
    turns that into a failure naming the check and the stuck call.
    """

    def __init__(self) -> None:
        self._file: IO[str] | None = None
        self.seconds = 0.0
        self.path: pathlib.Path | None = None
        self._last = 0.0

    def arm(self, path: pathlib.Path, seconds: float) -> None:
        """Start watching; tracebacks go to *path*."""
        self.disarm()
        self.path = path
        self.seconds = seconds
        self._file = path.open("w", encoding="utf-8")
        self._last = 0.0
        self.kick()

    def kick(self) -> None:
        """Restart the countdown (progress was made); at most once a second (it is cheap)."""
        now = time.monotonic()
        if self._file is not None and now - self._last >= 1.0:
            self._last = now
            faulthandler.dump_traceback_later(self.seconds, exit=True, file=self._file)

    def disarm(self) -> None:
        """Stop watching."""
        if self._file is not None:
            faulthandler.cancel_dump_traceback_later()
            self._file.close()
            self._file = None


#: The process-wide watchdog (armed by the plugin for a conformance run).
WATCHDOG = Watchdog()


class _Worker:
    """A long-lived daemon thread running one call at a time."""

    def __init__(self, name: str) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            job()

    def submit(self, job: Callable[[], None]) -> None:
        """Queue *job* on this worker."""
        self._jobs.put(job)

    def stop(self) -> None:
        """End the worker after its current job."""
        self._jobs.put(None)


class Deadline:
    """Runs callables under a deadline; one instance per target.

    Calls run on a pool of reusable daemon worker threads (a hung worker is
    abandoned and never reused).

    :ivar timeout: seconds each call may take.
    :ivar hung: the operations whose calls hung, in order.
    """

    def __init__(self, driver: str, timeout: float) -> None:
        self.driver = driver
        self.timeout = timeout
        self.hung: list[str] = []
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._count = 0

    @property
    def tripped(self) -> bool:
        """True once :data:`TRIP_AFTER` operations have hung."""
        return len(self.hung) >= TRIP_AFTER

    def _worker(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._count += 1
            return _Worker(f"vpc-{self.driver}-worker-{self._count}")

    def run(self, operation: str, func: Callable[[], _T]) -> _T:
        """Call *func* on a worker thread; raise :class:`DriverHung` after the timeout.

        An operation that hung once fails at once afterwards; after
        :data:`TRIP_AFTER` hung operations every call fails at once.
        """
        if self.tripped or operation in self.hung:
            first = operation if operation in self.hung else self.hung[0]
            raise DriverHung(
                f"driver '{self.driver}' is hung ({first} never returned within "
                f"{self.timeout:g} s); {operation} not attempted",
                operation=operation,
            )
        box: dict[str, Any] = {}
        done = threading.Event()

        def job() -> None:
            try:
                box["result"] = func()
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        worker = self._worker()
        WATCHDOG.kick()
        worker.submit(job)
        finished = done.wait(self.timeout)
        WATCHDOG.kick()
        if not finished:
            frame = sys._current_frames().get(worker.thread.ident or -1)
            stack = "".join(traceback.format_stack(frame)) if frame is not None else "(no stack)"
            with self._lock:
                self.hung.append(operation)
            raise DriverHung(
                f"driver '{self.driver}' did not return from {operation} within "
                f"{self.timeout:g} s (hung driver). Where it is stuck:\n{stack}",
                operation=operation,
            )
        with self._lock:
            self._idle.append(worker)
        if "error" in box:
            error: BaseException = box["error"]
            raise error
        result: _T = box["result"]
        return result

    def close(self) -> None:
        """Stop the idle workers (hung ones are left to die with the process)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
