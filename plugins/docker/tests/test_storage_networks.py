"""Networks, storage pools, volumes and images against the real engine."""

from __future__ import annotations

from collections.abc import Callable

import docker
import pytest
from conftest import IMAGE, PREFIX

import virtplug
from virtplug.errors import (
    ConfigUnsupportedError,
    ErrorCode,
    NoNetworkError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    ResourceBusyError,
    StorageVolExistsError,
    VirtError,
)
from virtplug.models import PoolState
from virtplug_docker.conformance import DOMAIN_XML, NETWORK_XML, POOL_XML, VOLUME_XML

Names = Callable[[], str]


def test_network_define_start_stop_undefine(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    n = name()
    net = conn.define_network(NETWORK_XML.format(name=n, bridge="vptbr10", octet=210))
    info = net.info()
    assert (info.active, info.persistent, info.autostart) == (False, True, False)
    assert api.networks(names=[n]) == []
    assert n in [x.name for x in conn.list_networks(active=False)]
    net.start()
    engine = [x for x in api.networks(names=[n]) if x["Name"] == n]
    assert engine and engine[0]["Options"]["com.docker.network.bridge.name"] == "vptbr10"
    assert engine[0]["IPAM"]["Config"][0]["Subnet"] == "10.251.210.0/24"
    assert net.is_active() and net.info().bridge == "vptbr10"
    with pytest.raises(OperationInvalidError, match="already active"):
        net.start()
    net.autostart = True
    assert net.autostart is True
    assert '<bridge name="vptbr10"/>' in net.xml()
    net.stop()
    assert not net.is_active() and net.is_persistent()
    with pytest.raises(OperationInvalidError, match="not active"):
        net.stop()
    net.undefine()
    with pytest.raises(NoNetworkError):
        conn.lookup_network(n)


def test_network_transient_and_clashes(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    net = conn.create_network(NETWORK_XML.format(name=n, bridge="vptbr11", octet=211))
    assert net.is_active() and not net.is_persistent()
    with pytest.raises(OperationInvalidError):
        net.undefine()
    with pytest.raises(OperationInvalidError):
        net.autostart = True
    with pytest.raises(OperationFailedError):
        conn.create_network(NETWORK_XML.format(name=n, bridge="vptbr12", octet=212))
    assert conn.lookup_network(uuid=net.uuid).name == n
    net.stop()
    with pytest.raises(NoNetworkError):
        conn.lookup_network(n)
    with pytest.raises(ConfigUnsupportedError):
        conn.define_network(f"<network><name>{name()}</name><forward mode='bridge'/></network>")


def test_network_stop_with_attached_domain(conn: virtplug.Connection, name: Names) -> None:
    net = conn.create_network(NETWORK_XML.format(name=name(), bridge="vptbr13", octet=213))
    dom = conn.define_domain(
        DOMAIN_XML.format(name=name()).replace(
            "</devices>",
            f"<interface type='network'><source network='{net.name}'/></interface></devices>",
        )
    )
    dom.start()
    with pytest.raises(OperationInvalidError, match="attached"):
        net.stop()
    dom.destroy()
    dom.undefine()
    net.stop()


def test_predefined_networks(conn: virtplug.Connection) -> None:
    bridge = conn.lookup_network("bridge")
    assert bridge.is_active() and not bridge.is_persistent()
    assert bridge.info().bridge == "docker0"
    with pytest.raises(OperationInvalidError, match="predefined"):
        bridge.stop()


def test_pool_lifecycle_and_volumes(
    conn: virtplug.Connection, api: docker.APIClient, name: Names, tmp_path: object
) -> None:
    n = name()
    path = f"{tmp_path}/pool"
    pool = conn.define_pool(POOL_XML.format(name=n, path=path))
    assert pool.info().state == PoolState.INACTIVE
    with pytest.raises(OperationInvalidError):
        pool.list_volumes()
    pool.build()
    import os

    assert os.path.isdir(path)
    pool.start()
    with pytest.raises(OperationInvalidError):
        pool.build()
    vol = pool.create_volume(VOLUME_XML.format(name="data"))
    assert vol.key == f"{n}_data"
    assert api.inspect_volume(vol.key)["Labels"]["virtplug.pool"] == n
    with pytest.raises(StorageVolExistsError):
        pool.create_volume(VOLUME_XML.format(name="data"))
    assert [v.name for v in pool.list_volumes()] == ["data"]
    assert conn.lookup_volume(vol.key) == vol
    assert conn.lookup_volume(path=vol.path).name == "data"
    with open(os.path.join(vol.path, "hello"), "w") as fh:
        fh.write("hi")
    clone = conn._call("volume.clone", pool=n, name="data", new_name="copy")
    with open(os.path.join(clone.path, "hello")) as fh:
        assert fh.read() == "hi"
    # a domain using the volume keeps it busy
    dom = conn.define_domain(
        DOMAIN_XML.format(name=name()).replace(
            "</devices>",
            f"<filesystem type='volume'><source pool='{n}' volume='data'/>"
            f"<target dir='/vol'/></filesystem></devices>",
        )
    )
    dom.start()
    assert dom.exec(["/bin/cat", "/vol/hello"]).stdout == b"hi"
    with pytest.raises(ResourceBusyError):
        pool.lookup_volume("data").delete()
    dom.destroy()
    dom.undefine()
    pool.lookup_volume("data").delete()
    pool.lookup_volume("copy").delete()
    with pytest.raises(NoStorageVolError):
        pool.lookup_volume("data")
    pool.stop()
    pool.delete()
    assert not os.path.exists(path)
    pool.undefine()
    with pytest.raises(NoStoragePoolError):
        conn.lookup_pool(n)


def test_transient_pool_and_delete_nonempty(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    pool = conn.create_pool(POOL_XML.format(name=n, path="/nonexistent-vptest"))
    assert pool.is_active() and not pool.is_persistent()
    with pytest.raises(OperationInvalidError):
        pool.undefine()
    pool.create_volume(VOLUME_XML.format(name="v"))
    pool.stop()
    with pytest.raises(NoStoragePoolError):
        conn.lookup_pool(n)
    m = name()
    p2 = conn.define_pool(POOL_XML.format(name=m, path="/nonexistent-vptest"))
    p2.start()
    p2.create_volume(VOLUME_XML.format(name="v"))
    p2.stop()
    with pytest.raises(OperationFailedError, match="holds volumes"):
        p2.delete()
    p2.undefine()


def test_builtin_pools(conn: virtplug.Connection, name: Names) -> None:
    names = [p.name for p in conn.list_pools()]
    assert "images" in names and "volumes" in names
    images = conn.lookup_pool("images")
    image_vol = IMAGE.replace("/", "%2F")
    assert image_vol in [v.name for v in images.list_volumes()]
    vol = images.lookup_volume(image_vol)
    info = conn._call("volume.info", pool="images", name=image_vol)
    assert info.capacity > 0 and vol.key.startswith("sha256:")
    assert conn.lookup_volume(vol.key).name == image_vol
    clone_name = f"{PREFIX}clone:1"
    clone = conn._call("volume.clone", pool="images", name=image_vol, new_name=clone_name)
    assert clone.name == clone_name
    images.lookup_volume(clone_name).delete()
    with pytest.raises(NoStorageVolError):
        images.lookup_volume(clone_name)
    with pytest.raises(OperationInvalidError):
        images.stop()
    with pytest.raises(OperationFailedError):
        conn.define_pool("<pool type='docker'><name>images</name></pool>")
    vols = conn.lookup_pool("volumes")
    v = vols.create_volume(VOLUME_XML.format(name=name()))
    assert v.name in [x.name for x in vols.list_volumes()]
    v.delete()


def test_pull_missing_image_is_an_error(conn: virtplug.Connection) -> None:
    images = conn.lookup_pool("images")
    with pytest.raises(VirtError) as err:
        images.create_volume(
            "<volume><name>127.0.0.1:1%2Fvptest%2Fnone:1</name><capacity>0</capacity></volume>"
        )
    assert err.value.code in (ErrorCode.OPERATION_FAILED, ErrorCode.NO_STORAGE_VOL)


def test_network_events_from_another_client_carry_the_uuid(
    conn: virtplug.Connection, name: Names
) -> None:
    import threading

    n = name()
    seen: list[tuple[str, str, str]] = []
    stopped = threading.Event()

    def on(ev: virtplug.models.Event) -> None:
        if ev.name == n:
            seen.append((ev.type_name, ev.uuid, ev.source))
            if ev.type_name == "STOPPED":
                stopped.set()

    sub = conn.events(on, kinds=["network"])
    try:
        with virtplug.open("docker:///") as other:
            net = other.create_network(NETWORK_XML.format(name=n, bridge="vptbr14", octet=214))
            uuid = net.uuid
            net.stop()
        assert stopped.wait(20), seen
    finally:
        sub.close()
    assert seen == [("STARTED", uuid, "backend"), ("STOPPED", uuid, "backend")]
