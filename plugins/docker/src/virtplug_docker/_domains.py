"""Domains as Docker containers: creation, facts, state mapping, live configuration."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
from typing import Any

import docker.errors
import docker.types

from virtplug.errors import (
    ConfigUnsupportedError,
    OperationFailedError,
)
from virtplug.models import (
    CrashedReason,
    DomainConfig,
    DomainState,
    InterfaceConfig,
    NoStateReason,
    PausedReason,
    RunningReason,
    ShutdownReason,
    ShutoffReason,
)
from virtplug.records import evolve
from virtplug_docker._codec import (
    LABEL_AUTOSTART,
    LABEL_CONFIG,
    LABEL_PERSISTENT,
    LABEL_RECORD,
    LABEL_UUID,
    derived_uuid,
    domain_from_inspect,
    domain_from_json,
    domain_to_json,
)
from virtplug_docker._errors import status_of
from virtplug_docker._state import DockerConnection, Facts

__all__ = [
    "AUTOSTART_POLICY",
    "create_container",
    "find_uuid_owners",
    "live_config",
    "load_facts",
    "record_name",
    "remove_quietly",
    "state_of",
    "stored_config",
    "uuid_of",
    "volume_name",
    "write_record",
]

LABEL_MACS = "virtplug.macs"

#: The restart policy that stands for libvirt's autostart ("start with the engine").
AUTOSTART_POLICY = "always"


def record_name(container_id: str) -> str:
    """The override record volume of one container."""
    return f"virtplug-domain-{container_id[:24]}"


def volume_name(pool: str, name: str) -> str:
    """The Docker volume name of virtplug volume *name* in *pool*."""
    if pool == "volumes":
        return name
    return f"{pool}_{name}"


def uuid_of(labels: dict[str, str] | None, container_id: str) -> str:
    """The domain UUID of a container: its label, or one derived from the id."""
    value = (labels or {}).get(LABEL_UUID)
    return value or derived_uuid("container", container_id)


def stored_config(conn: DockerConnection, attrs_: dict[str, Any]) -> DomainConfig:
    """The configuration stored in the container's labels, or one derived from inspect."""
    labels = (attrs_.get("Config") or {}).get("Labels") or {}
    text = labels.get(LABEL_CONFIG)
    if text:
        try:
            return domain_from_json(text)
        except (ValueError, KeyError, TypeError):
            pass
    return domain_from_inspect(attrs_, conn.host_mem_kib, conn.host_cpus)


def live_config(
    conn: DockerConnection, attrs_: dict[str, Any], macs: dict[str, str] | None = None
) -> DomainConfig:
    """The stored configuration overlaid with what can change live (limits, networks)."""
    config = stored_config(conn, attrs_)
    host = attrs_.get("HostConfig") or {}
    mem = int(host.get("Memory") or 0) // 1024
    changes: dict[str, Any] = {}
    if mem and mem != config.effective_memory_kib:
        changes["current_memory_kib"] = mem if mem != config.memory_kib else None
        if mem > config.memory_kib:
            changes["memory_kib"] = mem
            changes["current_memory_kib"] = None
    nano = int(host.get("NanoCpus") or 0)
    if nano:
        vcpus = max(1, math.ceil(nano / 1e9))
        if vcpus != config.vcpus:
            changes["vcpus"] = vcpus
    networks = ((attrs_.get("NetworkSettings") or {}).get("Networks")) or {}
    live = [n for n in networks if n not in ("none", "host")]
    kept = [i for i in config.interfaces if i.type != "network" or i.source in live]
    known = {i.source for i in kept}
    for net in live:
        if net not in known:
            mac = (macs or {}).get(net) or (networks[net] or {}).get("MacAddress") or None
            kept.append(InterfaceConfig("network", source=net, mac=mac))
    if tuple(kept) != config.interfaces:
        changes["interfaces"] = tuple(kept)
    return evolve(config, **changes) if changes else config


def state_of(attrs_: dict[str, Any]) -> tuple[DomainState, int]:
    """Map the engine's container state to a virtplug state and reason."""
    st = attrs_.get("State") or {}
    status = st.get("Status", "")
    if status == "running":
        return DomainState.RUNNING, RunningReason.BOOTED
    if status == "paused":
        return DomainState.PAUSED, PausedReason.USER
    if status == "restarting":
        return DomainState.RUNNING, RunningReason.UNKNOWN
    if status == "removing":
        return DomainState.SHUTDOWN, ShutdownReason.UNKNOWN
    if status == "dead":
        return DomainState.CRASHED, CrashedReason.UNKNOWN
    if status == "created":
        return DomainState.SHUTOFF, ShutoffReason.UNKNOWN
    if status == "exited":
        if st.get("OOMKilled"):
            return DomainState.SHUTOFF, ShutoffReason.CRASHED
        code = int(st.get("ExitCode") or 0)
        if code in (0, 143):
            return DomainState.SHUTOFF, ShutoffReason.SHUTDOWN
        if code == 137:
            return DomainState.SHUTOFF, ShutoffReason.DESTROYED
        return DomainState.SHUTOFF, ShutoffReason.FAILED
    return DomainState.NOSTATE, NoStateReason.UNKNOWN


