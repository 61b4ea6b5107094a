"""The test driver's backend: a shared, lockable in-memory hypervisor.

One :class:`Backend` holds the state of one ``test://`` URI path. Every
connection of the process that names the same path shares it (a module-level
registry, reference counted like libvirt's ``test:///default``: the state is
dropped when its last connection closes). Each backend has one
:class:`threading.RLock`; every operation runs under it.

Records are frozen ``attrs`` values replaced whole, and every operation checks
everything before it changes anything, so a rejected operation leaves the state
exactly as it was.

File-backed states with ``persist`` write the whole ``<node>`` document back
after every successful change (temporary file in the same directory, ``fsync``,
``os.replace``, directory ``fsync``) while holding an exclusive ``fcntl`` lock on
``PATH.lock``; every operation first reloads the file when its identity (inode,
mtime, size) changed, so separate processes share one state.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from virtplug import EVENTS_BY_OPERATION
from virtplug.errors import (
    AuthCancelledError,
    AuthFailedError,
    ConfigUnsupportedError,
    InvalidArgError,
    NoConnectError,
    NoDomainError,
    NoDomainSnapshotError,
    NoNetworkError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    ResourceBusyError,
    StorageVolExistsError,
    SystemError_,
)
from virtplug.models import (
    ConsoleConfig,
    Credentials,
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
    InterfaceConfig,
    NetworkConfig,
    NetworkEventType,
    NetworkInfo,
    NetworkRef,
    NodeDocument,
    NodeDomain,
    NodeInfo,
    NodeNetwork,
    NodePool,
    PausedReason,
    PoolConfig,
    PoolEventType,
    PoolInfo,
    PoolRef,
    PoolState,
    RunningReason,
    ShutoffReason,
    SnapshotConfig,
    SnapshotInfo,
    VolumeConfig,
    VolumeInfo,
    VolumeRef,
    new_uuid,
)
from virtplug.records import evolve, record
from virtplug_test import _exec
from virtplug_test._default import DEFAULT_NODE, GIB, default_document

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DEFAULT_POOL_CAPACITY", "Backend", "Emit", "acquire", "release"]

Emit = Callable[[Event], None]

#: Capacity of a pool whose definition gives none.
DEFAULT_POOL_CAPACITY = 100 * GIB

_ACTIVE = frozenset({DomainState.RUNNING, DomainState.PAUSED, DomainState.BLOCKED})
_POLL_INTERVAL = 0.2


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@record
class DomRec:
    """A domain.

    :ivar config: the persistent definition (for a transient domain: its live config).
    :ivar live: the live configuration while active, else ``None``.
    :ivar state: run state.
    :ivar reason: reason code of *state*.
    :ivar id: positive while active.
    :ivar persistent: defined (True) or transient.
    :ivar autostart: the stored autostart flag.
    :ivar snapshots: snapshots, oldest first.
    :ivar cpu_ns: CPU time accumulated before the current running stint.
    :ivar run_since: ``time.time_ns()`` when the current running stint began.
    """

    config: DomainConfig
    live: DomainConfig | None
    state: DomainState
    reason: int
    id: int | None
    persistent: bool
    autostart: bool = False
    snapshots: tuple[SnapshotInfo, ...] = ()
    cpu_ns: int = 0
    run_since: int | None = None

    @property
    def active(self) -> bool:
        """True when running or paused."""
        return self.state in _ACTIVE

    @property
    def current(self) -> DomainConfig:
        """The live configuration when active, else the definition."""
        return self.live if self.live is not None else self.config

    @property
    def uuid(self) -> str:
        """The domain's UUID."""
        return str(self.config.uuid)

    def cpu_time(self, now: int) -> int:
        """CPU time in ns: one busy CPU for every nanosecond spent RUNNING."""
        if not self.active:
            return 0
        running = max(0, now - self.run_since) if self.run_since is not None else 0
        return self.cpu_ns + running

    def ref(self) -> DomainRef:
        """The domain's identity."""
        return DomainRef(self.config.name, self.uuid, self.id if self.active else None)


@record
class NetRec:
    """A network (active when *live* is set)."""

    config: NetworkConfig
    live: NetworkConfig | None
    persistent: bool
    autostart: bool = False

    @property
    def active(self) -> bool:
        """True when active."""
        return self.live is not None

    @property
    def current(self) -> NetworkConfig:
        """Live configuration when active, else the definition."""
        return self.live if self.live is not None else self.config

    def ref(self) -> NetworkRef:
        """The network's identity."""
        return NetworkRef(self.config.name, str(self.config.uuid))


@record
class PoolRec:
    """A storage pool with its volumes (active when *live* is set)."""

    config: PoolConfig
    live: PoolConfig | None
    persistent: bool
    autostart: bool = False
    volumes: tuple[VolumeConfig, ...] = ()

    @property
    def active(self) -> bool:
        """True when active."""
        return self.live is not None

    @property
    def current(self) -> PoolConfig:
        """Live configuration when active, else the definition."""
        return self.live if self.live is not None else self.config

    @property
    def capacity(self) -> int:
        """Capacity in bytes."""
        return self.current.capacity or DEFAULT_POOL_CAPACITY

    @property
    def allocation(self) -> int:
        """Bytes allocated to volumes."""
        return sum(v.allocation or 0 for v in self.volumes)

    def ref(self) -> PoolRef:
        """The pool's identity."""
        return PoolRef(self.config.name, str(self.config.uuid))

    def volume(self, name: str) -> VolumeConfig | None:
        """The volume called *name*, or ``None``."""
        for vol in self.volumes:
            if vol.name == name:
                return vol
        return None


_R = TypeVar("_R", DomRec, NetRec, PoolRec)


