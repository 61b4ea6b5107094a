"""Storage pool and volume hooks."""

from __future__ import annotations

import uuid as uuidlib

import pytest
from vt_helpers import domain_xml, expect, pool_xml, volume_xml

import virtplug
from virtplug import ErrorCode, PoolState

E = ErrorCode
GIB = 1024**3


@pytest.fixture
def pool(conn: virtplug.Connection) -> virtplug.StoragePool:
    return conn.lookup_pool("default-pool")


# ---------------------------------------------------------------------------
# pools
# ---------------------------------------------------------------------------


def test_default_pool(pool: virtplug.StoragePool) -> None:
    assert pool.uuid == "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
    info = pool.info()
    assert info.state == PoolState.RUNNING
    assert (info.capacity, info.allocation, info.available) == (100 * GIB, 0, 100 * GIB)
    assert info.persistent and not info.autostart
    assert pool.config.type == "dir"
    assert pool.config.target == "/default-pool"
    assert pool.list_volumes() == []


def test_list_and_lookup(conn: virtplug.Connection) -> None:
    conn.define_pool(pool_xml("idle", "/srv/idle"))
    conn.create_pool(pool_xml("trans", "/srv/trans"))
    names = lambda **kw: [p.name for p in conn.list_pools(**kw)]  # noqa: E731
    assert names() == ["default-pool", "idle", "trans"]
    assert names(active=False) == ["idle"]
    assert names(persistent=False) == ["trans"]
    idle = conn.lookup_pool("idle")
    assert conn.lookup_pool(uuid=idle.uuid).name == "idle"
    expect(
        E.NO_STORAGE_POOL,
        "no storage pool with matching name 'x'",
        lambda: conn.lookup_pool("x"),
    )
    missing = str(uuidlib.uuid4())
    expect(
        E.NO_STORAGE_POOL,
        f"no storage pool with matching uuid '{missing}'",
        lambda: conn.lookup_pool(uuid=missing),
    )


def test_pool_lifecycle_and_transitions(conn: virtplug.Connection) -> None:
    pool = conn.define_pool(pool_xml("p", "/srv/p"))
    assert pool.info().state == PoolState.INACTIVE
    pool.build()
    pool.start()
    expect(E.OPERATION_INVALID, "storage pool is already active", pool.start)
    expect(E.OPERATION_INVALID, "storage pool is already active", pool.build)
    expect(E.OPERATION_INVALID, "storage pool is still active", pool.delete)
    expect(E.OPERATION_INVALID, "storage pool is still active", pool.undefine)
    pool.refresh()
    pool.stop()
    expect(E.OPERATION_INVALID, "storage pool is not active", pool.stop)
    expect(E.OPERATION_INVALID, "storage pool is not active", pool.refresh)
    expect(E.OPERATION_INVALID, "storage pool is not active", pool.list_volumes)
    pool.delete()
    pool.undefine()
    expect(E.NO_STORAGE_POOL, None, lambda: conn.lookup_pool("p"))


def test_define_clashes(conn: virtplug.Connection) -> None:
    uid = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566"
    expect(
        E.OPERATION_FAILED,
        f"pool 'default-pool' already exists with uuid {uid}",
        lambda: conn.define_pool(pool_xml("default-pool", "/x", uuid=str(uuidlib.uuid4()))),
    )
    expect(
        E.OPERATION_FAILED,
        f"pool 'default-pool' is already defined with uuid {uid}",
        lambda: conn.define_pool(pool_xml("other", "/x", uuid=uid)),
    )
    expect(
        E.OPERATION_FAILED,
        "Storage source conflict with pool: 'default-pool'",
        lambda: conn.define_pool(pool_xml("other", "/default-pool")),
    )
    expect(
        E.OPERATION_FAILED,
        None,
        lambda: conn.create_pool(pool_xml("default-pool", "/y")),
    )
    assert [p.name for p in conn.list_pools()] == ["default-pool"]


def test_redefine_updates_definition(conn: virtplug.Connection, pool: virtplug.StoragePool) -> None:
    conn.define_pool(pool_xml("default-pool", "/default-pool", uuid=pool.uuid, capacity=GIB))
    assert pool.info().capacity == 100 * GIB  # the live pool keeps its size until restarted
    pool.stop()
    pool.start()
    assert pool.info().capacity == GIB


