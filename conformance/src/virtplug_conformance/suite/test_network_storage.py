"""Networks, storage pools and volumes: identity, info, XML round trip, list filters."""

from __future__ import annotations

from typing import Any

from virtplug import ErrorCode, PoolState
from virtplug import xml as codec
from virtplug.records import evolve
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers
from virtplug_conformance.suite.test_domain import config_diff


@covers(
    positive=[
        "network.list",
        "network.lookup_by_name",
        "network.lookup_by_uuid",
        "network.info",
        "network.xml",
        "network.get_autostart",
        "network.set_autostart",
        "network.define",
        "network.start",
    ],
    negative=["network.list", "network.get_autostart"],
)
def test_network_identity(vp: Case) -> None:
    """Lookups agree, info follows state, XML round-trips, filters hold."""
    vp.require_profile("network_xml")
    vp.require(
        "network.define",
        "network.start",
        "network.list",
        "network.lookup_by_name",
        "network.lookup_by_uuid",
        "network.info",
        "network.xml",
        "network.get_autostart",
        "network.set_autostart",
    )
    name = vp.name("net")
    xml = vp.network_xml(name)
    original = codec.parse_network(xml)
    vp.defer(f"remove network {name}", lambda: vp.harness.remove_network(name))
    net = vp.conn.define_network(xml)
    for found, op in (
        (vp.conn.lookup_network(name), "network.lookup_by_name"),
        (vp.conn.lookup_network(uuid=net.uuid), "network.lookup_by_uuid"),
    ):
        vp.check((found.name, found.uuid) == (name, net.uuid), f"{op} disagrees", op=op)
    info = net.info()
    vp.check(
        (info.active, info.persistent, info.autostart) == (False, True, False),
        f"a defined network's info is {info!r}",
        op="network.info",
    )
    want = evolve(original, uuid=net.uuid)
    got = codec.parse_network(net.xml(inactive=True))
    vp.check(got == want, f"network XML round trip: {config_diff(want, got)}", op="network.xml")
    vp.conn.define_network(net.xml(inactive=True))
    again = codec.parse_network(net.xml(inactive=True))
    vp.check(
        again == want, f"re-defining network xml(): {config_diff(want, again)}", op="network.xml"
    )
    net.start()
    vp.check(net.info().active, "a started network's info says inactive", op="network.info")

    def names(**kw: Any) -> set[str]:
        return {n.name for n in vp.conn.list_networks(**kw)}

    vp.check(
        name in names(active=True), "an active network is not listed as active", op="network.list"
    )
    vp.check(
        name not in names(active=False), "an active network is listed inactive", op="network.list"
    )
    vp.check(
        name not in names(persistent=False),
        "a defined network is listed transient",
        op="network.list",
    )
    ordered = [n.name for n in vp.conn.list_networks()]
    vp.check(
        ordered == sorted(ordered),
        f"network.list is not ordered by name: {ordered}",
        op="network.list",
    )
    net.autostart = True
    vp.check(net.autostart is True, "network autostart did not turn on", op="network.set_autostart")
    vp.raises(
        ErrorCode.NO_NETWORK,
        lambda: vp.network_handle(vp.name("net")).autostart,
        op="network.get_autostart",
        what="autostart of an unknown network",
    )


@covers(
    positive=[
        "pool.list",
        "pool.lookup_by_name",
        "pool.lookup_by_uuid",
        "pool.info",
        "pool.xml",
        "pool.get_autostart",
        "pool.set_autostart",
        "pool.define",
        "pool.start",
    ],
    negative=["pool.list", "pool.get_autostart"],
)
def test_pool_identity(vp: Case) -> None:
    """Lookups agree, info follows state, XML round-trips, filters hold."""
    vp.require_profile("pool_xml")
    vp.require(
        "pool.define",
        "pool.start",
        "pool.list",
        "pool.lookup_by_name",
        "pool.lookup_by_uuid",
        "pool.info",
        "pool.xml",
        "pool.get_autostart",
        "pool.set_autostart",
    )
    name = vp.name("pool")
    xml = vp.pool_xml(name)
    original = codec.parse_pool(xml)
    vp.defer(f"remove pool {name}", lambda: vp.harness.remove_pool(name))
    pool = vp.conn.define_pool(xml)
    for found, op in (
        (vp.conn.lookup_pool(name), "pool.lookup_by_name"),
        (vp.conn.lookup_pool(uuid=pool.uuid), "pool.lookup_by_uuid"),
    ):
        vp.check((found.name, found.uuid) == (name, pool.uuid), f"{op} disagrees", op=op)
    info = pool.info()
    vp.check(
        (info.state, info.persistent, info.autostart) == (PoolState.INACTIVE, True, False),
        f"a defined pool's info is {info!r}",
        op="pool.info",
    )
    want = evolve(original, uuid=pool.uuid)
    got = codec.parse_pool(pool.xml(inactive=True))
    vp.check(got == want, f"pool XML round trip: {config_diff(want, got)}", op="pool.xml")
    vp.conn.define_pool(pool.xml(inactive=True))
    again = codec.parse_pool(pool.xml(inactive=True))
    vp.check(again == want, f"re-defining pool xml(): {config_diff(want, again)}", op="pool.xml")
    pool.start()
    vp.check(
        pool.info().state == PoolState.RUNNING, "a started pool is not RUNNING", op="pool.info"
    )

    def names(**kw: Any) -> set[str]:
        return {p.name for p in vp.conn.list_pools(**kw)}

    vp.check(name in names(active=True), "an active pool is not listed as active", op="pool.list")
    vp.check(name not in names(active=False), "an active pool is listed inactive", op="pool.list")
    vp.check(
        name not in names(persistent=False), "a defined pool is listed transient", op="pool.list"
    )
    ordered = [p.name for p in vp.conn.list_pools()]
    vp.check(
        ordered == sorted(ordered), f"pool.list is not ordered by name: {ordered}", op="pool.list"
    )
    pool.autostart = True
    vp.check(pool.autostart is True, "pool autostart did not turn on", op="pool.set_autostart")
    vp.raises(
        ErrorCode.NO_STORAGE_POOL,
        lambda: vp.pool_handle(vp.name("pool")).autostart,
        op="pool.get_autostart",
        what="autostart of an unknown pool",
    )


