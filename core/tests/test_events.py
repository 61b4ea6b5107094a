"""Event emission by the core's wrapper and the event bus."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import virtplug
from virtplug.events import EventBus
from virtplug.models import DomainConfig, DomainEventType, Event, EventKind


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
