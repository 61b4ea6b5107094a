"""Domains against the real engine: lifecycle, errors, XML, limits, devices, exec, stats."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import docker
import pytest
from conftest import IMAGE

import virtplug
from virtplug.errors import (
    ArgumentUnsupportedError,
    ConfigUnsupportedError,
    ErrorCode,
    InvalidArgError,
    NoDomainError,
    OperationFailedError,
    OperationInvalidError,
    VirtError,
)
from virtplug.models import DomainState, ShutoffReason
from virtplug_docker.conformance import DOMAIN_XML, NETWORK_XML

Names = Callable[[], str]


def define(conn: virtplug.Connection, name: str) -> virtplug.Domain:
    return conn.define_domain(DOMAIN_XML.format(name=name))


def test_define_start_shutdown_undefine(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    dom = define(conn, n)
    assert dom.state == DomainState.SHUTOFF
    assert dom.id is None
    assert dom.is_persistent()
    dom.start()
    assert dom.state == DomainState.RUNNING
    pid = dom.id
    assert isinstance(pid, int) and pid > 0
    assert conn.lookup_domain(id=pid).name == n
    assert conn.lookup_domain(uuid=dom.uuid).name == n
    dom.shutdown(timeout=10)
    assert dom.state == DomainState.SHUTOFF
    assert dom.state_reason == ShutoffReason.SHUTDOWN  # init trapped TERM and exited 0
    dom.undefine()
    with pytest.raises(NoDomainError):
        conn.lookup_domain(n)


def test_state_errors(conn: virtplug.Connection, name: Names) -> None:
    dom = define(conn, name())
    for op in (dom.shutdown, dom.destroy, dom.reboot, dom.suspend):
        with pytest.raises(OperationInvalidError, match="domain is not running"):
            op()
    with pytest.raises(OperationInvalidError, match="domain is not running"):
        dom.resume()
    dom.start()
    with pytest.raises(OperationInvalidError, match="domain is already running"):
        dom.start()
    with pytest.raises(OperationInvalidError, match="domain is not paused"):
        dom.resume()
    dom.suspend()
    assert dom.state == DomainState.PAUSED
    dom.suspend()  # no-op
    with pytest.raises(OperationInvalidError, match="domain is already running"):
        dom.start()
    dom.resume()
    assert dom.state == DomainState.RUNNING
    dom.destroy()
    assert dom.state == DomainState.SHUTOFF
    assert dom.state_reason == ShutoffReason.DESTROYED


def test_destroy_paused(conn: virtplug.Connection, name: Names) -> None:
    dom = define(conn, name())
    dom.start()
    dom.suspend()
    dom.destroy()
    assert dom.state == DomainState.SHUTOFF


def test_unknown_names(conn: virtplug.Connection) -> None:
    missing = "vptest-does-not-exist"
    for op in (
        "domain.start",
        "domain.shutdown",
        "domain.destroy",
        "domain.undefine",
        "domain.suspend",
        "domain.resume",
        "domain.state",
        "domain.info",
    ):
        kwargs: dict[str, Any] = {"name": missing}
        if op == "domain.shutdown":
            kwargs["timeout"] = 1
        with pytest.raises(NoDomainError) as err:
            conn._call(op, **kwargs)
        assert err.value.code == ErrorCode.NO_DOMAIN


def test_transient_is_removed_when_stopped(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    n = name()
    dom = conn.create_domain(DOMAIN_XML.format(name=n))
    assert dom.state == DomainState.RUNNING
    assert not dom.is_persistent()
    with pytest.raises(OperationInvalidError, match="cannot undefine transient domain"):
        dom.undefine()
    with pytest.raises(OperationInvalidError):
        dom.autostart = True
    dom.shutdown(timeout=5)
    with pytest.raises(NoDomainError):
        conn.lookup_domain(n)
    assert api.containers(all=True, filters={"name": n}) == []
    dom2 = conn.create_domain(DOMAIN_XML.format(name=n))
    dom2.destroy()
    assert api.containers(all=True, filters={"name": n}) == []


def test_transient_stopped_from_another_connection(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    n = name()
    conn.create_domain(DOMAIN_XML.format(name=n))
    with virtplug.open("docker:///") as other:
        other.lookup_domain(n).destroy()
    assert api.containers(all=True, filters={"name": n}) == []


def test_undefine_running_makes_transient(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    n = name()
    dom = define(conn, n)
    dom.start()
    dom.undefine()
    assert dom.state == DomainState.RUNNING
    assert not dom.is_persistent()
    assert [d.name for d in conn.list_domains(persistent=False) if d.name == n] == [n]
    with virtplug.open("docker:///") as other:  # the record is visible to other connections
        assert not other.lookup_domain(n).is_persistent()
    dom.shutdown(timeout=5)
    with pytest.raises(NoDomainError):
        conn.lookup_domain(n)
    assert api.containers(all=True, filters={"name": n}) == []


def test_define_running_transient_makes_persistent(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    dom = conn.create_domain(DOMAIN_XML.format(name=n))
    conn.define_domain(dom.xml())
    assert dom.is_persistent()
    dom.shutdown(timeout=5)
    assert conn.lookup_domain(n).state == DomainState.SHUTOFF
    assert conn.lookup_domain(n).is_persistent()


def test_redefine_updates_and_uuid_clash(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    dom = define(conn, n)
    xml = dom.xml().replace(
        '<memory unit="KiB">65536</memory>', '<memory unit="KiB">98304</memory>'
    )
    assert "98304" in xml
    conn.define_domain(xml)
    assert conn.lookup_domain(n).info().max_memory_kib == 98304
    assert conn.lookup_domain(n).uuid == dom.uuid
    other = DOMAIN_XML.format(name=n).replace(
        "<name>", "<uuid>11111111-2222-3333-4444-555555555555</uuid><name>"
    )
    with pytest.raises(
        OperationFailedError, match=f"domain '{n}' already exists with uuid {dom.uuid}"
    ):
        conn.define_domain(other)
    with pytest.raises(OperationFailedError, match="already exists"):
        conn.create_domain(DOMAIN_XML.format(name=n))
    m = name()
    same_uuid = DOMAIN_XML.format(name=m).replace("<name>", f"<uuid>{dom.uuid}</uuid><name>")
    with pytest.raises(OperationFailedError):
        conn.define_domain(same_uuid)


def test_redefine_while_running_applies_at_next_stop(
    conn: virtplug.Connection, name: Names
) -> None:
    n = name()
    dom = define(conn, n)
    dom.start()
    new = dom.xml(inactive=True).replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>")
    conn.define_domain(new)
    assert dom.info().vcpus == 1
    assert "<vcpu>2</vcpu>" in dom.xml(inactive=True)
    dom.shutdown(timeout=5)
    assert dom.info().vcpus == 2
    assert dom.uuid == conn.lookup_domain(n).uuid


def test_xml_round_trip(conn: virtplug.Connection, name: Names, tmp_path: Any) -> None:
    n = name()
    xml = f"""<domain type='docker'>
  <name>{n}</name>
  <title>round trip</title>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>echo "$GREETING" > /tmp/out; pwd >> /tmp/out; sleep 1000</initarg>
    <initenv name='GREETING'>hello world</initenv>
    <initdir>/etc</initdir>
  </os>
  <devices>
    <filesystem type='template'><source name='{IMAGE}'/><target dir='/'/></filesystem>
    <filesystem type='mount'><source dir='{tmp_path}'/><target dir='/data'/><readonly/></filesystem>
  </devices>
