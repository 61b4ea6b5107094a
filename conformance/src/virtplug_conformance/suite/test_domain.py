"""Domains beyond the state machine (which is in ``test_states``).

Identity, list filters, XML round trip, persistence, resources, devices, stats,
exec and snapshots.
"""

from __future__ import annotations

import os
from typing import Any

from virtplug import DomainState, ErrorCode, records
from virtplug import xml as codec
from virtplug.models import DomainConfig, SnapshotConfig, new_uuid
from virtplug.records import evolve
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers

ENRICH = (
    "<title>virtplug conformance</title>"
    "<description>round trip: every modelled field must survive</description>"
)


def config_diff(want: Any, got: Any) -> str:
    """The fields that differ between two attrs configs."""
    if not (records.has(type(want)) and records.has(type(got))):
        return f"{want!r} != {got!r}"
    a, b = records.asdict(want), records.asdict(got)
    return "; ".join(f"{k}: {a[k]!r} -> {b.get(k)!r}" for k in a if a[k] != b.get(k))


@covers(
    positive=[
        "domain.list",
        "domain.lookup_by_name",
        "domain.lookup_by_uuid",
        "domain.lookup_by_id",
        "domain.state",
        "domain.info",
        "domain.define",
        "domain.start",
    ],
    negative=["domain.lookup_by_id", "domain.define"],
)
def test_identity(vp: Case) -> None:
    """Names and UUIDs are unique; lookups by name, UUID and id agree."""
    a = vp.new_domain("shutoff")
    b = vp.new_domain("shutoff")
    vp.check(a.uuid != b.uuid, "two defined domains got the same UUID", op="domain.define")
    listed = vp.conn.list_domains()
    names = [d.name for d in listed]
    uuids = [d.uuid for d in listed]
    vp.check(len(names) == len(set(names)), f"domain.list repeats names: {names}", op="domain.list")
    vp.check(len(uuids) == len(set(uuids)), "domain.list repeats UUIDs", op="domain.list")
    vp.check({a.name, b.name} <= set(names), "domain.list misses defined domains", op="domain.list")
    vp.check(
        names == sorted(names), f"domain.list is not ordered by name: {names}", op="domain.list"
    )
    for dom in (a, b):
        by_name = vp.conn.lookup_domain(dom.name)
        by_uuid = vp.conn.lookup_domain(uuid=dom.uuid)
        vp.check(
            (by_name.name, by_name.uuid) == (dom.name, dom.uuid),
            "lookup by name disagrees with define",
            op="domain.lookup_by_name",
        )
        vp.check(
            (by_uuid.name, by_uuid.uuid) == (dom.name, dom.uuid),
            "lookup by UUID disagrees with define",
            op="domain.lookup_by_uuid",
        )
        vp.check(dom.id is None, f"a shut-off domain has id {dom.id!r}", op="domain.lookup_by_name")
        vp.check(
            dom.state == DomainState.SHUTOFF, "a defined domain is not SHUTOFF", op="domain.state"
        )
    a.start()
    dom_id = a.id
    vp.check(
        isinstance(dom_id, int) and dom_id > 0,
        f"a running domain has id {dom_id!r}",
        op="domain.lookup_by_name",
    )
    assert dom_id is not None
    by_id = vp.conn.lookup_domain(id=dom_id)
    vp.check(
        (by_id.name, by_id.uuid) == (a.name, a.uuid),
        f"lookup by id {dom_id} found {by_id.name}",
        op="domain.lookup_by_id",
    )
    vp.check(a.state == DomainState.RUNNING, f"started domain is {a.state.name}", op="domain.state")
    if vp.harness.supports("domain.info"):
        info = a.info()
        config = vp.domain_config(a.name)
        vp.check(info.state == DomainState.RUNNING, "info().state disagrees", op="domain.info")
        vp.check(info.persistent, "info() says a defined domain is transient", op="domain.info")
        vp.check(
            (info.max_memory_kib, info.vcpus) == (config.memory_kib, config.vcpus),
            f"info() memory/vcpus {info.max_memory_kib}/{info.vcpus} differ from the "
            f"definition {config.memory_kib}/{config.vcpus}",
            op="domain.info",
        )
    a.destroy()
    vp.raises(
        ErrorCode.NO_DOMAIN,
        lambda: vp.conn.lookup_domain(id=dom_id),
        op="domain.lookup_by_id",
        what="looking up the id of a domain that stopped",
    )
    clash = evolve(vp.domain_config(vp.name("dom")), uuid=b.uuid)
    vp.track_domain(clash.name)
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        lambda: vp.conn.define_domain(clash),
        op="domain.define",
        what="defining a new name with the UUID of another domain",
    )


