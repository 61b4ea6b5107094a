"""Domain hooks: identity, lifecycle, state machine, configuration, devices, stats."""

from __future__ import annotations

import uuid as uuidlib

import pytest
from vt_helpers import domain_xml, expect, network_xml

import virtplug
from virtplug import DomainState, ErrorCode
from virtplug.models import (
    DomainConfig,
    FilesystemConfig,
    InterfaceConfig,
    PausedReason,
    RunningReason,
    ShutoffReason,
)

E = ErrorCode


# ---------------------------------------------------------------------------
# list / lookup
# ---------------------------------------------------------------------------


def test_list_filters(conn: virtplug.Connection) -> None:
    conn.define_domain(domain_xml("off"))
    conn.create_domain(domain_xml("trans"))
    names = lambda **kw: [d.name for d in conn.list_domains(**kw)]  # noqa: E731
    assert names() == ["off", "test", "trans"]
    assert names(active=True) == ["test", "trans"]
    assert names(active=False) == ["off"]
    assert names(persistent=True) == ["off", "test"]
    assert names(persistent=False) == ["trans"]
    assert names(active=False, persistent=False) == []


def test_list_on_empty_state(empty_conn: virtplug.Connection) -> None:
    assert empty_conn.list_domains() == []


def test_lookup_by_name_uuid_id(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    assert dom.uuid == "6695eb01-f6a4-8304-79aa-97f2502e193f"
    assert conn.lookup_domain(uuid=dom.uuid).name == "test"
    assert conn.lookup_domain(uuid=dom.uuid.upper()).name == "test"
    assert dom.id is not None
    assert conn.lookup_domain(id=dom.id).name == "test"


def test_lookup_unknown(conn: virtplug.Connection) -> None:
    expect(E.NO_DOMAIN, "no domain with matching name 'nope'", lambda: conn.lookup_domain("nope"))
    missing = str(uuidlib.uuid4())
    expect(
        E.NO_DOMAIN,
        f"no domain with matching uuid '{missing}'",
        lambda: conn.lookup_domain(uuid=missing),
    )
    expect(E.NO_DOMAIN, "no domain with matching id 999", lambda: conn.lookup_domain(id=999))


def test_lookup_by_id_of_inactive_domain_fails(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    old_id = dom.id
    assert old_id is not None
    dom.destroy()
    assert dom.id is None
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain(id=old_id))


# ---------------------------------------------------------------------------
# identity and define semantics
# ---------------------------------------------------------------------------


def test_ids_positive_increasing_and_none_when_off(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    assert dom.id is None
    dom.start()
    first = dom.id
    assert first is not None and first > 0
    dom.destroy()
    assert dom.id is None
    dom.start()
    second = dom.id
    assert second is not None and second > first
    other = conn.create_domain(domain_xml("b"))
    assert other.id is not None and other.id > second


def test_define_new_domain_is_persistent_and_off(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    assert dom.state == DomainState.SHUTOFF
    assert dom.state_reason == ShutoffReason.UNKNOWN
    assert dom.is_persistent()
    assert not dom.is_active()
    assert dom.info().cpu_time_ns == 0


def test_define_same_name_other_uuid_fails(conn: virtplug.Connection) -> None:
    uid = "11111111-2222-3333-4444-555555555555"
    expect(
        E.OPERATION_FAILED,
        "domain 'test' already exists with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f",
        lambda: conn.define_domain(domain_xml("test", uuid=uid)),
    )


def test_define_uuid_of_another_name_fails(conn: virtplug.Connection) -> None:
    uid = "6695eb01-f6a4-8304-79aa-97f2502e193f"
    expect(
        E.OPERATION_FAILED,
        f"domain 'test' is already defined with uuid {uid}",
        lambda: conn.define_domain(domain_xml("other", uuid=uid)),
    )
    assert [d.name for d in conn.list_domains()] == ["test"]


def test_redefine_running_updates_definition_only(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    conn.define_domain(domain_xml("test", uuid=dom.uuid, memory=1048576, current=524288, vcpus=4))
    assert dom.config.vcpus == 2  # live configuration kept until restart
    assert dom.info().vcpus == 2
    assert "<vcpu>4</vcpu>" in dom.xml(inactive=True)
    assert "<vcpu>2</vcpu>" in dom.xml()
    dom.destroy()
    dom.start()
    assert dom.info().vcpus == 4
    assert dom.info().max_memory_kib == 1048576


def test_redefine_inactive_replaces_config(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a", vcpus=1))
    conn.define_domain(domain_xml("a", uuid=dom.uuid, vcpus=3))
    assert dom.config.vcpus == 3
    assert dom.xml(inactive=True) == dom.xml()


def test_define_makes_running_transient_domain_persistent(conn: virtplug.Connection) -> None:
    dom = conn.create_domain(domain_xml("t"))
    assert not dom.is_persistent()
    conn.define_domain(domain_xml("t", uuid=dom.uuid))
    assert dom.is_persistent()
    dom.destroy()
    assert conn.lookup_domain("t").state == DomainState.SHUTOFF


def test_foreign_domain_types_are_accepted(conn: virtplug.Connection) -> None:
    for dtype in ("docker", "lxc", "test"):
        dom = conn.define_domain(domain_xml(f"d-{dtype}", type=dtype))
        assert dom.config.type == dtype


def test_unknown_domain_type_is_refused_by_core(conn: virtplug.Connection) -> None:
    expect(E.CONFIG_UNSUPPORTED, None, lambda: conn.define_domain(domain_xml("k", type="kvm")))


def test_non_container_os_type_is_refused(conn: virtplug.Connection) -> None:
    expect(
        E.CONFIG_UNSUPPORTED,
        "unsupported OS type 'hvm' (the test driver runs 'exe' containers)",
        lambda: conn.define_domain(domain_xml("h", os_type="hvm")),
    )
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain("h"))


def test_define_current_memory_above_max_is_refused(conn: virtplug.Connection) -> None:
    # the codec refuses it in XML; the driver refuses it in a model built by hand
    expect(
        E.XML_ERROR, None, lambda: conn.define_domain(domain_xml("m", memory=1024, current=2048))
    )
    config = DomainConfig(name="m", memory_kib=1024, current_memory_kib=2048)
    expect(
        E.INVALID_ARG,
        "current memory must be between 1 KiB and the maximum memory",
        lambda: conn.define_domain(config),
    )
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain("m"))


def test_define_too_many_vcpus_is_refused(conn: virtplug.Connection) -> None:
    expect(
        E.INVALID_ARG,
        "requested vcpus is greater than max allowable vcpus for the host: 17 > 16",
        lambda: conn.define_domain(domain_xml("v", vcpus=17)),
    )


# ---------------------------------------------------------------------------
# create (transient) and undefine
# ---------------------------------------------------------------------------


def test_create_starts_transient_domain(conn: virtplug.Connection) -> None:
    dom = conn.create_domain(domain_xml("t"))
    assert dom.state == DomainState.RUNNING
    assert dom.state_reason == RunningReason.BOOTED
    assert not dom.is_persistent()
    dom.shutdown()
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain("t"))


def test_create_existing_name_fails(conn: virtplug.Connection) -> None:
    expect(
        E.OPERATION_FAILED,
        "domain 'test' already exists with uuid 6695eb01-f6a4-8304-79aa-97f2502e193f",
        lambda: conn.create_domain(domain_xml("test")),
    )


def test_create_with_inactive_network_fails(conn: virtplug.Connection) -> None:
    conn.define_network(network_xml("idle", bridge="vtidle0"))
    iface = "<interface type='network'><source network='idle'/></interface>"
    expect(
        E.OPERATION_INVALID,
        "network 'idle' is not active",
        lambda: conn.create_domain(domain_xml("t", devices=iface)),
    )
    missing = "<interface type='network'><source network='ghost'/></interface>"
    expect(
        E.NO_NETWORK,
        "no network with matching name 'ghost'",
        lambda: conn.create_domain(domain_xml("t", devices=missing)),
    )
    assert [d.name for d in conn.list_domains()] == ["test"]


def test_undefine_inactive_removes(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    dom.undefine()
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain("a"))


def test_undefine_running_makes_transient_then_gone(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.undefine()
    assert dom.state == DomainState.RUNNING
    assert not dom.is_persistent()
    expect(E.OPERATION_INVALID, "cannot undefine transient domain", dom.undefine)
    dom.destroy()
    expect(E.NO_DOMAIN, None, lambda: conn.lookup_domain("test"))


def test_undefine_unknown(conn: virtplug.Connection) -> None:
    expect(E.NO_DOMAIN, None, lambda: conn._call("domain.undefine", name="ghost"))


# ---------------------------------------------------------------------------
# state machine
# ---------------------------------------------------------------------------


def test_full_lifecycle_states_and_reasons(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    dom.start()
    assert (dom.state, dom.state_reason) == (DomainState.RUNNING, RunningReason.BOOTED)
    dom.suspend()
    assert (dom.state, dom.state_reason) == (DomainState.PAUSED, PausedReason.USER)
    assert dom.is_active()
    dom.suspend()  # a paused domain stays paused
    assert dom.state == DomainState.PAUSED
    dom.resume()
    assert (dom.state, dom.state_reason) == (DomainState.RUNNING, RunningReason.UNPAUSED)
    dom.shutdown(timeout=5)
    assert (dom.state, dom.state_reason) == (DomainState.SHUTOFF, ShutoffReason.SHUTDOWN)
    dom.start()
    dom.destroy()
    assert (dom.state, dom.state_reason) == (DomainState.SHUTOFF, ShutoffReason.DESTROYED)


def test_reboot_keeps_running_with_new_id(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    old = dom.id
    dom.reboot()
    assert dom.state == DomainState.RUNNING
    assert dom.state_reason == RunningReason.BOOTED
    assert dom.id is not None and old is not None and dom.id > old


def test_paused_domain_can_be_destroyed(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.suspend()
    dom.destroy()
    assert dom.state == DomainState.SHUTOFF


OFF_OPS = {
    "shutdown": lambda d: d.shutdown(),
    "destroy": lambda d: d.destroy(),
    "reboot": lambda d: d.reboot(),
    "suspend": lambda d: d.suspend(),
    "resume": lambda d: d.resume(),
    "stats": lambda d: d.stats(),
    "exec": lambda d: d.exec(["true"]),
}


@pytest.mark.parametrize("op", sorted(OFF_OPS))
def test_operations_on_inactive_domain(conn: virtplug.Connection, op: str) -> None:
    dom = conn.define_domain(domain_xml("off"))
    expect(E.OPERATION_INVALID, "domain is not running", lambda: OFF_OPS[op](dom))
    assert dom.state == DomainState.SHUTOFF


def test_start_running_domain(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(E.OPERATION_INVALID, "domain is already running", dom.start)


def test_start_paused_domain(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.suspend()
    expect(E.OPERATION_INVALID, "domain is already running", dom.start)
    assert dom.state == DomainState.PAUSED


def test_resume_running_domain(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(E.OPERATION_INVALID, "domain is not paused", dom.resume)


def test_exec_on_paused_domain(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.suspend()
    expect(E.OPERATION_INVALID, "domain is not running", lambda: dom.exec(["true"]))


@pytest.mark.parametrize("op", ["start", "shutdown", "destroy", "reboot", "suspend", "resume"])
def test_lifecycle_on_unknown_domain(conn: virtplug.Connection, op: str) -> None:
    kwargs = {"timeout": None} if op == "shutdown" else {}
    expect(
        E.NO_DOMAIN,
        "no domain with matching name 'ghost'",
        lambda: conn._call(f"domain.{op}", name="ghost", **kwargs),
    )


def test_start_needs_active_network(conn: virtplug.Connection) -> None:
    conn.define_network(network_xml("idle", bridge="vtidle0"))
    iface = "<interface type='network'><source network='idle'/></interface>"
    dom = conn.define_domain(domain_xml("a", devices=iface))
    expect(E.OPERATION_INVALID, "network 'idle' is not active", dom.start)
    conn.lookup_network("idle").start()
    dom.start()
    assert dom.state == DomainState.RUNNING


def test_shutdown_negative_timeout(conn: virtplug.Connection) -> None:
    expect(E.INVALID_ARG, None, lambda: conn.lookup_domain("test").shutdown(timeout=-1))


# ---------------------------------------------------------------------------
# info, xml, cpu time
# ---------------------------------------------------------------------------


def test_info_of_default_domain(conn: virtplug.Connection) -> None:
    info = conn.lookup_domain("test").info()
    assert info.state == DomainState.RUNNING
    assert info.max_memory_kib == 8 * 1024 * 1024
    assert info.memory_kib == 2 * 1024 * 1024
    assert info.vcpus == 2
    assert info.persistent is True
    assert info.state_reason == RunningReason.BOOTED


def test_cpu_time_grows_while_running_and_stops_when_paused(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    first = dom.info().cpu_time_ns
    second = first
    for _ in range(10000):
        second = dom.info().cpu_time_ns
        if second > first:
            break
    assert second > first
    dom.suspend()
    frozen = dom.info().cpu_time_ns
    assert frozen >= second
    assert dom.info().cpu_time_ns == frozen
    assert dom.stats().cpu_time_ns == frozen
    dom.destroy()
    assert dom.info().cpu_time_ns == 0


def test_info_and_state_of_unknown(conn: virtplug.Connection) -> None:
    for op in ("domain.info", "domain.state", "domain.get_autostart", "domain.snapshot_list"):
        expect(E.NO_DOMAIN, None, lambda op=op: conn._call(op, name="ghost"))
    expect(E.NO_DOMAIN, None, lambda: conn._call("domain.xml", name="ghost", inactive=False))


def test_xml_round_trip(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a", memory=131072, vcpus=2))
    again = virtplug.xml.parse_domain(dom.xml())  # type: ignore[attr-defined]
    assert again == dom.config
    dom.start()
    assert f"id='{dom.id}'" in dom.xml().replace('"', "'")
    assert "id=" not in dom.xml(inactive=True)


# ---------------------------------------------------------------------------
# memory, vcpus, autostart
# ---------------------------------------------------------------------------


def test_set_memory_live_and_definition(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.set_memory(1024 * 1024)
    assert dom.info().memory_kib == 1024 * 1024
    assert '<currentMemory unit="KiB">1048576</currentMemory>' in dom.xml(inactive=True)


def test_set_memory_above_max(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(
        E.INVALID_ARG,
        "cannot set memory higher than max memory",
        lambda: dom.set_memory(8 * 1024 * 1024 + 1),
    )
    assert dom.info().memory_kib == 2 * 1024 * 1024


def test_set_memory_non_positive_at_driver(conn: virtplug.Connection) -> None:
    expect(E.INVALID_ARG, None, lambda: conn._call("domain.set_memory", name="test", kib=0))


def test_set_memory_inactive_changes_definition(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a", memory=65536))
    dom.set_memory(32768)
    assert dom.info().memory_kib == 32768
    expect(E.NO_DOMAIN, None, lambda: conn._call("domain.set_memory", name="x", kib=1))


def test_set_vcpus(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.set_vcpus(4)
    assert dom.info().vcpus == 4
    assert dom.config.vcpus == 4
    assert "<vcpu>4</vcpu>" in dom.xml(inactive=True)
    expect(E.INVALID_ARG, None, lambda: dom.set_vcpus(17))
    expect(E.INVALID_ARG, None, lambda: conn._call("domain.set_vcpus", name="test", count=0))
    assert dom.info().vcpus == 4


def test_set_vcpus_on_transient_domain(conn: virtplug.Connection) -> None:
    dom = conn.create_domain(domain_xml("t"))
    dom.set_vcpus(2)
    assert dom.info().vcpus == 2
    assert dom.config.vcpus == 2


def test_autostart(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    assert dom.autostart is False
    dom.autostart = True
    assert dom.autostart is True
    dom.autostart = False
    assert dom.autostart is False


def test_autostart_refused_on_transient(conn: virtplug.Connection) -> None:
    dom = conn.create_domain(domain_xml("t"))
    with pytest.raises(virtplug.VirtError) as info:
        dom.autostart = True
    assert info.value.code == E.OPERATION_INVALID
    assert info.value.message == "cannot set autostart for transient domain"
    assert dom.autostart is False


# ---------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------

IFACE = (
    "<interface type='network'><source network='default'/>"
    "<mac address='52:54:00:aa:bb:cc'/></interface>"
)
FS = "<filesystem type='mount'><source dir='/srv/data'/><target dir='/data'/></filesystem>"


def test_attach_and_detach_interface_live(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.attach_device(IFACE)
    assert dom.config.interfaces == (
        InterfaceConfig(type="network", source="default", mac="52:54:00:aa:bb:cc"),
    )
    assert len(conn.lookup_domain("test").config.interfaces) == 1
    assert "52:54:00:aa:bb:cc" in dom.xml(inactive=True)
    wrong_mac = (
        "<interface type='network'><source network='default'/>"
        "<mac address='52:54:00:00:00:01'/></interface>"
    )
    expect(E.OPERATION_FAILED, "device not found", lambda: dom.detach_device(wrong_mac))
    dom.detach_device(
        "<interface type='network'><source network='default'/>"
        "<mac address='52:54:00:AA:BB:CC'/></interface>"
    )
    assert dom.config.interfaces == ()
    assert "52:54:00:aa:bb:cc" not in dom.xml(inactive=True)


def test_attach_interface_unknown_network(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(
        E.NO_NETWORK,
        "no network with matching name 'ghost'",
        lambda: dom.attach_device(
            "<interface type='network'><source network='ghost'/></interface>"
        ),
    )
    assert dom.config.interfaces == ()


def test_attach_duplicate_device(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.attach_device(FS)
    expect(E.OPERATION_FAILED, "device is already attached", lambda: dom.attach_device(FS))
    other_source = "<filesystem type='mount'><source dir='/x'/><target dir='/data'/></filesystem>"
    expect(
        E.OPERATION_FAILED,
        "filesystem target '/data' already exists",
        lambda: dom.attach_device(other_source),
    )
    dom.attach_device(IFACE)
    same_mac = (
        "<interface type='bridge'><source bridge='br0'/>"
        "<mac address='52:54:00:aa:bb:cc'/></interface>"
    )
    expect(
        E.OPERATION_FAILED,
        "MAC address '52:54:00:aa:bb:cc' is already in use",
        lambda: dom.attach_device(same_mac),
    )
    assert len(dom.config.filesystems) == 2
    assert len(dom.config.interfaces) == 1


def test_detach_missing_device(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(E.OPERATION_FAILED, "device not found", lambda: dom.detach_device(FS))


def test_attach_to_inactive_domain_changes_definition(conn: virtplug.Connection) -> None:
    conn.define_network(network_xml("idle", bridge="vtidle0"))
    dom = conn.define_domain(domain_xml("a"))
    dom.attach_device("<interface type='network'><source network='idle'/></interface>")
    assert dom.config.interfaces[0].source == "idle"
    dom.detach_device("<interface type='network'><source network='idle'/></interface>")
    assert dom.config.interfaces == ()


def test_attach_to_running_domain_needs_active_network(conn: virtplug.Connection) -> None:
    conn.define_network(network_xml("idle", bridge="vtidle0"))
    dom = conn.lookup_domain("test")
    expect(
        E.OPERATION_INVALID,
        "network 'idle' is not active",
        lambda: dom.attach_device("<interface type='network'><source network='idle'/></interface>"),
    )


def test_attach_console_and_filesystem_device_models(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.attach_device(FilesystemConfig(type="mount", source="/srv", target="/srv"))
    assert dom.config.filesystems[-1].target == "/srv"
    dom.attach_device("<console type='pty'/>")
    assert len(dom.config.consoles) == 1
    dom.detach_device("<console type='pty'/>")
    assert dom.config.consoles == ()


def test_device_ops_on_unknown_domain(conn: virtplug.Connection) -> None:
    device = FilesystemConfig(type="mount", source="/srv", target="/srv")
    for op in ("domain.attach_device", "domain.detach_device"):
        expect(E.NO_DOMAIN, None, lambda op=op: conn._call(op, name="ghost", device=device))


# ---------------------------------------------------------------------------
# stats
# ---------------------------------------------------------------------------


def test_stats(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    stats = dom.stats()
    assert stats.memory_limit_kib == 2 * 1024 * 1024
    assert 0 < stats.memory_used_kib <= stats.memory_limit_kib
    assert stats.cpu_time_ns >= 0
    assert stats.pids == 1
    dom.set_memory(4096)
    assert dom.stats().memory_used_kib <= 4096


def test_stats_of_paused_domain(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.suspend()
    assert dom.stats().memory_limit_kib == 2 * 1024 * 1024


def test_stats_unknown(conn: virtplug.Connection) -> None:
    expect(E.NO_DOMAIN, None, lambda: conn._call("domain.stats", name="ghost"))


# ---------------------------------------------------------------------------
# node memory accounting
# ---------------------------------------------------------------------------


def test_free_memory_follows_running_domains(conn: virtplug.Connection) -> None:
    total = conn.node_info().memory_kib * 1024
    assert conn.node_free_memory() == total - 2 * 1024**3
    conn.lookup_domain("test").destroy()
    assert conn.node_free_memory() == total


def test_list_follows_every_change(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    assert [d.name for d in conn.list_domains(active=True)] == ["test"]
    dom.start()
    refs = conn._call("domain.list", active=True, persistent=None)
    assert [(r.name, r.id) for r in refs] == [("a", dom.id), ("test", 1)]
    dom.destroy()
    assert [d.name for d in conn.list_domains(active=True)] == ["test"]
    refs[0] = None  # callers may change what they got; the next list is unaffected
    assert [r.name for r in conn._call("domain.list", active=None, persistent=None)] == [
        "a",
        "test",
    ]
