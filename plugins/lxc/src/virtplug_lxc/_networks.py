"""Networks of the LXC driver: Linux bridges over netlink, optional NAT (iptables).

Definitions live in ``<lxcpath>/.virtplug/networks/NAME.json``.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from virtplug import hookimpl
from virtplug.errors import (
    ConfigUnsupportedError,
    InvalidArgError,
    NoNetworkError,
    NoStoragePoolError,
    OperationFailedError,
    OperationInvalidError,
    XMLError,
)
from virtplug.models import (
    NetworkConfig,
    NetworkInfo,
    NetworkRef,
)
from virtplug.records import evolve
from virtplug_lxc import _net
from virtplug_lxc._net import nat_owner
from virtplug_lxc._state import (
    LXCConnection,
    check_name,
)
from virtplug_lxc._store import dump_model, load_model, read_json, write_json

__all__ = ["NetworkHooks"]

#: Errors that mark one broken definition file; listings skip it instead of failing.
VirtplugErrors = (NoNetworkError, NoStoragePoolError, OperationFailedError, InvalidArgError)


def _no_network(name: str) -> NoNetworkError:
    return NoNetworkError(f"Network not found: no network with matching name '{name}'")


class NetworkHooks:
    """The ``virtplug_network_*`` hooks (a mixin of :class:`~virtplug_lxc.LXCDriver`)."""

    def _autostart_networks(self, conn: LXCConnection) -> list[str]:
        """Start inactive networks flagged autostart; return the names that failed."""
        failed = []
        for data in self._net_all(conn):
            config: NetworkConfig = data["config"]
            if not data.get("autostart") or self._net_active(data):
                continue
            with conn.lock(f"net:{config.name}"):
                try:
                    self._net_up(conn, data)
                except VirtplugErrors:
                    failed.append(config.name)
        return failed

    # ------------------------------------------------------------------
    # Networks (Linux bridges)
    # ------------------------------------------------------------------

    def _net_dir(self, conn: LXCConnection) -> Path:
        return conn.meta_dir / "networks"

    def _net_path(self, conn: LXCConnection, name: str) -> Path:
        return self._net_dir(conn) / f"{name}.json"

    def _net_load(self, conn: LXCConnection, name: str) -> dict[str, Any]:
        check_name(name, "network")
        try:
            data = read_json(self._net_path(conn, name))
        except (ValueError, OSError) as exc:
            raise OperationFailedError(f"network '{name}' definition is unreadable: {exc}") from exc
        if data is None:
            raise _no_network(name)
        try:
            data["config"] = load_model(NetworkConfig, data["config"])
            if data.get("live"):
                data["live"] = load_model(NetworkConfig, data["live"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OperationFailedError(f"network '{name}' definition is corrupt: {exc}") from exc
        if not data.get("persistent", True) and not self._net_active(data):
            # a transient network whose bridge went away (host reboot, removed by hand)
            # is gone, as libvirt forgets a transient network that stops.
            if not conn.readonly:
                self._net_path(conn, name).unlink(missing_ok=True)
            raise _no_network(name)
        return dict(data)

    @staticmethod
    def _net_live(data: dict[str, Any]) -> NetworkConfig:
        """The configuration the network runs with (the definition when inactive)."""
        live: NetworkConfig | None = data.get("live")
        return live if live is not None else data["config"]

    def _net_save(self, conn: LXCConnection, data: dict[str, Any]) -> None:
        config: NetworkConfig = data["config"]
        out = dict(data)
        out["config"] = dump_model(config)
        out["live"] = dump_model(data["live"]) if data.get("live") else None
        write_json(self._net_path(conn, config.name), out)

    def _net_all(self, conn: LXCConnection) -> list[dict[str, Any]]:
        out = []
        d = self._net_dir(conn)
        if d.is_dir():
            for path in sorted(d.glob("*.json")):
                with contextlib.suppress(*VirtplugErrors):
                    out.append(self._net_load(conn, path.stem))
        return out

    def _net_active(self, data: dict[str, Any]) -> bool:
        bridge = str(self._net_live(data).bridge)
        return bool(data.get("active")) and _net.bridge_exists(bridge)

    def _net_ref(self, data: dict[str, Any]) -> NetworkRef:
        config: NetworkConfig = data["config"]
        return NetworkRef(name=config.name, uuid=str(config.uuid))

    def _net_check(self, conn: LXCConnection, config: NetworkConfig) -> NetworkConfig:
        check_name(config.name, "network", XMLError)
        if config.forward not in (None, "nat", "route", "open", "bridge"):
            raise ConfigUnsupportedError(
                f"forward mode '{config.forward}' is not supported by LXC bridges "
                f"(use nat, route, open, bridge or none)"
            )
        bridge = config.bridge
        if bridge is None:
            with contextlib.suppress(NoNetworkError):
                bridge = self._net_load(conn, config.name)["config"].bridge
        bridge = bridge or _net.name_for(_net.BRIDGE_PREFIX, str(conn.lxcpath), config.name)
        if len(bridge) > 15 or "/" in bridge or not bridge.isprintable() or " " in bridge:
            raise ConfigUnsupportedError(f"invalid bridge name '{bridge}' (at most 15 characters)")
        if config.forward == "nat" and not any(ip.family == "ipv4" for ip in config.ips):
            raise ConfigUnsupportedError("NAT forwarding needs an IPv4 <ip> on the network")
        for other in self._net_all(conn):
            oc: NetworkConfig = other["config"]
            bridges = {oc.bridge, self._net_live(other).bridge}
            if oc.name != config.name and bridge in bridges:
                raise OperationFailedError(
                    f"bridge name '{bridge}' is already in use by network '{oc.name}'"
                )
            if oc.name != config.name and oc.uuid == config.uuid:
                raise OperationFailedError(
                    f"network '{oc.name}' already exists with uuid {config.uuid}"
                )
        return evolve(config, bridge=bridge)

    @hookimpl
    def virtplug_network_list(
        self, conn: LXCConnection, active: bool | None, persistent: bool | None
    ) -> list[NetworkRef]:
        """Networks defined under <lxcpath>/.virtplug/networks, filtered."""
        out = []
        for data in self._net_all(conn):
            if persistent is not None and bool(data.get("persistent", True)) != persistent:
                continue
            if active is not None and self._net_active(data) != active:
                continue
            out.append(self._net_ref(data))
        return out

    @hookimpl
    def virtplug_network_lookup_by_name(self, conn: LXCConnection, name: str) -> NetworkRef:
        """The network called *name*."""
        return self._net_ref(self._net_load(conn, name))

    @hookimpl
    def virtplug_network_lookup_by_uuid(self, conn: LXCConnection, uuid: str) -> NetworkRef:
        """The network with *uuid*."""
        for data in self._net_all(conn):
            if data["config"].uuid == uuid:
                return self._net_ref(data)
        raise NoNetworkError(f"Network not found: no network with matching uuid '{uuid}'")

    @hookimpl
    def virtplug_network_define(self, conn: LXCConnection, config: NetworkConfig) -> NetworkRef:
        """Store the definition (a bridge name is chosen when none is given)."""
        with conn.lock(f"net:{config.name}"):
            config = self._net_check(conn, config)
            try:
                data = self._net_load(conn, config.name)
            except NoNetworkError:
                data = {"active": False, "autostart": False}
            else:
                if data["config"].uuid != config.uuid:
                    raise OperationFailedError(
                        f"network '{config.name}' already exists with uuid {data['config'].uuid}"
                    )
            data["config"] = config
            data["persistent"] = True
            self._net_save(conn, data)
            return self._net_ref(data)

    @hookimpl
    def virtplug_network_create(self, conn: LXCConnection, config: NetworkConfig) -> NetworkRef:
        """Define a transient network and bring its bridge up."""
        with conn.lock(f"net:{config.name}"):
            config = self._net_check(conn, config)
            if self._net_path(conn, config.name).exists():
                raise OperationFailedError(f"network '{config.name}' already exists")
            data: dict[str, Any] = {
                "config": config,
                "active": False,
                "autostart": False,
                "persistent": False,
            }
            self._net_up(conn, data)  # saves the definition once the bridge is up
            return self._net_ref(data)

    @staticmethod
    def _nat_tag(conn: LXCConnection, network: str) -> str:
        """Identifies a network's NAT rule: a hash of the lxcpath, then the network name."""
        return f"{nat_owner(str(conn.lxcpath))}:{network}"

    def _net_up(self, conn: LXCConnection, data: dict[str, Any]) -> None:
        config: NetworkConfig = data["config"]
        bridge = str(config.bridge)
        ipv4 = next((ip for ip in config.ips if ip.family == "ipv4"), None)
        try:
            if config.forward == "bridge":
                if not _net.bridge_exists(bridge):
                    raise OperationFailedError(f"host bridge '{bridge}' does not exist")
            else:
                _net.create_bridge(
                    bridge,
                    ipv4.address if ipv4 else None,
                    ipv4.prefix if ipv4 else None,
                    config.mtu,
                )
                if config.forward == "nat" and ipv4 is not None:
                    try:
                        _net.add_nat(
                            self._nat_tag(conn, config.name),
                            _net.subnet_of(ipv4.address, ipv4.prefix),
                        )
                    except _net.NetError:
                        _net.delete_link(bridge)
                        raise
        except _net.NetError as exc:
            raise OperationFailedError(f"cannot start network '{config.name}': {exc}") from exc
        data["active"] = True
        data["live"] = config
        self._net_save(conn, data)

    def _net_down(self, conn: LXCConnection, data: dict[str, Any]) -> None:
        config = self._net_live(data)
        ipv4 = next((ip for ip in config.ips if ip.family == "ipv4"), None)
        try:
            if config.forward == "nat" and ipv4 is not None:
                _net.remove_nat(
                    self._nat_tag(conn, config.name), _net.subnet_of(ipv4.address, ipv4.prefix)
                )
            if config.forward != "bridge":
                _net.delete_link(str(config.bridge))
        except _net.NetError as exc:
            raise OperationFailedError(f"cannot stop network '{config.name}': {exc}") from exc
        data["active"] = False
        data["live"] = None
        if data.get("persistent", True):
            self._net_save(conn, data)
        else:
            self._net_path(conn, config.name).unlink(missing_ok=True)

    @hookimpl
    def virtplug_network_undefine(self, conn: LXCConnection, name: str) -> None:
        """Remove the definition; an active network keeps running as transient."""
        with conn.lock(f"net:{name}"):
            data = self._net_load(conn, name)
            if not data.get("persistent", True):
                raise OperationInvalidError("cannot undefine transient network")
            if self._net_active(data):
                data["persistent"] = False
                data["autostart"] = False
                self._net_save(conn, data)
                return
            self._net_path(conn, name).unlink(missing_ok=True)

    @hookimpl
    def virtplug_network_start(self, conn: LXCConnection, name: str) -> None:
        """Create the bridge, address it, add the NAT rule."""
        with conn.lock(f"net:{name}"):
            data = self._net_load(conn, name)
            if self._net_active(data):
                raise OperationInvalidError("network is already active")
            self._net_up(conn, data)

    @hookimpl
    def virtplug_network_stop(self, conn: LXCConnection, name: str) -> None:
        """Remove the NAT rule and delete the bridge."""
        with conn.lock(f"net:{name}"):
            data = self._net_load(conn, name)
            if not self._net_active(data):
                raise OperationInvalidError("network is not active")
            self._net_down(conn, data)

    @hookimpl
    def virtplug_network_info(self, conn: LXCConnection, name: str) -> NetworkInfo:
        """Active (bridge present), persistent, autostart, bridge name."""
        data = self._net_load(conn, name)
        return NetworkInfo(
            active=self._net_active(data),
            persistent=bool(data.get("persistent", True)),
            autostart=bool(data.get("autostart", False)),
            bridge=self._net_live(data).bridge,
        )

    @hookimpl
    def virtplug_network_xml(self, conn: LXCConnection, name: str, inactive: bool) -> NetworkConfig:
        """The stored definition (with the bridge name filled in)."""
        data = self._net_load(conn, name)
        if inactive or not self._net_active(data):
            config: NetworkConfig = data["config"]
            return config
        return self._net_live(data)

    @hookimpl
    def virtplug_network_get_autostart(self, conn: LXCConnection, name: str) -> bool:
        """The stored autostart flag."""
        return bool(self._net_load(conn, name).get("autostart", False))

    @hookimpl
    def virtplug_network_set_autostart(
        self, conn: LXCConnection, name: str, autostart: bool
    ) -> None:
        """Store the autostart flag: the next read-write connection to the lxcpath starts it."""
        with conn.lock(f"net:{name}"):
            data = self._net_load(conn, name)
            if not data.get("persistent", True):
                raise OperationInvalidError("cannot set autostart for transient network")
            data["autostart"] = bool(autostart)
            self._net_save(conn, data)
