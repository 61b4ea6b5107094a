"""Network commands (virsh's "net-*")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from virtplug.cli import _complete
from virtplug.cli._app import State, command, pass_state, read_input
from virtplug.cli._output import keyvalue, table, yes_no

if TYPE_CHECKING:
    from virtplug.api import Network

__all__: list[str] = []

NET = "Networking"

_network_arg = click.argument("network", metavar="NETWORK", shell_complete=_complete.networks)


def _network(state: State, ident: str) -> Network:
    from virtplug.cli._app import _looks_like_uuid
    from virtplug.errors import NoNetworkError

    conn = state.conn()
    if _looks_like_uuid(ident):
        try:
            return conn.lookup_network(uuid=ident)
        except NoNetworkError:
            pass
    return conn.lookup_network(ident)


def _done(state: State, name: str, result: str, text: str) -> None:
    state.emit({"network": name, "result": result}, text)


@command("net-list", NET, examples=["virtplug net-list --all"])
@click.option("--all", "all_", is_flag=True, help="List active and inactive networks.")
@click.option("--inactive", is_flag=True, help="List inactive networks only.")
@click.option("--name", "names_only", is_flag=True, help="Print only the names.")
@pass_state
def net_list(state: State, all_: bool, inactive: bool, names_only: bool) -> None:
    """List networks (active ones unless --all or --inactive)."""
    active: bool | None = None if all_ else (not inactive)
    from virtplug.errors import NoNetworkError

    rows = []
    for net in state.conn().list_networks(active=active):
        try:
            info = net.info()
        except NoNetworkError:  # removed since the listing (another client): skip it
            continue
        rows.append(
            {
                "name": net.name,
                "uuid": net.uuid,
                "active": info.active,
                "autostart": info.autostart,
                "persistent": info.persistent,
                "bridge": info.bridge,
            }
        )
    rows.sort(key=lambda r: str(r["name"]))
    if names_only:
        text = "\n".join(str(r["name"]) for r in rows)
    else:
        text = table(
            ["Name", "State", "Autostart", "Persistent"],
            [
                [
                    r["name"],
                    "active" if r["active"] else "inactive",
                    yes_no(bool(r["autostart"])),
                    yes_no(bool(r["persistent"])),
                ]
                for r in rows
            ],
        )
    state.emit(rows, text)


@command("net-define", NET, examples=["virtplug net-define lab.xml && virtplug net-start lab"])
@click.argument("file", metavar="FILE")
@pass_state
def net_define(state: State, file: str) -> None:
    """Define a persistent, inactive network from an XML FILE ("-": stdin)."""
    net = state.conn().define_network(read_input(file))
    _done(state, net.name, "defined", f"Network {net.name} defined from {file}")


@command("net-create", NET)
@click.argument("file", metavar="FILE")
@pass_state
def net_create(state: State, file: str) -> None:
    """Create and start a transient network from an XML FILE."""
    net = state.conn().create_network(read_input(file))
    _done(state, net.name, "created", f"Network {net.name} created from {file}")


@command("net-start", NET)
@_network_arg
@pass_state
def net_start(state: State, network: str) -> None:
    """Start (activate) an inactive network."""
    net = _network(state, network)
    net.start()
    _done(state, net.name, "started", f"Network {net.name} started")


@command("net-destroy", NET)
@_network_arg
@pass_state
def net_destroy(state: State, network: str) -> None:
    """Stop (deactivate) a network."""
    net = _network(state, network)
    net.stop()
    _done(state, net.name, "destroyed", f"Network {net.name} destroyed")


@command("net-undefine", NET)
@_network_arg
@pass_state
def net_undefine(state: State, network: str) -> None:
    """Remove a network's persistent definition."""
    net = _network(state, network)
    net.undefine()
    _done(state, net.name, "undefined", f"Network {net.name} has been undefined")


@command("net-dumpxml", NET)
@_network_arg
@click.option("--inactive", is_flag=True, help="Show the persistent definition.")
@pass_state
def net_dumpxml(state: State, network: str, inactive: bool) -> None:
    """Print a network's libvirt network XML."""
    net = _network(state, network)
    xml = net.xml(inactive=inactive)
    state.emit({"network": net.name, "xml": xml}, xml.rstrip("\n"))


@command("net-info", NET)
@_network_arg
@pass_state
def net_info(state: State, network: str) -> None:
    """Print basic facts about a network."""
    net = _network(state, network)
    info = net.info()
    data = {
        "name": net.name,
        "uuid": net.uuid,
        "active": info.active,
        "persistent": info.persistent,
        "autostart": info.autostart,
        "bridge": info.bridge,
    }
    pairs: list[tuple[str, object]] = [
        ("Name", net.name),
        ("UUID", net.uuid),
        ("Active", yes_no(info.active)),
        ("Persistent", yes_no(info.persistent)),
        ("Autostart", yes_no(info.autostart)),
    ]
    if info.bridge:
        pairs.append(("Bridge", info.bridge))
    state.emit(data, keyvalue(pairs))


@command("net-autostart", NET)
@_network_arg
@click.option("--disable", is_flag=True, help="Stop starting the network with the backend.")
@pass_state
def net_autostart(state: State, network: str, disable: bool) -> None:
    """Mark a network to start with its backend (or --disable)."""
    net = _network(state, network)
    net.autostart = not disable
    word = "unmarked" if disable else "marked"
    _done(
        state,
        net.name,
        f"autostart {'disabled' if disable else 'enabled'}",
        f"Network {net.name} {word} as autostarted",
    )
