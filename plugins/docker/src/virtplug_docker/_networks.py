"""Networks as Docker networks, plus label-bearing records for defined, inactive ones.

Docker has no "defined but inactive" network. virtplug keeps each persistent
network's definition in a *record*: an empty Docker volume named
``virtplug-network-<uuid>`` whose labels hold the configuration. A network is

- active when a Docker network with its name exists;
- persistent when a record exists.

Networks virtplug did not create (``bridge``, ``host``, ``none``, user networks)
list as active transient networks with a configuration derived from the engine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
from collections.abc import Sequence
from typing import Any

import docker.errors

from virtplug.errors import (
    ConfigUnsupportedError,
    NoNetworkError,
    OperationFailedError,
    OperationInvalidError,
)
from virtplug.models import NetworkConfig, NetworkInfo, NetworkRef
from virtplug_docker._codec import (
    LABEL_AUTOSTART,
    LABEL_CONFIG,
    LABEL_PERSISTENT,
    LABEL_RECORD,
    LABEL_UUID,
    derived_uuid,
    network_from_engine,
    network_from_json,
    network_to_json,
)
from virtplug_docker._errors import explanation, not_found, status_of
from virtplug_docker._state import DockerConnection

__all__ = ["Net", "create", "define", "list_networks", "lookup", "lookup_uuid"]

_PREDEFINED = ("bridge", "host", "none")
LABEL_NAME = "virtplug.name"


@dataclasses.dataclass
class Net:
    """What virtplug knows about one network name."""

    name: str
    engine: dict[str, Any] | None
    record: dict[str, Any] | None

    @property
    def uuid(self) -> str:
        """The network's UUID (record, label or derived)."""
        if self.record is not None:
            return str(self.record["Labels"][LABEL_UUID])
        assert self.engine is not None
        labels = self.engine.get("Labels") or {}
        return str(labels.get(LABEL_UUID) or derived_uuid("network", str(self.engine["Id"])))

    @property
    def ref(self) -> NetworkRef:
        """Its identity."""
        return NetworkRef(name=self.name, uuid=self.uuid)

    @property
    def active(self) -> bool:
        """A Docker network exists."""
        return self.engine is not None

    @property
    def persistent(self) -> bool:
        """A record exists."""
        return self.record is not None

    def config(self, inactive: bool) -> NetworkConfig:
        """The record's definition (inactive or no network) or the live one."""
        if self.record is not None and (inactive or self.engine is None):
            return network_from_json(self.record["Labels"][LABEL_CONFIG])
        assert self.engine is not None
        text = (self.engine.get("Labels") or {}).get(LABEL_CONFIG)
        if text:
            return network_from_json(text)
        return network_from_engine(self.engine)


def _records(conn: DockerConnection, name: str | None = None) -> list[dict[str, Any]]:
    filters = [f"{LABEL_RECORD}=network"]
    if name is not None:
        filters.append(f"{LABEL_NAME}={name}")
    res = conn.api.volumes(filters={"label": filters})
    vols: list[dict[str, Any]] = res.get("Volumes") or []
    if name is not None:
        vols = [v for v in vols if (v.get("Labels") or {}).get(LABEL_NAME) == name]
    return vols


def _engine(conn: DockerConnection, name: str) -> dict[str, Any] | None:
    for net in conn.api.networks(names=[name]):
        if net.get("Name") == name:
            return dict(net)
    return None


def lookup(conn: DockerConnection, name: str) -> Net:
    """The network *name* (Docker network and/or record). :raises NoNetworkError:."""
    with conn.guard("network", name):
        engine = _engine(conn, name)
        records = _records(conn, name)
    if engine is None and not records:
        raise not_found("network", name)
    return Net(name, engine, records[0] if records else None)