</domain>"""
    dom = conn.define_domain(xml)
    from virtplug import xml as codec

    before = codec.parse_domain(xml)
    after = codec.parse_domain(dom.xml())
    assert after.name == before.name and after.os == before.os
    assert after.filesystems == before.filesystems
    assert after.memory_kib == 131072 and after.current_memory_kib == 65536
    assert after.title == "round trip"
    dom.start()
    res = dom.exec(["/bin/cat", "/tmp/out"])
    assert res.stdout == b"hello world\n/etc\n"
    (tmp_path / "f").write_text("x")
    assert dom.exec(["/bin/cat", "/data/f"]).stdout == b"x"
    ro = dom.exec(["/bin/sh", "-c", "echo y > /data/g"])
    assert ro.exit_code != 0
    dom.destroy()


def test_foreign_container_lists_with_derived_config(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    n = name()
    c = api.create_container(
        IMAGE,
        command=["sleep", "60"],
        name=n,
        environment=["A=1"],
        working_dir="/tmp",
        host_config=api.create_host_config(mem_limit=64 * 1024 * 1024, network_mode="none"),
    )
    dom = conn.lookup_domain(n)
    assert n in [d.name for d in conn.list_domains()]
    cfg = dom.config
    assert cfg.type == "docker"
    assert cfg.root is not None and cfg.root.source == IMAGE
    assert cfg.os.init == "sleep" and cfg.os.initargs == ("60",)
    assert ("A", "1") in cfg.os.initenv
    assert cfg.os.initdir == "/tmp"
    assert cfg.memory_kib == 65536
    import uuid as _uuid

    _uuid.UUID(dom.uuid)
    with virtplug.open("docker:///") as other:
        assert other.lookup_domain(n).uuid == dom.uuid  # deterministic from the container id
    assert conn.lookup_domain(uuid=dom.uuid).name == n
    dom.start()
    assert dom.state == DomainState.RUNNING
    dom.destroy()
    dom.undefine()
    assert api.containers(all=True, filters={"id": c["Id"]}) == []


def test_config_unsupported(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    with pytest.raises(ConfigUnsupportedError):
        conn.define_domain(DOMAIN_XML.format(name=n).replace(IMAGE, "vptest-no-such-image:1"))
    with pytest.raises(ConfigUnsupportedError):
        conn.define_domain(DOMAIN_XML.format(name=n).replace("type='docker'", "type='lxc'"))
    bad_root = DOMAIN_XML.format(name=n).replace(
        f"<filesystem type='template'>\n      <source name='{IMAGE}'/>",
        "<filesystem type='mount'>\n      <source dir='/tmp'/>",
    )
    with pytest.raises(ConfigUnsupportedError):
        conn.define_domain(bad_root)
    with pytest.raises(NoDomainError):
        conn.lookup_domain(n)


def test_limits_live(conn: virtplug.Connection, api: docker.APIClient, name: Names) -> None:
    dom = define(conn, name())
    dom.start()
    dom.set_memory(32768)
    assert api.inspect_container(dom.name)["HostConfig"]["Memory"] == 32768 * 1024
    assert dom.info().memory_kib == 32768
    with pytest.raises(InvalidArgError):
        dom.set_memory(65536 * 2)
    dom.set_vcpus(2)
    assert api.inspect_container(dom.name)["HostConfig"]["NanoCpus"] == 2 * 10**9
    assert dom.info().vcpus == 2
    with pytest.raises(InvalidArgError):
        dom.set_vcpus(64)
    dom.shutdown(timeout=5)
    dom.start()  # limits survive a restart
    assert dom.info().memory_kib == 32768
    stats = dom.stats()
    assert stats.memory_limit_kib == 32768
    assert stats.cpu_time_ns > 0 and stats.memory_used_kib > 0 and stats.pids and stats.pids >= 1


def test_autostart(conn: virtplug.Connection, api: docker.APIClient, name: Names) -> None:
    dom = define(conn, name())
    assert dom.autostart is False
    dom.autostart = True
    assert dom.autostart is True
    assert api.inspect_container(dom.name)["HostConfig"]["RestartPolicy"]["Name"] == "always"
    dom.autostart = False
    assert dom.autostart is False


def test_reboot_restarts_init(conn: virtplug.Connection, name: Names) -> None:
    dom = define(conn, name())
    dom.start()
    before = dom.id
    dom.reboot()
    assert dom.state == DomainState.RUNNING
    assert dom.id != before


def test_exec_and_stats(conn: virtplug.Connection, name: Names) -> None:
    dom = define(conn, name())
    with pytest.raises(OperationInvalidError, match="domain is not running"):
        dom.exec(["/bin/true"])
    with pytest.raises(OperationInvalidError, match="domain is not running"):
        dom.stats()
    dom.start()
    res = dom.exec(["/bin/sh", "-c", "echo out; echo err >&2; exit 7"])
    assert (res.exit_code, res.stdout, res.stderr) == (7, b"out\n", b"err\n")
    with pytest.raises(VirtError) as err:
        dom.exec(["/bin/sleep", "5"], timeout=0.5)
    assert err.value.code == ErrorCode.OPERATION_TIMEOUT
    dom.suspend()
    with pytest.raises(OperationInvalidError, match="paused"):
        dom.exec(["/bin/true"])


def test_nic_attach_detach_live(conn: virtplug.Connection, name: Names) -> None:
    net = conn.create_network(NETWORK_XML.format(name=name(), bridge="vptbr1", octet=201))
    dom = define(conn, name())
    dom.start()
    nic = f"<interface type='network'><source network='{net.name}'/></interface>"
    dom.attach_device(nic)
    out = dom.exec(["/bin/ip", "-4", "addr"]).stdout.decode()
    assert "10.251.201." in out
    assert f'network="{net.name}"' in dom.xml()
    with pytest.raises(OperationFailedError):
        dom.attach_device(nic)
    dom.detach_device(nic)
    assert "10.251.201." not in dom.exec(["/bin/ip", "-4", "addr"]).stdout.decode()
    with pytest.raises(OperationFailedError, match="device not found"):
        dom.detach_device(nic)
    with pytest.raises(VirtError) as err:
        dom.attach_device("<interface type='network'><source network='vptest-nonet'/></interface>")
    assert err.value.code == ErrorCode.NO_NETWORK
    with pytest.raises(ArgumentUnsupportedError):
        dom.attach_device(
            "<filesystem type='mount'><source dir='/tmp'/><target dir='/x'/></filesystem>"
        )
    dom.destroy()
    dom.attach_device(
        "<filesystem type='mount'><source dir='/tmp'/><target dir='/x'/></filesystem>"
    )
    assert "/x" in dom.xml()
    dom.detach_device(
        "<filesystem type='mount'><source dir='/tmp'/><target dir='/x'/></filesystem>"
    )
    assert "/x" not in dom.xml()
    net.stop()


def test_domain_with_interfaces_at_define(conn: virtplug.Connection, name: Names) -> None:
    a = conn.create_network(NETWORK_XML.format(name=name(), bridge="vptbr2", octet=202))
    b = conn.create_network(NETWORK_XML.format(name=name(), bridge="vptbr3", octet=203))
    n = name()
    xml = DOMAIN_XML.format(name=n).replace(
        "</devices>",
        f"<interface type='network'><source network='{a.name}'/>"
        f"<mac address='02:00:00:aa:bb:01'/></interface>"
        f"<interface type='network'><source network='{b.name}'/></interface></devices>",
    )
    dom = conn.define_domain(xml)
    dom.start()
    out = dom.exec(["/bin/ip", "addr"]).stdout.decode()
    assert "10.251.202." in out and "10.251.203." in out and "02:00:00:aa:bb:01" in out
    cfg = dom.config
    assert [i.source for i in cfg.interfaces] == [a.name, b.name]
    dom.destroy()
    dom.undefine()
    a.stop()
    b.stop()


def test_list_is_one_round_trip(conn: virtplug.Connection, name: Names) -> None:
    doms = [define(conn, name()) for _ in range(3)]
    doms[0].start()
    api = conn._d.state.api
    calls: list[str] = []
    hook = lambda r, *a, **k: calls.append(r.request.url)  # noqa: E731
    api.hooks["response"].append(hook)
    try:
        listed = conn.list_domains()
        assert len(calls) == 1 and "/containers/json" in calls[0]
        names = [d.name for d in listed]
        assert all(d.name in names for d in doms)
        assert names == sorted(names)
        calls.clear()
        active = {d.name for d in conn.list_domains(active=True)}
        assert len(calls) == 1
        assert doms[0].name in active and doms[1].name not in active
        inactive = {d.name for d in conn.list_domains(active=False)}
        assert doms[1].name in inactive and doms[0].name not in inactive
    finally:
        api.hooks["response"].remove(hook)


def test_lifecycle_calls_map_one_to_one(conn: virtplug.Connection, name: Names) -> None:
    n = name()
    api = conn._d.state.api
    calls: list[str] = []
    hook = lambda r, *a, **k: calls.append(f"{r.request.method} {r.request.path_url}")  # noqa: E731
    conn.host_capabilities()
    api.hooks["response"].append(hook)
    try:
        dom = define(conn, n)
        define_calls = list(calls)
        calls.clear()
        dom.start()
        assert len(calls) == 1 and "/start" in calls[0]
        calls.clear()
        dom.shutdown(timeout=5)
        assert len(calls) == 1 and "/stop" in calls[0]
        calls.clear()
        dom.undefine()
        assert len(calls) == 1 and calls[0].startswith("DELETE /v")
    finally:
        api.hooks["response"].remove(hook)
    # define: the create itself and the UUID-uniqueness query (run concurrently)
    assert sorted(c.split("?")[0].rsplit("/", 1)[-1] for c in define_calls) == ["create", "json"]


def test_events_from_backend(conn: virtplug.Connection, api: docker.APIClient, name: Names) -> None:
    n = name()
    seen: list[tuple[str, str, str]] = []
    got = threading.Event()

    def on(ev: Any) -> None:
        seen.append((ev.name, ev.type_name, ev.source))
        if ev.name == n and ev.type_name == "STOPPED":
            got.set()

    sub = conn.events(on)
    try:
        c = api.create_container(
            IMAGE,
            command=["sleep", "30"],
            name=n,
            host_config=api.create_host_config(network_mode="none"),
        )
        api.start(c["Id"])
        api.kill(c["Id"])
        assert got.wait(20), seen
    finally:
        sub.close()
    mine = [s for s in seen if s[0] == n]
    assert ("STARTED" in [t for _, t, _ in mine]) and all(src == "backend" for *_, src in mine)


def test_own_operations_are_seen_once(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    """The engine reports a transient create as create + start, and reports every change
    asynchronously; subscribers see exactly the API events (the core folds the engine's)."""
    n, marker = name(), name()
    seen: list[tuple[str, str, str]] = []
    got_marker = threading.Event()

    def on(ev: Any) -> None:
        seen.append((ev.name, ev.type_name, ev.source))
        if ev.name == marker:
            got_marker.set()

    sub = conn.events(on)
    try:
        dom = conn.create_domain(DOMAIN_XML.format(name=n))
        dom.suspend()
        dom.resume()
        dom.destroy()
        # The engine reports in order: once it reports another client's change made after
        # ours, every report about our domain has reached the connection.
        api.create_container(
            IMAGE, command=["true"], name=marker, host_config=api.create_host_config()
        )
        assert got_marker.wait(20), seen
    finally:
        sub.close()
    assert [s for s in seen if s[0] == n] == [
        (n, "STARTED", "api"),
        (n, "SUSPENDED", "api"),
        (n, "RESUMED", "api"),
        (n, "STOPPED", "api"),
    ]


def test_concurrent_lifecycle(conn: virtplug.Connection, name: Names) -> None:
    doms = [define(conn, name()) for _ in range(4)]
    errors: list[BaseException] = []

    def cycle(d: virtplug.Domain) -> None:
        try:
            d.start()
            d.shutdown(timeout=5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=cycle, args=(d,)) for d in doms]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert all(d.state == DomainState.SHUTOFF for d in doms)