@covers(positive=["domain.list"], negative=["domain.list"])
def test_list_filters(vp: Case) -> None:
    """The active / persistent filters include exactly what they must."""
    off = vp.new_domain("shutoff")
    on = vp.new_domain("running")
    transient = vp.new_domain("transient") if vp.harness.supports("domain.create") else None

    def names(**kw: Any) -> set[str]:
        return {d.name for d in vp.conn.list_domains(**kw)}

    mine = {off.name, on.name} | ({transient.name} if transient else set())
    want = {
        "active=True": {on.name} | ({transient.name} if transient else set()),
        "active=False": {off.name},
        "persistent=True": {off.name, on.name},
        "persistent=False": {transient.name} if transient else set(),
        "active=True, persistent=True": {on.name},
        "active=False, persistent=True": {off.name},
    }
    for label, expected in want.items():
        kw = {k: v == "True" for k, v in (p.split("=") for p in label.split(", "))}
        got = names(**kw) & mine
        vp.check(
            got == expected,
            f"list_domains({label}) gave {sorted(got)} of ours, expected {sorted(expected)}",
            op="domain.list",
        )
    off.undefine()
    vp.check(off.name not in names(), "an undefined domain is still listed", op="domain.list")


@covers(positive=["domain.xml", "domain.define"], negative=["domain.xml"])
def test_xml_round_trip(vp: Case) -> None:
    """xml() parses back to the defined config; re-defining it changes nothing."""
    name = vp.name("dom")
    original = vp.domain_config(name, extra=ENRICH)
    vp.track_domain(name)
    dom = vp.conn.define_domain(vp.domain_xml(name, extra=ENRICH))
    want = evolve(original, uuid=dom.uuid)
    got = codec.parse_domain(dom.xml(inactive=True))
    vp.check(
        got == want,
        f"domain.xml: the XML round trip lost or changed fields: {config_diff(want, got)}",
        op="domain.xml",
    )
    vp.conn.define_domain(dom.xml(inactive=True))
    again = codec.parse_domain(dom.xml(inactive=True))
    vp.check(
        again == want,
        f"domain.xml: re-defining xml() changed the config: {config_diff(want, again)}",
        op="domain.xml",
    )
    live = codec.parse_domain(dom.xml())
    vp.check(
        live == want,
        f"domain.xml: the live XML of a shut-off domain differs from its definition: "
        f"{config_diff(want, live)}",
        op="domain.xml",
    )
    vp.raises(
        ErrorCode.NO_DOMAIN,
        lambda: vp.domain_handle(vp.name("dom")).xml(),
        op="domain.xml",
        what="xml() of an unknown domain",
    )


@covers(
    positive=["domain.define", "domain.undefine", "domain.destroy"], negative=["domain.undefine"]
)
def test_define_is_persistent(vp: Case) -> None:
    """A defined domain survives new connections and a start/stop cycle; undefine removes it."""
    dom = vp.new_domain("shutoff")
    want = codec.parse_domain(dom.xml(inactive=True))
    other = vp.open()
    seen = other.lookup_domain(dom.name)
    vp.check(seen.uuid == dom.uuid, "a new connection sees another UUID", op="domain.define")
    vp.check(
        codec.parse_domain(seen.xml(inactive=True)) == want,
        "a new connection sees another definition",
        op="domain.define",
    )
    dom.start()
    dom.destroy()
    vp.check(
        vp.domain_status(dom.name) == "shutoff",
        f"persistence: after start and destroy the domain is {vp.domain_status(dom.name)}, "
        f"expected it still defined and shut off",
        op="domain.define",
    )
    vp.check(
        codec.parse_domain(dom.xml(inactive=True)) == want,
        "persistence: the definition changed across a start/stop cycle",
        op="domain.define",
    )
    dom.undefine()
    vp.raises(ErrorCode.NO_DOMAIN, dom.undefine, op="domain.undefine", what="undefining twice")


