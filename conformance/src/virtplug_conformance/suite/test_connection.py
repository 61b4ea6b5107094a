"""Connection and node operations."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from virtplug import ErrorCode
from virtplug.models import Event, HostCapabilities, NodeInfo
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers

_READS: dict[str, Callable[[Any], object]] = {
    "connection.type": lambda c: c.type(),
    "connection.version": lambda c: c.version(),
    "connection.hostname": lambda c: c.hostname(),
    "connection.capabilities": lambda c: c.host_capabilities(),
    "node.info": lambda c: c.node_info(),
    "node.free_memory": lambda c: c.node_free_memory(),
}


@covers(positive=["connection.open", "connection.close"], negative=["connection.close"])
def test_open_and_close(vp: Case) -> None:
    """A second connection opens, sees the same objects, and closes; closing twice is harmless."""
    dom = vp.new_domain("shutoff")
    conn = vp.harness.open()
    try:
        vp.check(not conn.closed, "a freshly opened connection says it is closed")
        other = conn.lookup_domain(dom.name)
        vp.check(
            other.uuid == dom.uuid,
            "a second connection to the same URI sees another UUID for the same domain",
            op="connection.open",
        )
    finally:
        conn.close()
    vp.check(conn.closed, "close() did not close the connection", op="connection.close")
    conn.close()  # twice: harmless
    vp.raises(
        ErrorCode.INVALID_CONN,
        lambda: conn.list_domains(),
        op="connection.close",
        what="listing domains on a closed connection",
    )


@covers(positive=["connection.open"], negative=["connection.open"])
def test_open_readonly_refuses_mutation(vp: Case) -> None:
    """open(readonly=True) gives a connection that reads and refuses to change anything."""
    ro = vp.open(readonly=True)
    vp.check(ro.readonly, "a read-only connection does not say so", op="connection.open")
    ro.list_domains()
    vp.raises(
        ErrorCode.OPERATION_DENIED,
        lambda: ro.define_domain(vp.domain_xml(vp.name("dom"))),
        op="connection.open",
        what="defining a domain on a read-only connection",
    )


@covers(positive=["connection.is_alive"], negative=["connection.is_alive"])
def test_is_alive(vp: Case) -> None:
    """An open connection is alive; a closed one is not."""
    vp.require("connection.is_alive")
    conn = vp.harness.open()
    alive = conn._call("connection.is_alive")
    vp.check(
        alive is True, f"is_alive on an open connection gave {alive!r}", op="connection.is_alive"
    )
    conn.close()
    vp.check(not conn.is_alive(), "a closed connection says it is alive", op="connection.is_alive")


@covers(
    positive=[
        "connection.type",
        "connection.version",
        "connection.hostname",
        "connection.capabilities",
        "node.info",
        "node.free_memory",
    ],
)
def test_host_facts(vp: Case) -> None:
    """Type, version, host name, capabilities and node facts have the promised shape."""
    conn = vp.conn
    if vp.harness.supports("connection.type"):
        kind = conn.type()
        vp.check(
            isinstance(kind, str) and bool(kind), f"type() gave {kind!r}", op="connection.type"
        )
    if vp.harness.supports("connection.version"):
        version = conn.version()
        vp.check(
            isinstance(version, str) and bool(version),
            f"version() gave {version!r}",
            op="connection.version",
        )
    if vp.harness.supports("connection.hostname"):
        host = conn.hostname()
        vp.check(
            isinstance(host, str) and bool(host),
            f"hostname() gave {host!r}",
            op="connection.hostname",
        )
    if vp.harness.supports("connection.capabilities"):
        caps = conn.host_capabilities()
        vp.check(
            isinstance(caps, HostCapabilities) and bool(caps.domain_types),
            f"capabilities() gave {caps!r}: it must name the accepted domain types",
            op="connection.capabilities",
        )
        dtype = vp.domain_config(vp.name("dom")).type
        vp.check(
            dtype in caps.domain_types,
            f"the profile's domain type {dtype!r} is not among the driver's domain types "
            f"{caps.domain_types}",
            op="connection.capabilities",
        )
    if vp.harness.supports("node.info"):
        info = conn.node_info()
        vp.check(
            isinstance(info, NodeInfo) and info.cpus >= 1 and info.memory_kib > 0,
            f"node_info() gave {info!r}: cpus >= 1 and memory > 0 expected",
            op="node.info",
        )
    if vp.harness.supports("node.free_memory"):
        free = conn.node_free_memory()
        vp.check(
            isinstance(free, int) and free >= 0,
            f"node_free_memory() gave {free!r}",
            op="node.free_memory",
        )
        if vp.harness.supports("node.info"):
            total = conn.node_info().memory_kib * 1024
            vp.check(
                free <= total,
                f"free memory {free} B exceeds total memory {total} B",
                op="node.free_memory",
            )


@covers(
    negative=[
        "connection.type",
        "connection.version",
        "connection.hostname",
        "connection.capabilities",
        "node.info",
        "node.free_memory",
        "connection.watch_events",
    ],
)
def test_closed_connection_refuses_reads(vp: Case) -> None:
    """Every read on a closed connection fails with INVALID_CONN."""
    conn = vp.harness.open()
    conn.close()
    for op, read in _READS.items():
        if vp.harness.supports(op):
            vp.raises(
                ErrorCode.INVALID_CONN,
                functools.partial(read, conn),
                op=op,
                what="on a closed connection",
            )
    vp.raises(
        ErrorCode.INVALID_CONN,
        lambda: conn.events(lambda _e: None),
        op="connection.watch_events",
        what="subscribing on a closed connection",
    )


@covers(positive=["connection.watch_events"])
def test_watch_events_sees_other_connections(vp: Case) -> None:
    """The watcher reports a change made through another connection (source 'backend')."""
    vp.require("connection.watch_events")
    seen: list[Event] = []
    got = threading.Event()
    name = vp.name("dom")

    def on_event(event: Event) -> None:
        if event.name == name:
            seen.append(event)
            got.set()

    watcher = vp.open()
    sub = watcher.events(on_event)
    try:
        other = vp.open()
        vp.track_domain(name)
        other.define_domain(vp.domain_xml(name))
        got.wait(min(vp.harness.deadline.timeout, 10.0))
    finally:
        sub.close()
    vp.check(
        any(e.type_name == "DEFINED" for e in seen),
        f"a domain defined through another connection produced no DEFINED event on the "
        f"watching connection (got {[e.type_name for e in seen]})",
        op="connection.watch_events",
    )
    vp.check(
        all(e.source == "backend" for e in seen),
        "events about another connection's change must have source 'backend'",
        op="connection.watch_events",
    )
