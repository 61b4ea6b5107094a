"""Domain / network / pool configurations <-> Docker labels and engine objects.

virtplug stores each object's full configuration as JSON in a Docker label
(``virtplug.config``) so that the XML round-trips exactly; objects created
outside virtplug get a configuration derived from what the engine reports.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import uuid as _uuid
from typing import Any

from virtplug.models import (
    ConsoleConfig,
    DHCPRange,
    DomainConfig,
    FilesystemConfig,
    InterfaceConfig,
    IPConfig,
    NetworkConfig,
    OSConfig,
    PoolConfig,
    VolumeConfig,
)

__all__ = [
    "LABEL_AUTOSTART",
    "LABEL_CONFIG",
    "LABEL_PERSISTENT",
    "LABEL_RECORD",
    "LABEL_UUID",
    "derived_uuid",
    "domain_from_inspect",
    "domain_from_json",
    "domain_to_json",
    "network_from_engine",
    "network_from_json",
    "network_to_json",
    "pool_from_json",
    "pool_to_json",
    "volume_from_json",
    "volume_to_json",
]

LABEL_UUID = "virtplug.uuid"
LABEL_CONFIG = "virtplug.config"
LABEL_PERSISTENT = "virtplug.persistent"
LABEL_AUTOSTART = "virtplug.autostart"
LABEL_RECORD = "virtplug.record"

_NS = _uuid.UUID("6f1c2b0e-5d1a-4a53-9d38-7a3f1c9e0d42")


@functools.lru_cache(maxsize=8192)
def derived_uuid(kind: str, engine_id: str) -> str:
    """A deterministic UUID for an engine object virtplug did not create.

    Cached: listing asks for every container's on every call, and the SHA-1 of
    uuid5 is most of a listing's time spent outside the engine.
    """
    return str(_uuid.uuid5(_NS, f"{kind}:{engine_id}"))


# -- domains -----------------------------------------------------------------


def domain_to_json(config: DomainConfig) -> str:
    """Serialise a domain configuration to compact JSON (label payload)."""
    os_ = config.os
    data: dict[str, Any] = {
        "name": config.name,
        "uuid": config.uuid,
        "type": config.type,
        "memory_kib": config.memory_kib,
        "current_memory_kib": config.current_memory_kib,
        "vcpus": config.vcpus,
        "os": {
            "type": os_.type,
            "init": os_.init,
            "initargs": list(os_.initargs),
            "initenv": [list(p) for p in os_.initenv],
            "initdir": os_.initdir,
            "inituser": os_.inituser,
            "arch": os_.arch,
        },
        "filesystems": [
            [f.type, f.source, f.target, f.pool, f.readonly, f.accessmode]
            for f in config.filesystems
        ],
        "interfaces": [
            [i.type, i.source, i.mac, i.target, i.model, [list(ip) for ip in i.ips]]
            for i in config.interfaces
        ],
        "consoles": [[c.type, c.target_type, c.target_port] for c in config.consoles],
        "emulator": config.emulator,
        "title": config.title,
        "description": config.description,
        "on_poweroff": config.on_poweroff,
        "on_reboot": config.on_reboot,
        "on_crash": config.on_crash,
        "features": list(config.features),
        "metadata": list(config.metadata),
    }
    return json.dumps(data, separators=(",", ":"))


def domain_from_json(text: str) -> DomainConfig:
    """Inverse of :func:`domain_to_json`.

    :raises ValueError: the payload is not a serialised domain configuration.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("domain label payload is not an object")
    o = data["os"]
    return DomainConfig(
        name=data["name"],
        uuid=data["uuid"],
        type=data["type"],
        memory_kib=int(data["memory_kib"]),
        current_memory_kib=data["current_memory_kib"],
        vcpus=int(data["vcpus"]),
        os=OSConfig(
            type=o["type"],
            init=o["init"],
            initargs=tuple(o["initargs"]),
            initenv=tuple((str(k), str(v)) for k, v in o["initenv"]),
            initdir=o["initdir"],
            inituser=o["inituser"],
            arch=o["arch"],
        ),
        filesystems=tuple(
            FilesystemConfig(t, s, tg, pool=p, readonly=bool(ro), accessmode=am)
            for t, s, tg, p, ro, am in data["filesystems"]
        ),
        interfaces=tuple(
            InterfaceConfig(
                t, source=s, mac=m, target=tg, model=md, ips=tuple((a, int(p)) for a, p in ips)
            )
            for t, s, m, tg, md, ips in data["interfaces"]
        ),
        consoles=tuple(
            ConsoleConfig(type=t, target_type=tt, target_port=tp) for t, tt, tp in data["consoles"]
        ),
        emulator=data["emulator"],
        title=data["title"],
        description=data["description"],
        on_poweroff=data["on_poweroff"],
        on_reboot=data["on_reboot"],
        on_crash=data["on_crash"],
        features=tuple(data["features"]),
        metadata=tuple(data["metadata"]),
    )


def _split_env(env: list[str] | None) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in env or ():
        key, _, value = item.partition("=")
        pairs.append((key, value))
    return tuple(pairs)


