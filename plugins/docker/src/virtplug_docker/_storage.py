"""Storage pools and volumes over Docker volumes and images.

Pools:

- ``volumes`` (built in): every Docker volume that belongs to no virtplug pool;
- ``images`` (built in): the engine's images; creating a "volume" pulls an image
  reference, deleting one removes the image, cloning tags it;
- virtplug-defined pools (type ``docker`` or ``dir``): a label namespace of Docker
  volumes on one volume driver (``<source><name>``, default ``local``); the
  definition lives in a record volume ``virtplug-pool-<uuid>``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import urllib.parse
from collections.abc import Sequence
from typing import Any

import docker.errors

from virtplug.errors import (
    ConfigUnsupportedError,
    InvalidArgError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    ResourceBusyError,
    StorageVolExistsError,
)
from virtplug.models import (
    PoolConfig,
    PoolInfo,
    PoolRef,
    PoolState,
    VolumeConfig,
    VolumeInfo,
    VolumeRef,
)
from virtplug.records import evolve
from virtplug_docker import registry
from virtplug_docker._codec import (
    LABEL_AUTOSTART,
    LABEL_CONFIG,
    LABEL_PERSISTENT,
    LABEL_RECORD,
    LABEL_UUID,
    derived_uuid,
    pool_from_json,
    pool_to_json,
    volume_from_json,
    volume_to_json,
)
from virtplug_docker._errors import explanation, not_found, status_of, translate
from virtplug_docker._state import DockerConnection

__all__ = ["BUILTIN_POOLS", "domain_overrides"]

BUILTIN_POOLS = ("images", "volumes")
LABEL_NAME = "virtplug.name"
LABEL_ACTIVE = "virtplug.active"
LABEL_POOL = "virtplug.pool"
LABEL_VOLUME = "virtplug.volume"


def domain_overrides(conn: DockerConnection) -> dict[str, bool]:
    """Container id -> persistent, from the domain override records (one call)."""
    res = conn.api.volumes(filters={"label": [f"{LABEL_RECORD}=domain"]})
    out: dict[str, bool] = {}
    for vol in res.get("Volumes") or ():
        labels = vol.get("Labels") or {}
        cid = labels.get("virtplug.container")
        if cid:
            out[str(cid)] = labels.get(LABEL_PERSISTENT, "1") != "0"
    return out


@dataclasses.dataclass
class Pool:
    """One pool: built in, or a record."""

    name: str
    config: PoolConfig
    active: bool
    persistent: bool
    autostart: bool
    record: dict[str, Any] | None = None

    @property
    def ref(self) -> PoolRef:
        """Its identity."""
        return PoolRef(name=self.name, uuid=str(self.config.uuid))

    @property
    def builtin(self) -> bool:
        """True for ``volumes`` and ``images``."""
        return self.record is None


def _builtin(conn: DockerConnection, name: str) -> Pool:
    root = str(conn.info.get("DockerRootDir") or "/var/lib/docker")
    target = f"{root}/volumes" if name == "volumes" else f"{root}/image"
    config = PoolConfig(
        name=name,
        uuid=derived_uuid("pool", name),
        type="images" if name == "images" else "docker",
        target=target,
        source="local" if name == "volumes" else None,
    )
    return Pool(name, config, active=True, persistent=True, autostart=True)


def _from_record(vol: dict[str, Any]) -> Pool:
    labels = vol.get("Labels") or {}
    return Pool(
        name=str(labels[LABEL_NAME]),
        config=pool_from_json(labels[LABEL_CONFIG]),
        active=labels.get(LABEL_ACTIVE) == "1",
        persistent=labels.get(LABEL_PERSISTENT, "1") != "0",
        autostart=labels.get(LABEL_AUTOSTART) == "1",
        record=vol,
    )


def _records(conn: DockerConnection) -> list[Pool]:
    res = conn.api.volumes(filters={"label": [f"{LABEL_RECORD}=pool"]})
    return [_from_record(v) for v in res.get("Volumes") or ()]


def _all(conn: DockerConnection) -> list[Pool]:
    with conn.guard("engine", "volumes"):
        pools = [_builtin(conn, n) for n in BUILTIN_POOLS] + _records(conn)
    return sorted(pools, key=lambda p: p.name)


def lookup_pool(conn: DockerConnection, name: str) -> Pool:
    """The pool *name*. :raises NoStoragePoolError:."""
    if name in BUILTIN_POOLS:
        return _builtin(conn, name)
    with conn.guard("pool", name):
        for pool in _records(conn):
            if pool.name == name:
                return pool
    raise not_found("pool", name)


def lookup_pool_uuid(conn: DockerConnection, uuid: str) -> PoolRef:
    """The pool with *uuid*. :raises NoStoragePoolError:."""
    for pool in _all(conn):
        if pool.config.uuid == uuid:
            return pool.ref
    raise NoStoragePoolError(f"Storage pool not found: no storage pool with matching uuid '{uuid}'")


def list_pools(
    conn: DockerConnection, active: bool | None, persistent: bool | None
) -> Sequence[PoolRef]:
    """Refs of the matching pools."""
    return [
        p.ref
        for p in _all(conn)
        if (active is None or p.active == active)
        and (persistent is None or p.persistent == persistent)
    ]


def _write(
    conn: DockerConnection, config: PoolConfig, *, active: bool, persistent: bool, autostart: bool
) -> None:
    vol = f"virtplug-pool-{config.uuid}"
    with conn.guard("pool", config.name):
        with contextlib.suppress(docker.errors.NotFound):
            conn.api.remove_volume(vol, force=True)
        conn.api.create_volume(
            name=vol,
            driver="local",
            labels={
                LABEL_RECORD: "pool",
                LABEL_NAME: config.name,
                LABEL_UUID: str(config.uuid),
                LABEL_CONFIG: pool_to_json(config),
                LABEL_ACTIVE: "1" if active else "0",
                LABEL_PERSISTENT: "1" if persistent else "0",
                LABEL_AUTOSTART: "1" if autostart else "0",
            },
        )


def define_pool(conn: DockerConnection, config: PoolConfig, *, persistent: bool) -> PoolRef:
    """Record a pool (persistent + inactive, or transient + active)."""
    if config.type not in ("docker", "dir"):
        raise ConfigUnsupportedError(
            f"Docker storage pools are of type 'docker' (volumes on a volume driver), "
            f"not '{config.type}'"
        )
    if config.name in BUILTIN_POOLS:
        raise OperationFailedError(f"pool '{config.name}' is built into the Docker driver")
    existing = None
    for pool in _all(conn):
        if pool.name == config.name and pool.config.uuid != config.uuid:
            raise OperationFailedError(
                f"pool '{config.name}' already exists with uuid {pool.config.uuid}"
            )
        if pool.config.uuid == config.uuid and pool.name != config.name:
            raise OperationFailedError(
                f"pool '{pool.name}' is already defined with uuid {config.uuid}"
            )
        if pool.name == config.name:
            existing = pool
    if existing is not None:
        if not persistent:
            raise OperationFailedError(f"pool '{config.name}' already exists")
        _write(
            conn,
            config,
            active=existing.active,
            persistent=True,
            autostart=existing.autostart,
        )
    else:
        _write(conn, config, active=not persistent, persistent=persistent, autostart=False)
    return PoolRef(name=config.name, uuid=str(config.uuid))


def _user_pool(conn: DockerConnection, name: str) -> Pool:
    pool = lookup_pool(conn, name)
    if pool.builtin:
        raise OperationInvalidError(f"pool '{name}' is built into the Docker engine")
    return pool


def build_pool(conn: DockerConnection, name: str) -> None:
    """Create the target directory (local engines)."""
    pool = _user_pool(conn, name)
    if pool.active:
        raise OperationInvalidError("storage pool is already active")
    target = pool.config.target
    if target and conn.local:
        try:
            os.makedirs(target, exist_ok=True)
        except OSError as exc:
            raise OperationFailedError(f"cannot create {target}: {exc}") from exc


def _volumes(conn: DockerConnection, pool: str) -> list[dict[str, Any]]:
    if pool == "volumes":
        res = conn.api.volumes()
        return [
            v
            for v in res.get("Volumes") or ()
            if not {LABEL_RECORD, LABEL_POOL} & set(v.get("Labels") or {})
        ]
    res = conn.api.volumes(filters={"label": [f"{LABEL_POOL}={pool}"]})
    return [v for v in res.get("Volumes") or () if (v.get("Labels") or {}).get(LABEL_POOL) == pool]


def delete_pool(conn: DockerConnection, name: str) -> None:
    """Remove the (empty) target directory; refused while volumes exist."""
    pool = _user_pool(conn, name)
    if pool.active:
        raise OperationInvalidError("storage pool is still active")
    with conn.guard("pool", name):
        if _volumes(conn, name):
            raise OperationFailedError(f"storage pool '{name}' still holds volumes")
    target = pool.config.target
    if target and conn.local and os.path.isdir(target):
        try:
            os.rmdir(target)
        except OSError as exc:
            raise OperationFailedError(f"cannot delete {target}: {exc}") from exc


def set_pool_active(conn: DockerConnection, name: str, active: bool) -> None:
    """Start or stop a pool (a stopped transient pool disappears)."""
    pool = _user_pool(conn, name)
    if active and pool.active:
        raise OperationInvalidError("storage pool is already active")
    if not active and not pool.active:
        raise OperationInvalidError("storage pool is not active")
    if not active and not pool.persistent:
        assert pool.record is not None
        with conn.guard("pool", name):
            conn.api.remove_volume(pool.record["Name"], force=True)
        return
    _write(conn, pool.config, active=active, persistent=pool.persistent, autostart=pool.autostart)


def undefine_pool(conn: DockerConnection, name: str) -> None:
    """Remove an inactive persistent pool's record."""
    pool = _user_pool(conn, name)
    if not pool.persistent:
        raise OperationInvalidError("cannot undefine transient storage pool")
    if pool.active:
        raise OperationInvalidError("storage pool is still active")
    assert pool.record is not None
    with conn.guard("pool", name):
        conn.api.remove_volume(pool.record["Name"], force=True)


