"""Event emission by the core's wrapper and the event bus."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import MiniDriver

import virtplug
from virtplug import errors, events, hookimpl
from virtplug.events import EventBus
from virtplug.models import (
    DomainConfig,
    DomainEventType,
    DomainRef,
    DomainState,
    Event,
    EventKind,
)
from virtplug.testing import registered_driver


def _cfg(name: str = "web") -> DomainConfig:
    return DomainConfig(name=name, type="test")


def test_api_operations_emit_events_in_order(mini: virtplug.Connection) -> None:
    with mini.events() as sub:
        dom = mini.define_domain(_cfg())
        dom2 = mini.define_domain(DomainConfig(name="web", uuid=dom.uuid, type="test"))
        dom.start()
        dom.suspend()
        dom.suspend()  # already paused: no second event
        got = sub.drain()
    assert [(e.name, e.type, e.detail) for e in got] == [
        ("web", DomainEventType.DEFINED, 0),  # ADDED
        ("web", DomainEventType.DEFINED, 1),  # UPDATED
        ("web", DomainEventType.STARTED, 0),
        ("web", DomainEventType.SUSPENDED, 0),
    ]
    assert all(e.uuid == dom.uuid == dom2.uuid and e.source == "api" for e in got)
    assert got[2].type_name == "STARTED"


def test_failed_operations_emit_nothing(mini: virtplug.Connection) -> None:
    dom = mini.define_domain(_cfg())
    dom.start()
    with mini.events() as sub:
        with pytest.raises(virtplug.VirtError):
            dom.start()
        assert sub.drain() == []


def test_callback_and_filters(mini: virtplug.Connection) -> None:
    seen: list[Event] = []
    sub = mini.events(seen.append, kinds=["domain"], names=["b"])
    mini.define_domain(_cfg("a"))
    mini.define_domain(_cfg("b"))
    sub.close()
    mini.define_domain(_cfg("c"))
    assert [e.name for e in seen] == ["b"]


def test_iterator_ends_on_close(mini: virtplug.Connection) -> None:
    sub = mini.events()
    mini.define_domain(_cfg())
    out: list[Event] = []

    def consume() -> None:
        out.extend(sub)

    t = threading.Thread(target=consume)
    t.start()
    sub.close()
    t.join(5)
    assert not t.is_alive()
    assert [e.name for e in out] == ["web"]


def test_no_subscribers_no_work(mini: virtplug.Connection) -> None:
    assert not mini._d.bus.active
    mini.define_domain(_cfg())  # no lookups for events happen; nothing to observe but no error


def test_backend_duplicates_dropped_and_watcher_lifecycle() -> None:
    started: list[Any] = []
    stopped: list[bool] = []

    def start(emit: Any) -> Any:
        started.append(emit)
        return lambda: stopped.append(True)

    bus = EventBus(start)
    sub = bus.subscribe()
    assert len(started) == 1
    api = Event(EventKind.DOMAIN, "x", "u", DomainEventType.STARTED)
    bus.emit(api)
    started[0](Event(EventKind.DOMAIN, "x", "u", DomainEventType.STARTED, source="backend"))
    started[0](Event(EventKind.DOMAIN, "x", "u", DomainEventType.STOPPED, source="backend"))
    got = sub.drain()
    assert [(e.type, e.source) for e in got] == [
        (DomainEventType.STARTED, "api"),
        (DomainEventType.STOPPED, "backend"),
    ]
    second = bus.subscribe()
    assert len(started) == 1  # one watcher for all subscribers
    sub.close()
    assert stopped == []
    second.close()
    assert stopped == [True]


def test_callback_errors_do_not_break_operations(mini: virtplug.Connection) -> None:
    def bad(_e: Event) -> None:
        raise RuntimeError("subscriber bug")

    mini.events(bad)
    dom = mini.define_domain(_cfg())
    assert dom.name == "web"


# -- backend events caused by this connection's own operations ---------------


class WatchedDriver(MiniDriver):
    """MiniDriver with a watcher; its backend reports during the operation (before it returns).

    ``during`` holds the backend events ``start`` and ``create`` report while they run;
    ``seen_during`` records, at that moment, what the test's subscriber had received.
    """

    def __init__(self) -> None:
        self.emit: Callable[[Event], None] | None = None
        self.during: list[Event] = []
        self.fail = False
        self.seen: list[Event] = []  # the test's subscriber appends here
        self.seen_during: list[Event] = []

    def report(self, event: Event) -> None:
        assert self.emit is not None, "no watcher running"
        self.emit(event)

    def _act(self) -> None:
        for event in self.during:
            self.report(event)
        self.seen_during = list(self.seen)
        if self.fail:
            raise errors.OperationFailedError("the engine refused")

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: dict[str, Any], emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Keep *emit* for the test to call."""
        self.emit = emit

        def stop() -> None:
            self.emit = None

        return stop

    @hookimpl
    def virtplug_domain_start(self, conn: dict[str, Any], name: str) -> None:
        """Start, reporting ``during`` first."""
        self._act()
        MiniDriver.virtplug_domain_start(self, conn, name)

    @hookimpl
    def virtplug_domain_create(self, conn: dict[str, Any], config: DomainConfig) -> DomainRef:
        """Create a running transient domain, reporting ``during`` first."""
        self._act()
        ref = MiniDriver.virtplug_domain_define(self, conn, config)
        conn["domains"][config.name][1] = DomainState.RUNNING
        return ref


