"""Lifecycle events (API and backend) and read-only connections."""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pytest
from vt_helpers import domain_xml, expect, network_xml, pool_xml

import virtplug
from virtplug import ErrorCode
from virtplug.hookspecs import MUTATING
from virtplug.models import (
    DomainConfig,
    Event,
    FilesystemConfig,
    NetworkConfig,
    PoolConfig,
    SnapshotConfig,
    VolumeConfig,
)
from virtplug_test import _backend

E = ErrorCode


def _summary(events: list[Event]) -> list[tuple[str, str, str, int]]:
    return [(e.kind.value, e.name, e.type_name, e.detail) for e in events]


def test_domain_events_in_order(conn: virtplug.Connection) -> None:
    with conn.events(kinds=["domain"]) as sub:
        dom = conn.define_domain(domain_xml("ev"))
        conn.define_domain(domain_xml("ev", uuid=dom.uuid, vcpus=2))
        dom.start()
        dom.suspend()
        dom.resume()
        dom.shutdown()
        dom.start()
        dom.destroy()
        dom.undefine()
        events = sub.drain()
    assert all(e.source == "api" for e in events)
    assert all(e.uuid == dom.uuid for e in events)
    assert _summary(events) == [
        ("domain", "ev", "DEFINED", 0),
        ("domain", "ev", "DEFINED", 1),
        ("domain", "ev", "STARTED", 0),
        ("domain", "ev", "SUSPENDED", 0),
        ("domain", "ev", "RESUMED", 0),
        ("domain", "ev", "SHUTDOWN", 0),
        ("domain", "ev", "STOPPED", 0),
        ("domain", "ev", "STARTED", 0),
        ("domain", "ev", "STOPPED", 1),
        ("domain", "ev", "UNDEFINED", 0),
    ]


def test_failed_operation_emits_nothing(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    with conn.events() as sub:
        with pytest.raises(virtplug.VirtError):
            dom.start()
        with pytest.raises(virtplug.VirtError):
            dom.resume()
        dom.suspend()
        dom.suspend()  # no change, no event
        assert _summary(sub.drain()) == [("domain", "test", "SUSPENDED", 0)]


def test_other_connection_changes_arrive_as_backend_events(
    conn: virtplug.Connection, opener: Callable[..., virtplug.Connection]
) -> None:
    other = opener()
    received: list[Event] = []
    with conn.events(received.append):
        dom = other.define_domain(domain_xml("remote"))
        dom.start()
        dom.destroy()
        other.create_network(network_xml("rn", bridge="vtrn0")).stop()
        other.create_pool(pool_xml("rp", "/srv/rp")).stop()
        conn.lookup_domain("test").suspend()  # our own change: an API event only
    assert [e.source for e in received[:-1]] == ["backend"] * (len(received) - 1)
    assert _summary(received) == [
        ("domain", "remote", "DEFINED", 0),
        ("domain", "remote", "STARTED", 0),
        ("domain", "remote", "STOPPED", 1),
        ("network", "rn", "STARTED", 0),
        ("network", "rn", "STOPPED", 0),
        ("pool", "rp", "STARTED", 0),
        ("pool", "rp", "STOPPED", 0),
        ("domain", "test", "SUSPENDED", 0),
    ]
    assert received[-1].source == "api"


def test_watcher_stops_on_unsubscribe(
    conn: virtplug.Connection, opener: Callable[..., virtplug.Connection]
) -> None:
    other = opener()
    received: list[Event] = []
    sub = conn.events(received.append)
    sub.close()
    other.define_domain(domain_xml("quiet"))
    assert received == []


def test_network_and_pool_events(conn: virtplug.Connection) -> None:
    with conn.events() as sub:
        net = conn.define_network(network_xml("n", bridge="vtn0"))
        net.start()
        net.stop()
        net.undefine()
        pool = conn.define_pool(pool_xml("p", "/srv/p"))
        pool.build()
        pool.start()
        pool.stop()
        pool.delete()
        pool.undefine()
        events = sub.drain()
    assert [(e.kind.value, e.type_name) for e in events] == [
        ("network", "DEFINED"),
        ("network", "STARTED"),
        ("network", "STOPPED"),
        ("network", "UNDEFINED"),
        ("pool", "DEFINED"),
        ("pool", "CREATED"),
        ("pool", "STARTED"),
        ("pool", "STOPPED"),
        ("pool", "DELETED"),
        ("pool", "UNDEFINED"),
    ]


# ---------------------------------------------------------------------------
# read-only connections (the core's wrapper, exercised through this driver)
# ---------------------------------------------------------------------------

_DOM = DomainConfig(name="ro", uuid=str(uuidlib.uuid4()))
_FS = FilesystemConfig(type="mount", source="/a", target="/a")
_ARGS: dict[str, dict[str, Any]] = {
    "domain.define": {"config": _DOM},
    "domain.create": {"config": _DOM},
    "domain.shutdown": {"name": "test", "timeout": None},
    "domain.set_memory": {"name": "test", "kib": 1024},
    "domain.set_vcpus": {"name": "test", "count": 1},
    "domain.set_autostart": {"name": "test", "autostart": True},
    "domain.attach_device": {"name": "test", "device": _FS},
    "domain.detach_device": {"name": "test", "device": _FS},
    "domain.exec": {"name": "test", "argv": ("true",), "timeout": None},
    "domain.snapshot_create": {"name": "test", "snapshot": SnapshotConfig(name="s")},
    "domain.snapshot_revert": {"name": "test", "snapshot": "s"},
    "domain.snapshot_delete": {"name": "test", "snapshot": "s"},
    "network.define": {"config": NetworkConfig(name="n", uuid=str(uuidlib.uuid4()))},
    "network.create": {"config": NetworkConfig(name="n", uuid=str(uuidlib.uuid4()))},
    "network.set_autostart": {"name": "default", "autostart": True},
    "pool.define": {"config": PoolConfig(name="p", uuid=str(uuidlib.uuid4()), target="/p")},
    "pool.create": {"config": PoolConfig(name="p", uuid=str(uuidlib.uuid4()), target="/p")},
    "pool.set_autostart": {"name": "default-pool", "autostart": True},
    "volume.create": {"pool": "default-pool", "config": VolumeConfig(name="v", capacity=1)},
    "volume.clone": {"pool": "default-pool", "name": "v", "new_name": "w"},
    "volume.delete": {"pool": "default-pool", "name": "v"},
}


def _args(op: str) -> dict[str, Any]:
    if op in _ARGS:
        return _ARGS[op]
    obj = op.split(".")[0]
    return {"name": {"domain": "test", "network": "default", "pool": "default-pool"}[obj]}


@pytest.mark.parametrize("op", sorted(MUTATING))
def test_readonly_refuses_every_mutating_operation(
    op: str, opener: Callable[..., virtplug.Connection]
) -> None:
    ro = opener(readonly=True)
    backend = _backend._registry[("default", False)]
    doc = backend.document()
    expect(E.OPERATION_DENIED, f"read only access prevents {op}", lambda: ro._call(op, **_args(op)))
    assert backend.document() == doc


def test_readonly_still_reads(opener: Callable[..., virtplug.Connection]) -> None:
    ro = opener(readonly=True)
    assert ro.readonly
    assert [d.name for d in ro.list_domains()] == ["test"]
    dom = ro.lookup_domain("test")
    assert dom.info().vcpus == 2
    with pytest.raises(virtplug.VirtError) as info:
        dom.destroy()
    assert info.value.code == E.OPERATION_DENIED
    assert info.value.message == "read only access prevents domain.destroy"
    assert dom.is_active()