def refresh_pool(conn: DockerConnection, name: str) -> None:
    """Check the pool is active (listings always ask the engine)."""
    pool = lookup_pool(conn, name)
    if not pool.active:
        raise OperationInvalidError("storage pool is not active")


def _sizes(conn: DockerConnection, pool: Pool) -> tuple[int, int, int]:
    path = pool.config.target if pool.record is not None else None
    path = path or str(conn.info.get("DockerRootDir") or "/var/lib/docker")
    if not conn.local or not os.path.isdir(path):
        return 0, 0, 0
    st = os.statvfs(path)
    capacity = st.f_blocks * st.f_frsize
    available = st.f_bavail * st.f_frsize
    return capacity, capacity - st.f_bfree * st.f_frsize, available


def pool_info(conn: DockerConnection, name: str) -> PoolInfo:
    """State and sizes."""
    pool = lookup_pool(conn, name)
    cap, alloc, avail = _sizes(conn, pool)
    return PoolInfo(
        state=PoolState.RUNNING if pool.active else PoolState.INACTIVE,
        capacity=cap,
        allocation=alloc,
        available=avail,
        persistent=pool.persistent,
        autostart=pool.autostart,
    )


def pool_xml(conn: DockerConnection, name: str) -> PoolConfig:
    """The configuration with sizes."""
    pool = lookup_pool(conn, name)
    cap, alloc, avail = _sizes(conn, pool)
    return evolve(pool.config, capacity=cap, allocation=alloc, available=avail)