def test_transient_pool_disappears_on_stop(conn: virtplug.Connection) -> None:
    pool = conn.create_pool(pool_xml("t", "/srv/t"))
    assert pool.is_active() and not pool.is_persistent()
    expect(E.OPERATION_INVALID, "storage pool is still active", pool.undefine)
    expect(
        E.OPERATION_INVALID,
        "cannot set autostart for transient pool",
        lambda: setattr(pool, "autostart", True),
    )
    pool.stop()
    expect(E.NO_STORAGE_POOL, None, lambda: conn.lookup_pool("t"))


def test_delete_non_empty_pool(pool: virtplug.StoragePool) -> None:
    pool.create_volume(volume_xml("v"))
    pool.stop()
    expect(
        E.OPERATION_FAILED,
        "cannot remove directory '/default-pool': Directory not empty",
        pool.delete,
    )
    pool.start()
    assert [v.name for v in pool.list_volumes()] == ["v"]


def test_pool_autostart(pool: virtplug.StoragePool) -> None:
    assert pool.autostart is False
    pool.autostart = True
    assert pool.autostart is True and pool.info().autostart is True


def test_pool_xml(pool: virtplug.StoragePool) -> None:
    pool.create_volume(volume_xml("v", capacity=GIB))
    cfg = virtplug.xml.parse_pool(pool.xml())  # type: ignore[attr-defined]
    assert (cfg.capacity, cfg.allocation, cfg.available) == (100 * GIB, GIB, 99 * GIB)
    assert cfg == pool.config


@pytest.mark.parametrize(
    "op", ["build", "start", "stop", "delete", "undefine", "refresh", "info", "get_autostart"]
)
def test_pool_ops_on_unknown_pool(conn: virtplug.Connection, op: str) -> None:
    expect(
        E.NO_STORAGE_POOL,
        "no storage pool with matching name 'ghost'",
        lambda: conn._call(f"pool.{op}", name="ghost"),
    )


def test_pool_xml_and_autostart_unknown(conn: virtplug.Connection) -> None:
    expect(E.NO_STORAGE_POOL, None, lambda: conn._call("pool.xml", name="g", inactive=False))
    expect(
        E.NO_STORAGE_POOL,
        None,
        lambda: conn._call("pool.set_autostart", name="g", autostart=True),
    )


def test_relative_target_refused(conn: virtplug.Connection) -> None:
    from virtplug.models import PoolConfig

    expect(E.INVALID_ARG, None, lambda: conn.define_pool(PoolConfig(name="r", target="rel")))


# ---------------------------------------------------------------------------
# volumes
# ---------------------------------------------------------------------------


def test_volume_create_lookup_info(conn: virtplug.Connection, pool: virtplug.StoragePool) -> None:
    vol = pool.create_volume(volume_xml("v1", capacity=GIB))
    assert (vol.pool, vol.name) == ("default-pool", "v1")
    assert vol.key == vol.path == "/default-pool/v1"
    info = vol.info()
    assert (info.type, info.capacity, info.allocation) == ("file", GIB, GIB)
    assert pool.lookup_volume("v1") == vol
    assert conn.lookup_volume(vol.key).name == "v1"
    assert conn.lookup_volume(path=vol.path).name == "v1"
    assert pool.info().allocation == GIB
    assert pool.info().available == 99 * GIB
    cfg = virtplug.xml.parse_volume(vol.xml())  # type: ignore[attr-defined]
    assert cfg == vol.config
    assert cfg.format == "raw"


def test_volume_sparse_allocation(pool: virtplug.StoragePool) -> None:
    vol = pool.create_volume(volume_xml("sparse", capacity=GIB, allocation=0))
    assert vol.info().allocation == 0
    assert pool.info().allocation == 0


def test_volume_create_errors(pool: virtplug.StoragePool) -> None:
    pool.create_volume(volume_xml("v1"))
    expect(
        E.STORAGE_VOL_EXIST,
        "storage volume name 'v1' already in use.",
        lambda: pool.create_volume(volume_xml("v1")),
    )
    expect(
        E.OPERATION_FAILED,
        "Not enough free space in pool for volume 'huge'",
        lambda: pool.create_volume(volume_xml("huge", capacity=200 * GIB)),
    )
    assert [v.name for v in pool.list_volumes()] == ["v1"]