def _all(conn: DockerConnection) -> list[Net]:
    with conn.guard("engine", "networks"):
        engines = {str(n["Name"]): dict(n) for n in conn.api.networks()}
        records = {str(v["Labels"][LABEL_NAME]): v for v in _records(conn)}
    names = sorted(set(engines) | set(records))
    return [Net(n, engines.get(n), records.get(n)) for n in names]


def list_networks(
    conn: DockerConnection, active: bool | None, persistent: bool | None
) -> Sequence[NetworkRef]:
    """Refs of the networks matching the filters, by name."""
    return [
        n.ref
        for n in _all(conn)
        if (active is None or n.active == active)
        and (persistent is None or n.persistent == persistent)
    ]


def lookup_uuid(conn: DockerConnection, uuid: str) -> NetworkRef:
    """The network with *uuid*. :raises NoNetworkError:."""
    for net in _all(conn):
        if net.uuid == uuid:
            return net.ref
    raise NoNetworkError(f"Network not found: no network with matching uuid '{uuid}'")


def _check_clash(conn: DockerConnection, config: NetworkConfig) -> Net | None:
    """The existing network of the same name (same UUID), or None; raise on a clash."""
    for net in _all(conn):
        if net.name == config.name and net.uuid != config.uuid:
            raise OperationFailedError(
                f"network '{config.name}' already exists with uuid {net.uuid}"
            )
        if net.uuid == config.uuid and net.name != config.name:
            raise OperationFailedError(
                f"network '{net.name}' is already defined with uuid {config.uuid}"
            )
    for net in _all(conn):
        if net.name == config.name:
            return net
    return None


def _validate(config: NetworkConfig) -> dict[str, Any]:
    """Docker ``networks.create`` arguments for *config* (CONFIG_UNSUPPORTED otherwise)."""
    if config.forward not in (None, "nat"):
        raise ConfigUnsupportedError(
            f"Docker bridge networks support <forward mode='nat'/> or none (isolated), "
            f"not '{config.forward}'"
        )
    if config.bridge is not None and len(config.bridge) > 15:
        raise ConfigUnsupportedError(f"bridge name '{config.bridge}' is longer than 15 characters")
    options: dict[str, str] = {}
    if config.bridge:
        options["com.docker.network.bridge.name"] = config.bridge
    if config.mtu:
        options["com.docker.network.driver.mtu"] = str(config.mtu)
    pools = []
    for ip in config.ips:
        try:
            subnet = ipaddress.ip_network(f"{ip.address}/{ip.prefix}", strict=False)
        except ValueError as exc:
            raise ConfigUnsupportedError(f"bad network address {ip.address}/{ip.prefix}") from exc
        pools.append({"Subnet": str(subnet), "Gateway": ip.address})
    return {
        "driver": "bridge",
        "options": options or None,
        "ipam": {"Driver": "default", "Config": pools} if pools else None,
        "internal": config.forward is None,
        "enable_ipv6": any(ip.family == "ipv6" for ip in config.ips),
    }


def _create_engine(conn: DockerConnection, config: NetworkConfig, persistent: bool) -> None:
    args = _validate(config)
    labels = {
        LABEL_UUID: str(config.uuid),
        LABEL_CONFIG: network_to_json(config),
        LABEL_PERSISTENT: "1" if persistent else "0",
    }
    try:
        conn.api.create_network(config.name, labels=labels, check_duplicate=True, **args)
    except docker.errors.APIError as exc:
        if status_of(exc) == 409:
            raise OperationFailedError(
                f"network '{config.name}' already exists: {explanation(exc)}"
            ) from exc
        raise


def _write_record(conn: DockerConnection, config: NetworkConfig, autostart: bool) -> None:
    vol = f"virtplug-network-{config.uuid}"
    with contextlib.suppress(docker.errors.NotFound):
        conn.api.remove_volume(vol, force=True)
    conn.api.create_volume(
        name=vol,
        driver="local",
        labels={
            LABEL_RECORD: "network",
            LABEL_NAME: config.name,
            LABEL_UUID: str(config.uuid),
            LABEL_CONFIG: network_to_json(config),
            LABEL_AUTOSTART: "1" if autostart else "0",
        },
    )


