"""Lifecycle event delivery: one bus per connection, callback and iterator subscriptions.

The core emits an event for every successful operation made through virtplug
(``source='api'``); a driver that implements ``virtplug_connection_watch_events``
adds what happens outside (``source='backend'``). A backend event that repeats,
for the same object and type, one the core emitted within
:data:`DEDUP_WINDOW` seconds is dropped, so each change is seen once.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from virtplug.models import Event, EventKind

if TYPE_CHECKING:
    import queue

__all__ = ["DEDUP_WINDOW", "EventBus", "Subscription"]


#: Seconds during which a backend event duplicating an API event is dropped.
DEDUP_WINDOW = 5.0

_Key = tuple[EventKind, str, int]


class Subscription:
    """One subscription to a connection's events.

    Iterate over it to receive events (blocking), or pass a callback to
    ``conn.events(callback)``. Use it as a context manager, or call
    :meth:`close`, to unsubscribe.
    """

    def __init__(
        self,
        bus: EventBus,
        callback: Callable[[Event], None] | None,
        kinds: frozenset[EventKind] | None,
        names: frozenset[str] | None,
    ) -> None:
        self._bus = bus
        self._callback = callback
        self._kinds = kinds
        self._names = names
        import queue  # only subscribers need it; keeps it out of CLI start-up

        self._queue: queue.Queue[Event | None] = queue.Queue()
        self.closed = False

    def _wants(self, event: Event) -> bool:
        if self._kinds is not None and event.kind not in self._kinds:
            return False
        return self._names is None or event.name in self._names

    def _deliver(self, event: Event) -> None:
        if self._callback is not None:
            try:
                self._callback(event)
            except Exception:  # a subscriber's bug must not break the operation
                import logging

                logging.getLogger("virtplug.events").exception(
                    "event callback %r failed on %r", self._callback, event
                )
        else:
            self._queue.put(event)

    def get(self, timeout: float | None = None) -> Event | None:
        """Return the next event, or ``None`` after *timeout* seconds or when closed."""
        import queue

        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list[Event]:
        """Return every event queued so far without waiting."""
        import queue

        out: list[Event] = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return out
            if item is not None:
                out.append(item)

    def __iter__(self) -> Iterator[Event]:
        while True:
            item = self._queue.get()
            if item is None:
                return
            yield item

    def close(self) -> None:
        """Unsubscribe; an iterator over this subscription ends."""
        if not self.closed:
            self.closed = True
            self._bus._remove(self)
            self._queue.put(None)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EventBus:
    """Fans events out to subscriptions; starts the driver's watcher on demand."""

    def __init__(
        self, start_watcher: Callable[[Callable[[Event], None]], Callable[[], None] | None]
    ):
        self._lock = threading.Lock()
        self._subs: list[Subscription] = []
        self._start_watcher = start_watcher
        self._stop_watcher: Callable[[], None] | None = None
        self._recent: deque[tuple[float, _Key]] = deque(maxlen=512)

    @property
    def active(self) -> bool:
        """True while anyone is subscribed (the core skips event work otherwise)."""
        return bool(self._subs)

    def subscribe(
        self,
        callback: Callable[[Event], None] | None = None,
        *,
        kinds: Iterable[EventKind | str] | None = None,
        names: Iterable[str] | None = None,
    ) -> Subscription:
        """Add a subscription; the first one starts the driver's backend watcher."""
        kind_set = frozenset(EventKind(k) for k in kinds) if kinds is not None else None
        sub = Subscription(self, callback, kind_set, frozenset(names) if names else None)
        start = False
        with self._lock:
            self._subs.append(sub)
            start = len(self._subs) == 1 and self._stop_watcher is None
        if start:
            stop = self._start_watcher(self._from_backend)
            with self._lock:
                self._stop_watcher = stop
        return sub

    def _remove(self, sub: Subscription) -> None:
        stop = None
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)
            if not self._subs:
                stop, self._stop_watcher = self._stop_watcher, None
        if stop is not None:
            stop()

    def close(self) -> None:
        """Close every subscription and stop the watcher."""
        for sub in list(self._subs):
            sub.close()

    def emit(self, event: Event) -> None:
        """Deliver an event the core produced for an API operation."""
        with self._lock:
            self._recent.append((time.monotonic(), (event.kind, event.name, event.type)))
            subs = list(self._subs)
        for sub in subs:
            if sub._wants(event):
                sub._deliver(event)

    def _from_backend(self, event: Event) -> None:
        key = (event.kind, event.name, event.type)
        now = time.monotonic()
        with self._lock:
            for i, (stamp, seen) in enumerate(self._recent):
                if seen == key and now - stamp <= DEDUP_WINDOW:
                    del self._recent[i]
                    return
            subs = list(self._subs)
        for sub in subs:
            if sub._wants(event):
                sub._deliver(event)
