"""The LXC driver: virtplug hooks mapped onto liblxc (official ``lxc`` binding).

URIs: ``lxc:///`` (lxcpath ``/var/lib/lxc``) and ``lxc:///ABS/LXCPATH``. Each
container's LXC ``config`` carries everything liblxc needs; a ``virtplug.json``
next to it keeps the domain's full definition, UUID and flags. Networks are
Linux bridges (pyroute2) and storage pools are directories, both defined in
JSON files under ``<lxcpath>/.virtplug/``.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import platform
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import lxc

from virtplug import hookimpl
from virtplug.errors import (
    ArgumentUnsupportedError,
    ConfigUnsupportedError,
    InvalidArgError,
    NoConnectError,
    NoDomainError,
    NoDomainSnapshotError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    XMLError,
)
from virtplug.models import (
    AuthCallback,
    ConsoleConfig,
    DeviceConfig,
    DomainConfig,
    DomainEventDetail,
    DomainEventType,
    DomainInfo,
    DomainRef,
    DomainState,
    DomainStats,
    Event,
    EventKind,
    ExecResult,
    FilesystemConfig,
    HostCapabilities,
    InterfaceConfig,
    NodeInfo,
    PausedReason,
    RunningReason,
    ShutdownReason,
    ShutoffReason,
    SnapshotConfig,
    SnapshotInfo,
)
from virtplug.records import evolve, record
from virtplug.uri import URI
from virtplug_lxc import _net
from virtplug_lxc._config import (
    apply_config,
    base_items,
    check_config,
    init_argv,
    template_path,
    write_network,
)
from virtplug_lxc._host import cgroup_features, cgroup_layout, meminfo, node_facts
from virtplug_lxc._live import bind_mount_live, run, unmount_live
from virtplug_lxc._networks import NetworkHooks
from virtplug_lxc._state import (
    LXCConnection,
    Meta,
    check_name,
    log_offset,
    log_reason,
    lxc_state,
    raw_set,
)
from virtplug_lxc._storage import StorageHooks
from virtplug_lxc._store import dump_model, load_model, read_json, write_json

__all__ = ["DEFAULT_LXCPATH", "LXCDriver"]

log = logging.getLogger("virtplug.lxc")

#: lxcpath of ``lxc:///``.
DEFAULT_LXCPATH = "/var/lib/lxc"
#: Seconds ``domain.shutdown`` waits when the caller gives no timeout.
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
#: Seconds start / reboot wait for the container to reach RUNNING.
START_TIMEOUT = 10
#: Name prefix of the hidden containers caching a template's output.
TEMPLATE_BASE_PREFIX = ".vp-tpl-"
#: Poll interval of the event watcher, seconds.
WATCH_INTERVAL = 0.25

_ACTIVE = (DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTDOWN, DomainState.BLOCKED)
_DEFAULT_REASON = {
    DomainState.RUNNING: int(RunningReason.UNKNOWN),
    DomainState.PAUSED: int(PausedReason.UNKNOWN),
    DomainState.SHUTOFF: int(ShutoffReason.UNKNOWN),
    DomainState.SHUTDOWN: int(ShutdownReason.UNKNOWN),
}


def _not_running() -> OperationInvalidError:
    return OperationInvalidError("domain is not running")


class LXCDriver(NetworkHooks, StorageHooks):
    """virtplug driver for LXC system containers (``lxc:///`` and ``lxc:///ABS/LXCPATH``)."""

    # ------------------------------------------------------------------
    # Connection
    # ------------------------------------------------------------------

    @hookimpl
    def virtplug_connection_open(
        self, uri: URI, auth: AuthCallback | None, readonly: bool
    ) -> LXCConnection:
        """Open an lxcpath: ``lxc:///`` is /var/lib/lxc, ``lxc:///ABS/PATH`` another one."""
        if uri.host or uri.transport:
            raise NoConnectError(
                f"cannot open {uri.text}: the LXC driver is local only (no host or transport)"
            )
        for key, value in uri.params:
            if key != "template_cache":
                raise InvalidArgError(f"invalid LXC URI {uri.text!r}: unknown parameter {key!r}")
            if value.lower() not in ("1", "yes", "true", "on", "0", "no", "false", "off"):
                raise InvalidArgError(
                    f"invalid LXC URI {uri.text!r}: template_cache takes yes or no, not {value!r}"
                )
        path = Path(DEFAULT_LXCPATH if uri.path in ("", "/") else uri.path)
        if not path.is_absolute():
            raise InvalidArgError(f"invalid LXC URI {uri.text!r}: the lxcpath must be absolute")
        if os.geteuid() != 0:
            raise NoConnectError(
                f"cannot open {uri.text}: the LXC driver manages privileged containers "
                f"and needs root"
            )
        if not path.is_dir():
            if readonly:
                raise NoConnectError(f"cannot open {uri.text}: lxcpath {path} does not exist")
            try:
                path.mkdir(parents=True, mode=0o755, exist_ok=True)
            except OSError as exc:
                raise NoConnectError(
                    f"cannot open {uri.text}: cannot create lxcpath {path}: {exc.strerror}"
                ) from exc
        state = LXCConnection(path, readonly)
        state.template_cache = uri.param("template_cache") is None or uri.flag("template_cache")
        if not readonly:
            # libvirt starts autostart networks and pools when its daemon starts; a
            # library has no daemon, so the first read-write connection does it.
            failed = self._autostart_networks(state) + self._autostart_pools(state)
            for name in failed:
                log.warning("lxc: autostart of '%s' in %s failed", name, path)
        return state

    @hookimpl
    def virtplug_connection_close(self, conn: LXCConnection) -> None:
        """Mark the connection closed (watchers are stopped by the core)."""
        conn.closed = True

    @hookimpl
    def virtplug_connection_is_alive(self, conn: LXCConnection) -> bool:
        """True while the lxcpath exists and liblxc answers."""
        return conn.lxcpath.is_dir() and bool(lxc.version)

    @hookimpl
    def virtplug_connection_type(self, conn: LXCConnection) -> str:
        """``LXC``."""
        return "LXC"

    @hookimpl
    def virtplug_connection_version(self, conn: LXCConnection) -> str:
        """Liblxc's version."""
        return str(lxc.version)

    @hookimpl
    def virtplug_connection_hostname(self, conn: LXCConnection) -> str:
        """The host's name."""
        return socket.gethostname()

    @hookimpl
    def virtplug_connection_capabilities(self, conn: LXCConnection) -> HostCapabilities:
        """Host architecture, domain type ``lxc``, os type ``exe``, cgroup facts."""
        return HostCapabilities(
            arch=platform.machine(),
            domain_types=("lxc",),
            os_types=("exe",),
            features=(*cgroup_features(), f"liblxc-{lxc.version}"),
        )

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: LXCConnection, emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Poll container states in a thread and emit what changed (also outside virtplug)."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self._watch, args=(conn, emit, stop), name="virtplug-lxc-events", daemon=True
        )
        thread.start()

        def stopper() -> None:
            stop.set()
            thread.join(timeout=5)

        return stopper

    def _observe(self, conn: LXCConnection) -> dict[str, _Seen]:
        """What every container looks like now, skipping those an operation is changing."""
        out: dict[str, _Seen] = {}
        for name in conn.names():
            lock = conn.lock(f"dom:{name}")
            if not lock.acquire(blocking=False):
                out[name] = _BUSY
                continue
            try:
                c = conn.container(name)
                meta = conn.read_meta(name, c)
                if meta is None:
                    continue
                out[name] = _Seen(
                    uuid=meta.uuid,
                    state=lxc_state(c),
                    persistent=meta.persistent,
                    recorded=DomainState(meta.state[0]),
                    actor=meta.actor,
                )
            finally:
                lock.release()
        return out

    def _mark_stopped(self, conn: LXCConnection, name: str) -> None:
        """Record that a container virtplug left running has stopped outside virtplug."""
        if conn.readonly:
            return
        with conn.lock(f"dom:{name}"):
            c = conn.container(name)
            meta = conn.read_meta(name, c)
            if meta is None or meta.foreign or lxc_state(c) != DomainState.SHUTOFF:
                return
            meta.live = None
            meta.guest_nics = []
            meta.state = (int(DomainState.SHUTOFF), int(ShutoffReason.UNKNOWN))
            conn.write_meta(name, meta, actor="")
            if not meta.persistent:
                conn.reap(name)

    def _watch(
        self, conn: LXCConnection, emit: Callable[[Event], None], stop: threading.Event
    ) -> None:
        reported: set[str] = set()
        try:
            before = self._observe(conn)
        except Exception:
            before = {}
        while not stop.wait(WATCH_INTERVAL):
            try:
                now = self._observe(conn)
            except Exception:
                continue
            for name, seen in list(now.items()):
                if seen is _BUSY:  # an operation of this connection is changing it
                    if name in before:
                        now[name] = before[name]
                    else:
                        del now[name]
            for event, stopped in _diff_states(before, now, conn.token, conn.recently_removed):
                if stopped:
                    if event.name in reported:
                        continue  # read-only: the stop could not be recorded; say it once
                    reported.add(event.name)
                    with contextlib.suppress(Exception):
                        self._mark_stopped(conn, event.name)
                emit(event)
            reported -= {n for n, seen in now.items() if seen.state != DomainState.SHUTOFF}
            before = now

    # ------------------------------------------------------------------
    # Node
    # ------------------------------------------------------------------

    @hookimpl
    def virtplug_node_info(self, conn: LXCConnection) -> NodeInfo:
        """CPU model and topology from /proc/cpuinfo, memory from /proc/meminfo."""
        model, cpus, mhz, sockets, cores, threads, nodes = node_facts()
        return NodeInfo(
            model=model,
            memory_kib=meminfo().get("MemTotal", 0),
            cpus=cpus,
            mhz=mhz,
            nodes=nodes,
            sockets=sockets,
            cores=cores,
            threads=threads,
        )

    @hookimpl
    def virtplug_node_free_memory(self, conn: LXCConnection) -> int:
        """MemFree from /proc/meminfo, in bytes."""
        return meminfo().get("MemFree", 0) * 1024

    # ------------------------------------------------------------------
    # Domain: identity and listing
    # ------------------------------------------------------------------

    def _ref(
        self, name: str, meta: Meta, c: lxc.Container, state: DomainState | None = None
    ) -> DomainRef:
        if state is None:
            state = lxc_state(c)
        pid = c.init_pid if state in _ACTIVE else -1
        return DomainRef(name=name, uuid=meta.uuid, id=pid if pid and pid > 0 else None)

    def _all(
        self, conn: LXCConnection, runtime: bool = True
    ) -> list[tuple[str, lxc.Container, Meta, DomainState]]:
        out = []
        for name in conn.names():
            c = conn.container(name)
            meta = conn.read_meta(name, c, runtime=runtime)
            if meta is None:
                continue
            state = lxc_state(c)
            if not meta.persistent and state == DomainState.SHUTOFF:
                conn.reap(name)
                continue
            out.append((name, c, meta, state))
        return out

    @hookimpl
    def virtplug_domain_list(
        self, conn: LXCConnection, active: bool | None, persistent: bool | None
    ) -> list[DomainRef]:
        """Containers of the lxcpath, filtered by running state and persistence."""
        refs = []
        for name, c, meta, state in self._all(conn, runtime=False):
            if persistent is not None and meta.persistent != persistent:
                continue
            is_active = state in _ACTIVE
            if active is not None and is_active != active:
                continue
            refs.append(self._ref(name, meta, c, state))
        return refs

    @hookimpl
    def virtplug_domain_lookup_by_name(self, conn: LXCConnection, name: str) -> DomainRef:
        """The container called *name*."""
        c, meta = conn.require(name)
        return self._ref(name, meta, c)

    @hookimpl
    def virtplug_domain_lookup_by_uuid(self, conn: LXCConnection, uuid: str) -> DomainRef:
        """The container whose virtplug.json holds *uuid*."""
        for name, c, meta, state in self._all(conn, runtime=False):
            if meta.uuid == uuid:
                return self._ref(name, meta, c, state)
        raise NoDomainError(f"Domain not found: no domain with matching uuid '{uuid}'")

    @hookimpl
    def virtplug_domain_lookup_by_id(self, conn: LXCConnection, id: int) -> DomainRef:
        """The running container whose init PID is *id*."""
        for name, c, meta, state in self._all(conn, runtime=False):
            if state in _ACTIVE and c.init_pid == id:
                return self._ref(name, meta, c, state)
        raise NoDomainError(f"Domain not found: no domain with matching id {id}")

    # ------------------------------------------------------------------
    # Domain: define / create / undefine
    # ------------------------------------------------------------------

    def _resolve_network(self, conn: LXCConnection) -> Callable[[str], str]:
        def resolve(name: str) -> str:
            net = self._net_load(conn, name)
            return str(self._net_live(net).bridge)

        return resolve

    def _resolve_volume(self, conn: LXCConnection) -> Callable[[str, str], str]:
        def resolve(pool: str, volume: str) -> str:
            return self._volume_path(conn, pool, volume)

        return resolve

    def _check_devices(self, conn: LXCConnection, config: DomainConfig) -> None:
        for iface in config.interfaces:
            if iface.type == "network":
                self._net_load(conn, str(iface.source))
        for fs in config.filesystems:
            if fs.type == "volume":
                if not fs.pool:
                    raise ConfigUnsupportedError(
                        f"filesystem type='volume' for '{fs.target}' needs a source pool"
                    )
                self._volume_path(conn, fs.pool, fs.source)

    def _write_config(
        self,
        conn: LXCConnection,
        c: lxc.Container,
        config: DomainConfig,
        old: DomainConfig | None,
        autostart: bool,
    ) -> None:
        apply_config(
            c,
            config,
            old,
            cdir=conn.container_dir(config.name),
            autostart=autostart,
            resolve_volume=self._resolve_volume(conn),
            resolve_network=self._resolve_network(conn),
        )
        if not c.save_config():
            raise OperationFailedError(
                f"liblxc could not save the configuration of '{config.name}' ({c.config_file_name})"
            )

    def _find_uuid(self, conn: LXCConnection, uuid: str) -> str | None:
        for name in conn.names():
            meta = conn.read_meta(name)
            if meta is not None and meta.uuid == uuid:
                return name
        return None

    def _build(self, conn: LXCConnection, config: DomainConfig, persistent: bool) -> lxc.Container:
        """Create a new container for *config* (template or existing rootfs)."""
        name = config.name
        root = config.root
        assert root is not None  # check_config guarantees it
        other = self._find_uuid(conn, str(config.uuid))
        if other is not None:
            raise OperationFailedError(f"domain '{other}' already exists with uuid {config.uuid}")
        cdir = conn.container_dir(name)
        meta = Meta(uuid=str(config.uuid), persistent=persistent, config=config)
        c = conn.container(name)
        c.clear_config_item("lxc.net")
        raw_set(c, "lxc.net.0.type", "empty")
        try:
            if root.type == "template":
                cdir.mkdir(mode=0o770, exist_ok=True)
                # the metadata goes first, so no observer ever sees the container
                # without it (and mistakes it for one virtplug did not create)
                conn.write_meta(name, meta)
                raw_set(c, "lxc.log.file", str(cdir / "lxc.log"))
                if not (conn.template_cache and self._copy_template(conn, name, root.source)):
                    start = log_offset(cdir)
                    if not c.create(root.source, lxc.LXC_CREATE_QUIET, ()):
                        raise OperationFailedError(
                            f"liblxc could not create container '{name}' from template "
                            f"'{root.source}': {log_reason(cdir, start)}"
                        )
                c = conn.container(name)
            else:
                if not Path(root.source).exists():
                    raise ConfigUnsupportedError(
                        f"root filesystem source '{root.source}' does not exist"
                    )
                cdir.mkdir(mode=0o770)
                conn.write_meta(name, meta)
                for key, value in base_items():
                    raw_set(c, key, value)
            self._write_config(conn, c, config, None, autostart=False)
        except BaseException:
            self._undo_build(conn, name)
            raise
        return c

    def _template_base(self, conn: LXCConnection, template: str) -> Path | None:
        """The cached output of *template* in this lxcpath, built on first use.

        The cache is a hidden container (``.vp-tpl-<template>``: liblxc does not list
        names starting with a dot) created by the template through liblxc, and
        rebuilt when the template script changes. ``None`` when it cannot be built.
        """
        st = template_path(template).stat()
        stamp = [st.st_mtime_ns, st.st_size]
        base_name = f"{TEMPLATE_BASE_PREFIX}{template}"
        base_dir = conn.lxcpath / base_name
        marker = conn.meta_dir / "templates" / f"{template}.json"
        with conn.lock(f"tpl:{template}"):
            with contextlib.suppress(ValueError, OSError):
                if (
                    read_json(marker) == {"stamp": stamp}
                    and (base_dir / "config").is_file()
                    and (base_dir / "rootfs").is_dir()
                ):
                    return base_dir
            base = lxc.Container(base_name, str(conn.lxcpath))
            if base.defined and not base.destroy():
                return None
            shutil.rmtree(base_dir, ignore_errors=True)
            base = lxc.Container(base_name, str(conn.lxcpath))
            base.clear_config_item("lxc.net")
            raw_set(base, "lxc.net.0.type", "empty")
            if not base.create(template, lxc.LXC_CREATE_QUIET, ()):
                with contextlib.suppress(Exception):
                    base.destroy()
                shutil.rmtree(base_dir, ignore_errors=True)
                return None
            write_json(marker, {"stamp": stamp})
            return base_dir

    def _copy_template(self, conn: LXCConnection, name: str, template: str) -> bool:
        """Create container *name* as a copy of the cached template output (``cp -a``).

        liblxc's own ``clone()`` copies with rsync and costs about as much as running
        the busybox template again; a plain copy of the cached rootfs is ~20x faster.
        False (nothing left behind) when the cache is unusable: the caller then runs
        the template through ``container.create()``.
        """
        base_dir = self._template_base(conn, template)
        if base_dir is None:
            return False
        cdir = conn.container_dir(name)
        proc = subprocess.run(
            ["cp", "-a", "--", str(base_dir / "rootfs"), str(cdir / "rootfs")],
            capture_output=True,
            check=False,
        )
        if proc.returncode != 0:
            shutil.rmtree(cdir / "rootfs", ignore_errors=True)
            return False
        try:
            (cdir / "config").write_bytes((base_dir / "config").read_bytes())
        except OSError:
            shutil.rmtree(cdir / "rootfs", ignore_errors=True)
            return False
        c = conn.container(name)
        if not (
            raw_set(c, "lxc.rootfs.path", str(cdir / "rootfs"))
            and raw_set(c, "lxc.uts.name", name)
            and c.save_config()
        ):
            shutil.rmtree(cdir / "rootfs", ignore_errors=True)
            (cdir / "config").unlink(missing_ok=True)
            return False
        return True

    def _undo_build(self, conn: LXCConnection, name: str) -> None:
        c = conn.container(name)
        cdir = conn.container_dir(name)
        if c.defined:
            with contextlib.suppress(Exception):
                conn.destroy(name, c)
        if cdir.is_dir() and not (cdir / "config").exists():
            shutil.rmtree(cdir, ignore_errors=True)

    @hookimpl
    def virtplug_domain_define(self, conn: LXCConnection, config: DomainConfig) -> DomainRef:
        """Create the container (template or rootfs dir), or update its definition."""
        check_name(config.name, "domain", XMLError)
        check_config(config)
        self._check_devices(conn, config)
        name = config.name
        with conn.lock(f"dom:{name}"):
            c = conn.container(name)
            if not c.defined and conn.container_dir(name).exists():
                raise OperationFailedError(
                    f"cannot define domain '{name}': {conn.container_dir(name)} exists "
                    f"but holds no LXC container"
                )
            meta = conn.read_meta(name, c) if c.defined else None
            if meta is not None and not meta.persistent and lxc_state(c) == DomainState.SHUTOFF:
                conn.reap(name)  # a transient domain that stopped is gone
                c, meta = conn.container(name), None
            if meta is None:
                c = self._build(conn, config, persistent=True)
                meta = conn.read_meta(name, c)
                assert meta is not None
                return self._ref(name, meta, c)
            if meta.uuid != config.uuid:
                raise OperationFailedError(f"domain '{name}' already exists with uuid {meta.uuid}")
            old_root, new_root = meta.config.root, config.root
            if old_root != new_root and (
                old_root is None
                or new_root is None
                or old_root.type == "template"
                or new_root.type == "template"
            ):
                raise ConfigUnsupportedError(
                    f"cannot change the root filesystem of existing LXC container '{name}' "
                    f"(undefine it first)"
                )
            self._write_config(conn, c, config, meta.config, meta.autostart)
            if meta.live is None and lxc_state(c) in _ACTIVE:
                meta.live = meta.config  # started outside virtplug: it runs the old definition
            meta.config = config
            meta.persistent = True
            meta.foreign = False
            conn.write_meta(name, meta)
            return self._ref(name, meta, c)

    @hookimpl
    def virtplug_domain_create(self, conn: LXCConnection, config: DomainConfig) -> DomainRef:
        """Create and start a transient container (destroyed when it stops)."""
        check_name(config.name, "domain", XMLError)
        check_config(config)
        self._check_devices(conn, config)
        name = config.name
        with conn.lock(f"dom:{name}"):
            existing = conn.container(name)
            if existing.defined and lxc_state(existing) == DomainState.SHUTOFF:
                stale = conn.read_meta(name, existing)
                if stale is not None and not stale.persistent:
                    conn.reap(name)  # a transient domain that stopped is gone
                    existing = conn.container(name)
            if existing.defined:
                meta = conn.read_meta(name, existing)
                uuid = meta.uuid if meta else "?"
                raise OperationFailedError(f"domain '{name}' already exists with uuid {uuid}")
            c = self._build(conn, config, persistent=False)
            meta = conn.read_meta(name, c)
            assert meta is not None
            try:
                self._start(conn, name, c, meta)
            except BaseException:
                self._undo_build(conn, name)
                raise
            return self._ref(name, meta, conn.container(name))

    @hookimpl
    def virtplug_domain_undefine(self, conn: LXCConnection, name: str) -> None:
        """Destroy the stopped container (and its snapshots); a running one becomes transient."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            if not meta.persistent:
                raise OperationInvalidError("cannot undefine transient domain")
            if lxc_state(c) in _ACTIVE:
                meta.persistent = False
                meta.autostart = False
                raw_set(c, "lxc.start.auto", "0")
                c.save_config()
                conn.write_meta(name, meta)
                return
            conn.destroy(name, c)

    # ------------------------------------------------------------------
    # Domain: lifecycle
    # ------------------------------------------------------------------

    def _set_state(
        self, conn: LXCConnection, name: str, meta: Meta, state: DomainState, reason: int
    ) -> None:
        meta.state = (int(state), int(reason))
        conn.write_meta(name, meta)

    def _start(self, conn: LXCConnection, name: str, c: lxc.Container, meta: Meta) -> None:
        config = meta.config
        cdir = conn.container_dir(name)
        for iface in config.interfaces:
            if iface.type == "network":
                net = self._net_load(conn, str(iface.source))
                if not self._net_active(net):
                    raise OperationInvalidError(f"network '{iface.source}' is not active")
            elif iface.type == "bridge" and not _net.bridge_exists(str(iface.source)):
                raise OperationFailedError(f"bridge '{iface.source}' does not exist on the host")
        # A network's bridge may have been renamed since define: refresh lxc.net.*.
        if any(iface.type == "network" for iface in config.interfaces):
            write_network(c, config.interfaces, self._resolve_network(conn))
            if not c.save_config():
                raise OperationFailedError(f"liblxc could not save the configuration of '{name}'")
        offset = log_offset(cdir)
        argv = init_argv(config)
        if not (c.start(cmd=argv) if argv else c.start()):
            raise OperationFailedError(
                f"failed to start domain '{name}': {log_reason(cdir, offset)}"
            )
        if not c.wait("RUNNING", START_TIMEOUT) and not c.running:
            raise OperationFailedError(
                f"domain '{name}' stopped while starting: {log_reason(cdir, offset)}"
            )
        meta.live = config
        meta.guest_nics = [
            (dump_model(iface), f"eth{i}", iface.target or "")
            for i, iface in enumerate(config.interfaces)
        ]
        self._set_state(conn, name, meta, DomainState.RUNNING, RunningReason.BOOTED)

    def _after_stop(
        self, conn: LXCConnection, name: str, c: lxc.Container, meta: Meta, reason: int
    ) -> None:
        if not meta.persistent:
            conn.destroy(name, c)
            return
        meta.live = None
        meta.guest_nics = []
        self._set_state(conn, name, meta, DomainState.SHUTOFF, reason)

    @hookimpl
    def virtplug_domain_start(self, conn: LXCConnection, name: str) -> None:
        """``container.start()``, then wait for RUNNING; failures quote liblxc's log."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            if lxc_state(c) in _ACTIVE:
                raise OperationInvalidError("domain is already running")
            self._start(conn, name, c, meta)

    @hookimpl
    def virtplug_domain_shutdown(
        self, conn: LXCConnection, name: str, timeout: float | None
    ) -> None:
        """``container.shutdown(timeout)`` (the halt signal to init), then ``stop()`` if needed."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            state = lxc_state(c)
            if state not in _ACTIVE:
                raise _not_running()
            if state == DomainState.PAUSED:
                c.unfreeze()
            wait = DEFAULT_SHUTDOWN_TIMEOUT if timeout is None else timeout
            done = c.shutdown(max(0, math.ceil(wait))) if wait > 0 else False
            if not done or c.running:
                _hard_stop(conn, name, c)
            self._after_stop(conn, name, c, meta, ShutoffReason.SHUTDOWN)

    @hookimpl
    def virtplug_domain_destroy(self, conn: LXCConnection, name: str) -> None:
        """``container.stop()`` (SIGKILL to every process)."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            if lxc_state(c) not in _ACTIVE:
                raise _not_running()
            _hard_stop(conn, name, c)
            self._after_stop(conn, name, c, meta, ShutoffReason.DESTROYED)

    @hookimpl
    def virtplug_domain_reboot(self, conn: LXCConnection, name: str) -> None:
        """``container.reboot()`` (the reboot signal); stop + start when init ignores it."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            state = lxc_state(c)
            if state not in _ACTIVE:
                raise _not_running()
            if state == DomainState.PAUSED and not c.unfreeze():
                raise OperationFailedError(f"could not thaw domain '{name}' to reboot it")
            old_pid = c.init_pid
            rebooted = False
            if c.reboot():
                deadline = time.monotonic() + START_TIMEOUT
                while time.monotonic() < deadline:
                    pid = c.init_pid
                    if pid > 0 and pid != old_pid and c.state == "RUNNING":
                        rebooted = True
                        break
                    time.sleep(0.05)
            if not rebooted:
                # init ignored the reboot signal: restart it the hard way.
                c.stop()
                c.wait("STOPPED", START_TIMEOUT)
                self._start(conn, name, c, meta)
                return
            meta.live = meta.config
            self._set_state(conn, name, meta, DomainState.RUNNING, RunningReason.BOOTED)

    @hookimpl
    def virtplug_domain_suspend(self, conn: LXCConnection, name: str) -> None:
        """``container.freeze()`` (the freezer cgroup); suspending a paused domain is a no-op."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            state = lxc_state(c)
            if state not in _ACTIVE:
                raise _not_running()
            if state == DomainState.PAUSED:
                return
            offset = log_offset(conn.container_dir(name))
            if not _freezer(conn, name, "lxc-freeze"):
                raise OperationFailedError(
                    f"could not freeze domain '{name}': "
                    f"{log_reason(conn.container_dir(name), offset)}"
                )
            self._set_state(conn, name, meta, DomainState.PAUSED, PausedReason.USER)

    @hookimpl
    def virtplug_domain_resume(self, conn: LXCConnection, name: str) -> None:
        """``container.unfreeze()``."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            state = lxc_state(c)
            if state not in _ACTIVE:
                raise _not_running()
            if state != DomainState.PAUSED:
                raise OperationInvalidError("domain is not paused")
            offset = log_offset(conn.container_dir(name))
            if not _freezer(conn, name, "lxc-unfreeze"):
                raise OperationFailedError(
                    f"could not thaw domain '{name}': "
                    f"{log_reason(conn.container_dir(name), offset)}"
                )
            self._set_state(conn, name, meta, DomainState.RUNNING, RunningReason.UNPAUSED)

    @hookimpl
    def virtplug_domain_state(self, conn: LXCConnection, name: str) -> tuple[DomainState, int]:
        """Liblxc's state; the reason virtplug recorded when it caused that state."""
        c, meta = conn.require(name)
        state = lxc_state(c)
        stored_state, stored_reason = meta.state
        if stored_state == int(state):
            return state, stored_reason
        return state, _DEFAULT_REASON.get(state, 0)

    def _cgroup(self, c: lxc.Container, key: str) -> str | None:
        try:
            value = c.get_cgroup_item(key)
        except (KeyError, ValueError):
            return None
        return str(value) if value is not None else None

    def _cpu_ns(self, c: lxc.Container) -> int:
        layout = cgroup_layout()
        text = self._cgroup(c, layout.cpu_usage_key)
        return layout.parse_cpu_ns(text) if text else 0

    @hookimpl
    def virtplug_domain_info(self, conn: LXCConnection, name: str) -> DomainInfo:
        """State, memory limit, vCPUs, cgroup CPU time and persistence."""
        c, meta = conn.require(name)
        state, reason = self.virtplug_domain_state(conn, name)
        config = meta.live if (meta.live is not None and state in _ACTIVE) else meta.config
        return DomainInfo(
            state=state,
            max_memory_kib=config.memory_kib,
            memory_kib=config.effective_memory_kib,
            vcpus=config.vcpus,
            cpu_time_ns=self._cpu_ns(c) if state in _ACTIVE else 0,
            persistent=meta.persistent,
            state_reason=reason,
        )

    @hookimpl
    def virtplug_domain_xml(self, conn: LXCConnection, name: str, inactive: bool) -> DomainConfig:
        """The stored definition (inactive) or the running instance's configuration."""
        c, meta = conn.require(name)
        if not inactive and meta.live is not None and lxc_state(c) in _ACTIVE:
            return meta.live
        return meta.config

    @hookimpl
    def virtplug_domain_set_memory(self, conn: LXCConnection, name: str, kib: int) -> None:
        """Set the memory cgroup limit (live when running) and the definition."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            if kib <= 0:
                raise InvalidArgError(f"memory must be positive, not {kib}")
            if kib > meta.config.memory_kib:
                raise InvalidArgError(
                    f"cannot set memory higher than max memory ({meta.config.memory_kib} KiB)"
                )
            if lxc_state(c) in _ACTIVE:
                layout = cgroup_layout()
                if not c.set_cgroup_item(layout.memory_limit_key, str(kib * 1024)):
                    raise OperationFailedError(
                        f"could not set the memory limit of running domain '{name}' to "
                        f"{kib} KiB (the cgroup refused; is current use above it?)"
                    )
                if meta.live is not None:
                    meta.live = evolve(meta.live, current_memory_kib=kib)
            new = evolve(meta.config, current_memory_kib=kib)
            self._write_config(conn, c, new, meta.config, meta.autostart)
            meta.config = new
            conn.write_meta(name, meta)

    @hookimpl
    def virtplug_domain_set_vcpus(self, conn: LXCConnection, name: str, count: int) -> None:
        """Set the CPU quota to *count* CPUs (live when running) and the definition."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            host = os.cpu_count() or 1
            if count < 1:
                raise InvalidArgError(f"vcpu count must be at least 1, not {count}")
            if count > host:
                raise InvalidArgError(
                    f"requested vcpus is greater than max allowable vcpus for the host "
                    f"({count} > {host})"
                )
            if lxc_state(c) in _ACTIVE:
                layout = cgroup_layout()
                for key, value in layout.cpu_limit_items(count):
                    item = key.removeprefix(layout.config_prefix)
                    if not c.set_cgroup_item(item, value):
                        raise OperationFailedError(
                            f"could not set {item} of running domain '{name}' to {value}"
                        )
                if meta.live is not None:
                    meta.live = evolve(meta.live, vcpus=count)
            new = evolve(meta.config, vcpus=count)
            self._write_config(conn, c, new, meta.config, meta.autostart)
            meta.config = new
            conn.write_meta(name, meta)

    @hookimpl
    def virtplug_domain_get_autostart(self, conn: LXCConnection, name: str) -> bool:
        """``lxc.start.auto``."""
        _c, meta = conn.require(name)
        return meta.autostart

    @hookimpl
    def virtplug_domain_set_autostart(
        self, conn: LXCConnection, name: str, autostart: bool
    ) -> None:
        """Write ``lxc.start.auto`` (honoured by ``lxc-autostart`` at boot)."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            if not meta.persistent:
                raise OperationInvalidError("cannot set autostart for transient domain")
            if not raw_set(c, "lxc.start.auto", "1" if autostart else "0") or not (c.save_config()):
                raise OperationFailedError(f"liblxc could not save lxc.start.auto for '{name}'")
            meta.autostart = bool(autostart)
            conn.write_meta(name, meta)

    # ------------------------------------------------------------------
    # Domain: devices
    # ------------------------------------------------------------------

    def _free_guest_name(self, meta: Meta, pid: int) -> str:
        used = {n for n, _mac in _net.guest_links(pid)} | {g for _i, g, _h in meta.guest_nics}
        i = 0
        while f"eth{i}" in used:
            i += 1
        return f"eth{i}"

    @hookimpl
    def virtplug_domain_attach_device(
        self, conn: LXCConnection, name: str, device: DeviceConfig
    ) -> None:
        """NIC: veth pair on the bridge, peer handed to the container; disk: bind mount."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            running = lxc_state(c) in _ACTIVE
            live = meta.live if (running and meta.live is not None) else meta.config
            if isinstance(device, ConsoleConfig):
                raise ArgumentUnsupportedError(
                    "LXC gives a container its console at start; consoles cannot be attached"
                )
            if isinstance(device, InterfaceConfig):
                self._attach_nic(conn, name, c, meta, live, device, running)
            elif isinstance(device, FilesystemConfig):
                self._attach_fs(conn, name, c, meta, live, device, running)
            else:
                raise ArgumentUnsupportedError(f"cannot attach {type(device).__name__} to LXC")
            conn.write_meta(name, meta)

    def _attach_nic(
        self,
        conn: LXCConnection,
        name: str,
        c: lxc.Container,
        meta: Meta,
        live: DomainConfig,
        iface: InterfaceConfig,
        running: bool,
    ) -> None:
        if iface.type not in ("network", "bridge", "ethernet"):
            raise ArgumentUnsupportedError(
                f"interface type '{iface.type}' cannot be attached to an LXC container"
            )
        bridge: str | None = None
        if iface.type == "network":
            net = self._net_load(conn, str(iface.source))
            bridge = str(self._net_live(net).bridge)
            if running and not self._net_active(net):
                raise OperationInvalidError(f"network '{iface.source}' is not active")
        elif iface.type == "bridge":
            bridge = str(iface.source)
            if running and not _net.bridge_exists(bridge):
                raise OperationFailedError(f"bridge '{bridge}' does not exist on the host")
        if iface in live.interfaces or iface in meta.config.interfaces:
            raise OperationFailedError("an equal interface is already attached")
        if running:
            pid = c.init_pid
            guest = self._free_guest_name(meta, pid)
            stamp = f"{name}\0{guest}\0{time.time_ns()}"
            host = iface.target or _net.name_for(_net.VETH_PREFIX, str(conn.lxcpath), stamp)
            peer = _net.name_for("vpt", str(conn.lxcpath), stamp)
            try:
                _net.make_veth(host, peer, bridge, iface.mac)
            except _net.NetError as exc:
                raise OperationFailedError(f"cannot create the veth pair: {exc}") from exc
            try:
                if not c.attach_interface(peer, guest):
                    raise OperationFailedError(
                        f"liblxc could not move interface '{peer}' into domain '{name}'"
                    )
                _net.setup_guest_link(pid, guest, iface.ips)
            except (OperationFailedError, _net.NetError) as exc:
                with contextlib.suppress(_net.NetError):
                    _net.delete_link(host)
                raise OperationFailedError(f"cannot attach interface: {exc}") from exc
            meta.guest_nics.append((dump_model(iface), guest, host))
            meta.live = evolve(live, interfaces=(*live.interfaces, iface))
        new = evolve(meta.config, interfaces=(*meta.config.interfaces, iface))
        self._write_config(conn, c, new, meta.config, meta.autostart)
        meta.config = new

    def _fs_source(self, conn: LXCConnection, fs: FilesystemConfig) -> str:
        if fs.type == "volume":
            if not fs.pool:
                raise ArgumentUnsupportedError("filesystem type='volume' needs a source pool")
            return self._volume_path(conn, fs.pool, fs.source)
        if fs.type in ("mount", "bind", "file"):
            if not fs.source.startswith("/"):
                raise InvalidArgError(f"filesystem source '{fs.source}' must be absolute")
            if not os.path.exists(fs.source):
                raise OperationFailedError(f"filesystem source '{fs.source}' does not exist")
            return fs.source
        raise ArgumentUnsupportedError(
            f"filesystem type '{fs.type}' cannot be attached to an LXC container"
        )

    def _attach_fs(
        self,
        conn: LXCConnection,
        name: str,
        c: lxc.Container,
        meta: Meta,
        live: DomainConfig,
        fs: FilesystemConfig,
        running: bool,
    ) -> None:
        if fs.is_root:
            raise ArgumentUnsupportedError(
                "the root filesystem of an LXC container cannot be replaced live"
            )
        if not fs.target.startswith("/") or ".." in fs.target.split("/"):
            raise InvalidArgError(f"filesystem target '{fs.target}' must be an absolute path")
        source = self._fs_source(conn, fs)
        targets = {f.target for f in (*live.filesystems, *meta.config.filesystems)}
        if fs.target in targets:
            raise OperationFailedError(f"a filesystem is already attached at '{fs.target}'")
        if running:
            bind_mount_live(c, source, fs.target, fs.readonly)
            meta.live = evolve(live, filesystems=(*live.filesystems, fs))
        new = evolve(meta.config, filesystems=(*meta.config.filesystems, fs))
        self._write_config(conn, c, new, meta.config, meta.autostart)
        meta.config = new

    @hookimpl
    def virtplug_domain_detach_device(
        self, conn: LXCConnection, name: str, device: DeviceConfig
    ) -> None:
        """Delete the NIC's veth inside the container / lazily unmount the filesystem."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            running = lxc_state(c) in _ACTIVE
            live = meta.live if (running and meta.live is not None) else None
            if isinstance(device, InterfaceConfig):
                self._detach_nic(conn, name, c, meta, live, device)
            elif isinstance(device, FilesystemConfig):
                self._detach_fs(conn, name, c, meta, live, device)
            else:
                raise ArgumentUnsupportedError(
                    "LXC containers keep their console; only interfaces and filesystems detach"
                )
            conn.write_meta(name, meta)

    @staticmethod
    def _nic_matches(have: InterfaceConfig, want: InterfaceConfig) -> bool:
        if want.mac:
            return (have.mac or "").lower() == want.mac.lower()
        return have.type == want.type and have.source == want.source

    def _detach_nic(
        self,
        conn: LXCConnection,
        name: str,
        c: lxc.Container,
        meta: Meta,
        live: DomainConfig | None,
        want: InterfaceConfig,
    ) -> None:
        in_live = (
            next((i for i in live.interfaces if self._nic_matches(i, want)), None) if live else None
        )
        in_config = next((i for i in meta.config.interfaces if self._nic_matches(i, want)), None)
        if in_live is None and in_config is None:
            raise OperationFailedError("device not found: no matching interface")
        if live is not None and in_live is not None:
            entry = next(
                (n for n in meta.guest_nics if load_model(InterfaceConfig, n[0]) == in_live), None
            )
            if entry is not None:
                try:
                    _net.delete_guest_link(c.init_pid, entry[1])
                except _net.NetError as exc:
                    raise OperationFailedError(f"cannot detach interface: {exc}") from exc
                meta.guest_nics.remove(entry)
            items = list(live.interfaces)
            items.remove(in_live)
            meta.live = evolve(live, interfaces=tuple(items))
        if in_config is not None:
            items = list(meta.config.interfaces)
            items.remove(in_config)
            new = evolve(meta.config, interfaces=tuple(items))
            self._write_config(conn, c, new, meta.config, meta.autostart)
            meta.config = new

    def _detach_fs(
        self,
        conn: LXCConnection,
        name: str,
        c: lxc.Container,
        meta: Meta,
        live: DomainConfig | None,
        want: FilesystemConfig,
    ) -> None:
        if want.is_root:
            raise ArgumentUnsupportedError("the root filesystem cannot be detached")
        in_live = (
            next((f for f in live.filesystems if f.target == want.target), None) if live else None
        )
        in_config = next((f for f in meta.config.filesystems if f.target == want.target), None)
        if in_live is None and in_config is None:
            raise OperationFailedError(f"device not found: no filesystem at '{want.target}'")
        if live is not None and in_live is not None:
            unmount_live(c, want.target)
            meta.live = evolve(
                live, filesystems=tuple(f for f in live.filesystems if f is not in_live)
            )
        if in_config is not None:
            new = evolve(
                meta.config,
                filesystems=tuple(f for f in meta.config.filesystems if f is not in_config),
            )
            self._write_config(conn, c, new, meta.config, meta.autostart)
            meta.config = new

    # ------------------------------------------------------------------
    # Domain: stats, exec
    # ------------------------------------------------------------------

    @hookimpl
    def virtplug_domain_stats(self, conn: LXCConnection, name: str) -> DomainStats:
        """CPU time and memory use from the container's cgroup."""
        c, _meta = conn.require(name)
        if lxc_state(c) not in _ACTIVE:
            raise _not_running()
        layout = cgroup_layout()
        used = self._cgroup(c, layout.memory_usage_key)
        limit = self._cgroup(c, layout.memory_limit_key)
        pids = self._cgroup(c, layout.pids_key)
        limit_kib: int | None = None
        if limit and limit.strip().isdigit() and int(limit) < (1 << 62):
            limit_kib = int(limit) // 1024
        return DomainStats(
            cpu_time_ns=self._cpu_ns(c),
            memory_used_kib=int(used) // 1024 if used and used.strip().isdigit() else 0,
            memory_limit_kib=limit_kib,
            pids=int(pids) if pids and pids.strip().isdigit() else None,
        )

    @hookimpl
    def virtplug_domain_exec(
        self, conn: LXCConnection, name: str, argv: Sequence[str], timeout: float | None
    ) -> ExecResult:
        """``container.attach()`` running *argv*; output captured, exit code returned."""
        c, _meta = conn.require(name)
        state = lxc_state(c)
        if state not in _ACTIVE:
            raise _not_running()
        if state == DomainState.PAUSED:
            raise OperationInvalidError("domain is paused: resume it before running commands")
        return run(c, argv, timeout)

    # ------------------------------------------------------------------
    # Domain: snapshots
    # ------------------------------------------------------------------

    def _snapshots(self, c: lxc.Container, name: str) -> list[tuple[str, SnapshotInfo]]:
        out = []
        for lxc_name, comment, stamp, _path in c.snapshot_list() or ():
            info: SnapshotInfo | None = None
            with contextlib.suppress(ValueError, OSError, KeyError, TypeError):
                data = read_json(Path(comment)) if comment else None
                if isinstance(data, dict) and data.get("virtplug") == 1:
                    info = load_model(SnapshotInfo, data["snapshot"])
            if info is None:
                try:
                    created = datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S").timestamp()
                except ValueError:
                    created = 0.0
                info = SnapshotInfo(
                    name=str(lxc_name),
                    domain=name,
                    creation_time=created,
                    state=DomainState.SHUTOFF,
                )
            out.append((str(lxc_name), info))
        out.sort(key=lambda item: (item[1].creation_time, item[0]))
        return out

    def _snapshot(self, c: lxc.Container, name: str, snapshot: str) -> tuple[str, SnapshotInfo]:
        check_name(snapshot, "snapshot")
        for lxc_name, info in self._snapshots(c, name):
            if info.name == snapshot:
                return lxc_name, info
        raise NoDomainSnapshotError(
            f"Domain snapshot not found: no domain snapshot with matching name '{snapshot}'"
        )

    @hookimpl
    def virtplug_domain_snapshot_create(
        self, conn: LXCConnection, name: str, snapshot: SnapshotConfig
    ) -> SnapshotInfo:
        """``container.snapshot()`` of a stopped container (liblxc refuses running ones)."""
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            snap_name = snapshot.name or str(int(time.time()))
            check_name(snap_name, "snapshot")
            root = meta.config.root
            if root is not None and root.type != "template":
                raise ConfigUnsupportedError(
                    f"LXC cannot snapshot domain '{name}': its root filesystem is an external "
                    f"{root.type} ({root.source}) and liblxc only snapshots a rootfs it manages"
                )
            if lxc_state(c) in _ACTIVE:
                raise OperationInvalidError(
                    "LXC can only snapshot a stopped container: liblxc refuses to snapshot "
                    "a running one (shut the domain down first)"
                )
            if any(info.name == snap_name for _n, info in self._snapshots(c, name)):
                raise OperationFailedError(f"snapshot '{snap_name}' already exists for '{name}'")
            info = SnapshotInfo(
                name=snap_name,
                domain=name,
                creation_time=time.time(),
                state=DomainState.SHUTOFF,
                description=snapshot.description,
                config=meta.config,
            )
            cdir = conn.container_dir(name)
            comment = cdir / f".snapshot-{os.getpid()}-{threading.get_ident()}.json"
            write_json(comment, {"virtplug": 1, "snapshot": dump_model(info)})
            try:
                offset = log_offset(cdir)
                result = c.snapshot(str(comment))
                if not result:
                    raise OperationFailedError(
                        f"liblxc could not snapshot '{name}': {log_reason(cdir, offset)}"
                    )
            finally:
                with contextlib.suppress(OSError):
                    comment.unlink()
            return info

    @hookimpl
    def virtplug_domain_snapshot_list(self, conn: LXCConnection, name: str) -> list[SnapshotInfo]:
        """``container.snapshot_list()``, oldest first."""
        c, _meta = conn.require(name)
        return [info for _n, info in self._snapshots(c, name)]

    @hookimpl
    def virtplug_domain_snapshot_lookup(
        self, conn: LXCConnection, name: str, snapshot: str
    ) -> SnapshotInfo:
        """One snapshot by its virtplug name."""
        c, _meta = conn.require(name)
        return self._snapshot(c, name, snapshot)[1]

    @hookimpl
    def virtplug_domain_snapshot_revert(
        self, conn: LXCConnection, name: str, snapshot: str
    ) -> None:
        """``container.snapshot_restore()``; a running domain is stopped first.

        Snapshots are of stopped containers, so the domain ends SHUTOFF, as libvirt does.
        """
        with conn.lock(f"dom:{name}"):
            c, meta = conn.require(name)
            lxc_name, info = self._snapshot(c, name, snapshot)
            cdir = conn.container_dir(name)
            if lxc_state(c) in _ACTIVE:
                if lxc_state(c) == DomainState.PAUSED:
                    c.unfreeze()
                c.stop()
                c.wait("STOPPED", START_TIMEOUT)
            offset = log_offset(cdir)
            if not c.snapshot_restore(lxc_name):
                conn.write_meta(name, meta)
                raise OperationFailedError(
                    f"liblxc could not restore snapshot '{snapshot}' of '{name}': "
                    f"{log_reason(cdir, offset)}"
                )
            if info.config is not None:
                meta.config = evolve(info.config, uuid=meta.uuid, name=name)
            meta.live = None
            meta.guest_nics = []
            meta.state = (int(DomainState.SHUTOFF), int(ShutoffReason.FROM_SNAPSHOT))
            conn.write_meta(name, meta)
            if not meta.persistent:
                conn.reap(name)

    @hookimpl
    def virtplug_domain_snapshot_delete(
        self, conn: LXCConnection, name: str, snapshot: str
    ) -> None:
        """``container.snapshot_destroy()``."""
        with conn.lock(f"dom:{name}"):
            c, _meta = conn.require(name)
            lxc_name, _info = self._snapshot(c, name, snapshot)
            cdir = conn.container_dir(name)
            offset = log_offset(cdir)
            if not c.snapshot_destroy(lxc_name):
                raise OperationFailedError(
                    f"liblxc could not delete snapshot '{snapshot}' of '{name}': "
                    f"{log_reason(cdir, offset)}"
                )

    def _volume_users(self, conn: LXCConnection, pool: str, name: str, path: str) -> list[str]:
        users = []
        for dom, _c, meta, _state in self._all(conn):
            configs = [meta.config] + ([meta.live] if meta.live is not None else [])
            for config in configs:
                if any(
                    (fs.type == "volume" and fs.pool == pool and fs.source == name)
                    or fs.source == path
                    for fs in config.filesystems
                ):
                    users.append(dom)
                    break
        return users


