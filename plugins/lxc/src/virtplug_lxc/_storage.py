"""Storage of the LXC driver: directory pools, sparse-file and directory volumes.

Definitions live in ``<lxcpath>/.virtplug/pools/NAME.json``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from virtplug import hookimpl
from virtplug.errors import (
    ConfigUnsupportedError,
    InvalidArgError,
    NoNetworkError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    ResourceBusyError,
    StorageVolExistsError,
    XMLError,
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
from virtplug_lxc._state import (
    LXCConnection,
    check_name,
)
from virtplug_lxc._store import dump_model, load_model, read_json, write_json

__all__ = ["StorageHooks"]

#: Errors that mark one broken definition file; listings skip it instead of failing.
VirtplugErrors = (NoNetworkError, NoStoragePoolError, OperationFailedError, InvalidArgError)


def _no_pool(name: str) -> NoStoragePoolError:
    return NoStoragePoolError(
        f"Storage pool not found: no storage pool with matching name '{name}'"
    )


def _no_volume(pool: str, name: str) -> NoStorageVolError:
    return NoStorageVolError(
        f"Storage volume not found: no storage vol with matching name '{name}' in pool '{pool}'"
    )


class StorageHooks:
    """The ``virtplug_pool_*`` and ``virtplug_volume_*`` hooks (a mixin of the driver)."""

    def _autostart_pools(self, conn: LXCConnection) -> list[str]:
        """Activate inactive pools flagged autostart; return the names that failed."""
        failed = []
        for data in self._pool_all(conn):
            config: PoolConfig = data["config"]
            if not data.get("autostart") or self._pool_active(data):
                continue
            if not Path(str(config.target)).is_dir():
                failed.append(config.name)
                continue
            with conn.lock(f"pool:{config.name}"):
                data["active"] = True
                self._pool_save(conn, data)
        return failed

    # ------------------------------------------------------------------
    # Storage pools (directories)
    # ------------------------------------------------------------------

    def _pool_path(self, conn: LXCConnection, name: str) -> Path:
        return conn.meta_dir / "pools" / f"{name}.json"

    def _pool_load(self, conn: LXCConnection, name: str) -> dict[str, Any]:
        check_name(name, "pool")
        try:
            data = read_json(self._pool_path(conn, name))
        except (ValueError, OSError) as exc:
            raise OperationFailedError(f"pool '{name}' definition is unreadable: {exc}") from exc
        if data is None:
            raise _no_pool(name)
        try:
            data["config"] = load_model(PoolConfig, data["config"])
        except (ValueError, KeyError, TypeError) as exc:
            raise OperationFailedError(f"pool '{name}' definition is corrupt: {exc}") from exc
        if not data.get("persistent", True) and not self._pool_active(data):
            # a transient pool whose directory went away is gone
            if not conn.readonly:
                self._pool_path(conn, name).unlink(missing_ok=True)
            raise _no_pool(name)
        return dict(data)

    def _pool_save(self, conn: LXCConnection, data: dict[str, Any]) -> None:
        out = dict(data)
        out["config"] = dump_model(data["config"])
        write_json(self._pool_path(conn, data["config"].name), out)

    def _pool_all(self, conn: LXCConnection) -> list[dict[str, Any]]:
        d = conn.meta_dir / "pools"
        out = []
        if d.is_dir():
            for path in sorted(d.glob("*.json")):
                with contextlib.suppress(*VirtplugErrors):
                    out.append(self._pool_load(conn, path.stem))
        return out

    def _pool_active(self, data: dict[str, Any]) -> bool:
        return bool(data.get("active")) and Path(str(data["config"].target)).is_dir()

    def _pool_check(self, conn: LXCConnection, config: PoolConfig) -> None:
        check_name(config.name, "pool", XMLError)
        if config.type != "dir":
            raise ConfigUnsupportedError(
                f"storage pool type '{config.type}' is not supported by the LXC driver (use dir)"
            )
        if not config.target or not config.target.startswith("/"):
            raise ConfigUnsupportedError("a dir pool needs an absolute <target><path>")
        for other in self._pool_all(conn):
            oc: PoolConfig = other["config"]
            if oc.name != config.name and oc.uuid == config.uuid:
                raise OperationFailedError(
                    f"pool '{oc.name}' already exists with uuid {config.uuid}"
                )
            if oc.name != config.name and oc.target == config.target:
                raise OperationFailedError(
                    f"target path '{config.target}' is already in use by pool '{oc.name}'"
                )

    def _pool_ref(self, data: dict[str, Any]) -> PoolRef:
        return PoolRef(name=data["config"].name, uuid=str(data["config"].uuid))

    @hookimpl
    def virtplug_pool_list(
        self, conn: LXCConnection, active: bool | None, persistent: bool | None
    ) -> list[PoolRef]:
        """Pools defined under <lxcpath>/.virtplug/pools, filtered."""
        out = []
        for data in self._pool_all(conn):
            if persistent is not None and bool(data.get("persistent", True)) != persistent:
                continue
            if active is not None and self._pool_active(data) != active:
                continue
            out.append(self._pool_ref(data))
        return out

    @hookimpl
    def virtplug_pool_lookup_by_name(self, conn: LXCConnection, name: str) -> PoolRef:
        """The pool called *name*."""
        return self._pool_ref(self._pool_load(conn, name))

    @hookimpl
    def virtplug_pool_lookup_by_uuid(self, conn: LXCConnection, uuid: str) -> PoolRef:
        """The pool with *uuid*."""
        for data in self._pool_all(conn):
            if data["config"].uuid == uuid:
                return self._pool_ref(data)
        raise NoStoragePoolError(
            f"Storage pool not found: no storage pool with matching uuid '{uuid}'"
        )

    @hookimpl
    def virtplug_pool_define(self, conn: LXCConnection, config: PoolConfig) -> PoolRef:
        """Store a dir pool definition."""
        with conn.lock(f"pool:{config.name}"):
            self._pool_check(conn, config)
            try:
                data = self._pool_load(conn, config.name)
            except NoStoragePoolError:
                data = {"active": False, "autostart": False}
            else:
                if data["config"].uuid != config.uuid:
                    raise OperationFailedError(
                        f"pool '{config.name}' already exists with uuid {data['config'].uuid}"
                    )
            data["config"] = config
            data["persistent"] = True
            self._pool_save(conn, data)
            return self._pool_ref(data)

    @hookimpl
    def virtplug_pool_create(self, conn: LXCConnection, config: PoolConfig) -> PoolRef:
        """Define a transient dir pool and activate it (its directory must exist)."""
        with conn.lock(f"pool:{config.name}"):
            self._pool_check(conn, config)
            if self._pool_path(conn, config.name).exists():
                raise OperationFailedError(f"pool '{config.name}' already exists")
            if not Path(str(config.target)).is_dir():
                raise OperationFailedError(
                    f"cannot open directory '{config.target}': No such file or directory"
                )
            data: dict[str, Any] = {
                "config": config,
                "active": True,
                "autostart": False,
                "persistent": False,
            }
            self._pool_save(conn, data)
            return self._pool_ref(data)

    @hookimpl
    def virtplug_pool_build(self, conn: LXCConnection, name: str) -> None:
        """``mkdir -p`` the target directory."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if self._pool_active(data):
                raise OperationInvalidError("storage pool is already active")
            try:
                Path(str(data["config"].target)).mkdir(parents=True, exist_ok=True, mode=0o755)
            except OSError as exc:
                raise OperationFailedError(
                    f"cannot create directory '{data['config'].target}': {exc.strerror}"
                ) from exc

    @hookimpl
    def virtplug_pool_start(self, conn: LXCConnection, name: str) -> None:
        """Activate the pool (its directory must exist)."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if self._pool_active(data):
                raise OperationInvalidError("storage pool is already active")
            if not Path(str(data["config"].target)).is_dir():
                raise OperationFailedError(
                    f"cannot open directory '{data['config'].target}': No such file or directory"
                )
            data["active"] = True
            self._pool_save(conn, data)

    @hookimpl
    def virtplug_pool_stop(self, conn: LXCConnection, name: str) -> None:
        """Deactivate the pool; a transient pool's definition goes away."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if not self._pool_active(data):
                raise OperationInvalidError("storage pool is not active")
            if not data.get("persistent", True):
                self._pool_path(conn, name).unlink(missing_ok=True)
                return
            data["active"] = False
            self._pool_save(conn, data)

    @hookimpl
    def virtplug_pool_delete(self, conn: LXCConnection, name: str) -> None:
        """``rmdir`` the (empty) target directory."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if self._pool_active(data):
                raise OperationInvalidError("storage pool is still active")
            target = Path(str(data["config"].target))
            try:
                target.rmdir()
            except FileNotFoundError:
                return
            except OSError as exc:
                raise OperationFailedError(
                    f"cannot delete directory '{target}': {exc.strerror}"
                ) from exc

    @hookimpl
    def virtplug_pool_undefine(self, conn: LXCConnection, name: str) -> None:
        """Remove an inactive pool's definition (its directory stays)."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if self._pool_active(data):
                raise OperationInvalidError("storage pool is still active")
            if not data.get("persistent", True):
                raise OperationInvalidError("cannot undefine transient storage pool")
            self._pool_path(conn, name).unlink(missing_ok=True)

    @hookimpl
    def virtplug_pool_refresh(self, conn: LXCConnection, name: str) -> None:
        """Nothing to cache: volumes are read from the directory each time."""
        data = self._pool_load(conn, name)
        if not self._pool_active(data):
            raise OperationInvalidError("storage pool is not active")

    def _pool_sizes(self, data: dict[str, Any]) -> tuple[int, int, int]:
        if not self._pool_active(data):
            return 0, 0, 0
        st = os.statvfs(str(data["config"].target))
        capacity = st.f_blocks * st.f_frsize
        available = st.f_bavail * st.f_frsize
        return capacity, capacity - st.f_bfree * st.f_frsize, available

    @hookimpl
    def virtplug_pool_info(self, conn: LXCConnection, name: str) -> PoolInfo:
        """State and the target filesystem's sizes (statvfs)."""
        data = self._pool_load(conn, name)
        capacity, allocation, available = self._pool_sizes(data)
        return PoolInfo(
            state=PoolState.RUNNING if self._pool_active(data) else PoolState.INACTIVE,
            capacity=capacity,
            allocation=allocation,
            available=available,
            persistent=bool(data.get("persistent", True)),
            autostart=bool(data.get("autostart", False)),
        )

    @hookimpl
    def virtplug_pool_xml(self, conn: LXCConnection, name: str, inactive: bool) -> PoolConfig:
        """The stored definition with runtime sizes."""
        data = self._pool_load(conn, name)
        capacity, allocation, available = self._pool_sizes(data)
        config: PoolConfig = data["config"]
        return evolve(config, capacity=capacity, allocation=allocation, available=available)

    @hookimpl
    def virtplug_pool_get_autostart(self, conn: LXCConnection, name: str) -> bool:
        """The stored autostart flag."""
        return bool(self._pool_load(conn, name).get("autostart", False))

    @hookimpl
    def virtplug_pool_set_autostart(self, conn: LXCConnection, name: str, autostart: bool) -> None:
        """Store the autostart flag: the next read-write connection to the lxcpath starts it."""
        with conn.lock(f"pool:{name}"):
            data = self._pool_load(conn, name)
            if not data.get("persistent", True):
                raise OperationInvalidError("cannot set autostart for transient storage pool")
            data["autostart"] = bool(autostart)
            self._pool_save(conn, data)

    # ------------------------------------------------------------------
    # Storage volumes (sparse files / directories)
    # ------------------------------------------------------------------

    def _active_pool_dir(self, conn: LXCConnection, pool: str) -> Path:
        data = self._pool_load(conn, pool)
        if not self._pool_active(data):
            raise OperationInvalidError("storage pool is not active")
        return Path(str(data["config"].target))

    def _check_volume_name(self, name: str) -> None:
        check_name(name, "volume")

    def _volume_path(self, conn: LXCConnection, pool: str, name: str) -> str:
        self._check_volume_name(name)
        path = self._active_pool_dir(conn, pool) / name
        if not path.exists():
            raise _no_volume(pool, name)
        return str(path)

    def _vol_ref(self, pool: str, path: Path) -> VolumeRef:
        return VolumeRef(pool=pool, name=path.name, key=str(path), path=str(path))

    @hookimpl
    def virtplug_volume_list(self, conn: LXCConnection, pool: str) -> list[VolumeRef]:
        """Files and directories in the pool directory."""
        target = self._active_pool_dir(conn, pool)
        return [
            self._vol_ref(pool, p) for p in sorted(target.iterdir()) if not p.name.startswith(".")
        ]

    @hookimpl
    def virtplug_volume_lookup_by_name(
        self, conn: LXCConnection, pool: str, name: str
    ) -> VolumeRef:
        """The volume *name* in *pool*."""
        return self._vol_ref(pool, Path(self._volume_path(conn, pool, name)))

    def _volume_by_path(self, conn: LXCConnection, path: str) -> VolumeRef:
        p = Path(path)
        for data in self._pool_all(conn):
            if (
                self._pool_active(data)
                and Path(str(data["config"].target)) == p.parent
                and p.exists()
                and not p.name.startswith(".")
            ):
                return self._vol_ref(data["config"].name, p)
        raise NoStorageVolError(
            f"Storage volume not found: no storage vol with matching path '{path}'"
        )

    @hookimpl
    def virtplug_volume_lookup_by_key(self, conn: LXCConnection, key: str) -> VolumeRef:
        """Keys are host paths."""
        try:
            return self._volume_by_path(conn, key)
        except NoStorageVolError:
            raise NoStorageVolError(
                f"Storage volume not found: no storage vol with matching key '{key}'"
            ) from None

    @hookimpl
    def virtplug_volume_lookup_by_path(self, conn: LXCConnection, path: str) -> VolumeRef:
        """The volume at *path* in an active pool."""
        return self._volume_by_path(conn, path)

    @hookimpl
    def virtplug_volume_create(
        self, conn: LXCConnection, pool: str, config: VolumeConfig
    ) -> VolumeRef:
        """A sparse raw file (``truncate``) or a directory (format/type ``dir``)."""
        self._check_volume_name(config.name)
        if config.name.startswith("."):
            raise InvalidArgError(f"invalid volume name '{config.name}': hidden names are reserved")
        if config.capacity < 0 or (config.allocation is not None and config.allocation < 0):
            raise InvalidArgError("volume capacity and allocation must not be negative")
        with conn.lock(f"pool:{pool}"):
            target = self._active_pool_dir(conn, pool)
            path = target / config.name
            if path.exists():
                raise StorageVolExistsError(f"storage volume '{config.name}' exists already")
            is_dir = config.type == "dir" or config.format == "dir"
            if not is_dir and config.format not in (None, "raw"):
                raise ConfigUnsupportedError(
                    f"volume format '{config.format}' is not supported by LXC dir pools "
                    f"(raw or dir)"
                )
            try:
                if is_dir:
                    path.mkdir(mode=0o755)
                else:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                    try:
                        os.ftruncate(fd, config.capacity)
                        if config.allocation:
                            os.posix_fallocate(fd, 0, min(config.allocation, config.capacity))
                    finally:
                        os.close(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    if path.is_dir():
                        path.rmdir()
                    else:
                        path.unlink()
                raise OperationFailedError(
                    f"cannot create volume '{config.name}': {exc.strerror}"
                ) from exc
            return self._vol_ref(pool, path)

    @hookimpl
    def virtplug_volume_clone(
        self, conn: LXCConnection, pool: str, name: str, new_name: str
    ) -> VolumeRef:
        """Copy a volume (sparse-aware for files, recursive for directories)."""
        self._check_volume_name(new_name)
        with conn.lock(f"pool:{pool}"):
            src = Path(self._volume_path(conn, pool, name))
            dst = src.parent / new_name
            if dst.exists():
                raise StorageVolExistsError(f"storage volume '{new_name}' exists already")
            try:
                if src.is_dir():
                    shutil.copytree(src, dst, symlinks=True)
                else:
                    proc = subprocess.run(
                        ["cp", "--sparse=always", "--", str(src), str(dst)],
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if proc.returncode != 0:
                        raise OSError(proc.returncode, proc.stderr.strip() or "cp failed")
            except OSError as exc:
                raise OperationFailedError(
                    f"cannot clone volume '{name}' to '{new_name}': {exc.strerror or exc}"
                ) from exc
            return self._vol_ref(pool, dst)

    def _volume_users(self, conn: LXCConnection, pool: str, name: str, path: str) -> list[str]:
        """Names of the domains whose definition uses the volume (the driver knows domains)."""
        raise NotImplementedError

    @hookimpl
    def virtplug_volume_delete(self, conn: LXCConnection, pool: str, name: str) -> None:
        """Remove the file or directory, unless a domain uses it."""
        with conn.lock(f"pool:{pool}"):
            path = self._volume_path(conn, pool, name)
            users = self._volume_users(conn, pool, name, path)
            if users:
                raise ResourceBusyError(f"storage volume '{name}' is in use by domain '{users[0]}'")
            try:
                if Path(path).is_dir():
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            except OSError as exc:
                raise OperationFailedError(
                    f"cannot delete volume '{name}': {exc.strerror}"
                ) from exc

    def _vol_facts(self, path: str) -> tuple[str, int, int]:
        st = os.stat(path)
        if Path(path).is_dir():
            return "dir", 0, st.st_blocks * 512
        return "file", st.st_size, st.st_blocks * 512

    @hookimpl
    def virtplug_volume_info(self, conn: LXCConnection, pool: str, name: str) -> VolumeInfo:
        """Type, size and allocated bytes (st_blocks)."""
        kind, capacity, allocation = self._vol_facts(self._volume_path(conn, pool, name))
        return VolumeInfo(type=kind, capacity=capacity, allocation=allocation)

    @hookimpl
    def virtplug_volume_xml(self, conn: LXCConnection, pool: str, name: str) -> VolumeConfig:
        """The volume as a config with key and path."""
        path = self._volume_path(conn, pool, name)
        kind, capacity, allocation = self._vol_facts(path)
        return VolumeConfig(
            name=name,
            capacity=capacity,
            allocation=allocation,
            format="dir" if kind == "dir" else "raw",
            type=kind,
            key=path,
            path=path,
        )

    @hookimpl
    def virtplug_volume_path(self, conn: LXCConnection, pool: str, name: str) -> str:
        """The volume's host path."""
        return self._volume_path(conn, pool, name)