class _Table(MutableMapping[str, _R]):
    """Records by name, with a UUID index (a record's UUID never changes under its name)."""

    def __init__(self) -> None:
        self._by_name: dict[str, _R] = {}
        self._by_uuid: dict[str, str] = {}

    def __getitem__(self, name: str) -> _R:
        return self._by_name[name]

    def __setitem__(self, name: str, rec: _R) -> None:
        old = self._by_name.get(name)
        if old is not None and old.config.uuid != rec.config.uuid:
            self._by_uuid.pop(str(old.config.uuid), None)
        self._by_name[name] = rec
        self._by_uuid[str(rec.config.uuid)] = name

    def __delitem__(self, name: str) -> None:
        rec = self._by_name.pop(name)
        self._by_uuid.pop(str(rec.config.uuid), None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def name_of(self, uuid: str) -> str | None:
        """The name of the record with *uuid*, or ``None``."""
        return self._by_uuid.get(uuid)


# ---------------------------------------------------------------------------
# Errors with libvirt's messages
# ---------------------------------------------------------------------------


def _no_domain(what: str, value: object) -> NoDomainError:
    return NoDomainError(f"no domain with matching {what} '{value}'")


def _not_running() -> OperationInvalidError:
    return OperationInvalidError("domain is not running")


def _pool_not_active() -> OperationInvalidError:
    return OperationInvalidError("storage pool is not active")


def _events_for(op: str, name: str, uuid: str) -> list[Event]:
    """The events the core emits for *op*, as backend events."""
    kinds = {
        "domain": (EventKind.DOMAIN, DomainEventType),
        "network": (EventKind.NETWORK, NetworkEventType),
        "pool": (EventKind.POOL, PoolEventType),
    }
    out = []
    for kind_name, type_name, detail in EVENTS_BY_OPERATION.get(op, ()):
        kind, enum_cls = kinds[kind_name]
        out.append(Event(kind, name, uuid, int(enum_cls[type_name]), detail, source="backend"))
    return out


def _domain_event(name: str, uuid: str, type_: DomainEventType, detail: int) -> Event:
    return Event(EventKind.DOMAIN, name, uuid, int(type_), int(detail), source="backend")


# ---------------------------------------------------------------------------
# The backend
# ---------------------------------------------------------------------------


class Backend:
    """The shared state of one ``test://`` URI path and every operation on it.

    :ivar key: the registry key (path, persist).
    :ivar path: the state file, or ``None`` for ``test:///default``.
    :ivar persist: write every change back to *path*.
    :ivar lock: the one lock guarding everything below.
    """

    def __init__(self, key: tuple[str, bool], path: Path | None, persist: bool) -> None:
        self.key = key
        self.path = path
        self.persist = persist
        self.lock = threading.RLock()
        self.refs = 0
        self.domains: _Table[DomRec] = _Table()
        self.networks: _Table[NetRec] = _Table()
        self.pools: _Table[PoolRec] = _Table()
        self.users: tuple[Credentials, ...] = ()
        self.node: NodeInfo = DEFAULT_NODE
        self._next_id = 1
        self._version = 0  # bumped by every change; keys the list cache
        self._list_cache: dict[tuple[bool | None, bool | None], tuple[int, list[DomainRef]]] = {}
        self._file_key: tuple[int, int, int] | None = None
        self._lock_fd: int | None = None
        self._watchers: dict[int, tuple[object, Emit]] = {}
        self._watch_seq = 0
        self._pending: list[Event] = []
        self._poller: threading.Thread | None = None
        self._poll_stop: threading.Event | None = None  # one Event per poller thread

    # -- loading and saving ----------------------------------------------

    @classmethod
    def create(
        cls, key: tuple[str, bool], path: Path | None, persist: bool, *, may_create: bool = True
    ) -> Backend:
        """Build the backend for *path* (``None``: the default state) and load it.

        :param may_create: with *persist*, create a missing state file (read-only
            connections pass False and get NO_CONNECT instead).
        """
        backend = cls(key, path, persist)
        if path is None:
            backend._install(default_document(), previous=False)
            return backend
        try:
            if persist and not may_create and not path.exists():
                backend._load_file()  # raises NO_CONNECT naming the missing file
            if persist:
                backend._lock_fd = _open_lock(path)
                with backend._flock():
                    if not path.exists():
                        backend._install(NodeDocument(), previous=False)
                        backend._write()
                    else:
                        backend._load_file()
            else:
                backend._load_file()
        except OSError as exc:
            backend.close()
            raise NoConnectError(
                f"cannot open test driver state file '{path}': {exc.strerror}"
            ) from exc
        except BaseException:
            backend.close()
            raise
        return backend

    def close(self) -> None:
        """Stop the watcher poller and release the lock file."""
        with self.lock:
            self._stop_poller()
            poller = self._poller
        if poller is not None and poller is not threading.current_thread():
            poller.join(timeout=5)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _codec(self) -> Any:
        from virtplug import xml as codec

        return codec

    def _load_file(self) -> None:
        assert self.path is not None
        try:
            with open(self.path, "rb") as fh:
                st = os.fstat(fh.fileno())
                data = fh.read()
        except FileNotFoundError as exc:
            raise NoConnectError(
                f"cannot read test driver state file '{self.path}': No such file or directory "
                f"(a read-write connection with ?persist=1 creates it)"
            ) from exc
        except OSError as exc:
            raise NoConnectError(
                f"cannot read test driver state file '{self.path}': {exc.strerror}"
            ) from exc
        doc = self._codec().parse_node(data)
        self._install(doc, previous=self._file_key is not None)
        self._file_key = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _refresh(self) -> None:
        """Reload the state file when another writer replaced it."""
        if not self.persist or self.path is None:
            return
        try:
            st = os.stat(self.path)
        except OSError:
            return  # vanished: keep what we have; the next write recreates it
        if (st.st_ino, st.st_mtime_ns, st.st_size) != self._file_key:
            self._load_file()

    @contextlib.contextmanager
    def _flock(self) -> Iterator[None]:
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _install(self, doc: NodeDocument, *, previous: bool) -> None:
        """Replace the state with *doc*; with *previous*, diff against the old one for events."""
        _check_unique(doc)
        old_domains, old_networks, old_pools = self.domains, self.networks, self.pools
        now = time.time_ns()
        ids = [nd.id for nd in doc.domains if nd.id is not None]
        self._next_id = max([self._next_id, *(i + 1 for i in ids)])
        domains: _Table[DomRec] = _Table()
        for nd in doc.domains:
            config = nd.config if nd.config.uuid else evolve(nd.config, uuid=new_uuid())
            state = DomainState(nd.state)
            if state not in (DomainState.RUNNING, DomainState.PAUSED):
                state = DomainState.SHUTOFF
            active = state in _ACTIVE
            prev = old_domains.get(config.name) if previous else None
            same_run = (
                prev is not None
                and prev.uuid == config.uuid
                and prev.active
                and active
                and (nd.id is None or nd.id == prev.id)
            )
            live = nd.live if nd.live is not None else config
            stored_id = nd.id
            dom_id: int | None = None
            if active:
                if stored_id is not None and stored_id > 0:
                    dom_id = stored_id
                elif same_run and prev is not None:
                    dom_id = prev.id
                else:
                    dom_id = self._alloc_id()
            reason = nd.reason
            if reason is None:
                reason = prev.reason if same_run and prev is not None else _default_reason(state)
            cpu_ns, run_since = 0, None
            if same_run and prev is not None:
                cpu_ns, run_since = prev.cpu_ns, prev.run_since
                if state == DomainState.PAUSED and run_since is not None:
                    cpu_ns, run_since = prev.cpu_time(now), None
                elif state == DomainState.RUNNING and run_since is None:
                    run_since = now
            elif state == DomainState.RUNNING:
                run_since = now
            domains[config.name] = DomRec(
                config=config if nd.persistent or live is None else live,
                live=live if active else None,
                state=state,
                reason=reason,
                id=dom_id,
                persistent=nd.persistent or not active,
                autostart=nd.autostart,
                snapshots=tuple(nd.snapshots),
                cpu_ns=cpu_ns,
                run_since=run_since,
            )
        networks: _Table[NetRec] = _Table()
        for nn in doc.networks:
            net = nn.config if nn.config.uuid else evolve(nn.config, uuid=new_uuid())
            networks[net.name] = NetRec(
                config=net,
                live=net if nn.active else None,
                persistent=nn.persistent or not nn.active,
                autostart=nn.autostart,
            )
        pools: _Table[PoolRec] = _Table()
        for np_ in doc.pools:
            pool = np_.config if np_.config.uuid else evolve(np_.config, uuid=new_uuid())
            pools[pool.name] = PoolRec(
                config=pool,
                live=pool if np_.active else None,
                persistent=np_.persistent or not np_.active,
                autostart=np_.autostart,
                volumes=tuple(_volume_with_location(pool, v) for v in np_.volumes),
            )
        self.domains, self.networks, self.pools = domains, networks, pools
        self._version += 1
        self.users = tuple(doc.users)
        self.node = doc.node or DEFAULT_NODE
        if previous and self._watchers:
            self._pending.extend(_diff(old_domains, domains, old_networks, networks))
            self._pending.extend(_diff_pools(old_pools, pools))

    def document(self) -> NodeDocument:
        """The whole state as a ``<node>`` document model."""
        with self.lock:
            return self._document()

    def _document(self) -> NodeDocument:
        domains = [
            NodeDomain(
                config=rec.config,
                state=rec.state,
                persistent=rec.persistent,
                autostart=rec.autostart,
                snapshots=rec.snapshots,
                id=rec.id if rec.active else None,
                reason=rec.reason,
                live=rec.live if rec.active and rec.live != rec.config else None,
            )
            for rec in sorted(self.domains.values(), key=lambda r: r.config.name)
        ]
        networks = [
            NodeNetwork(
                config=rec.config if rec.persistent else rec.current,
                active=rec.active,
                persistent=rec.persistent,
                autostart=rec.autostart,
            )
            for rec in sorted(self.networks.values(), key=lambda r: r.config.name)
        ]
        pools = [
            NodePool(
                config=evolve(
                    rec.config,
                    capacity=rec.capacity,
                    allocation=rec.allocation,
                    available=max(0, rec.capacity - rec.allocation),
                ),
                active=rec.active,
                persistent=rec.persistent,
                autostart=rec.autostart,
                volumes=rec.volumes,
            )
            for rec in sorted(self.pools.values(), key=lambda r: r.config.name)
        ]
        return NodeDocument(
            domains=tuple(domains),
            networks=tuple(networks),
            pools=tuple(pools),
            users=self.users,
            node=self.node,
        )

    def _write(self) -> None:
        """Write the state back atomically (caller holds the file lock)."""
        assert self.path is not None
        data = self._codec().format_node(self._document())
        if isinstance(data, str):
            data = data.encode("utf-8")
        directory = self.path.parent
        for stale in directory.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                stale.unlink()  # left by a writer killed mid-write (we hold the lock)
        import tempfile  # persisted state only; test:///default never writes

        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            # A strictly increasing mtime makes every write visible to readers that
            # compare (inode, mtime, size), even within one timestamp tick.
            stamp = time.time_ns()
            if self._file_key is not None and stamp <= self._file_key[1]:
                stamp = self._file_key[1] + 1
            os.utime(tmp, ns=(stamp, stamp))
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        st = os.stat(self.path)
        self._file_key = (st.st_ino, st.st_mtime_ns, st.st_size)

    # -- transactions ---------------------------------------------------------

    def reading(self) -> _Reading:
        """Run a read under the lock, after reloading a changed state file.

        A class-based context manager rather than a generator: reads are the hot
        path (``info()``, ``state``), and this saves about a microsecond per call.
        """
        return _Reading(self)

    def _end_read(self) -> None:
        """Release the lock taken by :class:`_Reading`, then deliver pending events."""
        pending, self._pending = self._pending, []
        self.lock.release()
        if pending:
            self._deliver(pending, None)

    @contextlib.contextmanager
    def changing(self, origin: object) -> Iterator[list[Event]]:
        """Run a change under the lock (and the file lock); persist it; deliver its events.

        The body appends the events of its change to the yielded list; they are
        delivered to the watchers of every connection but *origin*.
        """
        events: list[Event] = []
        pending: list[Event] = []
        try:
            with self.lock:
                try:
                    with self._flock():
                        self._refresh()
                        yield events
                        self._version += 1
                        if self.persist:
                            self._persist()
                finally:
                    pending, self._pending = self._pending, []
        finally:
            self._deliver(pending, None)
        self._deliver(events, origin)

    def _persist(self) -> None:
        try:
            self._write()
        except OSError as exc:
            self._file_key = None
            self._load_file()  # the file still holds the state before the change
            self._pending.clear()
            raise SystemError_(
                f"cannot write test driver state file '{self.path}': {exc.strerror}"
            ) from exc

    # -- events ---------------------------------------------------------------

    def watch(self, origin: object, emit: Emit) -> Callable[[], None]:
        """Deliver changes made by other connections (and other processes) to *emit*."""
        with self.lock:
            self._watch_seq += 1
            token = self._watch_seq
            self._watchers[token] = (origin, emit)
            if self.persist and self._poll_stop is None:
                self._poll_stop = threading.Event()
                self._poller = threading.Thread(
                    target=self._poll,
                    args=(self._poll_stop,),
                    name=f"virtplug-test-watch:{self.path}",
                    daemon=True,
                )
                self._poller.start()

        def stop() -> None:
            with self.lock:
                self._watchers.pop(token, None)
                if not self._watchers:
                    self._stop_poller()

        return stop

    def _stop_poller(self) -> None:
        if self._poll_stop is not None:
            self._poll_stop.set()
            self._poll_stop = None

    def unwatch_all(self, origin: object) -> None:
        """Drop every watcher registered by *origin*."""
        with self.lock:
            for token, (owner, _emit) in list(self._watchers.items()):
                if owner is origin:
                    del self._watchers[token]
            if not self._watchers:
                self._stop_poller()

    def _poll(self, stop: threading.Event) -> None:
        while not stop.wait(_POLL_INTERVAL):
            with contextlib.suppress(Exception), self.reading():
                pass

    def _deliver(self, events: Sequence[Event], origin: object | None) -> None:
        if not events:
            return
        with self.lock:
            targets = [emit for owner, emit in self._watchers.values() if owner is not origin]
        for emit in targets:
            for event in events:
                emit(event)

    # -- helpers ----------------------------------------------------------------

    def _alloc_id(self) -> int:
        value = self._next_id
        self._next_id += 1
        return value

    def _dom(self, name: str) -> DomRec:
        rec = self.domains.get(name)
        if rec is None:
            raise _no_domain("name", name)
        return rec

    def _net(self, name: str) -> NetRec:
        rec = self.networks.get(name)
        if rec is None:
            raise NoNetworkError(f"no network with matching name '{name}'")
        return rec

    def _pool(self, name: str) -> PoolRec:
        rec = self.pools.get(name)
        if rec is None:
            raise NoStoragePoolError(f"no storage pool with matching name '{name}'")
        return rec

    def _active_pool(self, name: str) -> PoolRec:
        rec = self._pool(name)
        if not rec.active:
            raise _pool_not_active()
        return rec

    def _vol(self, pool: str, name: str) -> tuple[PoolRec, VolumeConfig]:
        rec = self._active_pool(pool)
        vol = rec.volume(name)
        if vol is None:
            raise NoStorageVolError(f"no storage vol with matching name '{name}'")
        return rec, vol

    def _check_domain_config(self, config: DomainConfig) -> None:
        if config.uuid is None:
            raise InvalidArgError("domain configuration has no UUID")
        if config.os.type != "exe":
            raise ConfigUnsupportedError(
                f"unsupported OS type '{config.os.type}' (the test driver runs 'exe' containers)"
            )
        if config.memory_kib <= 0:
            raise InvalidArgError("memory must be a positive number of KiB")
        current = config.effective_memory_kib
        if current <= 0 or current > config.memory_kib:
            raise InvalidArgError("current memory must be between 1 KiB and the maximum memory")
        self._check_vcpus(config.vcpus)

    def _check_vcpus(self, count: int) -> None:
        if count < 1:
            raise InvalidArgError(f"vcpu count must be at least 1, not {count}")
        if count > self.node.cpus:
            raise InvalidArgError(
                f"requested vcpus is greater than max allowable vcpus for the host: "
                f"{count} > {self.node.cpus}"
            )

    def _check_runnable(self, config: DomainConfig) -> None:
        """What starting *config* needs: active networks, existing volumes."""
        for iface in config.interfaces:
            self._check_interface(iface, running=True)
        for fs in config.filesystems:
            self._check_filesystem(fs)

    def _check_interface(self, iface: InterfaceConfig, *, running: bool) -> None:
        if iface.type != "network" or iface.source is None:
            return
        net = self._net(iface.source)
        if running and not net.active:
            raise OperationInvalidError(f"network '{iface.source}' is not active")

    def _check_filesystem(self, fs: FilesystemConfig) -> None:
        if fs.type == "volume" and fs.pool is not None:
            self._vol(fs.pool, fs.source)

    def _check_new_identity(self, kind: str, name: str, uuid: str, table: _Table[Any]) -> bool:
        """Name/UUID clash rules of define; True when *name* exists with *uuid*."""
        existing = table.get(name)
        if existing is not None and str(existing.config.uuid) != uuid:
            raise OperationFailedError(
                f"{kind} '{name}' already exists with uuid {existing.config.uuid}"
            )
        other_name = table.name_of(uuid)
        if other_name is not None and other_name != name:
            raise OperationFailedError(f"{kind} '{other_name}' is already defined with uuid {uuid}")
        return existing is not None

    # -- connection and node -------------------------------------------------------

    def authenticate(self, uri: str, auth: Callable[[str], Credentials | None] | None) -> None:
        """Check credentials when the state has ``<auth>`` users.

        :raises AuthFailedError: no callback, an unknown user or a wrong password.
        :raises AuthCancelledError: the callback returned ``None``.
        """
        if not self.users:
            return
        if auth is None:
            raise AuthFailedError("authentication required")
        creds = auth(uri)
        if creds is None:
            raise AuthCancelledError("authentication cancelled")
        if not isinstance(creds, Credentials):
            raise AuthFailedError(
                f"authentication failed: the callback returned {type(creds).__name__}, "
                f"not Credentials"
            )
        for user in self.users:
            import hmac  # only <auth> state files need it

            same_user = hmac.compare_digest(user.username.encode(), creds.username.encode())
            same_password = hmac.compare_digest(user.password.encode(), creds.password.encode())
            if same_user and same_password:
                return
        raise AuthFailedError(f"authentication failed for user '{creds.username}'")

    def node_info(self) -> NodeInfo:
        """The node's facts."""
        with self.reading():
            return self.node

    def free_memory(self) -> int:
        """Node memory minus the current memory of active domains, in bytes."""
        with self.reading():
            used = sum(r.current.effective_memory_kib for r in self.domains.values() if r.active)
            return max(0, self.node.memory_kib - used) * 1024

    # -- domains ----------------------------------------------------------------

    def domain_list(self, active: bool | None, persistent: bool | None) -> list[DomainRef]:
        """Domains matching the filters, by name (cached until the next change)."""
        with self.reading():
            key = (active, persistent)
            cached = self._list_cache.get(key)
            if cached is None or cached[0] != self._version:
                refs = [
                    rec.ref()
                    for name, rec in sorted(self.domains.items())
                    if (active is None or rec.active == active)
                    and (persistent is None or rec.persistent == persistent)
                ]
                cached = (self._version, refs)
                self._list_cache[key] = cached
            return list(cached[1])

    def domain_lookup(self, name: str) -> DomainRef:
        """A domain by name."""
        with self.reading():
            return self._dom(name).ref()

    def domain_lookup_uuid(self, uuid: str) -> DomainRef:
        """A domain by UUID."""
        with self.reading():
            name = self.domains.name_of(uuid)
            if name is not None:
                return self.domains[name].ref()
        raise _no_domain("uuid", uuid)

    def domain_lookup_id(self, dom_id: int) -> DomainRef:
        """A running domain by id."""
        with self.reading():
            for rec in self.domains.values():
                if rec.active and rec.id == dom_id:
                    return rec.ref()
        raise NoDomainError(f"no domain with matching id {dom_id}")

    def domain_define(self, origin: object, config: DomainConfig) -> DomainRef:
        """Define or update a persistent domain."""
        with self.changing(origin) as events:
            self._check_domain_config(config)
            uuid = str(config.uuid)
            exists = self._check_new_identity("domain", config.name, uuid, self.domains)
            if exists:
                rec = evolve(self.domains[config.name], config=config, persistent=True)
                detail = DomainEventDetail.Defined.UPDATED
            else:
                rec = DomRec(config, None, DomainState.SHUTOFF, ShutoffReason.UNKNOWN, None, True)
                detail = DomainEventDetail.Defined.ADDED
            self.domains[config.name] = rec
            events.append(_domain_event(config.name, uuid, DomainEventType.DEFINED, detail))
            return rec.ref()

    def domain_create(self, origin: object, config: DomainConfig) -> DomainRef:
        """Create and start a transient domain."""
        with self.changing(origin) as events:
            self._check_domain_config(config)
            uuid = str(config.uuid)
            existing = self.domains.get(config.name)
            if existing is not None:
                raise OperationFailedError(
                    f"domain '{config.name}' already exists with uuid {existing.uuid}"
                )
            self._check_new_identity("domain", config.name, uuid, self.domains)
            self._check_runnable(config)
            rec = DomRec(
                config=config,
                live=config,
                state=DomainState.RUNNING,
                reason=RunningReason.BOOTED,
                id=self._alloc_id(),
                persistent=False,
                run_since=time.time_ns(),
            )
            self.domains[config.name] = rec
            events.extend(_events_for("domain.create", config.name, uuid))
            return rec.ref()

    def domain_undefine(self, origin: object, name: str) -> None:
        """Remove a persistent definition (a running domain becomes transient)."""
        with self.changing(origin) as events:
            rec = self._dom(name)
            if not rec.persistent:
                raise OperationInvalidError("cannot undefine transient domain")
            if rec.active:
                self.domains[name] = evolve(
                    rec, config=rec.current, persistent=False, autostart=False
                )
            else:
                del self.domains[name]
            events.extend(_events_for("domain.undefine", name, rec.uuid))

    def domain_start(self, origin: object, name: str) -> None:
        """Boot an inactive domain."""
        with self.changing(origin) as events:
            rec = self._dom(name)
            if rec.active:
                raise OperationInvalidError("domain is already running")
            self._check_runnable(rec.config)
            self.domains[name] = evolve(
                rec,
                live=rec.config,
                state=DomainState.RUNNING,
                reason=RunningReason.BOOTED,
                id=self._alloc_id(),
                cpu_ns=0,
                run_since=time.time_ns(),
            )
            events.extend(_events_for("domain.start", name, rec.uuid))

    def _stopped(self, rec: DomRec, reason: ShutoffReason) -> DomRec | None:
        if not rec.persistent:
            return None
        return evolve(
            rec,
            live=None,
            state=DomainState.SHUTOFF,
            reason=reason,
            id=None,
            cpu_ns=0,
            run_since=None,
        )

    def _stop(self, origin: object, name: str, op: str, reason: ShutoffReason) -> None:
        with self.changing(origin) as events:
            rec = self._dom(name)
            if not rec.active:
                raise _not_running()
            new = self._stopped(rec, reason)
            if new is None:
                del self.domains[name]
            else:
                self.domains[name] = new
            events.extend(_events_for(op, name, rec.uuid))

    def domain_shutdown(self, origin: object, name: str) -> None:
        """Stop gracefully (the simulated init exits at once on SIGTERM)."""
        self._stop(origin, name, "domain.shutdown", ShutoffReason.SHUTDOWN)

    def domain_destroy(self, origin: object, name: str) -> None:
        """Stop immediately."""
        self._stop(origin, name, "domain.destroy", ShutoffReason.DESTROYED)

    def domain_reboot(self, origin: object, name: str) -> None:
        """Restart init: a new id, RUNNING/BOOTED, CPU time kept."""
        with self.changing(origin):
            rec = self._dom(name)
            if not rec.active:
                raise _not_running()
            now = time.time_ns()
            self.domains[name] = evolve(
                rec,
                state=DomainState.RUNNING,
                reason=RunningReason.BOOTED,
                id=self._alloc_id(),
                cpu_ns=rec.cpu_time(now),
                run_since=now,
            )

    def domain_suspend(self, origin: object, name: str) -> None:
        """Pause a running domain (a paused one stays paused, no event)."""
        with self.changing(origin) as events:
            rec = self._dom(name)
            if not rec.active:
                raise _not_running()
            if rec.state == DomainState.PAUSED:
                return
            now = time.time_ns()
            self.domains[name] = evolve(
                rec,
                state=DomainState.PAUSED,
                reason=PausedReason.USER,
                cpu_ns=rec.cpu_time(now),
                run_since=None,
            )
            events.extend(_events_for("domain.suspend", name, rec.uuid))

    def domain_resume(self, origin: object, name: str) -> None:
        """Unpause a paused domain."""
        with self.changing(origin) as events:
            rec = self._dom(name)
            if not rec.active:
                raise _not_running()
            if rec.state != DomainState.PAUSED:
                raise OperationInvalidError("domain is not paused")
            self.domains[name] = evolve(
                rec,
                state=DomainState.RUNNING,
                reason=RunningReason.UNPAUSED,
                run_since=time.time_ns(),
            )
            events.extend(_events_for("domain.resume", name, rec.uuid))

    def domain_state(self, name: str) -> tuple[DomainState, int]:
        """State and reason."""
        with self.reading():
            rec = self._dom(name)
            return rec.state, rec.reason

    def domain_info(self, name: str) -> DomainInfo:
        """State, memory, vCPUs, CPU time."""
        with self.reading():
            rec = self._dom(name)
            cur = rec.current
            return DomainInfo(
                state=rec.state,
                max_memory_kib=cur.memory_kib,
                memory_kib=cur.effective_memory_kib,
                vcpus=cur.vcpus,
                cpu_time_ns=rec.cpu_time(time.time_ns()),
                persistent=rec.persistent,
                state_reason=rec.reason,
            )

    def domain_xml(self, name: str, inactive: bool) -> DomainConfig:
        """The definition (*inactive*) or the live configuration."""
        with self.reading():
            rec = self._dom(name)
            return rec.config if inactive else rec.current

    def _targets(self, rec: DomRec) -> tuple[bool, bool]:
        """Which configurations a live change touches: (live, definition)."""
        if rec.active:
            return True, rec.persistent
        return False, True

    def domain_set_memory(self, origin: object, name: str, kib: int) -> None:
        """Set current memory live and in the definition."""
        with self.changing(origin):
            rec = self._dom(name)
            if kib < 1:
                raise InvalidArgError(f"memory must be a positive number of KiB, not {kib}")
            live, definition = self._targets(rec)
            targets = ([rec.current] if live else []) + ([rec.config] if definition else [])
            if any(kib > cfg.memory_kib for cfg in targets):
                raise InvalidArgError("cannot set memory higher than max memory")
            self.domains[name] = self._apply(rec, lambda c: evolve(c, current_memory_kib=kib))

    def domain_set_vcpus(self, origin: object, name: str, count: int) -> None:
        """Set the vCPU count live and in the definition."""
        with self.changing(origin):
            rec = self._dom(name)
            self._check_vcpus(count)
            self.domains[name] = self._apply(rec, lambda c: evolve(c, vcpus=count))

    def _apply(self, rec: DomRec, change: Callable[[DomainConfig], DomainConfig]) -> DomRec:
        live, definition = self._targets(rec)
        new_live = change(rec.current) if live else rec.live
        if not rec.persistent:
            assert new_live is not None
            return evolve(rec, live=new_live, config=new_live)
        new_config = change(rec.config) if definition else rec.config
        return evolve(rec, live=new_live, config=new_config)

    def domain_get_autostart(self, name: str) -> bool:
        """The autostart flag."""
        with self.reading():
            return self._dom(name).autostart

    def domain_set_autostart(self, origin: object, name: str, autostart: bool) -> None:
        """Set the autostart flag of a persistent domain."""
        with self.changing(origin):
            rec = self._dom(name)
            if not rec.persistent:
                raise OperationInvalidError("cannot set autostart for transient domain")
            self.domains[name] = evolve(rec, autostart=bool(autostart))

    def domain_attach(self, origin: object, name: str, device: DeviceConfig) -> None:
        """Attach a device live (when active) and to the definition."""
        with self.changing(origin):
            rec = self._dom(name)
            if isinstance(device, InterfaceConfig):
                self._check_interface(device, running=rec.active)
            elif isinstance(device, FilesystemConfig):
                self._check_filesystem(device)
            elif not isinstance(device, ConsoleConfig):
                raise InvalidArgError(f"unsupported device {type(device).__name__}")
            live, definition = self._targets(rec)
            for cfg in ([rec.current] if live else []) + ([rec.config] if definition else []):
                _check_duplicate(cfg, device)
            self.domains[name] = self._apply(rec, lambda c: _add_device(c, device))

    def domain_detach(self, origin: object, name: str, device: DeviceConfig) -> None:
        """Detach the device matching *device*."""
        with self.changing(origin):
            rec = self._dom(name)
            if _find_device(rec.current, device) is None:
                raise OperationFailedError("device not found")
            self.domains[name] = self._apply(rec, lambda c: _remove_device(c, device))

    def domain_stats(self, name: str) -> DomainStats:
        """CPU time and memory use of an active domain."""
        with self.reading():
            rec = self._dom(name)
            if not rec.active:
                raise _not_running()
            cur = rec.current
            limit = cur.effective_memory_kib
            return DomainStats(
                cpu_time_ns=rec.cpu_time(time.time_ns()),
                memory_used_kib=max(1, min(limit, limit // 4)),
                memory_limit_kib=limit,
                pids=1,
                extra=(("vcpus", float(cur.vcpus)),),
            )

    def domain_exec(self, name: str, argv: Sequence[str], timeout: float | None) -> ExecResult:
        """Simulate *argv* inside a running domain (see :mod:`virtplug_test._exec`)."""
        with self.reading():
            rec = self._dom(name)
            if rec.state != DomainState.RUNNING:
                raise _not_running()
            config = rec.current
        if not argv:
            raise InvalidArgError("argv must not be empty")
        return _exec.run(config, argv, timeout)

    # -- snapshots ----------------------------------------------------------------

    def snapshot_create(self, origin: object, name: str, snap: SnapshotConfig) -> SnapshotInfo:
        """Capture the domain's configuration and state."""
        with self.changing(origin):
            rec = self._dom(name)
            taken = {s.name for s in rec.snapshots}
            snap_name = snap.name
            if snap_name is None:
                base = str(int(time.time()))
                snap_name, n = base, 1
                while snap_name in taken:
                    snap_name, n = f"{base}-{n}", n + 1
            elif snap_name in taken:
                raise OperationFailedError(f"domain snapshot '{snap_name}' already exists")
            if not snap_name or "/" in snap_name:
                raise InvalidArgError(f"invalid snapshot name '{snap_name}'")
            info = SnapshotInfo(
                name=snap_name,
                domain=name,
                creation_time=time.time(),
                state=rec.state,
                description=snap.description,
                config=rec.current,
            )
            self.domains[name] = evolve(rec, snapshots=(*rec.snapshots, info))
            return info

    def snapshot_list(self, name: str) -> list[SnapshotInfo]:
        """Snapshots, oldest first."""
        with self.reading():
            return list(self._dom(name).snapshots)

    def _snapshot(self, rec: DomRec, snapshot: str) -> SnapshotInfo:
        for info in rec.snapshots:
            if info.name == snapshot:
                return info
        raise NoDomainSnapshotError(f"no domain snapshot with matching name '{snapshot}'")

    def snapshot_lookup(self, name: str, snapshot: str) -> SnapshotInfo:
        """One snapshot."""
        with self.reading():
            return self._snapshot(self._dom(name), snapshot)

    def snapshot_revert(self, origin: object, name: str, snapshot: str) -> None:
        """Restore a snapshot's configuration and state."""
        with self.changing(origin) as events:
            rec = self._dom(name)
            info = self._snapshot(rec, snapshot)
            config = info.config or rec.config
            target = DomainState(info.state)
            if target not in _ACTIVE:
                target = DomainState.SHUTOFF
            if target == DomainState.SHUTOFF and not rec.persistent:
                raise OperationInvalidError(
                    "transient domain needs to request run or pause to revert to inactive snapshot"
                )
            now = time.time_ns()
            if target == DomainState.SHUTOFF:
                new = evolve(
                    rec,
                    config=config,
                    live=None,
                    state=DomainState.SHUTOFF,
                    reason=ShutoffReason.FROM_SNAPSHOT,
                    id=None,
                    cpu_ns=0,
                    run_since=None,
                )
            else:
                if not rec.active:
                    self._check_runnable(config)
                running = target == DomainState.RUNNING
                new = evolve(
                    rec,
                    config=config,
                    live=config,
                    state=target,
                    reason=RunningReason.FROM_SNAPSHOT if running else PausedReason.FROM_SNAPSHOT,
                    id=rec.id if rec.active else self._alloc_id(),
                    cpu_ns=rec.cpu_time(now),
                    run_since=now if running else None,
                )
            self.domains[name] = new
            events.extend(_events_for("domain.snapshot_revert", name, rec.uuid))

    def snapshot_delete(self, origin: object, name: str, snapshot: str) -> None:
        """Delete one snapshot."""
        with self.changing(origin):
            rec = self._dom(name)
            info = self._snapshot(rec, snapshot)
            kept = tuple(s for s in rec.snapshots if s.name != info.name)
            self.domains[name] = evolve(rec, snapshots=kept)

    # -- networks ---------------------------------------------------------------

    def network_list(self, active: bool | None, persistent: bool | None) -> list[NetworkRef]:
        """Networks matching the filters, by name."""
        with self.reading():
            return [
                rec.ref()
                for name, rec in sorted(self.networks.items())
                if (active is None or rec.active == active)
                and (persistent is None or rec.persistent == persistent)
            ]

    def network_lookup(self, name: str) -> NetworkRef:
        """A network by name."""
        with self.reading():
            return self._net(name).ref()

    def network_lookup_uuid(self, uuid: str) -> NetworkRef:
        """A network by UUID."""
        with self.reading():
            name = self.networks.name_of(uuid)
            if name is not None:
                return self.networks[name].ref()
        raise NoNetworkError(f"no network with matching uuid '{uuid}'")

    def _check_network_config(self, config: NetworkConfig) -> None:
        if config.uuid is None:
            raise InvalidArgError("network configuration has no UUID")
        if config.bridge is not None:
            if not config.bridge or len(config.bridge) > 15 or "/" in config.bridge:
                raise InvalidArgError(f"invalid bridge name '{config.bridge}'")
            for other in self.networks.values():
                if other.config.name != config.name and config.bridge in (
                    other.config.bridge,
                    other.current.bridge,
                ):
                    raise OperationFailedError(f"bridge name '{config.bridge}' already in use.")

    def network_define(self, origin: object, config: NetworkConfig) -> NetworkRef:
        """Define or update a persistent network."""
        with self.changing(origin) as events:
            self._check_network_config(config)
            exists = self._check_new_identity(
                "network", config.name, str(config.uuid), self.networks
            )
            if exists:
                rec = evolve(self.networks[config.name], config=config, persistent=True)
            else:
                rec = NetRec(config, None, True)
            self.networks[config.name] = rec
            events.extend(_events_for("network.define", config.name, str(config.uuid)))
            return rec.ref()

    def network_create(self, origin: object, config: NetworkConfig) -> NetworkRef:
        """Create and start a transient network."""
        with self.changing(origin) as events:
            self._check_network_config(config)
            existing = self.networks.get(config.name)
            if existing is not None:
                raise OperationFailedError(
                    f"network '{config.name}' already exists with uuid {existing.config.uuid}"
                )
            self._check_new_identity("network", config.name, str(config.uuid), self.networks)
            rec = NetRec(config, config, False)
            self.networks[config.name] = rec
            events.extend(_events_for("network.create", config.name, str(config.uuid)))
            return rec.ref()

    def network_undefine(self, origin: object, name: str) -> None:
        """Remove a definition (an active network becomes transient)."""
        with self.changing(origin) as events:
            rec = self._net(name)
            if not rec.persistent:
                raise OperationInvalidError("cannot undefine transient network")
            if rec.active:
                self.networks[name] = evolve(
                    rec, config=rec.current, persistent=False, autostart=False
                )
            else:
                del self.networks[name]
            events.extend(_events_for("network.undefine", name, str(rec.config.uuid)))

    def network_start(self, origin: object, name: str) -> None:
        """Activate a network."""
        with self.changing(origin) as events:
            rec = self._net(name)
            if rec.active:
                raise OperationInvalidError("network is already active")
            self.networks[name] = evolve(rec, live=rec.config)
            events.extend(_events_for("network.start", name, str(rec.config.uuid)))

    def network_stop(self, origin: object, name: str) -> None:
        """Deactivate a network (a transient one disappears)."""
        with self.changing(origin) as events:
            rec = self._net(name)
            if not rec.active:
                raise OperationInvalidError("network is not active")
            if rec.persistent:
                self.networks[name] = evolve(rec, live=None)
            else:
                del self.networks[name]
            events.extend(_events_for("network.stop", name, str(rec.config.uuid)))

    def network_info(self, name: str) -> NetworkInfo:
        """Live facts."""
        with self.reading():
            rec = self._net(name)
            return NetworkInfo(rec.active, rec.persistent, rec.autostart, rec.current.bridge)

    def network_xml(self, name: str, inactive: bool) -> NetworkConfig:
        """Definition or live configuration."""
        with self.reading():
            rec = self._net(name)
            return rec.config if inactive else rec.current

    def network_get_autostart(self, name: str) -> bool:
        """The autostart flag."""
        with self.reading():
            return self._net(name).autostart

    def network_set_autostart(self, origin: object, name: str, autostart: bool) -> None:
        """Set the autostart flag of a persistent network."""
        with self.changing(origin):
            rec = self._net(name)
            if not rec.persistent:
                raise OperationInvalidError("cannot set autostart for transient network")
            self.networks[name] = evolve(rec, autostart=bool(autostart))

    # -- storage pools -------------------------------------------------------------

    def pool_list(self, active: bool | None, persistent: bool | None) -> list[PoolRef]:
        """Pools matching the filters, by name."""
        with self.reading():
            return [
                rec.ref()
                for name, rec in sorted(self.pools.items())
                if (active is None or rec.active == active)
                and (persistent is None or rec.persistent == persistent)
            ]

    def pool_lookup(self, name: str) -> PoolRef:
        """A pool by name."""
        with self.reading():
            return self._pool(name).ref()

    def pool_lookup_uuid(self, uuid: str) -> PoolRef:
        """A pool by UUID."""
        with self.reading():
            name = self.pools.name_of(uuid)
            if name is not None:
                return self.pools[name].ref()
        raise NoStoragePoolError(f"no storage pool with matching uuid '{uuid}'")

    def _check_pool_config(self, config: PoolConfig) -> None:
        if config.uuid is None:
            raise InvalidArgError("storage pool configuration has no UUID")
        if config.target is not None:
            if not config.target.startswith("/"):
                raise InvalidArgError(f"storage pool target '{config.target}' is not absolute")
            for other in self.pools.values():
                if (
                    other.config.name != config.name
                    and other.config.type == config.type
                    and other.config.target == config.target
                ):
                    raise OperationFailedError(
                        f"Storage source conflict with pool: '{other.config.name}'"
                    )

    def pool_define(self, origin: object, config: PoolConfig) -> PoolRef:
        """Define or update a persistent pool."""
        with self.changing(origin) as events:
            self._check_pool_config(config)
            exists = self._check_new_identity("pool", config.name, str(config.uuid), self.pools)
            if exists:
                rec = evolve(self.pools[config.name], config=config, persistent=True)
            else:
                rec = PoolRec(config, None, True)
            self.pools[config.name] = rec
            events.extend(_events_for("pool.define", config.name, str(config.uuid)))
            return rec.ref()

    def pool_create(self, origin: object, config: PoolConfig) -> PoolRef:
        """Create and start a transient pool."""
        with self.changing(origin) as events:
            self._check_pool_config(config)
            existing = self.pools.get(config.name)
            if existing is not None:
                raise OperationFailedError(
                    f"pool '{config.name}' already exists with uuid {existing.config.uuid}"
                )
            self._check_new_identity("pool", config.name, str(config.uuid), self.pools)
            rec = PoolRec(config, config, False)
            self.pools[config.name] = rec
            events.extend(_events_for("pool.create", config.name, str(config.uuid)))
            return rec.ref()

    def pool_build(self, origin: object, name: str) -> None:
        """Build an inactive pool's storage (nothing to create in memory)."""
        with self.changing(origin) as events:
            rec = self._pool(name)
            if rec.active:
                raise OperationInvalidError("storage pool is already active")
            events.extend(_events_for("pool.build", name, str(rec.config.uuid)))

    def pool_start(self, origin: object, name: str) -> None:
        """Activate a pool."""
        with self.changing(origin) as events:
            rec = self._pool(name)
            if rec.active:
                raise OperationInvalidError("storage pool is already active")
            self.pools[name] = evolve(rec, live=rec.config)
            events.extend(_events_for("pool.start", name, str(rec.config.uuid)))

    def pool_stop(self, origin: object, name: str) -> None:
        """Deactivate a pool (a transient one disappears with its volumes)."""
        with self.changing(origin) as events:
            rec = self._pool(name)
            if not rec.active:
                raise _pool_not_active()
            for dom in self.domains.values():
                if dom.active and any(
                    fs.type == "volume" and fs.pool == name for fs in dom.current.filesystems
                ):
                    raise ResourceBusyError(
                        f"storage pool '{name}' is in use by domain '{dom.config.name}'"
                    )
            if rec.persistent:
                self.pools[name] = evolve(rec, live=None)
            else:
                del self.pools[name]
            events.extend(_events_for("pool.stop", name, str(rec.config.uuid)))

    def pool_delete(self, origin: object, name: str) -> None:
        """Delete an inactive, empty pool's storage."""
        with self.changing(origin) as events:
            rec = self._pool(name)
            if rec.active:
                raise OperationInvalidError("storage pool is still active")
            if rec.volumes:
                target = rec.config.target or f"/{name}"
                raise OperationFailedError(
                    f"cannot remove directory '{target}': Directory not empty"
                )
            events.extend(_events_for("pool.delete", name, str(rec.config.uuid)))

    def pool_undefine(self, origin: object, name: str) -> None:
        """Remove an inactive pool's definition."""
        with self.changing(origin) as events:
            rec = self._pool(name)
            if rec.active:
                raise OperationInvalidError("storage pool is still active")
            del self.pools[name]
            events.extend(_events_for("pool.undefine", name, str(rec.config.uuid)))

    def pool_refresh(self, origin: object, name: str) -> None:
        """Rescan an active pool (sizes are always current in memory)."""
        with self.changing(origin):
            self._active_pool(name)

    def pool_info(self, name: str) -> PoolInfo:
        """State and sizes."""
        with self.reading():
            rec = self._pool(name)
            capacity, allocation = rec.capacity, rec.allocation
            return PoolInfo(
                state=PoolState.RUNNING if rec.active else PoolState.INACTIVE,
                capacity=capacity,
                allocation=allocation,
                available=max(0, capacity - allocation),
                persistent=rec.persistent,
                autostart=rec.autostart,
            )

    def pool_xml(self, name: str, inactive: bool) -> PoolConfig:
        """Definition or live configuration, with runtime sizes."""
        with self.reading():
            rec = self._pool(name)
            cfg = rec.config if inactive else rec.current
            capacity, allocation = rec.capacity, rec.allocation
            return evolve(
                cfg,
                capacity=capacity,
                allocation=allocation,
                available=max(0, capacity - allocation),
            )

    def pool_get_autostart(self, name: str) -> bool:
        """The autostart flag."""
        with self.reading():
            return self._pool(name).autostart

    def pool_set_autostart(self, origin: object, name: str, autostart: bool) -> None:
        """Set the autostart flag of a persistent pool."""
        with self.changing(origin):
            rec = self._pool(name)
            if not rec.persistent:
                raise OperationInvalidError("cannot set autostart for transient pool")
            self.pools[name] = evolve(rec, autostart=bool(autostart))

    # -- storage volumes ---------------------------------------------------------

    def volume_list(self, pool: str) -> list[VolumeRef]:
        """Volumes of an active pool, by name."""
        with self.reading():
            rec = self._active_pool(pool)
            return [_vol_ref(pool, v) for v in sorted(rec.volumes, key=lambda v: v.name)]

    def volume_lookup(self, pool: str, name: str) -> VolumeRef:
        """A volume by pool and name."""
        with self.reading():
            _rec, vol = self._vol(pool, name)
            return _vol_ref(pool, vol)

    def _volume_where(self, attr: str, value: str) -> VolumeRef:
        with self.reading():
            for pname, rec in sorted(self.pools.items()):
                if not rec.active:
                    continue
                for vol in rec.volumes:
                    if getattr(vol, attr) == value:
                        return _vol_ref(pname, vol)
        raise NoStorageVolError(f"no storage vol with matching {attr} '{value}'")

    def volume_lookup_key(self, key: str) -> VolumeRef:
        """A volume of an active pool by key."""
        return self._volume_where("key", key)

    def volume_lookup_path(self, path: str) -> VolumeRef:
        """A volume of an active pool by path."""
        return self._volume_where("path", path)

    def _add_volume(self, pool: str, rec: PoolRec, config: VolumeConfig) -> VolumeConfig:
        name = config.name
        if not name or "/" in name or name in (".", "..") or len(name) > 255:
            raise InvalidArgError(f"invalid storage volume name '{name}'")
        if config.capacity < 0 or (config.allocation is not None and config.allocation < 0):
            raise InvalidArgError("storage volume sizes must not be negative")
        if rec.volume(name) is not None:
            raise StorageVolExistsError(f"storage volume name '{name}' already in use.")
        allocation = config.capacity if config.allocation is None else config.allocation
        if allocation > rec.capacity - rec.allocation:
            raise OperationFailedError(f"Not enough free space in pool for volume '{name}'")
        vol = _volume_with_location(
            rec.config,
            evolve(config, allocation=allocation, format=config.format or "raw"),
        )
        self.pools[pool] = evolve(rec, volumes=(*rec.volumes, vol))
        return vol

    def volume_create(self, origin: object, pool: str, config: VolumeConfig) -> VolumeRef:
        """Create a volume in an active pool."""
        with self.changing(origin):
            rec = self._active_pool(pool)
            return _vol_ref(pool, self._add_volume(pool, rec, config))

    def volume_clone(self, origin: object, pool: str, name: str, new_name: str) -> VolumeRef:
        """Copy a volume within its pool."""
        with self.changing(origin):
            rec, vol = self._vol(pool, name)
            clone = evolve(vol, name=new_name, key=None, path=None)
            return _vol_ref(pool, self._add_volume(pool, rec, clone))

    def volume_delete(self, origin: object, pool: str, name: str) -> None:
        """Delete a volume no active domain uses."""
        with self.changing(origin):
            rec, vol = self._vol(pool, name)
            for dom in self.domains.values():
                if dom.active and any(
                    fs.type == "volume" and fs.pool == pool and fs.source == name
                    for fs in dom.current.filesystems
                ):
                    raise ResourceBusyError(
                        f"storage volume '{name}' is in use by domain '{dom.config.name}'"
                    )
            self.pools[pool] = evolve(
                rec, volumes=tuple(v for v in rec.volumes if v.name != vol.name)
            )

    def volume_info(self, pool: str, name: str) -> VolumeInfo:
        """Type and sizes."""
        with self.reading():
            _rec, vol = self._vol(pool, name)
            return VolumeInfo(vol.type, vol.capacity, vol.allocation or 0)

    def volume_xml(self, pool: str, name: str) -> VolumeConfig:
        """The volume's configuration with key and path."""
        with self.reading():
            return self._vol(pool, name)[1]

    def volume_path(self, pool: str, name: str) -> str:
        """The volume's path."""
        with self.reading():
            return str(self._vol(pool, name)[1].path)


# ---------------------------------------------------------------------------
# Module helpers
# ---------------------------------------------------------------------------


def _default_reason(state: DomainState) -> int:
    if state == DomainState.RUNNING:
        return int(RunningReason.BOOTED)
    if state == DomainState.PAUSED:
        return int(PausedReason.USER)
    return int(ShutoffReason.UNKNOWN)


def _volume_with_location(pool: PoolConfig, vol: VolumeConfig) -> VolumeConfig:
    base = (pool.target or f"/{pool.name}").rstrip("/")
    path = f"{base}/{vol.name}"
    allocation = vol.capacity if vol.allocation is None else vol.allocation
    return evolve(vol, key=path, path=path, allocation=allocation)


def _vol_ref(pool: str, vol: VolumeConfig) -> VolumeRef:
    return VolumeRef(pool=pool, name=vol.name, key=str(vol.key), path=str(vol.path))


def _check_unique(doc: NodeDocument) -> None:
    for kind, items in (
        ("domain", [d.config for d in doc.domains]),
        ("network", [n.config for n in doc.networks]),
        ("pool", [p.config for p in doc.pools]),
    ):
        names: set[str] = set()
        uuids: set[str] = set()
        for cfg in items:
            if cfg.name in names:
                raise OperationFailedError(f"state file defines {kind} '{cfg.name}' twice")
            names.add(cfg.name)
            if cfg.uuid is not None:
                if cfg.uuid in uuids:
                    raise OperationFailedError(
                        f"state file uses {kind} uuid {cfg.uuid} twice ('{cfg.name}')"
                    )
                uuids.add(cfg.uuid)


def _same_device(a: DeviceConfig, b: DeviceConfig) -> bool:
    """Detach matching: interfaces on MAC when given, else source; filesystems on target."""
    if isinstance(a, InterfaceConfig) and isinstance(b, InterfaceConfig):
        if b.mac is not None:
            return a.mac is not None and a.mac.lower() == b.mac.lower()
        return a.type == b.type and a.source == b.source
    if isinstance(a, FilesystemConfig) and isinstance(b, FilesystemConfig):
        return a.target == b.target
    if isinstance(a, ConsoleConfig) and isinstance(b, ConsoleConfig):
        return a == b
    return False


def _devices(config: DomainConfig, device: DeviceConfig) -> tuple[DeviceConfig, ...]:
    if isinstance(device, InterfaceConfig):
        return config.interfaces
    if isinstance(device, FilesystemConfig):
        return config.filesystems
    return config.consoles


def _find_device(config: DomainConfig, device: DeviceConfig) -> DeviceConfig | None:
    for dev in _devices(config, device):
        if _same_device(dev, device):
            return dev
    return None


def _check_duplicate(config: DomainConfig, device: DeviceConfig) -> None:
    for dev in _devices(config, device):
        if dev == device:
            raise OperationFailedError("device is already attached")
        if (
            isinstance(dev, InterfaceConfig)
            and isinstance(device, InterfaceConfig)
            and device.mac is not None
            and dev.mac is not None
            and dev.mac.lower() == device.mac.lower()
        ):
            raise OperationFailedError(f"MAC address '{device.mac}' is already in use")
        if (
            isinstance(dev, FilesystemConfig)
            and isinstance(device, FilesystemConfig)
            and dev.target == device.target
        ):
            raise OperationFailedError(f"filesystem target '{device.target}' already exists")


def _add_device(config: DomainConfig, device: DeviceConfig) -> DomainConfig:
    if isinstance(device, InterfaceConfig):
        return evolve(config, interfaces=(*config.interfaces, device))
    if isinstance(device, FilesystemConfig):
        return evolve(config, filesystems=(*config.filesystems, device))
    return evolve(config, consoles=(*config.consoles, device))


def _remove_device(config: DomainConfig, device: DeviceConfig) -> DomainConfig:
    found = _find_device(config, device)
    if found is None:
        return config  # absent from this copy (e.g. a pending definition): nothing to do
    if isinstance(device, InterfaceConfig):
        kept_i = list(config.interfaces)
        kept_i.remove(found)  # type: ignore[arg-type]
        return evolve(config, interfaces=tuple(kept_i))
    if isinstance(device, FilesystemConfig):
        kept_f = list(config.filesystems)
        kept_f.remove(found)  # type: ignore[arg-type]
        return evolve(config, filesystems=tuple(kept_f))
    kept_c = list(config.consoles)
    kept_c.remove(found)  # type: ignore[arg-type]
    return evolve(config, consoles=tuple(kept_c))


def _diff(
    old_d: Mapping[str, DomRec],
    new_d: Mapping[str, DomRec],
    old_n: Mapping[str, NetRec],
    new_n: Mapping[str, NetRec],
) -> list[Event]:
    """Events describing how another process changed domains and networks."""
    out: list[Event] = []
    ev = _domain_event
    for name in sorted(set(old_d) | set(new_d)):
        old, new = old_d.get(name), new_d.get(name)
        if new is not None and (old is None or old.uuid != new.uuid):
            if old is not None:
                out.append(ev(name, old.uuid, DomainEventType.UNDEFINED, 0))
            if new.persistent:
                out.append(ev(name, new.uuid, DomainEventType.DEFINED, 0))
            if new.active:
                out.append(ev(name, new.uuid, DomainEventType.STARTED, 0))
            continue
        if new is None:
            assert old is not None
            if old.active:
                detail = DomainEventDetail.Stopped.DESTROYED
                out.append(ev(name, old.uuid, DomainEventType.STOPPED, detail))
            if old.persistent:
                out.append(ev(name, old.uuid, DomainEventType.UNDEFINED, 0))
            continue
        assert old is not None
        if new.config != old.config and new.persistent:
            out.append(ev(name, new.uuid, DomainEventType.DEFINED, 1))
        if not old.active and new.active:
            out.append(ev(name, new.uuid, DomainEventType.STARTED, 0))
            if new.state == DomainState.PAUSED:
                out.append(ev(name, new.uuid, DomainEventType.SUSPENDED, 0))
        elif old.active and not new.active:
            detail = (
                DomainEventDetail.Stopped.SHUTDOWN
                if new.reason == ShutoffReason.SHUTDOWN
                else DomainEventDetail.Stopped.DESTROYED
            )
            out.append(ev(name, new.uuid, DomainEventType.STOPPED, detail))
        elif old.state == DomainState.RUNNING and new.state == DomainState.PAUSED:
            out.append(ev(name, new.uuid, DomainEventType.SUSPENDED, 0))
        elif old.state == DomainState.PAUSED and new.state == DomainState.RUNNING:
            out.append(ev(name, new.uuid, DomainEventType.RESUMED, 0))
        if old.persistent and not new.persistent:
            out.append(ev(name, new.uuid, DomainEventType.UNDEFINED, 0))
    for name in sorted(set(old_n) | set(new_n)):
        o, n = old_n.get(name), new_n.get(name)
        uuid = str((n or o).config.uuid)  # type: ignore[union-attr]
        types: list[NetworkEventType] = []
        if o is None and n is not None:
            types += [NetworkEventType.DEFINED] if n.persistent else []
            types += [NetworkEventType.STARTED] if n.active else []
        elif n is None and o is not None:
            types += [NetworkEventType.STOPPED] if o.active else []
            types += [NetworkEventType.UNDEFINED] if o.persistent else []
        elif o is not None and n is not None:
            if n.config != o.config and n.persistent:
                types.append(NetworkEventType.DEFINED)
            if o.active != n.active:
                types.append(NetworkEventType.STARTED if n.active else NetworkEventType.STOPPED)
            if o.persistent and not n.persistent:
                types.append(NetworkEventType.UNDEFINED)
        out.extend(Event(EventKind.NETWORK, name, uuid, int(t), source="backend") for t in types)
    return out


def _diff_pools(old_p: Mapping[str, PoolRec], new_p: Mapping[str, PoolRec]) -> list[Event]:
    out: list[Event] = []
    for name in sorted(set(old_p) | set(new_p)):
        o, n = old_p.get(name), new_p.get(name)
        uuid = str((n or o).config.uuid)  # type: ignore[union-attr]
        types: list[PoolEventType] = []
        if o is None and n is not None:
            types += [PoolEventType.DEFINED] if n.persistent else []
            types += [PoolEventType.STARTED] if n.active else []
        elif n is None and o is not None:
            types += [PoolEventType.STOPPED] if o.active else []
            types += [PoolEventType.UNDEFINED] if o.persistent else []
        elif o is not None and n is not None:
            if n.config != o.config and n.persistent:
                types.append(PoolEventType.DEFINED)
            if o.active != n.active:
                types.append(PoolEventType.STARTED if n.active else PoolEventType.STOPPED)
        out.extend(Event(EventKind.POOL, name, uuid, int(t), source="backend") for t in types)
    return out


def _open_lock(path: Path) -> int:
    lock_path = path.with_name(path.name + ".lock")
    try:
        return os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise NoConnectError(f"cannot open lock file '{lock_path}': {exc.strerror}") from exc


# ---------------------------------------------------------------------------
# The registry: one backend per (path, persist) per process
# ---------------------------------------------------------------------------

_registry_lock = threading.Lock()
_registry: dict[tuple[str, bool], Backend] = {}


def acquire(path: Path | None, persist: bool, *, may_create: bool = True) -> Backend:
    """Return the shared backend for *path* (``None``: default), loading it if needed.

    :param may_create: see :meth:`Backend.create`.
    """
    key = (str(path) if path is not None else "default", persist)
    with _registry_lock:
        backend = _registry.get(key)
        if backend is None:
            backend = Backend.create(key, path, persist, may_create=may_create)
            _registry[key] = backend
        backend.refs += 1
        return backend


def release(backend: Backend) -> None:
    """Drop one reference; the last one discards the in-memory state."""
    with _registry_lock:
        backend.refs -= 1
        if backend.refs > 0:
            return
        if _registry.get(backend.key) is backend:
            del _registry[backend.key]
    backend.close()


class _Reading:
    """Context manager of :meth:`Backend.reading` (same semantics as a generator)."""

    __slots__ = ("_backend",)

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def __enter__(self) -> None:
        backend = self._backend
        backend.lock.acquire()
        try:
            backend._refresh()
        except BaseException:
            backend._end_read()
            raise

    def __exit__(self, *exc: object) -> None:
        self._backend._end_read()