def define(conn: DockerConnection, config: NetworkConfig) -> NetworkRef:
    """Store (or update) a persistent definition."""
    _validate(config)
    existing = _check_clash(conn, config)
    autostart = False
    if existing is not None and existing.record is not None:
        autostart = existing.record["Labels"].get(LABEL_AUTOSTART) == "1"
    with conn.guard("network", config.name):
        _write_record(conn, config, autostart)
    return NetworkRef(name=config.name, uuid=str(config.uuid))


def create(conn: DockerConnection, config: NetworkConfig) -> NetworkRef:
    """Create and start a transient network."""
    _validate(config)
    if _check_clash(conn, config) is not None:
        raise OperationFailedError(f"network '{config.name}' already exists")
    with conn.guard("network", config.name):
        _create_engine(conn, config, persistent=False)
    return NetworkRef(name=config.name, uuid=str(config.uuid))


def start(conn: DockerConnection, name: str) -> None:
    """Create the Docker network from the record."""
    net = lookup(conn, name)
    if net.active:
        raise OperationInvalidError("network is already active")
    with conn.guard("network", name):
        _create_engine(conn, net.config(inactive=True), persistent=True)


def stop(conn: DockerConnection, name: str) -> None:
    """Remove the Docker network (the record keeps a persistent definition)."""
    net = lookup(conn, name)
    if net.engine is None:
        raise OperationInvalidError("network is not active")
    if name in _PREDEFINED:
        raise OperationInvalidError(
            f"network '{name}' is predefined by Docker and cannot be stopped"
        )
    try:
        conn.api.remove_network(net.engine["Id"])
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        text = explanation(exc)
        if "active endpoints" in text:
            raise OperationInvalidError(
                f"network '{name}' still has attached domains (Docker refuses to remove it): {text}"
            ) from exc
        raise OperationFailedError(f"cannot stop network '{name}': {text}") from exc
    except Exception as exc:
        from virtplug_docker._errors import translate

        raise translate(exc, kind="network", name=name, uri=conn.uri.text) from exc


def undefine(conn: DockerConnection, name: str) -> None:
    """Delete the record; an active network stays, transient."""
    net = lookup(conn, name)
    if net.record is None:
        raise OperationInvalidError("cannot undefine transient network")
    with conn.guard("network", name), contextlib.suppress(docker.errors.NotFound):
        conn.api.remove_volume(net.record["Name"], force=True)


def info(conn: DockerConnection, name: str) -> NetworkInfo:
    """Live facts."""
    net = lookup(conn, name)
    bridge = net.config(inactive=False).bridge
    if net.engine is not None:
        opts = net.engine.get("Options") or {}
        bridge = opts.get("com.docker.network.bridge.name") or bridge
        if bridge is None and net.engine.get("Driver") == "bridge":
            bridge = "br-" + str(net.engine["Id"])[:12]
    autostart = net.record is not None and net.record["Labels"].get(LABEL_AUTOSTART) == "1"
    return NetworkInfo(
        active=net.active, persistent=net.persistent, autostart=autostart, bridge=bridge
    )


def xml(conn: DockerConnection, name: str, inactive: bool) -> NetworkConfig:
    """The configuration."""
    return lookup(conn, name).config(inactive)


def get_autostart(conn: DockerConnection, name: str) -> bool:
    """The record's flag (transient networks: False)."""
    net = lookup(conn, name)
    return net.record is not None and net.record["Labels"].get(LABEL_AUTOSTART) == "1"


def set_autostart(conn: DockerConnection, name: str, autostart: bool) -> None:
    """Rewrite the record with the flag."""
    net = lookup(conn, name)
    if net.record is None:
        raise OperationInvalidError("cannot set autostart for transient network")
    with conn.guard("network", name):
        _write_record(conn, net.config(inactive=True), autostart)
