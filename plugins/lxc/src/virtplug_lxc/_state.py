"""Per-connection state of the LXC driver and the container helpers every hook uses."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import threading
import time
import uuid as _uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import attrs
import lxc

from virtplug.errors import (
    InvalidArgError,
    NoDomainError,
    OperationFailedError,
)
from virtplug.models import (
    DomainConfig,
    DomainState,
    FilesystemConfig,
    OSConfig,
)
from virtplug_lxc._store import dump_model, load_model, write_text

__all__ = ["META_FILE", "LXCConnection", "Meta", "check_name", "lxc_state", "raw_set"]

#: Per-container metadata file, next to LXC's ``config``.
META_FILE = "virtplug.json"
#: Per-container LXC log file the driver reads failure reasons from.
LOG_FILE = "lxc.log"
#: Longest accepted object name (LXC derives cgroup and socket names from it).
NAME_MAX = 64

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+@-]*$")


def check_name(name: object, what: str = "domain", exc: type[Exception] = InvalidArgError) -> str:
    """Validate an object name before it is used as a path component.

    :raises InvalidArgError: (or *exc*) empty, too long, path separators, ``..``,
        control characters, or characters LXC cannot carry in its config.
    """
    if not isinstance(name, str) or not name:
        raise exc(f"invalid {what} name {name!r}: must be a non-empty string")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise exc(f"invalid {what} name {name!r}: control characters are not allowed")
    if "/" in name or name in (".", "..") or ".." in name:
        raise exc(f"invalid {what} name {name!r}: path separators and '..' are not allowed")
    if len(name) > NAME_MAX:
        raise exc(f"invalid {what} name {name!r}: longer than {NAME_MAX} characters")
    if not _NAME_RE.match(name):
        raise exc(
            f"invalid {what} name {name!r}: use letters, digits and _ . + @ - "
            f"(starting with a letter or digit)"
        )
    return name


_STATE_MAP = {
    "RUNNING": DomainState.RUNNING,
    "THAWED": DomainState.RUNNING,
    "STARTING": DomainState.RUNNING,
    "FROZEN": DomainState.PAUSED,
    "FREEZING": DomainState.PAUSED,
    "STOPPING": DomainState.SHUTDOWN,
    "ABORTING": DomainState.SHUTDOWN,
    "STOPPED": DomainState.SHUTOFF,
}


def lxc_state(container: lxc.Container) -> DomainState:
    """The virtplug state of *container* (from liblxc's state string)."""
    return _STATE_MAP.get(str(container.state), DomainState.NOSTATE)


@attrs.define
class Meta:
    """What virtplug keeps about one container, in two files.

    ``<lxcpath>/NAME/virtplug.json`` holds the definition (UUID, persistent and
    autostart flags, configuration); a runtime file on tmpfs (see
    :func:`runtime_root`) holds what only matters while the host is up: the state
    virtplug last set, the running configuration, live NICs, the last writer. A
    host reboot stops every container and clears the runtime files together.

    :ivar uuid: the domain's UUID.
    :ivar persistent: defined (True) or transient (False: destroyed when it stops).
    :ivar autostart: mirrors ``lxc.start.auto``.
    :ivar config: the persistent definition (what the next start uses).
    :ivar live: the configuration of the running instance (``None`` when off).
    :ivar state: the last state virtplug put the domain in, with its reason.
    :ivar guest_nics: (interface, name inside the container, host veth or '') of
        every NIC of the running instance, for live detach.
    :ivar foreign: True when the container was not created by virtplug (no file).
    :ivar actor: token of the connection that last wrote the file ('' for the
        event watcher), so a watcher skips the changes its own connection made.
    """

    uuid: str
    persistent: bool
    config: DomainConfig
    autostart: bool = False
    live: DomainConfig | None = None
    state: tuple[int, int] = (int(DomainState.SHUTOFF), 0)
    guest_nics: list[tuple[dict[str, Any], str, str]] = attrs.field(factory=list)
    foreign: bool = False
    actor: str = ""

    def copy(self) -> Meta:
        """A copy safe to change (the models inside are frozen)."""
        return attrs.evolve(self, guest_nics=list(self.guest_nics))

    def to_json(self) -> dict[str, Any]:
        """Both files' content as one JSON-ready dict (format 1)."""
        data: dict[str, Any] = json.loads(self.persistent_text())
        data.update(json.loads(self.runtime_text()))
        return data

    def persistent_text(self) -> str:
        """``virtplug.json``: the definition and flags (configurations serialised once)."""
        head = json.dumps(
            {
                "format": 1,
                "uuid": self.uuid,
                "persistent": self.persistent,
                "autostart": self.autostart,
            },
            separators=(",", ":"),
        )
        return f'{head[:-1]},"config":{_config_text(self.config)}}}\n'

    def runtime_text(self) -> str:
        """The runtime file: state, running configuration, live NICs, last writer."""
        head = json.dumps(
            {
                "format": 1,
                "uuid": self.uuid,
                "state": list(self.state),
                "guest_nics": [list(n) for n in self.guest_nics],
                "actor": self.actor,
            },
            separators=(",", ":"),
        )
        live = _config_text(self.live) if self.live is not None else "null"
        return f'{head[:-1]},"live":{live}}}\n'

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Meta:
        """Read the persistent part (and the runtime part, when present) back.

        :raises ValueError: malformed data.
        """
        meta = cls(
            uuid=str(data["uuid"]),
            persistent=bool(data.get("persistent", True)),
            autostart=bool(data.get("autostart", False)),
            config=load_model(DomainConfig, data["config"]),
        )
        if "state" in data:
            meta.apply_runtime(data)
        return meta

    def apply_runtime(self, data: dict[str, Any]) -> None:
        """Take state, running config, NICs and actor from a runtime file's data.

        :raises ValueError: malformed data.
        """
        live = data.get("live")
        state = data.get("state", [5, 0])
        self.live = load_model(DomainConfig, live) if live else None
        self.state = (int(state[0]), int(state[1]))
        self.guest_nics = [(dict(n[0]), str(n[1]), str(n[2])) for n in data.get("guest_nics", [])]
        self.actor = str(data.get("actor", ""))


@functools.lru_cache(maxsize=512)
def _config_text(config: DomainConfig) -> str:
    return json.dumps(dump_model(config), separators=(",", ":"), sort_keys=True)


class LXCConnection:
    """What ``virtplug_connection_open`` returns: the lxcpath and shared locks.

    :ivar lxcpath: the LXC configuration path containers live in.
    :ivar readonly: the connection is read-only.
    """

    def __init__(self, lxcpath: Path, readonly: bool) -> None:
        self.lxcpath = lxcpath
        self.readonly = readonly
        self.meta_dir = lxcpath / ".virtplug"
        self._guard = threading.Lock()
        self._locks: defaultdict[str, threading.RLock] = defaultdict(threading.RLock)
        self._removed: dict[str, float] = {}
        self._meta_cache: dict[str, tuple[bytes, Meta]] = {}
        self._runtime_cache: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self._written: dict[str, bytes] = {}
        digest = hashlib.sha1(str(lxcpath).encode()).hexdigest()[:16]
        self.rundir = runtime_root() / digest
        self.closed = False
        self.token = _uuid.uuid4().hex
        #: Copy new template-based containers from a cached template run.
        self.template_cache = True

    def mark_removed(self, name: str) -> None:
        """Remember that this connection removed container *name* (for the event watcher)."""
        with self._guard:
            now = time.monotonic()
            self._removed = {n: t for n, t in self._removed.items() if now - t < 60}
            self._removed[name] = now

    def recently_removed(self, name: str) -> bool:
        """True when this connection removed container *name* in the last minute."""
        with self._guard:
            stamp = self._removed.get(name)
        return stamp is not None and time.monotonic() - stamp < 60

    # -- locking ---------------------------------------------------------------

    def lock(self, key: str) -> threading.RLock:
        """The re-entrant lock serialising changes to object *key* (``dom:x``, ``net:y``)."""
        with self._guard:
            return self._locks[key]

    # -- containers ---------------------------------------------------------------

    def container(self, name: str) -> lxc.Container:
        """A fresh binding object for container *name* in this lxcpath."""
        return lxc.Container(name, str(self.lxcpath))

    def container_dir(self, name: str) -> Path:
        """``<lxcpath>/<name>``."""
        return self.lxcpath / name

    def names(self) -> list[str]:
        """Names of every container defined in the lxcpath, sorted."""
        try:
            names = lxc.list_containers(active=True, defined=True, config_path=str(self.lxcpath))
        except Exception as exc:  # the binding raises bare errors on unreadable paths
            raise OperationFailedError(f"cannot list containers in {self.lxcpath}: {exc}") from exc
        return sorted(str(n) for n in names)

    def meta_path(self, name: str) -> Path:
        """Path of the container's ``virtplug.json``."""
        return self.container_dir(name) / META_FILE

    def runtime_path(self, name: str) -> Path:
        """Path of the container's runtime file."""
        return self.rundir / f"{name}.json"

    def _read_raw(self, path: Path, name: str) -> bytes | None:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raw = None
        except OSError as exc:
            raise OperationFailedError(
                f"metadata of domain '{name}' ({path}) is unreadable: {exc.strerror}"
            ) from exc
        if raw is not None:
            self._written[str(path)] = raw
        else:
            self._written.pop(str(path), None)
        return raw

    def read_meta(
        self, name: str, container: lxc.Container | None = None, runtime: bool = True
    ) -> Meta | None:
        """The container's metadata; synthesised for a container virtplug did not create.

        ``None`` when no container of that name exists. With ``runtime=False`` the
        runtime file is not read (identity and flags only, for listings).
        """
        path = self.meta_path(name)
        raw = self._read_raw(path, name)
        meta: Meta | None = None
        if raw is not None:
            cached = self._meta_cache.get(str(path))
            if cached is not None and cached[0] == raw:
                meta = cached[1].copy()
            else:
                try:
                    meta = Meta.from_json(json.loads(raw))
                except (ValueError, KeyError, TypeError, IndexError) as exc:
                    raise OperationFailedError(
                        f"metadata of domain '{name}' ({path}) is corrupt: {exc}"
                    ) from exc
                self._meta_cache[str(path)] = (raw, meta.copy())
        else:
            c = container if container is not None else self.container(name)
            if not c.defined:
                return None
            meta = self._foreign_meta(name, c)
        if not runtime:
            return meta
        rpath = self.runtime_path(name)
        rraw = self._read_raw(rpath, name)
        if rraw is not None:
            rcached = self._runtime_cache.get(str(rpath))
            try:
                if rcached is not None and rcached[0] == rraw:
                    data = rcached[1]
                else:
                    data = json.loads(rraw)
                    self._runtime_cache[str(rpath)] = (rraw, data)
                if data.get("uuid") == meta.uuid:  # else: left over from a namesake
                    meta.apply_runtime(data)
            except (ValueError, KeyError, TypeError, IndexError, AttributeError):
                pass  # a damaged runtime file only loses state reasons
        return meta

    def _foreign_meta(self, name: str, c: lxc.Container) -> Meta:
        uid = str(_uuid.uuid5(_uuid.NAMESPACE_URL, f"lxc://{self.lxcpath}/{name}"))
        filesystems: tuple[FilesystemConfig, ...] = ()
        rootfs = _item(c, "lxc.rootfs.path")
        if rootfs:
            src = rootfs.split(":", 1)[1] if ":" in rootfs else rootfs
            filesystems = (FilesystemConfig("mount", src, "/"),)
        init = _item(c, "lxc.init.cmd")
        os_config = (
            OSConfig(init=init.split()[0], initargs=tuple(init.split()[1:])) if init else OSConfig()
        )
        config = DomainConfig(
            name=name, uuid=uid, type="lxc", os=os_config, filesystems=filesystems
        )
        return Meta(
            uuid=uid,
            persistent=True,
            config=config,
            autostart=_item(c, "lxc.start.auto") == "1",
            foreign=True,
        )

    def write_meta(self, name: str, meta: Meta, actor: str | None = None) -> None:
        """Save the container's metadata, naming this connection (or *actor*) as its writer.

        Each of the two files is written only when its content changes (a start or a
        stop touches the runtime file alone).
        """
        meta.actor = self.token if actor is None else actor
        for path, text in (
            (self.meta_path(name), meta.persistent_text()),
            (self.runtime_path(name), meta.runtime_text()),
        ):
            data = text.encode()
            if self._written.get(str(path)) == data and path.exists():
                continue
            write_text(path, text)
            self._written[str(path)] = data

    def destroy(self, name: str, c: lxc.Container) -> None:
        """Destroy container *name* (see :func:`destroy_container`) and forget its runtime file."""
        self.mark_removed(name)
        destroy_container(c, self.container_dir(name))
        self.runtime_path(name).unlink(missing_ok=True)
        self._written.pop(str(self.runtime_path(name)), None)
        with contextlib.suppress(OSError):
            self.rundir.rmdir()  # the last container of this lxcpath is gone

    def require(self, name: str) -> tuple[lxc.Container, Meta]:
        """The container and metadata of domain *name*.

        A transient domain whose container has stopped is gone: it is destroyed
        here (when the connection may write) and reported as missing.

        :raises InvalidArgError: bad name.
        :raises NoDomainError: no such domain.
        """
        check_name(name)
        c = self.container(name)
        meta = self.read_meta(name, c) if c.defined else None
        if meta is None:
            raise NoDomainError(f"Domain not found: no domain with matching name '{name}'")
        if not meta.persistent and lxc_state(c) == DomainState.SHUTOFF:
            self.reap(name)
            raise NoDomainError(f"Domain not found: no domain with matching name '{name}'")
        return c, meta

    def reap(self, name: str) -> None:
        """Destroy the container of a stopped transient domain (no-op when read-only)."""
        if self.readonly:
            return
        with self.lock(f"dom:{name}"):
            c = self.container(name)
            if not c.defined or lxc_state(c) != DomainState.SHUTOFF:
                return
            meta = self.read_meta(name, c)
            if meta is None or meta.persistent:
                return
            self.destroy(name, c)


def runtime_root() -> Path:
    """The directory of runtime files (a tmpfs, so they vanish with a host reboot).

    ``/run/virtplug-lxc`` when /run is a tmpfs (it is on systemd hosts), else
    ``/dev/shm/virtplug-lxc`` (a tmpfs everywhere).
    """
    return _runtime_root()


@functools.cache
def _runtime_root() -> Path:
    try:
        with open("/proc/self/mounts", encoding="utf-8") as fh:
            mounts = {line.split()[1]: line.split()[2] for line in fh if len(line.split()) > 2}
    except OSError:
        mounts = {}
    if mounts.get("/run") == "tmpfs":
        return Path("/run/virtplug-lxc")
    return Path("/dev/shm/virtplug-lxc")


def raw_set(c: lxc.Container, key: str, value: str) -> bool:
    """Set (or, for multi-valued keys, append) one LXC config item.

    Calls liblxc directly: the binding's Python wrapper clears the key first and
    verifies by reading back, which drops earlier values of multi-valued keys
    (``lxc.environment``, ``lxc.mount.entry``) and rejects values liblxc
    normalises (``lxc.mount.auto``, ``lxc.cap.drop``).
    """
    return bool(lxc._lxc.Container.set_config_item(c, key, value))


def _item(c: lxc.Container, key: str) -> str:
    try:
        value = c.get_config_item(key)
    except (KeyError, ValueError):
        return ""
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value or "")