def set_pool_autostart(conn: DockerConnection, name: str, autostart: bool) -> None:
    """Rewrite the record's flag."""
    pool = _user_pool(conn, name)
    if not pool.persistent:
        raise OperationInvalidError("cannot set autostart for transient storage pool")
    _write(conn, pool.config, active=pool.active, persistent=True, autostart=autostart)


# -- volumes ---------------------------------------------------------------------------


@dataclasses.dataclass
class Vol:
    """One volume (Docker volume or image)."""

    ref: VolumeRef
    config: VolumeConfig
    info: VolumeInfo


def _active_pool(conn: DockerConnection, name: str) -> Pool:
    pool = lookup_pool(conn, name)
    if not pool.active:
        raise OperationInvalidError("storage pool is not active")
    return pool


def _docker_name(pool: str, name: str) -> str:
    return name if pool == "volumes" else f"{pool}_{name}"


def _vol(conn: DockerConnection, pool: str, raw: dict[str, Any]) -> Vol:
    labels = raw.get("Labels") or {}
    docker_name = str(raw["Name"])
    name = str(labels.get(LABEL_VOLUME) or docker_name)
    text = labels.get(LABEL_CONFIG)
    config = volume_from_json(text) if text else VolumeConfig(name=name, type="dir", format="dir")
    path = str(raw.get("Mountpoint") or "")
    allocation = 0
    if conn.local and path and os.path.isdir(path):
        for root, _dirs, files in os.walk(path):
            for f in files:
                with contextlib.suppress(OSError):
                    allocation += os.lstat(os.path.join(root, f)).st_size
    config = evolve(config, key=docker_name, path=path)
    return Vol(
        ref=VolumeRef(pool=pool, name=name, key=docker_name, path=path),
        config=config,
        info=VolumeInfo(type=config.type, capacity=config.capacity, allocation=allocation),
    )


