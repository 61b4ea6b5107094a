"""Domain snapshots as committed images (``docker commit``): filesystem and configuration.

A snapshot is an image ``virtplug-snapshot/<domain uuid>:<tag>`` committed from the
container (paused for the commit when it runs), labelled with the snapshot's name,
description, time, the domain state and the domain's definition. Reverting recreates the
container from that image and definition (and starts it when the snapshot was taken while
running). Process and memory state are not captured: Docker has no checkpoint/restore
without CRIU.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from typing import Any

import docker.errors

from virtplug.errors import NoDomainSnapshotError, OperationFailedError
from virtplug.models import DomainState, SnapshotConfig, SnapshotInfo
from virtplug_docker import _domains as doms
from virtplug_docker._codec import domain_from_json, domain_to_json
from virtplug_docker._state import DockerConnection, Facts

__all__ = ["create", "delete", "find", "list_snapshots", "revert"]

REPO = "virtplug-snapshot"
L_DOMAIN = "virtplug.snapshot.domain"
L_NAME = "virtplug.snapshot.name"
L_DESC = "virtplug.snapshot.description"
L_TIME = "virtplug.snapshot.time"
L_STATE = "virtplug.snapshot.state"
L_CONFIG = "virtplug.snapshot.config"
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def _tag(name: str) -> str:
    if _TAG.match(name):
        return name
    return "s" + hashlib.sha256(name.encode()).hexdigest()[:32]


def _info(domain: str, img: dict[str, Any]) -> SnapshotInfo:
    labels = img.get("Labels") or (img.get("Config") or {}).get("Labels") or {}
    config = None
    if labels.get(L_CONFIG):
        config = domain_from_json(labels[L_CONFIG])
    return SnapshotInfo(
        name=str(labels[L_NAME]),
        domain=domain,
        creation_time=float(labels.get(L_TIME) or 0.0),
        state=DomainState(int(labels.get(L_STATE) or DomainState.SHUTOFF)),
        description=labels.get(L_DESC) or None,
        config=config,
    )


def _images(conn: DockerConnection, uuid: str, name: str | None = None) -> list[dict[str, Any]]:
    filters: dict[str, Any] = {"label": [f"{L_DOMAIN}={uuid}"], "dangling": False}
    if name is not None:
        filters["label"].append(f"{L_NAME}={name}")
    rows = list(conn.api.images(filters=filters))
    if name is not None:
        rows = [r for r in rows if (r.get("Labels") or {}).get(L_NAME) == name]
    return rows


def list_snapshots(conn: DockerConnection, domain: str, facts: Facts) -> list[SnapshotInfo]:
    """The domain's snapshots, oldest first."""
    infos = [_info(domain, img) for img in _images(conn, facts.uuid)]
    return sorted(infos, key=lambda s: (s.creation_time, s.name))


def find(conn: DockerConnection, domain: str, facts: Facts, name: str) -> dict[str, Any]:
    """The image of snapshot *name*. :raises NoDomainSnapshotError:."""
    rows = _images(conn, facts.uuid, name)
    if not rows:
        raise NoDomainSnapshotError(
            f"Domain snapshot not found: no domain snapshot with matching name '{name}'"
        )
    return rows[0]


def create(
    conn: DockerConnection,
    domain: str,
    facts: Facts,
    attrs_: dict[str, Any],
    snapshot: SnapshotConfig,
) -> SnapshotInfo:
    """Commit the container to a snapshot image."""
    name = snapshot.name or time.strftime("%Y%m%d%H%M%S", time.gmtime())
    if _images(conn, facts.uuid, name):
        raise OperationFailedError(f"domain snapshot '{name}' already exists")
    state, _reason = doms.state_of(attrs_)
    config = facts.pending or doms.live_config(conn, attrs_, facts.macs)
    now = time.time()
    labels = {
        L_DOMAIN: facts.uuid,
        L_NAME: name,
        L_DESC: snapshot.description or "",
        L_TIME: repr(now),
        L_STATE: str(int(state)),
        L_CONFIG: domain_to_json(config),
    }
    conn.api.commit(
        facts.id,
        repository=f"{REPO}/{facts.uuid}",
        tag=_tag(name),
        message=snapshot.description or f"virtplug snapshot {name} of {domain}",
        pause=True,
        conf={"Labels": labels},
    )
    return SnapshotInfo(
        name=name,
        domain=domain,
        creation_time=now,
        state=state,
        description=snapshot.description,
        config=config,
    )


def delete(conn: DockerConnection, domain: str, facts: Facts, name: str) -> None:
    """Remove the snapshot's image tag (the layers stay while a container uses them)."""
    img = find(conn, domain, facts, name)
    tags = [t for t in img.get("RepoTags") or () if t.startswith(f"{REPO}/")]
    for tag in tags or [str(img["Id"])]:
        with contextlib.suppress(docker.errors.NotFound):
            conn.api.remove_image(tag, force=True, noprune=False)


def revert(
    conn: DockerConnection, domain: str, facts: Facts, attrs_: dict[str, Any], name: str
) -> Facts:
    """Recreate the container from the snapshot's image and definition."""
    img = find(conn, domain, facts, name)
    info = _info(domain, img)
    config = info.config or doms.stored_config(conn, attrs_)
    policy = ((attrs_.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")
    doms.remove_quietly(conn, facts.id)
    if facts.record:
        doms.remove_record(conn, facts)
    cid = doms.create_container(
        conn,
        config,
        persistent=True,
        autostart=policy == doms.AUTOSTART_POLICY,
        image=str(img["Id"]),
    )
    new = Facts(id=cid, uuid=facts.uuid, persistent=True)
    if info.state in (DomainState.RUNNING, DomainState.PAUSED, DomainState.BLOCKED):
        conn.post("/containers/{0}/start", cid)
    return new