def _record(conn: DockerConnection, container_id: str) -> dict[str, str] | None:
    try:
        vol = conn.api.inspect_volume(record_name(container_id))
    except docker.errors.NotFound:
        return None
    labels: dict[str, str] = vol.get("Labels") or {}
    return labels


def facts_from_inspect(
    conn: DockerConnection, attrs_: dict[str, Any], *, record: bool = True
) -> Facts:
    """Facts about a container from its inspect answer plus (*record*) its override record."""
    cid = str(attrs_["Id"])
    labels = (attrs_.get("Config") or {}).get("Labels") or {}
    host = attrs_.get("HostConfig") or {}
    if LABEL_PERSISTENT in labels:
        persistent = labels[LABEL_PERSISTENT] != "0"
    else:
        persistent = not host.get("AutoRemove", False)
    facts = Facts(id=cid, uuid=uuid_of(labels, cid), persistent=persistent)
    rec = _record(conn, cid) if record else None
    if rec is not None:
        facts.record = True
        facts.persistent = rec.get(LABEL_PERSISTENT, "1") != "0"
        try:
            facts.macs = dict(json.loads(rec.get(LABEL_MACS, "{}")))
        except (ValueError, TypeError):
            facts.macs = {}
        pending = rec.get(LABEL_CONFIG)
        if pending:
            try:
                facts.pending = domain_from_json(pending)
            except (ValueError, KeyError, TypeError):
                facts.pending = None
    return facts


def load_facts(
    conn: DockerConnection, name: str, *, record: bool = True
) -> tuple[Facts, dict[str, Any]] | None:
    """Inspect the container *name* (checking its name) and cache its facts; ``None`` if gone.

    With ``record=False`` the override record is not read (one engine call instead of two)
    and nothing is cached: persistence, pending definition and MACs are then unknown.
    """
    try:
        attrs_ = conn.api.inspect_container(conn.target(name))
    except docker.errors.NotFound:
        conn.forget(name)
        try:
            attrs_ = conn.api.inspect_container(name)
        except docker.errors.NotFound:
            return None
    if str(attrs_.get("Name", "")).lstrip("/") != name:
        conn.forget(name)
        return None
    facts = facts_from_inspect(conn, attrs_, record=record)
    if record:
        conn.remember(name, facts)
    return facts, attrs_


def write_record(
    conn: DockerConnection,
    facts: Facts,
    *,
    persistent: bool,
    pending: DomainConfig | None,
    macs: dict[str, str] | None = None,
) -> None:
    """(Re)write the override record volume of a container (volume labels are immutable)."""
    name = record_name(facts.id)
    remove_record(conn, facts)
    labels = {
        LABEL_RECORD: "domain",
        "virtplug.container": facts.id,
        LABEL_UUID: facts.uuid,
        LABEL_PERSISTENT: "1" if persistent else "0",
    }
    if pending is not None:
        labels[LABEL_CONFIG] = domain_to_json(pending)
    macs = facts.macs if macs is None else macs
    if macs:
        labels[LABEL_MACS] = json.dumps(macs, sort_keys=True)
    conn.api.create_volume(name=name, driver="local", labels=labels)
    facts.record = True
    facts.persistent = persistent
    facts.pending = pending
    facts.macs = dict(macs)


def remove_record(conn: DockerConnection, facts: Facts) -> None:
    """Delete a container's override record (absent is fine)."""
    with contextlib.suppress(docker.errors.NotFound):
        conn.api.remove_volume(record_name(facts.id), force=True)
    facts.record = False


def remove_quietly(conn: DockerConnection, container_id: str) -> None:
    """Remove a container, tolerating that it is gone or already being removed."""
    try:
        conn.api.remove_container(container_id, force=True)
    except docker.errors.NotFound:
        return
    except docker.errors.APIError as exc:
        if status_of(exc) != 409:
            raise
    try:
        conn.api.wait(container_id, condition="removed", timeout=30)
    except (docker.errors.NotFound, docker.errors.APIError):
        pass
    except Exception:
        pass


def find_uuid_owners(conn: DockerConnection, uuid: str) -> list[dict[str, Any]]:
    """The containers (list entries) labelled with domain *uuid* (one engine call)."""
    return list(conn.api.containers(all=True, filters={"label": f"{LABEL_UUID}={uuid}"}))


def _mounts(config: DomainConfig) -> list[docker.types.Mount]:
    mounts = []
    for fs in config.filesystems:
        if fs.is_root:
            continue
        if fs.type in ("mount", "bind"):
            mounts.append(
                docker.types.Mount(fs.target, fs.source, type="bind", read_only=fs.readonly)
            )
        elif fs.type == "volume":
            mounts.append(
                docker.types.Mount(
                    fs.target,
                    volume_name(fs.pool or "volumes", fs.source),
                    type="volume",
                    read_only=fs.readonly,
                )
            )
        else:
            raise ConfigUnsupportedError(
                f"Docker cannot mount a <filesystem type='{fs.type}'> at {fs.target} "
                f"(use type='mount' for a host directory or type='volume')"
            )
    return mounts


