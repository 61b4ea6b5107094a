"""Lifecycle event delivery: one bus per connection, callback and iterator subscriptions.

The core emits an event for every successful operation made through virtplug
(``source='api'``); a driver that implements ``virtplug_connection_watch_events``
adds what happens outside (``source='backend'``). Each change is seen once:

- While a mutating operation on an object runs through this connection
  (:meth:`EventBus.begin` .. :meth:`EventBus.end`), backend events about that
  object are held. When the operation succeeds the core emits its API events
  first and drops the held ones (the API events stand for what the operation
  did, whatever the engine reported and whenever it reported it); when it fails
  the held events are delivered (something may really have changed).
- For :data:`OWN_GRACE` seconds after a successful operation, backend events
  about its object are still attributed to it and dropped (engines report late).
- Beyond that, a backend event that repeats, for the same object and type, an
  API event emitted within :data:`DEDUP_WINDOW` seconds is dropped.
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

__all__ = ["DEDUP_WINDOW", "OWN_GRACE", "EventBus", "Subscription"]


#: Seconds during which a backend event duplicating an API event is dropped.
DEDUP_WINDOW = 5.0

#: Seconds after a successful operation during which every backend event about
#: its object (kind, name) is attributed to the operation and dropped.
OWN_GRACE = 2.0

_Key = tuple[EventKind, str, int]
_Object = tuple[EventKind, str]


class _Acting:
    """Bookkeeping for one object with operations of this connection on it."""

    __slots__ = ("count", "held", "until")

    def __init__(self) -> None:
        self.count = 0  # operations in flight
        self.until = 0.0  # monotonic end of the grace after the last success
        self.held: list[Event] = []  # backend events that arrived while count > 0


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
        self._acting: dict[_Object, _Acting] = {}

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

    # -- operations of this connection --------------------------------------

    def begin(self, kind: EventKind, name: str) -> None:
        """A mutating operation on (*kind*, *name*) starts: hold its backend events.

        Every :meth:`begin` is paired with one :meth:`end`; operations on one
        object may overlap (they are counted).
        """
        with self._lock:
            acting = self._acting.get((kind, name))
            if acting is None:
                acting = self._acting[(kind, name)] = _Acting()
            acting.count += 1

    def end(self, kind: EventKind, name: str, ok: bool) -> None:
        """The operation begun on (*kind*, *name*) ended; call after emitting its API events.

        On success the backend events held for the object are dropped and the
        :data:`OWN_GRACE` period starts; on failure they are delivered once no
        other operation on the object is in flight (a success of that one
        would drop them).
        """
        release: list[Event] = []
        now = time.monotonic()
        with self._lock:
            acting = self._acting.get((kind, name))
            if acting is None:  # pragma: no cover - end without begin
                return
            acting.count -= 1
            if ok:
                for event in acting.held:
                    self._consume_recent((event.kind, event.name, event.type), now)
                acting.held = []
                acting.until = max(acting.until, now + OWN_GRACE)
            elif acting.count == 0:
                release, acting.held = acting.held, []
            if acting.count == 0 and acting.until <= now:
                del self._acting[(kind, name)]
            if len(self._acting) > 256:
                self._prune(now)
        for event in release:
            self._pass(event)

    def _prune(self, now: float) -> None:
        for obj in [o for o, a in self._acting.items() if a.count == 0 and a.until <= now]:
            del self._acting[obj]

    def _consume_recent(self, key: _Key, now: float) -> bool:
        """Remove the oldest API event matching *key* within :data:`DEDUP_WINDOW`, if any."""
        for i, (stamp, seen) in enumerate(self._recent):
            if seen == key and now - stamp <= DEDUP_WINDOW:
                del self._recent[i]
                return True
        return False

    # -- backend events -----------------------------------------------------

    def _from_backend(self, event: Event) -> None:
        obj = (event.kind, event.name)
        now = time.monotonic()
        with self._lock:
            acting = self._acting.get(obj)
            if acting is not None:
                if acting.count > 0:
                    acting.held.append(event)
                    return
                if now < acting.until:  # the grace after an operation of ours
                    self._consume_recent((event.kind, event.name, event.type), now)
                    return
                del self._acting[obj]
            subs = self._recipients(event, now)
        self._fan_out(event, subs)

    def _pass(self, event: Event) -> None:
        """Deliver a released backend event unless it repeats a recent API event."""
        with self._lock:
            subs = self._recipients(event, time.monotonic())
        self._fan_out(event, subs)

    def _recipients(self, event: Event, now: float) -> list[Subscription]:
        """The subscriptions to give a backend event to (none for a repeat); under the lock."""
        if self._consume_recent((event.kind, event.name, event.type), now):
            return []
        return list(self._subs)

    @staticmethod
    def _fan_out(event: Event, subs: list[Subscription]) -> None:
        for sub in subs:
            if sub._wants(event):
                sub._deliver(event)
