"""Bridges, NAT, directory pools, volumes and live device attach on real LXC."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from lxc_helpers import busybox_xml, network_xml
from pyroute2 import IPRoute

import virtplug
from virtplug.errors import ErrorCode, VirtError
from virtplug.models import PoolState
from virtplug_lxc._net import nat_owner

pytestmark = pytest.mark.lxc


def _bridge_addrs(bridge: str) -> list[str] | None:
    with IPRoute() as ipr:
        idx = ipr.link_lookup(ifname=bridge)
        if not idx:
            return None
        return [
            f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}"
            for a in ipr.get_addr(index=idx[0], family=2)
        ]


def _nat_rule_present(lxcpath: Path, name: str, octet: int) -> bool:
    out = subprocess.run(
        ["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"], capture_output=True, text=True
    ).stdout
    tag = f"virtplug-lxc:{nat_owner(str(lxcpath))}:{name}"
    return any(
        tag in ln and f"10.251.{octet}.0/24" in ln and "MASQUERADE" in ln for ln in out.splitlines()
    )


def test_network_lifecycle_with_nat(
    conn: virtplug.Connection, lxcpath: Path, bridge: str, octet: int
) -> None:
    net = conn.define_network(network_xml("natnet", bridge, octet))
    assert not net.is_active()
    assert _bridge_addrs(bridge) is None
    net.start()
    assert net.is_active()
    assert _bridge_addrs(bridge) == [f"10.251.{octet}.1/24"]
    assert _nat_rule_present(lxcpath, "natnet", octet)
    with pytest.raises(VirtError) as exc:
        net.start()
    assert (exc.value.code, exc.value.message) == (
        ErrorCode.OPERATION_INVALID,
        "network is already active",
    )
    with virtplug.open(f"lxc://{lxcpath}") as other:
        seen = other.lookup_network("natnet")
        assert seen.uuid == net.uuid and seen.is_active()
        assert seen.info().bridge == bridge
    net.autostart = True
    assert net.autostart is True
    net.stop()
    assert _bridge_addrs(bridge) is None
    assert not _nat_rule_present(lxcpath, "natnet", octet)
    with pytest.raises(VirtError) as exc:
        net.stop()
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    net.undefine()
    with pytest.raises(VirtError) as exc:
        conn.lookup_network("natnet")
    assert exc.value.code == ErrorCode.NO_NETWORK


def test_transient_network_and_undefine_active(
    conn: virtplug.Connection, bridge: str, octet: int
) -> None:
    net = conn.create_network(network_xml("tnet", bridge, octet, forward=""))
    assert net.is_active() and not net.is_persistent()
    with pytest.raises(VirtError) as exc:
        net.undefine()
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    net.stop()
    assert conn.list_networks() == []
    assert _bridge_addrs(bridge) is None
    # undefining an active persistent network makes it transient
    net = conn.define_network(network_xml("pnet", bridge, octet, forward=""))
    net.start()
    net.undefine()
    assert net.is_active() and not net.is_persistent()
    net.stop()
    assert conn.list_networks() == []


def test_domain_on_inactive_network_refuses_to_start(
    conn: virtplug.Connection, name: str, bridge: str, octet: int
) -> None:
    conn.define_network(network_xml("idle", bridge, octet))
    nic = "<interface type='network'><source network='idle'/></interface>"
    dom = conn.define_domain(busybox_xml(name, extra=nic))
    with pytest.raises(VirtError) as exc:
        dom.start()
    assert (exc.value.code, exc.value.message) == (
        ErrorCode.OPERATION_INVALID,
        "network 'idle' is not active",
    )
    missing = busybox_xml(name + "b", extra=nic.replace("idle", "nosuch"))
    with pytest.raises(VirtError) as exc:
        conn.define_domain(missing)
    assert exc.value.code == ErrorCode.NO_NETWORK


def test_live_nic_attach_detach(
    conn: virtplug.Connection, name: str, bridge: str, octet: int
) -> None:
    conn.define_network(network_xml("live", bridge, octet, forward="")).start()
    dom = conn.define_domain(busybox_xml(name))
    dom.start()
    nic = (
        "<interface type='network'><mac address='00:16:3e:11:22:33'/>"
        f"<source network='live'/><ip address='10.251.{octet}.9' prefix='24'/></interface>"
    )
    dom.attach_device(nic)
    assert dom.exec(["cat", "/sys/class/net/eth0/address"]).stdout == b"00:16:3e:11:22:33\n"
    ping = dom.exec(["ping", "-c", "1", "-W", "3", f"10.251.{octet}.1"], timeout=20)
    assert ping.exit_code == 0, ping
    assert len(dom.config.interfaces) == 1
    assert len(dom.xml(inactive=True).split("<interface")) == 2  # persisted too
    with pytest.raises(VirtError) as exc:
        dom.attach_device(nic)
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    dom.detach_device(nic)
    assert dom.exec(["test", "-e", "/sys/class/net/eth0"]).exit_code == 1
    assert dom.config.interfaces == ()
    with pytest.raises(VirtError) as exc:
        dom.detach_device(nic)
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    # the NIC comes back at the next start when attached to the definition
    dom.attach_device(nic)
    dom.destroy()
    dom.start()
    assert dom.exec(["cat", "/sys/class/net/eth0/address"]).stdout == b"00:16:3e:11:22:33\n"


def test_pool_and_volumes(conn: virtplug.Connection, tmp_path: Path) -> None:
    target = tmp_path / "pool"
    pool = conn.define_pool(
        f"<pool type='dir'><name>p1</name><target><path>{target}</path></target></pool>"
    )
    with pytest.raises(VirtError) as exc:
        pool.start()
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    pool.build()
    assert target.is_dir()
    pool.start()
    assert pool.info().state == PoolState.RUNNING
    assert pool.info().capacity > 0
    vol = pool.create_volume(
        "<volume><name>disk.img</name><capacity unit='MiB'>64</capacity>"
        "<target><format type='raw'/></target></volume>"
    )
    info = vol.info()
    assert info.capacity == 64 * 1024 * 1024
    assert info.allocation < info.capacity  # sparse
    assert (target / "disk.img").stat().st_size == 64 * 1024 * 1024
    with pytest.raises(VirtError) as exc:
        pool.create_volume("<volume><name>disk.img</name><capacity>1</capacity></volume>")
    assert exc.value.code == ErrorCode.STORAGE_VOL_EXIST
    d = pool.create_volume(
        "<volume type='dir'><name>data</name><capacity>0</capacity>"
        "<target><format type='dir'/></target></volume>"
    )
    assert (target / "data").is_dir()
    clone = vol.clone("copy.img")
    assert clone.info().capacity == info.capacity
    assert conn.lookup_volume(path=str(target / "copy.img")) == clone
    assert conn.lookup_volume(key=clone.key) == clone
    assert sorted(v.name for v in pool.list_volumes()) == ["copy.img", "data", "disk.img"]
    for v in (clone, vol, d):
        v.delete()
    assert pool.list_volumes() == []
    with pytest.raises(VirtError) as exc:
        pool.delete()
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    pool.stop()
    pool.delete()
    assert not target.exists()
    pool.undefine()
    assert conn.list_pools() == []


def test_volume_attached_to_domain_live_and_busy(
    conn: virtplug.Connection, name: str, tmp_path: Path
) -> None:
    target = tmp_path / "pool"
    target.mkdir()
    pool = conn.create_pool(
        f"<pool type='dir'><name>vp</name><target><path>{target}</path></target></pool>"
    )
    vol = pool.create_volume(
        "<volume type='dir'><name>shared</name><capacity>0</capacity>"
        "<target><format type='dir'/></target></volume>"
    )
    Path(vol.path, "hello.txt").write_text("from the host\n")
    dom = conn.define_domain(busybox_xml(name))
    dom.start()
    fs = (
        "<filesystem type='volume'><source pool='vp' volume='shared'/>"
        "<target dir='/mnt/shared'/></filesystem>"
    )
    dom.attach_device(fs)
    assert dom.exec(["cat", "/mnt/shared/hello.txt"]).stdout == b"from the host\n"
    assert dom.exec(["sh", "-c", "echo back > /mnt/shared/reply"]).exit_code == 0
    assert Path(vol.path, "reply").read_text() == "back\n"
    with pytest.raises(VirtError) as exc:
        vol.delete()
    assert exc.value.code == ErrorCode.RESOURCE_BUSY
    # a read-only host directory bind
    ro = tmp_path / "ro"
    ro.mkdir()
    dom.attach_device(
        f"<filesystem type='mount'><source dir='{ro}'/><target dir='/ro'/><readonly/></filesystem>"
    )
    assert dom.exec(["touch", "/ro/x"]).exit_code != 0
    dom.detach_device(
        "<filesystem type='volume'><source pool='vp' volume='shared'/>"
        "<target dir='/mnt/shared'/></filesystem>"
    )
    assert dom.exec(["test", "-e", "/mnt/shared/hello.txt"]).exit_code == 1
    # the read-only mount persists to the next start (lxc.mount.entry)
    dom.destroy()
    dom.start()
    assert dom.exec(["test", "-d", "/ro"]).exit_code == 0
    assert dom.exec(["touch", "/ro/x"]).exit_code != 0
    dom.destroy()
    dom.undefine()
    vol.delete()
    pool.stop()


def test_autostart_networks_and_pools_start_with_the_next_connection(
    conn: virtplug.Connection, lxcpath: Path, bridge: str, octet: int, tmp_path: Path
) -> None:
    net = conn.define_network(network_xml("auto", bridge, octet, forward=""))
    net.autostart = True
    target = tmp_path / "autopool"
    target.mkdir()
    pool = conn.define_pool(
        f"<pool type='dir'><name>ap</name><target><path>{target}</path></target></pool>"
    )
    pool.autostart = True
    assert not net.is_active() and not pool.is_active()
    with virtplug.open(f"lxc://{lxcpath}", readonly=True) as ro:
        assert not ro.lookup_network("auto").is_active()  # read-only starts nothing
    with virtplug.open(f"lxc://{lxcpath}") as rw:
        assert rw.lookup_network("auto").is_active()
        assert rw.lookup_pool("ap").is_active()
    assert _bridge_addrs(bridge) == [f"10.251.{octet}.1/24"]
    net.stop()
    pool.stop()


def test_interface_type_bridge_uses_a_host_bridge(
    conn: virtplug.Connection, name: str, bridge: str, octet: int
) -> None:
    with IPRoute() as ipr:  # a bridge made outside virtplug
        ipr.link("add", ifname=bridge, kind="bridge")
        idx = ipr.link_lookup(ifname=bridge)[0]
        ipr.addr("add", index=idx, address=f"10.251.{octet}.1", prefixlen=24)
        ipr.link("set", index=idx, state="up")
    try:
        nic = (
            f"<interface type='bridge'><source bridge='{bridge}'/>"
            f"<ip address='10.251.{octet}.5' prefix='24'/></interface>"
        )
        # busybox's own init runs udhcpc, which flushes static addresses: run sleep as init
        init = "<init>/bin/sleep</init><initarg>1000</initarg>"
        dom = conn.define_domain(busybox_xml(name, extra=nic, os_extra=init))
        dom.start()
        ping = dom.exec(["ping", "-c", "1", "-W", "3", f"10.251.{octet}.1"], timeout=20)
        assert ping.exit_code == 0, ping
        dom.destroy()
    finally:
        with IPRoute() as ipr:
            for i in ipr.link_lookup(ifname=bridge):
                ipr.link("del", index=i)
    with pytest.raises(VirtError) as exc:
        dom.start()  # the bridge is gone
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    assert f"bridge '{bridge}' does not exist" in exc.value.message
