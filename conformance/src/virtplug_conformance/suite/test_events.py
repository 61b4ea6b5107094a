"""Lifecycle events: each operation emits the events of virtplug.EVENTS_BY_OPERATION, in order.

The check subscribes to the object's events, performs the operation from a
state where it succeeds, and expects exactly the table's sequence of
(kind, type, detail): nothing missing, nothing extra, nothing out of order
(backend events from the driver's watcher included).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import virtplug
from virtplug import ErrorCode
from virtplug.models import Event, SnapshotConfig
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers, covers_each

EventKey = tuple[str, str, int]


def _setup(vp: Case, op: str) -> tuple[str, Callable[[], object], tuple[EventKey, ...]]:
    """(object name, the operation to perform, the expected events)."""
    want = virtplug.EVENTS_BY_OPERATION[op]
    conn = vp.conn
    kind, verb = op.split(".", 1)
    if kind == "domain":
        if verb == "define":
            name = vp.name("dom")
            vp.track_domain(name)
            return name, lambda: conn.define_domain(vp.domain_xml(name)), want
        if verb == "create":
            name = vp.name("dom")
            vp.track_domain(name)
            return name, lambda: conn.create_domain(vp.domain_xml(name)), want
        state = {"shutdown": "running", "destroy": "running", "suspend": "running"}.get(
            verb, "paused" if verb == "resume" else "shutoff"
        )
        dom = vp.new_domain(state)
        if verb == "snapshot_revert":
            vp.require("domain.snapshot_create", "domain.snapshot_delete")
            snap = dom.create_snapshot(SnapshotConfig(vp.name("snap")))
            return dom.name, snap.revert, want
        if verb == "shutdown":
            return dom.name, lambda: dom.shutdown(timeout=3.0), want
        return dom.name, getattr(dom, verb), want
    if kind == "network":
        if verb in ("define", "create"):
            name = vp.name("net")
            xml = vp.network_xml(name)
            vp.defer(f"remove network {name}", lambda: vp.harness.remove_network(name))
            call = conn.define_network if verb == "define" else conn.create_network
            return name, lambda: call(xml), want
        net = vp.new_network("active" if verb == "stop" else "inactive")
        return net.name, getattr(net, verb), want
    if verb in ("define", "create"):
        name = vp.name("pool")
        xml = vp.pool_xml(name)
        vp.defer(f"remove pool {name}", lambda: vp.harness.remove_pool(name))
        pcall = conn.define_pool if verb == "define" else conn.create_pool
        return name, lambda: pcall(xml), want
    pool = vp.new_pool("active" if verb == "stop" else "inactive")
    return pool.name, getattr(pool, verb), want


def _record(vp: Case, name: str, action: Callable[[], object]) -> list[Event]:
    seen: list[Event] = []
    lock = threading.Lock()

    def on_event(event: Event) -> None:
        with lock:
            seen.append(event)

    sub = vp.conn.events(on_event, names=[name])
    try:
        action()
        if vp.harness.supports("connection.watch_events"):
            time.sleep(vp.harness.settle)
    finally:
        sub.close()
    with lock:
        return list(seen)


def _keys(events: list[Event]) -> list[EventKey]:
    return [(e.kind.value, e.type_name, int(e.detail)) for e in events]


@covers_each("op", ops=virtplug.EVENTS_BY_OPERATION, polarity="positive")
def test_events_of_operation(vp: Case, op: str) -> None:
    """*op* emits exactly its table's events, in order."""
    vp.require(op)
    kind = op.split(".", 1)[0]
    if kind == "network":
        vp.require_profile("network_xml")
    if kind == "pool":
        vp.require_profile("pool_xml")
    name, action, want = _setup(vp, op)
    got = _record(vp, name, action)
    keys = _keys(got)
    vp.check(
        keys == list(want),
        f"events of {op}: expected {list(want)}, got {keys} "
        f"(sources {[e.source for e in got]}): missing, extra or out of order",
        op=op,
    )
    uuids = {e.uuid for e in got}
    vp.check(
        len(uuids) <= 1 and "" not in uuids,
        f"events of {op} carry UUIDs {sorted(uuids)}: each must carry the object's UUID",
        op=op,
    )
    if op == "domain.define":
        again = _record(vp, name, lambda: vp.conn.define_domain(vp.conn.lookup_domain(name).xml()))
        vp.check(
            _keys(again) == [("domain", "DEFINED", 1)],
            f"events of redefining a domain: expected [('domain', 'DEFINED', 1)] (UPDATED), "
            f"got {_keys(again)}",
            op=op,
        )


@covers(negative=["domain.start"])
def test_rejected_operation_emits_nothing(vp: Case) -> None:
    """A refused start of a running domain emits no event."""
    dom = vp.new_domain("running")
    got = _record(
        vp,
        dom.name,
        lambda: vp.raises(
            ErrorCode.OPERATION_INVALID, dom.start, op="domain.start", what="start twice"
        ),
    )
    vp.check(not got, f"a refused start emitted {_keys(got)}", op="domain.start")