def destroy_container(c: lxc.Container, cdir: Path) -> None:
    """Destroy a stopped container and its snapshots.

    :raises OperationFailedError: liblxc refused (the reason comes from its log).
    """
    for snap in c.snapshot_list() or ():
        if not c.snapshot_destroy(snap[0]):
            raise OperationFailedError(
                f"cannot destroy snapshot '{snap[0]}' of container '{c.name}': {log_reason(cdir)}"
            )
    if not c.destroy():
        raise OperationFailedError(
            f"liblxc could not destroy container '{c.name}': {log_reason(cdir)}"
        )
    if (cdir / "config").exists():
        # liblxc leaves the whole directory of a container whose rootfs it does not
        # manage (lxc.rootfs.managed = 0, our <filesystem type='mount'> roots). Remove
        # what LXC and virtplug put there, never the rootfs, then the directory if empty.
        for entry in ("config", LOG_FILE, META_FILE):
            (cdir / entry).unlink(missing_ok=True)
        snaps = cdir / "snaps"
        if snaps.is_dir() and not any(snaps.iterdir()):
            snaps.rmdir()
        with contextlib.suppress(OSError):
            cdir.rmdir()


def log_offset(cdir: Path) -> int:
    """Current size of the container's LXC log (read failures from here on)."""
    try:
        return (cdir / LOG_FILE).stat().st_size
    except OSError:
        return 0


def log_reason(cdir: Path, offset: int = 0, limit: int = 3) -> str:
    """The last ERROR lines liblxc logged for the container since *offset*."""
    try:
        with open(cdir / LOG_FILE, "rb") as fh:
            fh.seek(offset)
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "liblxc gave no reason (no log file)"
    errors = [ln for ln in lines if " ERROR " in ln]
    if not errors:
        return "liblxc gave no reason (nothing in its log)"
    out = []
    for ln in errors[-limit:]:
        # "lxc NAME 2026... ERROR   module - file:func:line - message"
        msg = ln.split(" - ", 2)[-1].strip()
        out.append(msg)
    return "; ".join(out)