@record
class _Seen:
    """One container as the event watcher saw it."""

    uuid: str
    state: DomainState
    persistent: bool
    recorded: DomainState
    actor: str


_BUSY = _Seen("", DomainState.NOSTATE, True, DomainState.NOSTATE, "")


def _diff_states(
    before: dict[str, _Seen],
    now: dict[str, _Seen],
    token: str,
    removed_by_us: Callable[[str], bool],
) -> list[tuple[Event, bool]]:
    """Backend events for what changed from *before* to *now* outside this connection.

    Changes this connection made (the container's metadata names it as the last
    actor and records the state seen) are skipped: the core emits those itself.
    Each event comes with a flag telling whether it reports an outside stop that
    the metadata must now record.
    """
    out: list[tuple[Event, bool]] = []

    def ev(name: str, uuid: str, type_: int, detail: int, stopped: bool = False) -> None:
        out.append((Event(EventKind.DOMAIN, name, uuid, type_, detail, source="backend"), stopped))

    running = (DomainState.RUNNING, DomainState.SHUTDOWN)
    for name, seen in now.items():
        old = before.get(name)
        if seen.state == DomainState.SHUTOFF and seen.recorded in _ACTIVE:
            # virtplug left it running and it is off: stopped outside virtplug
            ev(name, seen.uuid, DomainEventType.STOPPED, DomainEventDetail.Stopped.SHUTDOWN, True)
            continue
        if old is None:
            if seen.actor != token:
                if seen.persistent:
                    ev(name, seen.uuid, DomainEventType.DEFINED, DomainEventDetail.Defined.ADDED)
                if seen.state in _ACTIVE:
                    ev(name, seen.uuid, DomainEventType.STARTED, DomainEventDetail.Started.BOOTED)
            continue
        if old.state == seen.state:
            continue
        if seen.actor == token and seen.state == seen.recorded:
            continue
        if old.state == DomainState.SHUTOFF and seen.state in _ACTIVE:
            ev(name, seen.uuid, DomainEventType.STARTED, DomainEventDetail.Started.BOOTED)
        elif old.state in _ACTIVE and seen.state == DomainState.SHUTOFF:
            ev(name, seen.uuid, DomainEventType.STOPPED, DomainEventDetail.Stopped.SHUTDOWN, True)
        elif old.state in running and seen.state == DomainState.PAUSED:
            ev(name, seen.uuid, DomainEventType.SUSPENDED, DomainEventDetail.Suspended.PAUSED)
        elif old.state == DomainState.PAUSED and seen.state in running:
            ev(name, seen.uuid, DomainEventType.RESUMED, DomainEventDetail.Resumed.UNPAUSED)
    for name, old in before.items():
        if name in now or removed_by_us(name):
            continue
        if old.state in _ACTIVE:
            ev(name, old.uuid, DomainEventType.STOPPED, DomainEventDetail.Stopped.SHUTDOWN)
        if old.persistent:
            ev(name, old.uuid, DomainEventType.UNDEFINED, DomainEventDetail.Undefined.REMOVED)
    return out