def test_engine_facts(conn: virtplug.Connection) -> None:
    assert conn.type() == "Docker"
    assert conn.version()[0].isdigit()
    caps = conn.host_capabilities()
    assert caps.domain_types == ("docker",)
    info = conn.node_info()
    assert info.cpus >= 1 and info.memory_kib > 0
    assert 0 < conn.node_free_memory() <= info.memory_kib * 1024
    assert conn.is_alive()
    assert conn.supports("domain.suspend")
    assert conn.supports("domain.snapshot_create")
    assert conn.capabilities().with_status("undeclared") == ()
    assert conn.capabilities().with_status("unsupported") == ()
    time.sleep(0)


def test_snapshots_commit_filesystem_and_config(
    conn: virtplug.Connection, api: docker.APIClient, name: Names
) -> None:
    from virtplug.errors import NoDomainSnapshotError
    from virtplug.models import SnapshotConfig

    n = name()
    dom = define(conn, n)
    dom.start()
    dom.exec(["/bin/sh", "-c", "echo before > /tmp/state"])
    snap = dom.create_snapshot(SnapshotConfig(name="s1", description="first"))
    assert snap.name == "s1" and snap.info.state == DomainState.RUNNING
    assert dom.state == DomainState.RUNNING  # commit pauses only for the commit
    with pytest.raises(OperationFailedError):
        dom.create_snapshot(SnapshotConfig(name="s1"))
    dom.exec(["/bin/sh", "-c", "echo after > /tmp/state"])
    original = dom.xml(inactive=True)
    conn.define_domain(original.replace("<vcpu>1</vcpu>", "<vcpu>2</vcpu>"))
    dom.destroy()
    assert dom.info().vcpus == 2
    snap2 = dom.create_snapshot(SnapshotConfig(name="s2"))
    assert [s.name for s in dom.list_snapshots()] == ["s1", "s2"]
    assert dom.lookup_snapshot("s1").info.description == "first"
    snap.revert()
    assert dom.state == DomainState.RUNNING  # s1 was taken while running
    assert dom.info().vcpus == 1
    assert dom.exec(["/bin/cat", "/tmp/state"]).stdout == b"before\n"
    assert dom.uuid == conn.lookup_domain(n).uuid
    snap2.revert()
    assert dom.state == DomainState.SHUTOFF and dom.info().vcpus == 2
    with pytest.raises(NoDomainSnapshotError):
        dom.lookup_snapshot("nope")
    snap.delete()
    snap2.delete()
    assert dom.list_snapshots() == []
    with pytest.raises(NoDomainSnapshotError):
        snap.delete()
    dom.undefine()
    left = [t for img in api.images() for t in img.get("RepoTags") or () if dom.uuid in t]
    assert left == []
