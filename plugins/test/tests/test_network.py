"""Network hooks: list, lookup, define/create, undefine, start/stop, info, XML, autostart."""

from __future__ import annotations

import uuid as uuidlib

from vt_helpers import domain_xml, expect, network_xml

import virtplug
from virtplug import ErrorCode

E = ErrorCode


def test_default_network(conn: virtplug.Connection) -> None:
    net = conn.lookup_network("default")
    assert net.uuid == "dd8fe884-6c02-601e-7551-cca97df1c5df"
    info = net.info()
    assert (info.active, info.persistent, info.autostart, info.bridge) == (
        True,
        True,
        False,
        "virbr0",
    )
    cfg = net.config
    assert cfg.forward == "nat"
    (ip,) = cfg.ips
    assert (ip.address, ip.prefix) == ("192.168.122.1", 24)
    assert [(r.start, r.end) for r in ip.dhcp] == [("192.168.122.2", "192.168.122.254")]


def test_list_filters(conn: virtplug.Connection) -> None:
    conn.define_network(network_xml("idle", bridge="vtidle0"))
    conn.create_network(network_xml("trans", bridge="vttrans0"))
    names = lambda **kw: [n.name for n in conn.list_networks(**kw)]  # noqa: E731
    assert names() == ["default", "idle", "trans"]
    assert names(active=True) == ["default", "trans"]
    assert names(active=False) == ["idle"]
    assert names(persistent=False) == ["trans"]
    assert names(persistent=True, active=False) == ["idle"]


def test_lookup(conn: virtplug.Connection) -> None:
    net = conn.lookup_network("default")
    assert conn.lookup_network(uuid=net.uuid).name == "default"
    expect(E.NO_NETWORK, "no network with matching name 'x'", lambda: conn.lookup_network("x"))
    missing = str(uuidlib.uuid4())
    expect(
        E.NO_NETWORK,
        f"no network with matching uuid '{missing}'",
        lambda: conn.lookup_network(uuid=missing),
    )


def test_define_start_stop_undefine(conn: virtplug.Connection) -> None:
    net = conn.define_network(network_xml("n1", bridge="vtn1"))
    assert not net.is_active() and net.is_persistent()
    net.start()
    assert net.is_active()
    expect(E.OPERATION_INVALID, "network is already active", net.start)
    net.stop()
    assert not net.is_active()
    expect(E.OPERATION_INVALID, "network is not active", net.stop)
    net.undefine()
    expect(E.NO_NETWORK, None, lambda: conn.lookup_network("n1"))


def test_define_name_and_uuid_clashes(conn: virtplug.Connection) -> None:
    uid = "dd8fe884-6c02-601e-7551-cca97df1c5df"
    expect(
        E.OPERATION_FAILED,
        f"network 'default' already exists with uuid {uid}",
        lambda: conn.define_network(network_xml("default", uuid=str(uuidlib.uuid4()))),
    )
    expect(
        E.OPERATION_FAILED,
        f"network 'default' is already defined with uuid {uid}",
        lambda: conn.define_network(network_xml("other", uuid=uid)),
    )
    expect(
        E.OPERATION_FAILED,
        "bridge name 'virbr0' already in use.",
        lambda: conn.define_network(network_xml("other", bridge="virbr0")),
    )
    assert [n.name for n in conn.list_networks()] == ["default"]


def test_redefine_active_network_keeps_live_config(conn: virtplug.Connection) -> None:
    net = conn.lookup_network("default")
    conn.define_network(network_xml("default", bridge="virbr9", uuid=net.uuid))
    assert net.info().bridge == "virbr0"
    assert "virbr9" in net.xml(inactive=True)
    assert "virbr0" in net.xml()
    net.stop()
    net.start()
    assert net.info().bridge == "virbr9"


def test_create_transient(conn: virtplug.Connection) -> None:
    net = conn.create_network(network_xml("t", bridge="vtt0"))
    assert net.is_active() and not net.is_persistent()
    expect(E.OPERATION_INVALID, "cannot undefine transient network", net.undefine)
    net.stop()
    expect(E.NO_NETWORK, None, lambda: conn.lookup_network("t"))


def test_create_existing_name(conn: virtplug.Connection) -> None:
    expect(
        E.OPERATION_FAILED,
        "network 'default' already exists with uuid dd8fe884-6c02-601e-7551-cca97df1c5df",
        lambda: conn.create_network(network_xml("default")),
    )


def test_undefine_active_makes_transient(conn: virtplug.Connection) -> None:
    net = conn.lookup_network("default")
    net.undefine()
    assert net.is_active() and not net.is_persistent()
    net.stop()
    expect(E.NO_NETWORK, None, lambda: conn.lookup_network("default"))


def test_xml_round_trip(conn: virtplug.Connection) -> None:
    net = conn.define_network(network_xml("n1", bridge="vtn1"))
    assert virtplug.xml.parse_network(net.xml()) == net.config  # type: ignore[attr-defined]


def test_autostart(conn: virtplug.Connection) -> None:
    net = conn.lookup_network("default")
    assert net.autostart is False
    net.autostart = True
    assert net.autostart is True
    assert net.info().autostart is True
    trans = conn.create_network(network_xml("t", bridge="vtt0"))
    expect(
        E.OPERATION_INVALID,
        "cannot set autostart for transient network",
        lambda: setattr(trans, "autostart", True),
    )


def test_ops_on_unknown_network(conn: virtplug.Connection) -> None:
    for op in ("start", "stop", "undefine", "info", "get_autostart"):
        expect(
            E.NO_NETWORK,
            "no network with matching name 'ghost'",
            lambda op=op: conn._call(f"network.{op}", name="ghost"),
        )
    expect(E.NO_NETWORK, None, lambda: conn._call("network.xml", name="ghost", inactive=True))
    expect(
        E.NO_NETWORK,
        None,
        lambda: conn._call("network.set_autostart", name="ghost", autostart=True),
    )


def test_invalid_bridge_name_from_model(conn: virtplug.Connection) -> None:
    from virtplug.models import NetworkConfig

    bad = NetworkConfig(name="b", bridge="a-very-long-bridge-name")
    expect(E.INVALID_ARG, None, lambda: conn.define_network(bad))


def test_domain_on_stopped_network_cannot_start(conn: virtplug.Connection) -> None:
    iface = "<interface type='network'><source network='default'/></interface>"
    dom = conn.define_domain(domain_xml("a", devices=iface))
    conn.lookup_network("default").stop()
    expect(E.OPERATION_INVALID, "network 'default' is not active", dom.start)