@covers(
    negative=[
        "domain.define",
        "domain.create",
        "network.define",
        "network.create",
        "pool.define",
        "pool.create",
        "volume.create",
    ]
)
def test_malformed_xml(vp: Case) -> None:
    """Malformed XML is refused with XML_ERROR and creates nothing."""
    before = {d.name for d in vp.conn.list_domains()}
    bad = "<domain type='test'><name>" + vp.name("dom") + "</name><memory>"  # unterminated
    for op, call in (
        ("domain.define", lambda: vp.conn.define_domain(bad)),
        ("domain.create", lambda: vp.conn.create_domain(bad)),
        ("network.define", lambda: vp.conn.define_network("<network><name>x</nam></network>")),
        ("network.create", lambda: vp.conn.create_network("<network><name>")),
        ("pool.define", lambda: vp.conn.define_pool("<pool type='dir'><name>x</pool>")),
        ("pool.create", lambda: vp.conn.create_pool("<pool")),
        ("volume.create", lambda: vp.pool_handle(vp.name("pool")).create_volume("<volume><")),
    ):
        vp.raises(ErrorCode.XML_ERROR, call, op=op, what="malformed XML")
    after = {d.name for d in vp.conn.list_domains()}
    vp.check(after == before, "malformed XML changed the domain list", op="domain.define")


@covers(positive=["domain.set_memory"], negative=["domain.set_memory"])
def test_set_memory(vp: Case) -> None:
    """Current memory changes in the definition (and live when running); above max is refused."""
    vp.require("domain.set_memory", "domain.info")
    for state in ("shutoff", "running"):
        dom = vp.new_domain(state)
        maximum = dom.info().max_memory_kib
        target = maximum // 2
        dom.set_memory(target)
        got = dom.info().memory_kib
        vp.check(
            got == target,
            f"set_memory({target}) on a {state} domain: info().memory_kib is {got}",
            op="domain.set_memory",
        )
        inactive: DomainConfig = vp.conn._call("domain.xml", name=dom.name, inactive=True)
        vp.check(
            inactive.effective_memory_kib == target,
            f"set_memory on a {state} domain did not reach its persistent definition "
            f"(current memory {inactive.effective_memory_kib})",
            op="domain.set_memory",
        )
        before = vp.domain_fingerprint(dom.name)
        vp.raises(
            ErrorCode.INVALID_ARG,
            lambda d=dom, m=maximum: d.set_memory(m + 1024),  # type: ignore[misc]
            op="domain.set_memory",
            what="memory above the maximum",
        )
        vp.check(
            vp.domain_fingerprint(dom.name) == before,
            "a refused set_memory changed the domain",
            op="domain.set_memory",
        )


@covers(positive=["domain.set_vcpus"], negative=["domain.set_vcpus"])
def test_set_vcpus(vp: Case) -> None:
    """The vCPU count changes; more than the host has is refused."""
    vp.require("domain.set_vcpus", "domain.info", "node.info")
    host = vp.conn.node_info().cpus
    dom = vp.new_domain("shutoff")
    want = 2 if host >= 2 else 1
    dom.set_vcpus(want)
    vp.check(dom.info().vcpus == want, f"set_vcpus({want}) did not stick", op="domain.set_vcpus")
    before = vp.domain_fingerprint(dom.name)
    vp.raises(
        ErrorCode.INVALID_ARG,
        lambda: dom.set_vcpus(host * 64 + 1),
        op="domain.set_vcpus",
        what=f"{host * 64 + 1} vCPUs on a host with {host}",
    )
    vp.check(
        vp.domain_fingerprint(dom.name) == before,
        "a refused set_vcpus changed the domain",
        op="domain.set_vcpus",
    )


@covers(
    positive=["domain.get_autostart", "domain.set_autostart"], negative=["domain.get_autostart"]
)
def test_autostart(vp: Case) -> None:
    """A new domain does not autostart; the flag follows set_autostart."""
    vp.require("domain.get_autostart", "domain.set_autostart")
    dom = vp.new_domain("shutoff")
    vp.check(dom.autostart is False, "a new domain has autostart on", op="domain.get_autostart")
    dom.autostart = True
    vp.check(dom.autostart is True, "autostart did not turn on", op="domain.set_autostart")
    dom.autostart = False
    vp.check(dom.autostart is False, "autostart did not turn off", op="domain.set_autostart")
    vp.raises(
        ErrorCode.NO_DOMAIN,
        lambda: vp.domain_handle(vp.name("dom")).autostart,
        op="domain.get_autostart",
        what="autostart of an unknown domain",
    )