def _image_name(img: dict[str, Any]) -> str:
    tags = [t for t in img.get("RepoTags") or () if t and t != "<none>:<none>"]
    return str(tags[0]) if tags else str(img["Id"])


def image_volume_name(reference: str) -> str:
    """The volume name of an image reference: ``/`` (not allowed in names) becomes ``%2F``."""
    return urllib.parse.quote(reference, safe=":@")


def image_reference(volume: str) -> str:
    """Inverse of :func:`image_volume_name`."""
    return urllib.parse.unquote(volume)


def _image_vols(img: dict[str, Any]) -> list[Vol]:
    size = int(img.get("Size") or 0)
    iid = str(img["Id"])
    tags = [t for t in img.get("RepoTags") or () if t and t != "<none>:<none>"] or [iid]
    out = []
    for tag in tags:
        key = iid if tag == iid else f"{iid}#{tag}"
        config = VolumeConfig(
            name=image_volume_name(tag),
            capacity=size,
            allocation=size,
            format="docker-image",
            type="file",
            key=key,
            path=key,
        )
        out.append(
            Vol(
                ref=VolumeRef(pool="images", name=image_volume_name(tag), key=key, path=key),
                config=config,
                info=VolumeInfo(type="file", capacity=size, allocation=size),
            )
        )
    return out


def list_volumes(conn: DockerConnection, pool: str) -> Sequence[VolumeRef]:
    """Volumes of an active pool, by name."""
    _active_pool(conn, pool)
    with conn.guard("pool", pool):
        if pool == "images":
            refs = [v.ref for img in conn.api.images() for v in _image_vols(img)]
        else:
            refs = [
                VolumeRef(
                    pool=pool,
                    name=str((v.get("Labels") or {}).get(LABEL_VOLUME) or v["Name"]),
                    key=str(v["Name"]),
                    path=str(v.get("Mountpoint") or ""),
                )
                for v in _volumes(conn, pool)
            ]
    return sorted(refs, key=lambda r: r.name)


def lookup_volume(conn: DockerConnection, pool: str, name: str) -> Vol:
    """One volume. :raises NoStorageVolError:."""
    _active_pool(conn, pool)
    if pool == "images":
        reference = image_reference(name)
        with conn.guard("image", name):
            try:
                img = conn.inspect_image(reference)
            except docker.errors.NotFound as exc:
                raise not_found("volume", name) from exc
        vols = _image_vols(img)
        for vol in vols:
            if vol.ref.name == image_volume_name(reference):
                return vol
        if ":" not in reference.rpartition("/")[2]:
            for vol in vols:
                if vol.ref.name == image_volume_name(reference + ":latest"):
                    return vol
        return vols[0]
    with conn.guard("volume", name):
        try:
            raw = conn.api.inspect_volume(_docker_name(pool, name))
        except docker.errors.NotFound as exc:
            raise not_found("volume", name) from exc
    labels = raw.get("Labels") or {}
    if pool == "volumes" and {LABEL_RECORD, LABEL_POOL} & set(labels):
        raise not_found("volume", name)
    if pool != "volumes" and labels.get(LABEL_POOL) != pool:
        raise not_found("volume", name)
    return _vol(conn, pool, raw)


def lookup_volume_key(conn: DockerConnection, key: str) -> VolumeRef:
    """A volume by key (Docker volume name; images: ``sha256:...``)."""
    if key.startswith("sha256:"):
        iid, _, tag = key.partition("#")
        with conn.guard("image", key):
            try:
                img = conn.inspect_image(iid)
            except docker.errors.NotFound as exc:
                raise NoStorageVolError(
                    f"Storage volume not found: no storage vol with matching key {key}"
                ) from exc
        for vol in _image_vols(img):
            if vol.ref.key == key or (not tag and vol.ref.key.startswith(iid)):
                return vol.ref
        raise NoStorageVolError(f"Storage volume not found: no storage vol with matching key {key}")
    with conn.guard("volume", key):
        try:
            raw = conn.api.inspect_volume(key)
        except docker.errors.NotFound as exc:
            raise NoStorageVolError(
                f"Storage volume not found: no storage vol with matching key {key}"
            ) from exc
    labels = raw.get("Labels") or {}
    if LABEL_RECORD in labels:
        raise NoStorageVolError(f"Storage volume not found: no storage vol with matching key {key}")
    return _vol(conn, str(labels.get(LABEL_POOL) or "volumes"), raw).ref