def test_volume_lookup_errors(conn: virtplug.Connection, pool: virtplug.StoragePool) -> None:
    expect(
        E.NO_STORAGE_VOL,
        "no storage vol with matching name 'nope'",
        lambda: pool.lookup_volume("nope"),
    )
    expect(
        E.NO_STORAGE_VOL,
        "no storage vol with matching key '/x'",
        lambda: conn.lookup_volume("/x"),
    )
    expect(
        E.NO_STORAGE_VOL,
        "no storage vol with matching path '/x'",
        lambda: conn.lookup_volume(path="/x"),
    )


def test_volumes_of_inactive_pool_are_hidden(
    conn: virtplug.Connection, pool: virtplug.StoragePool
) -> None:
    vol = pool.create_volume(volume_xml("v1"))
    pool.stop()
    expect(E.NO_STORAGE_VOL, None, lambda: conn.lookup_volume(vol.key))
    for op in ("volume.info", "volume.xml", "volume.path", "volume.delete"):
        expect(
            E.OPERATION_INVALID,
            "storage pool is not active",
            lambda op=op: conn._call(op, pool="default-pool", name="v1"),
        )
    expect(
        E.OPERATION_INVALID,
        "storage pool is not active",
        lambda: pool.create_volume(volume_xml("v2")),
    )
    pool.start()
    assert [v.name for v in pool.list_volumes()] == ["v1"]


def test_volume_clone_and_delete(pool: virtplug.StoragePool) -> None:
    vol = pool.create_volume(volume_xml("v1", capacity=4096))
    clone = vol.clone("v2")
    assert clone.path == "/default-pool/v2"
    assert clone.info().capacity == 4096
    expect(
        E.STORAGE_VOL_EXIST,
        "storage volume name 'v2' already in use.",
        lambda: vol.clone("v2"),
    )
    vol.delete()
    assert [v.name for v in pool.list_volumes()] == ["v2"]
    expect(E.NO_STORAGE_VOL, None, vol.delete)
    expect(E.NO_STORAGE_VOL, None, lambda: vol.clone("v3"))
    assert clone.path == "/default-pool/v2"


def test_volume_in_use_cannot_be_deleted(
    conn: virtplug.Connection, pool: virtplug.StoragePool
) -> None:
    vol = pool.create_volume(volume_xml("data"))
    fs = (
        "<filesystem type='volume'><source pool='default-pool' volume='data'/>"
        "<target dir='/data'/></filesystem>"
    )
    dom = conn.create_domain(domain_xml("user", devices=fs))
    expect(
        E.RESOURCE_BUSY,
        "storage volume 'data' is in use by domain 'user'",
        vol.delete,
    )
    expect(E.RESOURCE_BUSY, None, pool.stop)
    dom.destroy()
    vol.delete()


def test_domain_with_missing_volume_cannot_start(conn: virtplug.Connection) -> None:
    fs = (
        "<filesystem type='volume'><source pool='default-pool' volume='ghost'/>"
        "<target dir='/data'/></filesystem>"
    )
    dom = conn.define_domain(domain_xml("user", devices=fs))
    expect(E.NO_STORAGE_VOL, None, dom.start)


@pytest.mark.parametrize("op", ["info", "xml", "path", "delete"])
def test_volume_ops_in_unknown_pool(conn: virtplug.Connection, op: str) -> None:
    expect(E.NO_STORAGE_POOL, None, lambda: conn._call(f"volume.{op}", pool="ghost", name="v"))
    expect(
        E.NO_STORAGE_VOL, None, lambda: conn._call(f"volume.{op}", pool="default-pool", name="v")
    )


def test_volume_list_unknown_pool(conn: virtplug.Connection) -> None:
    expect(E.NO_STORAGE_POOL, None, lambda: conn._call("volume.list", pool="ghost"))


def test_invalid_volume_name_from_model(pool: virtplug.StoragePool) -> None:
    from virtplug.models import VolumeConfig

    expect(
        E.INVALID_ARG,
        "invalid storage volume name 'a/b'",
        lambda: pool.create_volume(VolumeConfig(name="a/b", capacity=1)),
    )
    expect(E.INVALID_ARG, None, lambda: pool.create_volume(VolumeConfig(name="n", capacity=-1)))