def _device(vp: Case) -> tuple[str, str]:
    """A device XML for attach tests and the kind of device ('interface' or 'filesystem')."""
    if vp.profile.network_xml and vp.harness.supports("network.define"):
        net = vp.new_network("active")
        mac = "52:54:00:{:02x}:{:02x}:{:02x}".format(*tuple(os.urandom(3)))
        return (
            f"<interface type='network'><mac address='{mac}'/>"
            f"<source network='{net.name}'/></interface>",
            "interface",
        )
    share = vp.target.workdir / (vp.name("share"))
    share.mkdir(parents=True, exist_ok=True)
    return (
        f"<filesystem type='mount'><source dir='{os.fspath(share)}'/>"
        f"<target dir='/mnt/{vp.harness.prefix}share'/></filesystem>",
        "filesystem",
    )


@covers(
    positive=["domain.attach_device", "domain.detach_device"],
    negative=["domain.attach_device", "domain.detach_device"],
)
def test_attach_detach(vp: Case) -> None:
    """A device attaches live and to the definition, detaches, and misuse is refused."""
    vp.require("domain.attach_device", "domain.detach_device")
    xml, kind = _device(vp)
    device = codec.parse_device(xml)
    dom = vp.new_domain("running")

    def present(config: DomainConfig) -> bool:
        if kind == "interface":
            return any(
                i.source == getattr(device, "source", None)
                and i.mac == getattr(device, "mac", None)
                for i in config.interfaces
            )
        return any(f.target == getattr(device, "target", None) for f in config.filesystems)

    def inactive() -> DomainConfig:
        config: DomainConfig = vp.conn._call("domain.xml", name=dom.name, inactive=True)
        return config

    dom.attach_device(xml)
    vp.check(
        present(dom.config),
        f"attached {kind} missing from the live config",
        op="domain.attach_device",
    )
    vp.check(
        present(inactive()),
        f"attached {kind} missing from the definition",
        op="domain.attach_device",
    )
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        lambda: dom.attach_device(xml),
        op="domain.attach_device",
        what="attaching the same device twice",
    )
    dom.detach_device(xml)
    vp.check(
        not present(dom.config),
        f"detached {kind} still in the live config",
        op="domain.detach_device",
    )
    vp.check(
        not present(inactive()),
        f"detached {kind} still in the definition",
        op="domain.detach_device",
    )
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        lambda: dom.detach_device(xml),
        op="domain.detach_device",
        what="detaching a device that is not attached",
    )
    if kind == "interface":
        bogus = f"<interface type='network'><source network='{vp.name('net')}'/></interface>"
        vp.raises(
            ErrorCode.NO_NETWORK,
            lambda: dom.attach_device(bogus),
            op="domain.attach_device",
            what="an interface on an unknown network",
        )


@covers(positive=["domain.stats"], negative=["domain.stats"])
def test_stats(vp: Case) -> None:
    """A running domain reports its usage; a shut-off one is refused."""
    vp.require("domain.stats")
    dom = vp.new_domain("running")
    stats = dom.stats()
    vp.check(
        stats.cpu_time_ns >= 0 and stats.memory_used_kib >= 0,
        f"stats() gave negative figures: {stats!r}",
        op="domain.stats",
    )
    dom.destroy()
    vp.raises(
        ErrorCode.OPERATION_INVALID, dom.stats, op="domain.stats", what="stats of a shut-off domain"
    )


@covers(positive=["domain.exec"], negative=["domain.exec"])
def test_exec(vp: Case) -> None:
    """The profile's probe runs in a running domain with the promised result."""
    vp.require("domain.exec")
    probe = vp.profile.exec_probe
    if probe is None:
        vp.require_profile("exec_probe")
        return
    dom = vp.new_domain("running")
    result = dom.exec(probe.argv)
    vp.check(
        result.exit_code == probe.exit_code,
        f"exec {list(probe.argv)}: exit code {result.exit_code}, expected {probe.exit_code}",
        op="domain.exec",
    )
    out = result.stdout.decode(errors="replace")
    vp.check(
        out == probe.stdout,
        f"exec {list(probe.argv)}: stdout {out!r}, expected {probe.stdout!r}",
        op="domain.exec",
    )
    dom.destroy()
    vp.raises(
        ErrorCode.OPERATION_INVALID,
        lambda: dom.exec(probe.argv),
        op="domain.exec",
        what="exec in a shut-off domain",
    )