def create_container(
    conn: DockerConnection,
    config: DomainConfig,
    *,
    persistent: bool,
    autostart: bool = False,
    image: str | None = None,
) -> str:
    """Create (not start) the container for *config*; return its id.

    Raises the SDK's exceptions (callers translate); CONFIG_UNSUPPORTED for what Docker
    cannot express.
    """
    if config.type != "docker":
        raise ConfigUnsupportedError(
            f"domain type '{config.type}' is not supported by driver 'docker'"
        )
    root = config.root
    if root is None or root.type != "template":
        raise ConfigUnsupportedError(
            "Docker needs the root filesystem from an image: "
            "<filesystem type='template'><source name='IMAGE'/><target dir='/'/></filesystem>"
        )
    for iface in config.interfaces:
        if iface.type != "network" or not iface.source:
            raise ConfigUnsupportedError(
                f"Docker can only join networks: <interface type='{iface.type}'> is not supported "
                f"(use <interface type='network'><source network='NAME'/>)"
            )
    for i, iface in enumerate(config.interfaces):
        if i and iface.mac:
            raise ConfigUnsupportedError(
                "this Docker engine sets a MAC address only on the first interface"
            )
    assert config.uuid is not None
    api = conn.api
    first = config.interfaces[0] if config.interfaces else None
    restart = {"Name": AUTOSTART_POLICY} if autostart else None
    host_config = api.create_host_config(
        mem_limit=config.effective_memory_kib * 1024,
        memswap_limit=-1,
        nano_cpus=int(config.vcpus * 1e9),
        network_mode=first.source if first else "none",
        auto_remove=not persistent,
        restart_policy=restart,
        mounts=_mounts(config) or None,
    )
    networking = None
    if first is not None and first.ips:
        networking = api.create_networking_config(
            {str(first.source): api.create_endpoint_config(ipv4_address=first.ips[0][0])}  # type: ignore[arg-type]
        )
    os_ = config.os
    tty = bool(config.consoles)
    labels = {
        LABEL_UUID: config.uuid,
        LABEL_CONFIG: domain_to_json(config),
        LABEL_PERSISTENT: "1" if persistent else "0",
        LABEL_AUTOSTART: "1" if autostart else "0",
    }
    try:
        res = api.create_container(
            image or root.source,
            command=list(os_.initargs) if (os_.initargs or os_.init) else None,
            entrypoint=[os_.init] if os_.init else None,
            environment=[f"{k}={v}" for k, v in os_.initenv] or None,
            working_dir=os_.initdir,
            user=os_.inituser,
            name=config.name,
            labels=labels,
            host_config=host_config,
            networking_config=networking,
            mac_address=first.mac if first else None,
            tty=tty,
            stdin_open=tty,
            use_config_proxy=False,
        )
    except docker.errors.ImageNotFound as exc:
        raise ConfigUnsupportedError(
            f"image '{root.source}' is not present on the Docker engine "
            f"(pull it first, e.g. through the 'images' storage pool)"
        ) from exc
    cid = str(res["Id"])
    try:
        for iface in config.interfaces[1:]:
            ip = iface.ips[0][0] if iface.ips else None
            api.connect_container_to_network(cid, str(iface.source), ipv4_address=ip)
    except Exception:
        remove_quietly(conn, cid)
        raise
    return cid


def name_conflict(conn: DockerConnection, name: str) -> OperationFailedError:
    """The libvirt error for a name that another domain holds."""
    found = load_facts(conn, name)
    uuid = found[0].uuid if found else "unknown"
    return OperationFailedError(f"domain '{name}' already exists with uuid {uuid}")


def set_mac(pid: int, current: str, wanted: str) -> None:
    """Set the MAC of the interface with MAC *current* inside the netns of *pid* (local engines).

    Engines before API 1.44 ignore a MAC address on ``network connect``; virtplug sets it on the
    container's end of the veth instead, as libvirt's LXC driver does.

    :raises OperationFailedError: no such interface, or ``ip`` refused.
    """
    ns = ["nsenter", f"--net=/proc/{pid}/ns/net", "ip"]
    out = subprocess.run([*ns, "-o", "link"], capture_output=True, text=True, check=False)
    dev = None
    for line in out.stdout.splitlines():
        if f"link/ether {current.lower()}" in line.lower():
            dev = line.split(":", 2)[1].strip().split("@", 1)[0]
            break
    if dev is None:
        raise OperationFailedError(f"no interface with MAC {current} in the container")
    res = subprocess.run(
        [*ns, "link", "set", "dev", dev, "address", wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        raise OperationFailedError(f"cannot set MAC {wanted} on {dev}: {res.stderr.strip()}")
