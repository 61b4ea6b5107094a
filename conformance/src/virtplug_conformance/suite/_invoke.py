"""One public-API call per operation, and the objects those calls act on.

:data:`INVOKE` maps every hookspec operation to the public API call that
reaches it (``"domain.start"`` -> ``dom.start()``). The read-only checks, the
unknown-name checks and the capability checks use it, so each of them covers
every operation through the same door users take.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import attrs

from virtplug.api import Connection, Domain, Network, Snapshot, StoragePool, StorageVolume
from virtplug.models import DomainState, PoolRef, SnapshotConfig, SnapshotInfo, new_uuid
from virtplug.records import record
from virtplug_conformance.harness import Case

__all__ = ["FALLBACK_XML", "INVOKE", "Subjects", "World", "build_world", "subjects_for"]


@record
class Subjects:
    """The objects and inputs the calls of :data:`INVOKE` act on."""

    conn: Connection
    open: Callable[[], Connection]
    dom: Domain
    dom_id: int
    net: Network
    pool: StoragePool
    vol: StorageVolume
    snapshot: str
    new_snapshot: str
    new_volume: str
    domain_xml: str
    network_xml: str
    pool_xml: str
    volume_xml: str
    device_xml: str
    exec_argv: tuple[str, ...]
    memory_kib: int


#: XML used when the profile has no template (only reaches drivers that declare
#: the operation unsupported, or the core's own checks).
FALLBACK_XML = {
    "network": "<network><name>{name}</name></network>",
    "pool": "<pool type='dir'><name>{name}</name><target><path>{path}</path></target></pool>",
    "volume": "<volume><name>{name}</name><capacity unit='bytes'>1048576</capacity></volume>",
}


def _watch(s: Subjects) -> None:
    stop = s.conn._call("connection.watch_events", emit=lambda _event: None)
    if callable(stop):
        stop()


def _set_autostart(obj: Domain | Network | StoragePool, value: bool) -> None:
    obj.autostart = value


def _snapshot(s: Subjects) -> Snapshot:
    info = SnapshotInfo(
        name=s.snapshot, domain=s.dom.name, creation_time=0.0, state=DomainState.SHUTOFF
    )
    return Snapshot(s.dom, info)


def _vol_pool(s: Subjects) -> StoragePool:
    return StoragePool(s.conn, PoolRef(s.vol.pool, ""))


def _open_close(s: Subjects) -> None:
    s.open().close()


INVOKE: dict[str, Callable[[Subjects], Any]] = {
    "connection.open": _open_close,
    "connection.close": _open_close,
    "connection.is_alive": lambda s: s.conn._call("connection.is_alive"),
    "connection.type": lambda s: s.conn.type(),
    "connection.version": lambda s: s.conn.version(),
    "connection.hostname": lambda s: s.conn.hostname(),
    "connection.capabilities": lambda s: s.conn.host_capabilities(),
    "connection.watch_events": _watch,
    "node.info": lambda s: s.conn.node_info(),
    "node.free_memory": lambda s: s.conn.node_free_memory(),
    "domain.list": lambda s: s.conn.list_domains(),
    "domain.lookup_by_name": lambda s: s.conn.lookup_domain(s.dom.name),
    "domain.lookup_by_uuid": lambda s: s.conn.lookup_domain(uuid=s.dom.uuid),
    "domain.lookup_by_id": lambda s: s.conn.lookup_domain(id=s.dom_id),
    "domain.define": lambda s: s.conn.define_domain(s.domain_xml),
    "domain.create": lambda s: s.conn.create_domain(s.domain_xml),
    "domain.undefine": lambda s: s.dom.undefine(),
    "domain.start": lambda s: s.dom.start(),
    "domain.shutdown": lambda s: s.dom.shutdown(),
    "domain.destroy": lambda s: s.dom.destroy(),
    "domain.reboot": lambda s: s.dom.reboot(),
    "domain.suspend": lambda s: s.dom.suspend(),
    "domain.resume": lambda s: s.dom.resume(),
    "domain.state": lambda s: s.dom.state,
    "domain.info": lambda s: s.dom.info(),
    "domain.xml": lambda s: s.dom.config,
    "domain.set_memory": lambda s: s.dom.set_memory(s.memory_kib),
    "domain.set_vcpus": lambda s: s.dom.set_vcpus(1),
    "domain.get_autostart": lambda s: s.dom.autostart,
    "domain.set_autostart": lambda s: _set_autostart(s.dom, False),
    "domain.attach_device": lambda s: s.dom.attach_device(s.device_xml),
    "domain.detach_device": lambda s: s.dom.detach_device(s.device_xml),
    "domain.stats": lambda s: s.dom.stats(),
    "domain.exec": lambda s: s.dom.exec(s.exec_argv),
    "domain.snapshot_create": lambda s: s.dom.create_snapshot(SnapshotConfig(s.new_snapshot)),
    "domain.snapshot_list": lambda s: s.dom.list_snapshots(),
    "domain.snapshot_lookup": lambda s: s.dom.lookup_snapshot(s.snapshot),
    "domain.snapshot_revert": lambda s: _snapshot(s).revert(),
    "domain.snapshot_delete": lambda s: _snapshot(s).delete(),
    "network.list": lambda s: s.conn.list_networks(),
    "network.lookup_by_name": lambda s: s.conn.lookup_network(s.net.name),
    "network.lookup_by_uuid": lambda s: s.conn.lookup_network(uuid=s.net.uuid),
    "network.define": lambda s: s.conn.define_network(s.network_xml),
    "network.create": lambda s: s.conn.create_network(s.network_xml),
    "network.undefine": lambda s: s.net.undefine(),
    "network.start": lambda s: s.net.start(),
    "network.stop": lambda s: s.net.stop(),
    "network.info": lambda s: s.net.info(),
    "network.xml": lambda s: s.net.config,
    "network.get_autostart": lambda s: s.net.autostart,
    "network.set_autostart": lambda s: _set_autostart(s.net, False),
    "pool.list": lambda s: s.conn.list_pools(),
    "pool.lookup_by_name": lambda s: s.conn.lookup_pool(s.pool.name),
    "pool.lookup_by_uuid": lambda s: s.conn.lookup_pool(uuid=s.pool.uuid),
    "pool.define": lambda s: s.conn.define_pool(s.pool_xml),
    "pool.create": lambda s: s.conn.create_pool(s.pool_xml),
    "pool.build": lambda s: s.pool.build(),
    "pool.start": lambda s: s.pool.start(),
    "pool.stop": lambda s: s.pool.stop(),
    "pool.delete": lambda s: s.pool.delete(),
    "pool.undefine": lambda s: s.pool.undefine(),
    "pool.refresh": lambda s: s.pool.refresh(),
    "pool.info": lambda s: s.pool.info(),
    "pool.xml": lambda s: s.pool.config,
    "pool.get_autostart": lambda s: s.pool.autostart,
    "pool.set_autostart": lambda s: _set_autostart(s.pool, False),
    "volume.list": lambda s: s.pool.list_volumes(),
    "volume.lookup_by_name": lambda s: _vol_pool(s).lookup_volume(s.vol.name),
    "volume.lookup_by_key": lambda s: s.conn.lookup_volume(s.vol.key),
    "volume.lookup_by_path": lambda s: s.conn.lookup_volume(path=s.vol._ref.path),
    "volume.create": lambda s: s.pool.create_volume(s.volume_xml),
    "volume.clone": lambda s: s.vol.clone(s.new_volume),
    "volume.delete": lambda s: s.vol.delete(),
    "volume.info": lambda s: s.vol.info(),
    "volume.xml": lambda s: s.vol.config,
    "volume.path": lambda s: s.vol.path,
}


@attrs.define
class World:
    """Real objects for checks that need them (names; empty when not available)."""

    dom: str
    dom_uuid: str = ""
    snapshot: str = ""
    net: str = ""
    pool: str = ""
    vol: str = ""
    vol_key: str = ""
    vol_path: str = ""


def _has(case: Case, *ops: str) -> bool:
    return all(case.harness.supports(op) for op in ops)


def build_world(case: Case, *, running: bool = True) -> World:
    """Real objects for checks: as much as the driver and profile allow.

    A domain (running, with a snapshot when supported), an active network, an
    active pool holding a volume.
    """
    dom = case.new_domain("shutoff")
    world = World(dom=dom.name, dom_uuid=dom.uuid)
    if _has(case, "domain.snapshot_create", "domain.snapshot_delete"):
        world.snapshot = case.name("snap")
        dom.create_snapshot(SnapshotConfig(world.snapshot))
    if running:
        dom.start()
    if case.profile.network_xml and _has(case, "network.define", "network.start"):
        world.net = case.new_network("active").name
    if case.profile.pool_xml and _has(case, "pool.define", "pool.start"):
        pool = case.new_pool("active")
        world.pool = pool.name
        if case.profile.volume_xml and _has(case, "volume.create"):
            vol = case.new_volume(pool)
            world.vol = vol.name
            world.vol_key = vol.key
            world.vol_path = vol._ref.path
    return world


def subjects_for(
    case: Case,
    world: World,
    conn: Connection,
    *,
    absent: bool = False,
    readonly: bool = False,
) -> Subjects:
    """Subjects on *conn*: the world's objects, or (``absent``) names that do not exist.

    With ``absent``, domain, network and pool are unknown names and the volume an
    unknown name in the world's (real) pool, so each call must fail with the
    exact NO_* code of its object.
    """
    prefix = case.harness.prefix
    missing = f"{prefix}missing"
    dom_name = missing + "-dom" if absent else world.dom
    dom_uuid = new_uuid() if absent else world.dom_uuid
    dom = case.domain_handle(dom_name, dom_uuid, conn)
    dom_id = 2**31 - 7
    if not absent:
        ref_id = conn.lookup_domain(world.dom).id
        dom_id = ref_id if ref_id is not None else dom_id
    if absent:
        net = case.network_handle(missing + "-net", conn, uuid=new_uuid())
        pool = case.pool_handle(missing + "-pool", conn, uuid=new_uuid())
        vol = case.volume_handle(
            world.pool or missing + "-pool",
            missing + "-vol",
            key=missing + "-key",
            path=os.fspath(case.target.workdir / (missing + "-vol")),
            conn=conn,
        )
    else:
        net = (
            conn.lookup_network(world.net)
            if world.net
            else case.network_handle(missing + "-net", conn)
        )
        pool = (
            conn.lookup_pool(world.pool)
            if world.pool
            else case.pool_handle(missing + "-pool", conn)
        )
        if world.vol:
            vol = case.volume_handle(
                world.pool, world.vol, key=world.vol_key, path=world.vol_path, conn=conn
            )
        else:
            vol = case.volume_handle(pool.name, missing + "-vol", conn=conn)
    # names for define / create calls: removed at the end should a call succeed
    fresh, fresh_net, fresh_pool = case.name("dom"), case.name("net"), case.name("pool")
    case.track_domain(fresh)
    case.defer(f"remove network {fresh_net}", lambda: case.harness.remove_network(fresh_net))
    case.defer(f"remove pool {fresh_pool}", lambda: case.harness.remove_pool(fresh_pool))
    net_xml = (
        case.network_xml(fresh_net)
        if case.profile.network_xml
        else FALLBACK_XML["network"].format(name=fresh_net)
    )
    if case.profile.pool_xml:
        pool_xml = case.pool_xml(fresh_pool)
    else:
        pool_xml = FALLBACK_XML["pool"].format(
            name=fresh_pool, path=os.fspath(case.target.workdir / "fallback")
        )
    vol_template = case.profile.volume_xml or FALLBACK_XML["volume"]
    if world.net:
        device = f"<interface type='network'><source network='{world.net}'/></interface>"
    else:
        device = (
            f"<filesystem type='mount'><source dir='{os.fspath(case.target.workdir)}'/>"
            f"<target dir='/mnt/{prefix}dev'/></filesystem>"
        )
    probe = case.profile.exec_probe
    return Subjects(
        conn=conn,
        open=lambda: case.open(readonly=readonly),
        dom=dom,
        dom_id=dom_id,
        net=net,
        pool=pool,
        vol=vol,
        snapshot=world.snapshot or missing + "-snap",
        new_snapshot=case.name("snap"),
        new_volume=case.name("vol"),
        domain_xml=case.domain_xml(fresh),
        network_xml=net_xml,
        pool_xml=pool_xml,
        volume_xml=vol_template.format(name=case.name("vol")),
        device_xml=device,
        exec_argv=probe.argv if probe else ("true",),
        memory_kib=32768,
    )