def lookup_volume_path(conn: DockerConnection, path: str) -> VolumeRef:
    """A volume by mountpoint (images: by key)."""
    if path.startswith("sha256:"):
        return lookup_volume_key(conn, path)
    with conn.guard("volume", path):
        res = conn.api.volumes()
    for raw in res.get("Volumes") or ():
        labels = raw.get("Labels") or {}
        if raw.get("Mountpoint") == path and LABEL_RECORD not in labels:
            pool = str(labels.get(LABEL_POOL) or "volumes")
            name = str(labels.get(LABEL_VOLUME) or raw["Name"])
            return VolumeRef(pool=pool, name=name, key=str(raw["Name"]), path=path)
    raise NoStorageVolError(f"Storage volume not found: no storage vol with matching path {path}")


def create_volume(conn: DockerConnection, pool: str, config: VolumeConfig) -> VolumeRef:
    """Create a Docker volume labelled with the pool; in ``images``, pull the reference."""
    p = _active_pool(conn, pool)
    if config.capacity < 0:
        raise InvalidArgError(f"volume capacity must not be negative, not {config.capacity}")
    if pool == "images":
        try:
            lookup_volume(conn, pool, config.name)
        except NoStorageVolError:
            pass
        else:
            raise StorageVolExistsError(f"storage volume '{config.name}' exists already")
        registry.pull(conn, image_reference(config.name))
        return lookup_volume(conn, pool, config.name).ref
    docker_name = _docker_name(pool, config.name)
    with conn.guard("volume", config.name):
        try:
            conn.api.inspect_volume(docker_name)
        except docker.errors.NotFound:
            pass
        else:
            raise StorageVolExistsError(f"storage volume '{config.name}' exists already")
        labels = {LABEL_CONFIG: volume_to_json(config)}
        if pool != "volumes":
            labels[LABEL_POOL] = pool
            labels[LABEL_VOLUME] = config.name
        raw = conn.api.create_volume(
            name=docker_name, driver=p.config.source or "local", labels=labels
        )
    return _vol(conn, pool, raw).ref


def clone_volume(conn: DockerConnection, pool: str, name: str, new_name: str) -> VolumeRef:
    """Images: ``tag``; volumes: create and copy the data (local engines)."""
    src = lookup_volume(conn, pool, name)
    if pool == "images":
        try:
            lookup_volume(conn, pool, new_name)
        except NoStorageVolError:
            pass
        else:
            raise StorageVolExistsError(f"storage volume '{new_name}' exists already")
        new_ref = image_reference(new_name)
        repo, _, tag = new_ref.rpartition(":")
        if not repo or "/" in tag:
            repo, tag = new_ref, "latest"
        with conn.guard("image", new_name):
            conn.api.tag(src.ref.key.partition("#")[0], repo, tag)
        return lookup_volume(conn, pool, image_volume_name(f"{repo}:{tag}")).ref
    if not conn.local:
        raise OperationFailedError(
            "cloning a Docker volume copies its data on the engine host; "
            "only local engines (docker:///, docker+unix) can do it"
        )
    ref = create_volume(conn, pool, evolve(src.config, name=new_name, key=None, path=None))
    try:
        shutil.copytree(src.ref.path, ref.path, symlinks=True, dirs_exist_ok=True)
    except OSError as exc:
        delete_volume(conn, pool, new_name)
        raise OperationFailedError(f"cannot copy volume '{name}': {exc}") from exc
    return ref


def delete_volume(conn: DockerConnection, pool: str, name: str) -> None:
    """Remove a volume (in use: RESOURCE_BUSY) or an image reference."""
    vol = lookup_volume(conn, pool, name)
    try:
        if pool == "images":
            target = image_reference(vol.ref.name) if vol.ref.name != vol.ref.key else vol.ref.key
            conn.api.remove_image(target)
        else:
            conn.api.remove_volume(vol.ref.key)
    except docker.errors.APIError as exc:
        if status_of(exc) == 409:
            raise ResourceBusyError(
                f"storage volume '{name}' is in use: {explanation(exc)}"
            ) from exc
        raise translate(exc, kind="volume", name=name, uri=conn.uri.text) from exc
    except Exception as exc:
        raise translate(exc, kind="volume", name=name, uri=conn.uri.text) from exc


def volume_info(conn: DockerConnection, pool: str, name: str) -> VolumeInfo:
    """Type, capacity, allocation."""
    return lookup_volume(conn, pool, name).info


def volume_xml(conn: DockerConnection, pool: str, name: str) -> VolumeConfig:
    """The configuration with key and path."""
    return lookup_volume(conn, pool, name).config