@covers(
    positive=[
        "domain.snapshot_create",
        "domain.snapshot_list",
        "domain.snapshot_lookup",
        "domain.snapshot_revert",
        "domain.snapshot_delete",
    ],
    negative=[
        "domain.snapshot_create",
        "domain.snapshot_lookup",
        "domain.snapshot_revert",
        "domain.snapshot_delete",
    ],
)
def test_snapshots(vp: Case) -> None:
    """Create, list, look up, revert (restores the config) and delete a snapshot."""
    vp.require(
        "domain.snapshot_create",
        "domain.snapshot_list",
        "domain.snapshot_lookup",
        "domain.snapshot_revert",
        "domain.snapshot_delete",
    )
    dom = vp.new_domain("shutoff")
    original = codec.parse_domain(dom.xml(inactive=True))
    name = vp.name("snap")
    snap = dom.create_snapshot(SnapshotConfig(name=name, description="conformance"))
    vp.check(
        snap.name == name,
        f"snapshot named {snap.name!r}, asked {name!r}",
        op="domain.snapshot_create",
    )
    vp.check(
        (snap.info.domain, snap.info.state) == (dom.name, DomainState.SHUTOFF),
        f"snapshot info names domain {snap.info.domain!r} in state {snap.info.state!r}, "
        f"expected {dom.name!r} SHUTOFF",
        op="domain.snapshot_create",
    )
    listed = [s.name for s in dom.list_snapshots()]
    vp.check(listed == [name], f"snapshot_list gave {listed}", op="domain.snapshot_list")
    vp.check(
        dom.lookup_snapshot(name).name == name,
        "snapshot_lookup disagrees",
        op="domain.snapshot_lookup",
    )
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        lambda: dom.create_snapshot(SnapshotConfig(name=name)),
        op="domain.snapshot_create",
        what="a second snapshot with the same name",
    )
    changed = evolve(original, description="changed after the snapshot")
    vp.conn.define_domain(changed)
    snap.revert()
    reverted = codec.parse_domain(dom.xml(inactive=True))
    vp.check(
        reverted == original,
        f"snapshot_revert did not restore the configuration: {config_diff(original, reverted)}",
        op="domain.snapshot_revert",
    )
    vp.check(
        dom.state == DomainState.SHUTOFF,
        f"reverting to a shut-off snapshot left the domain {dom.state.name}",
        op="domain.snapshot_revert",
    )
    ghost = vp.name("snap")
    from virtplug.api import Snapshot
    from virtplug.models import SnapshotInfo

    phantom = Snapshot(dom, SnapshotInfo(ghost, dom.name, 0.0, DomainState.SHUTOFF))
    for op, call in (
        ("domain.snapshot_lookup", lambda: dom.lookup_snapshot(ghost)),
        ("domain.snapshot_revert", phantom.revert),
        ("domain.snapshot_delete", phantom.delete),
    ):
        vp.raises(ErrorCode.NO_DOMAIN_SNAPSHOT, call, op=op, what="an unknown snapshot")
    snap.delete()
    vp.check(
        dom.list_snapshots() == [],
        "a deleted snapshot is still listed",
        op="domain.snapshot_delete",
    )
    vp.raises(
        ErrorCode.NO_DOMAIN_SNAPSHOT,
        lambda: dom.lookup_snapshot(name),
        op="domain.snapshot_delete",
        what="looking up a deleted snapshot",
    )


@covers(positive=["domain.create"], negative=["domain.create"])
def test_create_is_transient(vp: Case) -> None:
    """create() starts a transient domain that is gone once it stops."""
    vp.require("domain.create")
    dom = vp.new_domain("transient")
    vp.check(
        vp.domain_status(dom.name) == "transient",
        "create() did not give a running transient domain",
        op="domain.create",
    )
    dom.destroy()
    vp.check(
        vp.domain_status(dom.name) == "gone",
        "a destroyed transient domain is still there",
        op="domain.create",
    )
    taken = vp.new_domain("shutoff")
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        lambda: vp.conn.create_domain(evolve(vp.domain_config(taken.name), uuid=new_uuid())),
        op="domain.create",
        what="creating a domain whose name is taken",
    )