def domain_from_inspect(attrs: dict[str, Any], host_mem_kib: int, host_cpus: int) -> DomainConfig:
    """Derive a configuration for a container virtplug did not create (from ``inspect``)."""
    cfg = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    name = str(attrs.get("Name", "")).lstrip("/")
    entry = list(cfg.get("Entrypoint") or [])
    cmd = list(cfg.get("Cmd") or [])
    argv = entry + cmd
    init = argv[0] if argv else None
    filesystems = [FilesystemConfig("template", str(cfg.get("Image", "")), "/")]
    for mount in attrs.get("Mounts") or ():
        mtype = mount.get("Type")
        if mtype == "bind":
            filesystems.append(
                FilesystemConfig(
                    "mount",
                    str(mount.get("Source")),
                    str(mount.get("Destination")),
                    readonly=not mount.get("RW", True),
                )
            )
        elif mtype == "volume":
            filesystems.append(
                FilesystemConfig(
                    "volume",
                    str(mount.get("Name")),
                    str(mount.get("Destination")),
                    pool="volumes",
                    readonly=not mount.get("RW", True),
                )
            )
    interfaces = []
    networks = ((attrs.get("NetworkSettings") or {}).get("Networks")) or {}
    for net, ep in networks.items():
        if net in ("none", "host"):
            continue
        interfaces.append(
            InterfaceConfig("network", source=net, mac=(ep or {}).get("MacAddress") or None)
        )
    memory = int(host.get("Memory") or 0) // 1024 or host_mem_kib
    nano = int(host.get("NanoCpus") or 0)
    vcpus = max(1, math.ceil(nano / 1e9)) if nano else host_cpus
    return DomainConfig(
        name=name,
        uuid=derived_uuid("container", str(attrs.get("Id", ""))),
        type="docker",
        memory_kib=memory,
        vcpus=vcpus,
        os=OSConfig(
            type="exe",
            init=init,
            initargs=tuple(argv[1:]),
            initenv=_split_env(cfg.get("Env")),
            initdir=cfg.get("WorkingDir") or None,
            inituser=cfg.get("User") or None,
        ),
        filesystems=tuple(filesystems),
        interfaces=tuple(interfaces),
        consoles=(ConsoleConfig(),) if cfg.get("Tty") else (),
    )


# -- networks ----------------------------------------------------------------


def network_to_json(config: NetworkConfig) -> str:
    """Serialise a network configuration to compact JSON."""
    data = {
        "name": config.name,
        "uuid": config.uuid,
        "bridge": config.bridge,
        "forward": config.forward,
        "ips": [
            [ip.address, ip.prefix, ip.family, [[r.start, r.end] for r in ip.dhcp]]
            for ip in config.ips
        ],
        "mtu": config.mtu,
        "domain": config.domain,
    }
    return json.dumps(data, separators=(",", ":"))


def network_from_json(text: str) -> NetworkConfig:
    """Inverse of :func:`network_to_json`."""
    d = json.loads(text)
    return NetworkConfig(
        name=d["name"],
        uuid=d["uuid"],
        bridge=d["bridge"],
        forward=d["forward"],
        ips=tuple(
            IPConfig(a, int(p), f, tuple(DHCPRange(s, e) for s, e in dh))
            for a, p, f, dh in d["ips"]
        ),
        mtu=d["mtu"],
        domain=d["domain"],
    )


def network_from_engine(net: dict[str, Any]) -> NetworkConfig:
    """Derive a configuration for a Docker network virtplug did not create."""
    opts = net.get("Options") or {}
    ips = []
    for cfg in (net.get("IPAM") or {}).get("Config") or ():
        subnet = cfg.get("Subnet")
        if not subnet:
            continue
        try:
            iface = ipaddress.ip_network(subnet, strict=False)
        except ValueError:
            continue
        gateway = cfg.get("Gateway") or str(next(iface.hosts(), iface.network_address))
        family = "ipv6" if iface.version == 6 else "ipv4"
        ips.append(IPConfig(gateway, iface.prefixlen, family))
    bridge = opts.get("com.docker.network.bridge.name")
    if bridge is None and net.get("Driver") == "bridge":
        bridge = "br-" + str(net.get("Id", ""))[:12]
    mtu = opts.get("com.docker.network.driver.mtu")
    return NetworkConfig(
        name=str(net.get("Name")),
        uuid=derived_uuid("network", str(net.get("Id", ""))),
        bridge=bridge,
        forward=None if net.get("Internal") else "nat",
        ips=tuple(ips),
        mtu=int(mtu) if mtu else None,
    )


# -- pools and volumes --------------------------------------------------------


def pool_to_json(config: PoolConfig) -> str:
    """Serialise a pool configuration (configuration fields only)."""
    data = {
        "name": config.name,
        "uuid": config.uuid,
        "type": config.type,
        "target": config.target,
        "source": config.source,
    }
    return json.dumps(data, separators=(",", ":"))


def pool_from_json(text: str) -> PoolConfig:
    """Inverse of :func:`pool_to_json`."""
    d = json.loads(text)
    return PoolConfig(
        name=d["name"], uuid=d["uuid"], type=d["type"], target=d["target"], source=d["source"]
    )


def volume_to_json(config: VolumeConfig) -> str:
    """Serialise a volume configuration (configuration fields only)."""
    data = {
        "name": config.name,
        "capacity": config.capacity,
        "allocation": config.allocation,
        "format": config.format,
        "type": config.type,
    }
    return json.dumps(data, separators=(",", ":"))


def volume_from_json(text: str) -> VolumeConfig:
    """Inverse of :func:`volume_to_json`."""
    d = json.loads(text)
    return VolumeConfig(
        name=d["name"],
        capacity=int(d["capacity"]),
        allocation=d["allocation"],
        format=d["format"],
        type=d["type"],
    )
