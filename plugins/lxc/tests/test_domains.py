"""Domains on real LXC: lifecycle, transient, limits, init, errors, libvirt XML."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import lxc
import pytest
from lxc_helpers import busybox_xml, make_busybox_rootfs, network_xml

import virtplug
from virtplug.errors import ErrorCode, VirtError
from virtplug.events import OWN_GRACE
from virtplug.models import DomainState, ShutoffReason

pytestmark = pytest.mark.lxc


def _code(exc: pytest.ExceptionInfo[VirtError]) -> ErrorCode:
    return exc.value.code


def test_driver_is_installed_and_complete(conn: virtplug.Connection) -> None:
    caps = conn.capabilities()
    assert caps.with_status("undeclared") == ()
    assert conn.type() == "LXC"
    assert conn.version() == lxc.version
    assert conn.host_capabilities().domain_types == ("lxc",)


def test_uri_forms(lxcpath: Path) -> None:
    sub = lxcpath / "nested" / "path"
    with virtplug.open(f"lxc://{sub}") as c:
        assert c.list_domains() == []
    assert sub.is_dir()
    with pytest.raises(VirtError) as exc:
        virtplug.open("lxc://remotehost/var/lib/lxc")
    assert exc.value.code == ErrorCode.NO_CONNECT
    with pytest.raises(VirtError) as exc:
        virtplug.open(f"lxc://{lxcpath}?bogus=1")
    assert exc.value.code == ErrorCode.INVALID_ARG


def test_lifecycle(conn: virtplug.Connection, name: str, lxcpath: Path) -> None:
    dom = conn.define_domain(busybox_xml(name))
    assert (lxcpath / name / "config").is_file()
    assert (lxcpath / name / "virtplug.json").is_file()
    assert dom.state == DomainState.SHUTOFF
    assert dom.id is None
    dom.start()
    assert dom.state == DomainState.RUNNING
    pid = dom.id
    assert pid is not None and pid == lxc.Container(name, str(lxcpath)).init_pid
    assert conn.lookup_domain(id=pid) == dom
    with pytest.raises(VirtError) as exc:
        dom.start()
    assert (exc.value.code, exc.value.message) == (
        ErrorCode.OPERATION_INVALID,
        "domain is already running",
    )
    dom.suspend()
    assert dom.state == DomainState.PAUSED
    assert lxc.Container(name, str(lxcpath)).state == "FROZEN"
    dom.suspend()  # no-op
    dom.resume()
    assert dom.state == DomainState.RUNNING
    with pytest.raises(VirtError) as exc:
        dom.resume()
    assert (exc.value.code, exc.value.message) == (
        ErrorCode.OPERATION_INVALID,
        "domain is not paused",
    )
    dom.reboot()
    assert dom.state == DomainState.RUNNING
    assert dom.id not in (None, pid)
    dom.shutdown(timeout=20)
    assert dom.state == DomainState.SHUTOFF
    assert dom.state_reason == ShutoffReason.SHUTDOWN
    for op in (dom.shutdown, dom.destroy, dom.reboot, dom.suspend):
        with pytest.raises(VirtError) as exc:
            op()
        assert (exc.value.code, exc.value.message) == (
            ErrorCode.OPERATION_INVALID,
            "domain is not running",
        )
    dom.start()
    dom.destroy()
    assert dom.state_reason == ShutoffReason.DESTROYED
    assert [d.name for d in conn.list_domains(active=False)] == [name]
    assert conn.list_domains(active=True) == []
    dom.undefine()
    assert not (lxcpath / name).exists()
    with pytest.raises(VirtError) as exc:
        conn.lookup_domain(name)
    assert exc.value.code == ErrorCode.NO_DOMAIN


def test_definition_persists_for_a_new_connection(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    dom = conn.define_domain(busybox_xml(name, memory_mib=48))
    with virtplug.open(f"lxc://{lxcpath}") as other:
        again = other.lookup_domain(name)
        assert again.uuid == dom.uuid
        assert again.config == dom.config
        assert again.config.memory_kib == 48 * 1024
        assert again.xml(inactive=True) == dom.xml(inactive=True)


def test_define_same_name_other_uuid_fails(conn: virtplug.Connection, name: str) -> None:
    dom = conn.define_domain(busybox_xml(name))
    other = busybox_xml(name).replace(
        "<name>", "<uuid>11111111-2222-3333-4444-555555555555</uuid><name>"
    )
    with pytest.raises(VirtError) as exc:
        conn.define_domain(other)
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    assert exc.value.message == f"domain '{name}' already exists with uuid {dom.uuid}"
    # same uuid: an update
    updated = busybox_xml(name, memory_mib=96).replace("<name>", f"<uuid>{dom.uuid}</uuid><name>")
    conn.define_domain(updated)
    assert dom.config.memory_kib == 96 * 1024


def test_transient_domain_is_gone_after_stop(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    dom = conn.create_domain(busybox_xml(name))
    assert dom.state == DomainState.RUNNING
    assert not dom.is_persistent()
    with pytest.raises(VirtError) as exc:
        dom.undefine()
    assert (exc.value.code, exc.value.message) == (
        ErrorCode.OPERATION_INVALID,
        "cannot undefine transient domain",
    )
    with pytest.raises(VirtError) as exc:
        dom.autostart = True
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    dom.destroy()
    with pytest.raises(VirtError) as exc:
        conn.lookup_domain(name)
    assert exc.value.code == ErrorCode.NO_DOMAIN
    assert not (lxcpath / name).exists()


def test_undefine_running_makes_transient(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    dom = conn.define_domain(busybox_xml(name))
    dom.start()
    dom.undefine()
    assert dom.state == DomainState.RUNNING
    assert not dom.is_persistent()
    # stopped from outside virtplug: still gone
    c = lxc.Container(name, str(lxcpath))
    assert c.stop()
    assert conn.list_domains() == []
    assert not (lxcpath / name).exists()


def test_bad_names_touch_nothing(conn: virtplug.Connection, lxcpath: Path) -> None:
    before = sorted(os.listdir(lxcpath))
    for bad in ("a..b", "-x", "x" * 65, "sp ace", "tab\tx"):
        with pytest.raises(VirtError) as exc:
            conn.define_domain(busybox_xml("placeholder").replace("placeholder", bad))
        assert exc.value.code in (ErrorCode.XML_ERROR, ErrorCode.INVALID_ARG), bad
    for bad in ("a..b", "../etc", "x\x01y", "x" * 65):
        with pytest.raises(VirtError) as exc:
            conn._d.call("domain.lookup_by_name", name=bad)
        assert exc.value.code == ErrorCode.INVALID_ARG, bad
    assert sorted(os.listdir(lxcpath)) == before


def test_foreign_domain_type_and_missing_template(conn: virtplug.Connection, name: str) -> None:
    with pytest.raises(VirtError) as exc:
        conn.define_domain(busybox_xml(name).replace("type='lxc'", "type='docker'"))
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
    with pytest.raises(VirtError) as exc:
        conn.define_domain(busybox_xml(name).replace("busybox", "no-such-template"))
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
    assert "no-such-template" in exc.value.message
    assert conn.list_domains() == []


def test_memory_limit_is_enforced(conn: virtplug.Connection, name: str, lxcpath: Path) -> None:
    dom = conn.define_domain(busybox_xml(name, memory_mib=32))
    dom.start()
    stats = dom.stats()
    assert stats.memory_limit_kib == 32 * 1024
    assert stats.memory_used_kib > 0
    assert stats.cpu_time_ns > 0
    # a process that doubles a string forever must be killed by the OOM killer
    hog = dom.exec(["awk", 'BEGIN { s = "x"; while (1) s = s s }'], timeout=60)
    assert hog.exit_code == 137, hog
    c = lxc.Container(name, str(lxcpath))
    layout_v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    peak_key = "memory.peak" if layout_v2 else "memory.max_usage_in_bytes"
    assert int(c.get_cgroup_item(peak_key)) <= 32 * 1024 * 1024
    assert dom.state == DomainState.RUNNING  # only the hog died
    # live change
    dom.set_memory(16 * 1024)
    assert dom.stats().memory_limit_kib == 16 * 1024
    with pytest.raises(VirtError) as exc:
        dom.set_memory(64 * 1024)
    assert exc.value.code == ErrorCode.INVALID_ARG


def test_vcpus_set_cpu_quota(conn: virtplug.Connection, name: str, lxcpath: Path) -> None:
    dom = conn.define_domain(busybox_xml(name))
    dom.start()
    c = lxc.Container(name, str(lxcpath))
    if Path("/sys/fs/cgroup/cgroup.controllers").exists():
        assert c.get_cgroup_item("cpu.max").split()[0] == "100000"
    else:
        assert c.get_cgroup_item("cpu.cfs_quota_us") == "100000"
    ncpu = os.cpu_count() or 1
    if ncpu >= 2:
        dom.set_vcpus(2)
        if Path("/sys/fs/cgroup/cgroup.controllers").exists():
            assert c.get_cgroup_item("cpu.max").split()[0] == "200000"
        else:
            assert c.get_cgroup_item("cpu.cfs_quota_us") == "200000"
        assert dom.info().vcpus == 2
    with pytest.raises(VirtError) as exc:
        dom.set_vcpus(ncpu + 1)
    assert exc.value.code == ErrorCode.INVALID_ARG


def test_init_args_env_and_dir(conn: virtplug.Connection, name: str) -> None:
    script = 'echo "$GREETING" > /tmp/env; pwd > /tmp/cwd; echo "$1" > /tmp/arg; exec sleep 1000'
    os_extra = (
        "<init>/bin/sh</init><initarg>-c</initarg>"
        f"<initarg>{script}</initarg><initarg>argv0</initarg><initarg>two words</initarg>"
        "<initenv name='GREETING'>hello world</initenv><initdir>/etc</initdir>"
    )
    dom = conn.define_domain(busybox_xml(name, os_extra=os_extra))
    dom.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if dom.exec(["cat", "/tmp/arg"]).exit_code == 0:
            break
        time.sleep(0.1)
    assert dom.exec(["cat", "/tmp/env"]).stdout == b"hello world\n"
    assert dom.exec(["cat", "/tmp/cwd"]).stdout == b"/etc\n"
    assert dom.exec(["cat", "/tmp/arg"]).stdout == b"two words\n"
    assert dom.config.os.initargs == ("-c", script, "argv0", "two words")


def test_exec(conn: virtplug.Connection, name: str) -> None:
    dom = conn.define_domain(busybox_xml(name))
    with pytest.raises(VirtError) as exc:
        dom.exec(["true"])
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    dom.start()
    res = dom.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert (res.exit_code, res.stdout, res.stderr) == (3, b"out\n", b"err\n")
    with pytest.raises(VirtError) as exc:
        dom.exec(["sleep", "30"], timeout=0.5)
    assert exc.value.code == ErrorCode.OPERATION_TIMEOUT


def test_start_failure_quotes_liblxc(conn: virtplug.Connection, name: str, tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    make_busybox_rootfs(root)
    xml = f"""<domain type='lxc'><name>{name}</name><memory unit='MiB'>64</memory>
      <os><type>exe</type><init>/bin/sh</init></os>
      <devices><filesystem type='mount'><source dir='{root}'/><target dir='/'/></filesystem>
      </devices></domain>"""
    dom = conn.define_domain(xml)
    shutil.rmtree(root)
    with pytest.raises(VirtError) as exc:
        dom.start()
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    assert exc.value.message.startswith(f"failed to start domain '{name}': ")
    assert "liblxc gave no reason" not in exc.value.message
    assert dom.state == DomainState.SHUTOFF


def test_real_libvirt_lxc_xml(
    conn: virtplug.Connection, name: str, tmp_path: Path, bridge: str, octet: int, lxcpath: Path
) -> None:
    net = conn.define_network(network_xml("default", bridge, octet))
    net.start()
    root = tmp_path / "rootfs"
    make_busybox_rootfs(root)
    xml = f"""<domain type='lxc'>
  <name>{name}</name>
  <uuid>b7f3c6a2-3d57-4c3c-9a8e-2f1e0b6a9c11</uuid>
  <memory unit='KiB'>327680</memory>
  <currentMemory unit='KiB'>327680</currentMemory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/bin/sh</init>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/libexec/libvirt_lxc</emulator>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='{root}'/>
      <target dir='/'/>
    </filesystem>
    <interface type='network'>
      <mac address='00:16:3e:5d:c7:9e'/>
      <source network='default'/>
      <ip address='10.251.{octet}.7' prefix='24'/>
    </interface>
    <console type='pty'>
      <target type='lxc' port='0'/>
    </console>
  </devices>