@pytest.fixture(params=["fast-path", "pluggy-chain"])
def watched(request: pytest.FixtureRequest) -> Iterator[tuple[virtplug.Connection, WatchedDriver]]:
    """A connection to WatchedDriver (fast path and pluggy chain) with one subscriber."""
    with registered_driver("watched", WatchedDriver):
        conn = virtplug.open("watched:///")
    assert conn._d._fast
    if request.param == "pluggy-chain":
        conn._d._fast = {}
    driver: WatchedDriver = conn._d.driver
    conn.events(driver.seen.append)
    yield conn, driver
    conn.close()


def _backend(name: str, type_: int, uuid: str = "") -> Event:
    return Event(EventKind.DOMAIN, name, uuid, type_, source="backend")


def _got(events: list[Event]) -> list[tuple[str, str, str]]:
    return [(e.name, e.type_name, e.source) for e in events]


def test_backend_events_during_an_operation_are_folded_into_its_api_events(
    watched: tuple[virtplug.Connection, WatchedDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, driver = watched
    monkeypatch.setattr(events, "OWN_GRACE", 3600.0)  # the late report below is within it
    # a transient create: the engine reports a create (DEFINED) and a start (STARTED)
    # before the call returns; libvirt semantics emit only STARTED
    driver.during = [_backend("t", DomainEventType.DEFINED), _backend("t", DomainEventType.STARTED)]
    conn.create_domain(_cfg("t"))
    assert driver.seen_during == []  # held while the operation ran
    driver.report(_backend("t", DomainEventType.STARTED))  # a late report, within the grace
    driver.report(_backend("t", DomainEventType.RESUMED))  # any type: it is the operation's
    assert _got(driver.seen) == [("t", "STARTED", "api")]


def test_backend_events_about_other_objects_pass_at_once(
    watched: tuple[virtplug.Connection, WatchedDriver],
) -> None:
    conn, driver = watched
    dom = conn.define_domain(_cfg("web"))
    driver.during = [_backend("other", DomainEventType.STOPPED)]
    dom.start()
    assert _got(driver.seen_during) == [("web", "DEFINED", "api"), ("other", "STOPPED", "backend")]
    assert _got(driver.seen) == [
        ("web", "DEFINED", "api"),
        ("other", "STOPPED", "backend"),
        ("web", "STARTED", "api"),
    ]


def test_a_failed_operation_delivers_the_held_events(
    watched: tuple[virtplug.Connection, WatchedDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, driver = watched
    monkeypatch.setattr(events, "OWN_GRACE", 0.0)
    dom = conn.define_domain(_cfg("web"))
    monkeypatch.setattr(events, "OWN_GRACE", 3600.0)  # would cover the STOPPED below
    driver.during = [_backend("web", DomainEventType.STARTED)]
    driver.fail = True
    with pytest.raises(errors.OperationFailedError):
        dom.start()
    assert _got(driver.seen_during) == [("web", "DEFINED", "api")]  # held during the call
    assert _got(driver.seen) == [("web", "DEFINED", "api"), ("web", "STARTED", "backend")]
    driver.report(_backend("web", DomainEventType.STOPPED))  # no grace after a failure
    assert _got(driver.seen)[-1] == ("web", "STOPPED", "backend")


def test_backend_events_after_the_grace_pass(
    watched: tuple[virtplug.Connection, WatchedDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, driver = watched
    monkeypatch.setattr(events, "OWN_GRACE", 0.01)
    dom = conn.define_domain(_cfg("web"))
    dom.start()
    time.sleep(2 * events.OWN_GRACE)
    # beyond the grace a repeat of a recent API event is still dropped (DEDUP_WINDOW) ...
    driver.report(_backend("web", DomainEventType.STARTED, dom.uuid))
    # ... and anything else is a change made outside this connection
    driver.report(_backend("web", DomainEventType.STOPPED, dom.uuid))
    assert _got(driver.seen) == [
        ("web", "DEFINED", "api"),
        ("web", "STARTED", "api"),
        ("web", "STOPPED", "backend"),
    ]
    assert conn._d.bus._acting == {}  # nothing kept once the grace is over


def test_a_folded_report_is_not_also_used_for_deduplication(
    watched: tuple[virtplug.Connection, WatchedDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, driver = watched
    monkeypatch.setattr(events, "OWN_GRACE", 0.01)
    dom = conn.define_domain(_cfg("web"))
    driver.during = [_backend("web", DomainEventType.STARTED)]
    dom.start()  # the engine's report of this start is folded into the API event
    time.sleep(2 * events.OWN_GRACE)
    driver.report(_backend("web", DomainEventType.STARTED))  # so this one is a new start
    assert _got(driver.seen) == [
        ("web", "DEFINED", "api"),
        ("web", "STARTED", "api"),
        ("web", "STARTED", "backend"),
    ]


def test_no_bookkeeping_without_subscribers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    with registered_driver("watched", WatchedDriver):
        conn = virtplug.open("watched:///")
    bus = conn._d.bus
    monkeypatch.setattr(bus, "begin", lambda *a: calls.append("begin"))
    monkeypatch.setattr(bus, "end", lambda *a, **k: calls.append("end"))
    conn.define_domain(_cfg("web")).start()
    assert calls == [] and bus._acting == {}
    conn.close()


def test_overlapping_operations_on_one_object_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(events, "OWN_GRACE", 0.0)
    emit: list[Callable[[Event], None]] = []
    bus = EventBus(lambda e: emit.append(e) or None)
    seen: list[Event] = []
    bus.subscribe(seen.append)
    bus.begin(EventKind.DOMAIN, "web")
    bus.begin(EventKind.DOMAIN, "web")
    emit[0](_backend("web", DomainEventType.SUSPENDED))
    bus.end(EventKind.DOMAIN, "web", ok=False)  # the other operation is still running
    assert seen == []
    bus.emit(Event(EventKind.DOMAIN, "web", "", DomainEventType.SUSPENDED))
    bus.end(EventKind.DOMAIN, "web", ok=True)  # it succeeded: its API event stands
    assert _got(seen) == [("web", "SUSPENDED", "api")]
    emit[0](_backend("web", DomainEventType.STOPPED))  # nothing in flight, no grace
    assert _got(seen)[-1] == ("web", "STOPPED", "backend")
    assert bus._acting == {}


def test_concurrent_operations_leave_no_bookkeeping(
    watched: tuple[virtplug.Connection, WatchedDriver], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, _driver = watched
    monkeypatch.setattr(events, "OWN_GRACE", 0.0)
    doms = [conn.define_domain(_cfg(f"d{i}")) for i in range(8)]

    for dom in doms:
        dom.start()

    def cycle(dom: virtplug.Domain) -> None:
        for _ in range(50):  # two threads per domain: successes and failures interleave
            dom.suspend()
            with contextlib.suppress(virtplug.VirtError):
                dom.start()

    threads = [threading.Thread(target=cycle, args=(d,)) for d in doms for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert conn._d.bus._acting == {}