@covers(
    positive=[
        "volume.create",
        "volume.list",
        "volume.lookup_by_name",
        "volume.lookup_by_key",
        "volume.lookup_by_path",
        "volume.info",
        "volume.xml",
        "volume.path",
        "volume.clone",
    ],
    negative=["volume.list", "volume.lookup_by_key", "volume.lookup_by_path"],
)
def test_volume_identity(vp: Case) -> None:
    """Lookups by name, key and path agree; info and XML match the definition; clone copies."""
    vp.require_profile("volume_xml")
    vp.require(
        "volume.create",
        "volume.list",
        "volume.lookup_by_name",
        "volume.lookup_by_key",
        "volume.lookup_by_path",
        "volume.info",
        "volume.xml",
        "volume.path",
    )
    pool = vp.new_pool("active")
    name = vp.name("vol")
    original = codec.parse_volume(vp.volume_xml(name))
    vol = vp.new_volume(pool, name=name)
    vp.check(name in vp.volume_names(pool), "a created volume is not listed", op="volume.list")
    second = vp.new_volume(pool)
    vp.check(second.key != vol.key, "two volumes share a key", op="volume.lookup_by_key")
    ordered = [v.name for v in pool.list_volumes()]
    vp.check(
        ordered == sorted(ordered),
        f"volume.list is not ordered by name: {ordered}",
        op="volume.list",
    )
    path = vol.path
    for found, op in (
        (pool.lookup_volume(name), "volume.lookup_by_name"),
        (vp.conn.lookup_volume(vol.key), "volume.lookup_by_key"),
        (vp.conn.lookup_volume(path=path), "volume.lookup_by_path"),
    ):
        vp.check(
            (found.pool, found.name, found.key) == (pool.name, name, vol.key),
            f"{op} found {found.pool}/{found.name}",
            op=op,
        )
    config = vol.config
    vp.check(
        config.path == path, f"volume xml path {config.path!r} != path() {path!r}", op="volume.path"
    )
    info = vol.info()
    vp.check(
        info.capacity == original.capacity,
        f"volume capacity {info.capacity}, defined {original.capacity}",
        op="volume.info",
    )
    got = codec.parse_volume(vol.xml())
    vp.check(
        (got.name, got.capacity, got.format) == (original.name, original.capacity, original.format),
        f"volume XML round trip: {config_diff(original, got)}",
        op="volume.xml",
    )
    if vp.harness.supports("volume.clone"):
        copy = vp.name("vol")
        vp.defer(f"remove volume {copy}", lambda: vp.harness.remove_volume(pool.name, copy))
        clone = vol.clone(copy)
        vp.check(
            clone.info().capacity == info.capacity,
            "a clone has another capacity",
            op="volume.clone",
        )
    for op, call in (
        ("volume.lookup_by_key", lambda: vp.conn.lookup_volume(vp.name("key"))),
        ("volume.lookup_by_path", lambda: vp.conn.lookup_volume(path=path + ".missing")),
    ):
        vp.raises(ErrorCode.NO_STORAGE_VOL, call, op=op, what="an unknown volume")
    pool.stop()
    vp.raises(
        ErrorCode.OPERATION_INVALID,
        pool.list_volumes,
        op="volume.list",
        what="listing the volumes of an inactive pool",
    )


@covers(negative=["pool.delete", "pool.undefine"])
def test_pool_keeps_its_volumes(vp: Case) -> None:
    """An inactive pool holding volumes refuses delete (OPERATION_FAILED), volumes intact."""
    vp.require_profile("volume_xml")
    vp.require("pool.delete", "pool.stop", "volume.create", "volume.list")
    pool = vp.new_pool("active")
    vol = vp.new_volume(pool)
    pool.stop()
    vp.raises(
        ErrorCode.OPERATION_FAILED,
        pool.delete,
        op="pool.delete",
        what="deleting the storage of a pool that holds volumes",
    )
    pool.start()
    vp.check(
        vol.name in vp.volume_names(pool),
        "a refused pool delete lost the pool's volume",
        op="pool.delete",
    )
    vp.raises(
        ErrorCode.OPERATION_INVALID,
        pool.undefine,
        op="pool.undefine",
        what="undefining an active pool",
    )