</domain>"""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dom = conn.define_domain(xml)
    dom.start()
    assert dom.state == DomainState.RUNNING
    out = dom.exec(["cat", "/sys/class/net/eth0/address"])
    print(out, dom.state, dom.exec(["ls", "/sys/class/net", "/proc"]))
    assert out.stdout.strip() == b"00:16:3e:5d:c7:9e"
    ping = dom.exec(["ping", "-c", "1", "-W", "3", f"10.251.{octet}.1"], timeout=20)
    assert ping.exit_code == 0, ping
    dom.destroy()
    dom.undefine()
    assert conn.list_domains() == []
    assert not (lxcpath / name).exists()
    assert (root / "bin" / "busybox").is_file()  # the user's rootfs is never destroyed
    net.stop()
    net.undefine()


def test_autostart_maps_to_start_auto(conn: virtplug.Connection, name: str, lxcpath: Path) -> None:
    dom = conn.define_domain(busybox_xml(name))
    assert dom.autostart is False
    dom.autostart = True
    assert dom.autostart is True
    assert lxc.Container(name, str(lxcpath)).get_config_item("lxc.start.auto") == "1"
    dom.autostart = False
    assert lxc.Container(name, str(lxcpath)).get_config_item("lxc.start.auto") == "0"


def test_events_include_outside_stop(conn: virtplug.Connection, name: str, lxcpath: Path) -> None:
    dom = conn.define_domain(busybox_xml(name))
    with conn.events(kinds=["domain"], names=[name]) as sub:
        dom.start()
        first = sub.get(timeout=5)
        assert first is not None and first.type_name == "STARTED"
        # within the grace after our start, backend events about the domain are the start's
        time.sleep(OWN_GRACE)
        assert lxc.Container(name, str(lxcpath)).stop()
        deadline = time.monotonic() + 10
        seen = None
        while time.monotonic() < deadline:
            ev = sub.get(timeout=1)
            if ev is not None and ev.type_name == "STOPPED":
                seen = ev
                break
        assert seen is not None and seen.source == "backend" and seen.uuid == dom.uuid
    assert dom.state == DomainState.SHUTOFF


def test_snapshots(conn: virtplug.Connection, name: str) -> None:
    dom = conn.define_domain(busybox_xml(name))
    dom.start()
    with pytest.raises(VirtError) as exc:
        dom.create_snapshot("<domainsnapshot><name>s1</name></domainsnapshot>")
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    dom.destroy()
    snap = dom.create_snapshot(
        "<domainsnapshot><name>s1</name><description>clean</description></domainsnapshot>"
    )
    assert snap.name == "s1"
    with pytest.raises(VirtError) as exc:
        dom.create_snapshot("<domainsnapshot><name>s1</name></domainsnapshot>")
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    dom.start()
    assert dom.exec(["touch", "/marker"]).exit_code == 0
    # revert stops a running domain (the snapshot is of a stopped container)
    dom.lookup_snapshot("s1").revert()
    assert dom.state == DomainState.SHUTOFF
    assert dom.state_reason == ShutoffReason.FROM_SNAPSHOT
    dom.start()
    assert dom.exec(["test", "-e", "/marker"]).exit_code == 1
    dom.destroy()
    listed = dom.list_snapshots()
    assert [(s.name, s.info.description) for s in listed] == [("s1", "clean")]
    listed[0].delete()
    assert dom.list_snapshots() == []
    with pytest.raises(VirtError) as exc:
        dom.lookup_snapshot("s1")
    assert exc.value.code == ErrorCode.NO_DOMAIN_SNAPSHOT
    dom.create_snapshot()
    dom.undefine()  # takes its snapshots along


def test_template_cache_gives_independent_containers(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    first = conn.define_domain(busybox_xml(name + "a"))
    second = conn.define_domain(busybox_xml(name + "b"))
    assert (lxcpath / ".vp-tpl-busybox" / "rootfs" / "bin" / "busybox").is_file()
    assert sorted(d.name for d in conn.list_domains()) == [name + "a", name + "b"]
    first.start()
    second.start()
    assert first.exec(["touch", "/only-in-first"]).exit_code == 0
    assert second.exec(["test", "-e", "/only-in-first"]).exit_code == 1
    assert second.exec(["hostname"]).stdout == f"{name}b\n".encode()
    assert not (lxcpath / ".vp-tpl-busybox" / "rootfs" / "only-in-first").exists()


def test_template_cache_can_be_turned_off(lxcpath: Path, name: str) -> None:
    with virtplug.open(f"lxc://{lxcpath}?template_cache=no") as c:
        dom = c.define_domain(busybox_xml(name))
        assert not (lxcpath / ".vp-tpl-busybox").exists()
        dom.start()
        assert dom.exec(["echo", "ok"]).stdout == b"ok\n"


def test_container_created_outside_virtplug(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    c = lxc.Container(name, str(lxcpath))
    c.clear_config_item("lxc.net")
    c.set_config_item("lxc.net.0.type", "empty")
    assert c.create("busybox", lxc.LXC_CREATE_QUIET, ())
    dom = conn.lookup_domain(name)
    assert dom.uuid == conn.lookup_domain(name).uuid  # stable UUID 5
    assert dom.is_persistent()
    assert dom.config.root is not None and dom.config.root.source.endswith("/rootfs")
    assert not (lxcpath / name / "virtplug.json").exists()  # looking writes nothing
    uuid = dom.uuid
    dom.start()  # the first change adopts it: virtplug.json appears, same UUID
    assert (lxcpath / name / "virtplug.json").is_file()
    assert conn.lookup_domain(name).uuid == uuid
    assert dom.id == lxc.Container(name, str(lxcpath)).init_pid
    dom.destroy()
    dom.undefine()
    assert not lxc.Container(name, str(lxcpath)).defined


def test_read_only_watcher_sees_other_clients_once(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    dom = conn.define_domain(busybox_xml(name))
    with (
        virtplug.open(f"lxc://{lxcpath}", readonly=True) as ro,
        ro.events(kinds=["domain"], names=[name]) as sub,
    ):
        time.sleep(0.6)  # let the watcher take its first look
        dom.start()  # another connection: a backend event for this one
        assert lxc.Container(name, str(lxcpath)).wait("RUNNING", 5)
        time.sleep(0.8)
        lxc.Container(name, str(lxcpath)).stop()
        time.sleep(1.5)
        seen = [(e.type_name, e.source) for e in sub.drain()]
    assert seen == [("STARTED", "backend"), ("STOPPED", "backend")]


def test_redefine_running_domain_takes_effect_at_next_start(
    conn: virtplug.Connection, name: str, lxcpath: Path
) -> None:
    dom = conn.define_domain(busybox_xml(name, memory_mib=32))
    dom.start()
    conn.define_domain(
        busybox_xml(name, memory_mib=48).replace("<name>", f"<uuid>{dom.uuid}</uuid><name>")
    )
    assert dom.config.memory_kib == 32 * 1024  # the running instance
    assert "49152" in dom.xml(inactive=True)
    assert dom.stats().memory_limit_kib == 32 * 1024
    dom.destroy()
    dom.start()
    assert dom.config.memory_kib == 48 * 1024
    assert dom.stats().memory_limit_kib == 48 * 1024


def test_mount_root_transient_and_snapshot_rules(
    conn: virtplug.Connection, name: str, lxcpath: Path, tmp_path: Path
) -> None:
    root = tmp_path / "rootfs"
    make_busybox_rootfs(root)
    xml = f"""<domain type='lxc'><name>{{}}</name><memory unit='MiB'>64</memory>
      <os><type>exe</type><init>/bin/sleep</init><initarg>1000</initarg></os>
      <devices><filesystem type='mount'><source dir='{root}'/><target dir='/'/></filesystem>
      </devices></domain>"""
    dom = conn.create_domain(xml.format(name + "t"))
    assert dom.exec(["test", "-x", "/bin/busybox"]).exit_code == 0
    dom.destroy()
    assert conn.list_domains() == []
    assert not (lxcpath / (name + "t")).exists()
    assert (root / "bin" / "busybox").is_file()
    dom = conn.define_domain(xml.format(name))
    with pytest.raises(VirtError) as exc:
        dom.create_snapshot()
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
    assert "external mount" in exc.value.message
    dom.undefine()
    assert (root / "bin" / "busybox").is_file()