def _hard_stop(conn: LXCConnection, name: str, c: lxc.Container) -> None:
    """``container.stop()`` (SIGKILL to every process) and wait for STOPPED.

    :raises OperationFailedError: liblxc could not stop it (quotes the container's log).
    """
    offset = log_offset(conn.container_dir(name))
    if not c.stop() and c.running:
        raise OperationFailedError(
            f"could not stop domain '{name}': {log_reason(conn.container_dir(name), offset)}"
        )
    if c.running:
        c.wait("STOPPED", START_TIMEOUT)


#: Seconds a freeze or thaw may take before it is abandoned (OPERATION_TIMEOUT).
FREEZE_TIMEOUT = 30.0


def _freezer(conn: LXCConnection, name: str, tool: str) -> bool:
    """Freeze or thaw *name* with ``lxc-freeze`` / ``lxc-unfreeze`` in a child process.

    The binding's ``freeze()`` waits for the freezer cgroup to settle while holding
    the GIL; when the kernel never reports FROZEN (seen once on this cgroup v1 host)
    it stalls every thread of the caller's process, watchdogs included. A child
    process with a deadline keeps that failure local: after :data:`FREEZE_TIMEOUT`
    the freeze is abandoned, the container thawed, and the caller gets
    OPERATION_TIMEOUT.

    :returns: True when the tool succeeded.
    :raises OperationTimeoutError: the freezer did not settle in time.
    """
    argv = [tool, "-n", name, "-P", str(conn.lxcpath)]
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=FREEZE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        if tool == "lxc-freeze":
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                subprocess.run(
                    ["lxc-unfreeze", "-n", name, "-P", str(conn.lxcpath)],
                    capture_output=True,
                    timeout=FREEZE_TIMEOUT,
                    check=False,
                )
        raise OperationTimeoutError(
            f"{tool} of domain '{name}' did not finish in {FREEZE_TIMEOUT:.0f} s "
            f"(the freezer cgroup never settled)"
        ) from exc
    except OSError as exc:
        raise OperationFailedError(f"cannot run {tool}: {exc}") from exc
    return proc.returncode == 0
