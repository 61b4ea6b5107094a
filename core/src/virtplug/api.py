"""The Python API: connections and the objects they manage.

libvirt's object model with Python names: :func:`virtplug.open` returns a
:class:`Connection`, which hands out :class:`Domain`, :class:`Network`,
:class:`StoragePool` and :class:`StorageVolume` objects. Objects are light
handles (name and UUID); every property that describes live state asks the
driver again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from virtplug import _loader
from virtplug._manager import CapabilityMap, Dispatcher
from virtplug.errors import (
    ConfigUnsupportedError,
    InvalidArgError,
    InvalidConnectionError,
    VirtError,
)
from virtplug.events import Subscription
from virtplug.models import (
    AuthCallback,
    Credentials,
    DeviceConfig,
    DomainConfig,
    DomainInfo,
    DomainRef,
    DomainState,
    DomainStats,
    Event,
    EventKind,
    ExecResult,
    HostCapabilities,
    NetworkConfig,
    NetworkInfo,
    NetworkRef,
    NodeInfo,
    PoolConfig,
    PoolInfo,
    PoolRef,
    SnapshotConfig,
    SnapshotInfo,
    VolumeConfig,
    VolumeInfo,
    VolumeRef,
    new_uuid,
    normalize_uuid,
)
from virtplug.records import evolve
from virtplug.uri import URI, default_uri, parse_uri

__all__ = [
    "Connection",
    "Domain",
    "Network",
    "Snapshot",
    "StoragePool",
    "StorageVolume",
    "open",
    "open_driver",
]

_C = TypeVar("_C", DomainConfig, NetworkConfig, PoolConfig)

_ACTIVE_STATES = frozenset(
    {DomainState.RUNNING, DomainState.BLOCKED, DomainState.PAUSED, DomainState.SHUTDOWN}
)


def _auth_callback(
    auth: Credentials | AuthCallback | tuple[str, str] | None,
) -> AuthCallback | None:
    if auth is None:
        return None
    if isinstance(auth, Credentials):
        creds = auth
        return lambda _uri: creds
    if isinstance(auth, tuple):
        if len(auth) != 2 or not all(isinstance(p, str) for p in auth):
            raise InvalidArgError("auth must be Credentials, a callable or a (user, password) pair")
        pair = Credentials(auth[0], auth[1])
        return lambda _uri: pair
    if callable(auth):
        return auth
    raise InvalidArgError(
        f"auth must be Credentials, a callable or a (user, password) pair, "
        f"not {type(auth).__name__}"
    )


def open(
    uri: str | None = None,
    *,
    readonly: bool = False,
    auth: Credentials | AuthCallback | tuple[str, str] | None = None,
) -> Connection:
    """Open a connection to the driver the URI names.

    :param uri: ``driver[+transport]://[user@][host][:port]/path[?params]``;
        ``None`` reads ``VIRTPLUG_DEFAULT_URI``.
    :param readonly: refuse every mutating call with OPERATION_DENIED.
    :param auth: credentials, a ``(user, password)`` pair, or a callable
        ``(uri_text) -> Credentials | None`` the driver calls when it needs them.
    :returns: an open :class:`Connection` (a context manager).
    :raises InvalidArgError: malformed URI, or no URI and no default.
    :raises DriverNotFoundError: no installed driver for the scheme.
    :raises DriverLoadError: the driver failed to load.
    :raises NoConnectError: the backend could not be reached.
    :raises AuthFailedError: credentials were refused.
    """
    text = uri if uri is not None else default_uri()
    if text is None:
        raise InvalidArgError(
            "no connection URI given and VIRTPLUG_DEFAULT_URI is not set (try 'test:///default')"
        )
    parsed = parse_uri(text)
    cls, entry = _loader.load_driver_class(parsed.driver)
    dispatcher = Dispatcher(parsed.driver, cls, entry, readonly=readonly)
    dispatcher.open(uri=parsed, auth=_auth_callback(auth), readonly=readonly)
    return Connection(parsed, dispatcher)


def open_driver(
    driver_cls: type[Any],
    uri: str,
    *,
    readonly: bool = False,
    auth: Credentials | AuthCallback | tuple[str, str] | None = None,
    name: str | None = None,
) -> Connection:
    """Open a connection with a driver class that is not installed as an entry point.

    For tests (the conformance suite's broken drivers), notebooks and embedding:
    everything but discovery is as in :func:`open` (same manager, wrappers,
    capability map and middleware).

    :param driver_cls: the driver class (instantiated once for this connection).
    :param uri: the connection URI; its scheme need not match *name*.
    :param name: the driver name to report (default: the URI's driver part).
    """
    parsed = parse_uri(uri)
    dispatcher = Dispatcher(name or parsed.driver, driver_cls, None, readonly=readonly)
    dispatcher.open(uri=parsed, auth=_auth_callback(auth), readonly=readonly)
    return Connection(parsed, dispatcher)


def _xml() -> Any:
    from virtplug import xml as codec

    return codec


class Connection:
    """An open connection to one driver.

    Use it as a context manager, or call :meth:`close`. Safe to share between
    threads when the driver is (every first-party driver is).
    """

    def __init__(self, uri: URI, dispatcher: Dispatcher) -> None:
        self._uri = uri
        self._d = dispatcher
        self._closed = False
        self._lock = threading.Lock()
        self._host_caps: HostCapabilities | None = None

    # -- identity and lifetime -------------------------------------------

    @property
    def uri(self) -> str:
        """The URI this connection was opened with."""
        return self._uri.text

    @property
    def parsed_uri(self) -> URI:
        """The parsed URI."""
        return self._uri

    @property
    def driver(self) -> str:
        """The driver name (the URI scheme before ``+``)."""
        return self._d.name

    @property
    def driver_version(self) -> str | None:
        """The version of the driver's distribution, when known."""
        return self._d.entry.version if self._d.entry else None

    @property
    def readonly(self) -> bool:
        """True for a read-only connection."""
        return self._d.readonly

    def _call(self, op: str, /, **kwargs: Any) -> Any:
        if self._closed:
            raise InvalidConnectionError(f"connection to {self.uri} is closed", operation=op)
        return self._d.call(op, **kwargs)

    def close(self) -> None:
        """Close the connection; closing twice is harmless."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._d.bus.close()
        finally:
            if self._d.capabilities["connection.close"].supported:
                self._d.call("connection.close")

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._closed

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("read-only" if self.readonly else "open")
        return f"<virtplug.Connection {self.uri!r} {state}>"

    def is_alive(self) -> bool:
        """True when the connection is open and the backend answers."""
        if self._closed:
            return False
        try:
            return bool(self._call("connection.is_alive"))
        except VirtError:
            return False

    def type(self) -> str:
        """The hypervisor / engine type name (``Docker``, ``LXC``, ``TEST``)."""
        return str(self._call("connection.type"))

    def version(self) -> str:
        """The backend's version string."""
        return str(self._call("connection.version"))

    def hostname(self) -> str:
        """The backend host's name."""
        return str(self._call("connection.hostname"))

    def host_capabilities(self) -> HostCapabilities:
        """What the host and driver can run (libvirt's ``getCapabilities``)."""
        caps: HostCapabilities = self._call("connection.capabilities")
        self._host_caps = caps
        return caps

    def host_capabilities_xml(self) -> str:
        """:meth:`host_capabilities` as libvirt's ``<capabilities>`` XML."""
        return str(_xml().format_capabilities(self.host_capabilities()))

    def capabilities(self) -> CapabilityMap:
        """The driver's capability map: operation -> implemented / unsupported / undeclared."""
        return self._d.capabilities

    def supports(self, operation: str) -> bool:
        """True when the driver implements *operation* (``"domain.suspend"``).

        :raises InvalidArgError: *operation* is not an operation name.
        """
        cap = self._d.capabilities.get(operation)
        if cap is None:
            raise InvalidArgError(
                f"unknown operation {operation!r}; see virtplug.hookspecs.OPERATIONS"
            )
        return cap.supported

    # -- node -------------------------------------------------------------

    def node_info(self) -> NodeInfo:
        """The host's CPUs and memory."""
        info: NodeInfo = self._call("node.info")
        return info

    def node_free_memory(self) -> int:
        """The host's free memory in bytes."""
        return int(self._call("node.free_memory"))

    # -- domains ------------------------------------------------------------

    def list_domains(
        self, active: bool | None = None, persistent: bool | None = None
    ) -> list[Domain]:
        """Domains matching the filters (``None``: either)."""
        refs: Sequence[DomainRef] = self._call("domain.list", active=active, persistent=persistent)
        return [Domain(self, ref) for ref in refs]

    def lookup_domain(
        self, name: str | None = None, *, uuid: str | None = None, id: int | None = None
    ) -> Domain:
        """Find a domain by exactly one of name, UUID or id.

        :raises NoDomainError: nothing matches.
        :raises InvalidArgError: not exactly one key given, or a malformed UUID / id.
        """
        given = [k for k, v in (("name", name), ("uuid", uuid), ("id", id)) if v is not None]
        if len(given) != 1:
            raise InvalidArgError("lookup_domain takes exactly one of name, uuid or id")
        if name is not None:
            _check_name(name, "domain")
            ref = self._call("domain.lookup_by_name", name=name)
        elif uuid is not None:
            ref = self._call("domain.lookup_by_uuid", uuid=_check_uuid(uuid))
        else:
            if isinstance(id, bool) or not isinstance(id, int) or id <= 0:
                raise InvalidArgError(f"domain id must be a positive integer, not {id!r}")
            ref = self._call("domain.lookup_by_id", id=id)
        return Domain(self, ref)

    def _domain_config(self, xml: str | bytes | DomainConfig) -> DomainConfig:
        config = xml if isinstance(xml, DomainConfig) else _xml().parse_domain(xml)
        config = _with_uuid(config)
        caps = self._host_caps or self.host_capabilities()
        if caps.domain_types and config.type not in caps.domain_types:
            raise ConfigUnsupportedError(
                f"domain type '{config.type}' is not supported by driver '{self.driver}' "
                f"(it accepts: {', '.join(caps.domain_types)})",
                driver=self.driver,
            )
        return config

    def define_domain(self, xml: str | bytes | DomainConfig) -> Domain:
        """Define (or update) a persistent domain from libvirt domain XML.

        :raises XMLError: the XML is malformed or hostile.
        :raises OperationFailedError: the name exists with another UUID.
        :raises ConfigUnsupportedError: the driver cannot run this configuration.
        """
        ref = self._call("domain.define", config=self._domain_config(xml))
        return Domain(self, ref)

    def create_domain(self, xml: str | bytes | DomainConfig) -> Domain:
        """Create and start a transient domain (gone when it stops)."""
        ref = self._call("domain.create", config=self._domain_config(xml))
        return Domain(self, ref)

    # -- networks -------------------------------------------------------------

    def list_networks(
        self, active: bool | None = None, persistent: bool | None = None
    ) -> list[Network]:
        """Networks matching the filters."""
        refs: Sequence[NetworkRef] = self._call(
            "network.list", active=active, persistent=persistent
        )
        return [Network(self, ref) for ref in refs]

    def lookup_network(self, name: str | None = None, *, uuid: str | None = None) -> Network:
        """Find a network by name or UUID.

        :raises NoNetworkError: nothing matches.
        """
        if (name is None) == (uuid is None):
            raise InvalidArgError("lookup_network takes exactly one of name or uuid")
        if name is not None:
            _check_name(name, "network")
            return Network(self, self._call("network.lookup_by_name", name=name))
        return Network(self, self._call("network.lookup_by_uuid", uuid=_check_uuid(str(uuid))))

    def _network_config(self, xml: str | bytes | NetworkConfig) -> NetworkConfig:
        config = xml if isinstance(xml, NetworkConfig) else _xml().parse_network(xml)
        return _with_uuid(config)

    def define_network(self, xml: str | bytes | NetworkConfig) -> Network:
        """Define a persistent, inactive network."""
        return Network(self, self._call("network.define", config=self._network_config(xml)))

    def create_network(self, xml: str | bytes | NetworkConfig) -> Network:
        """Create and start a transient network."""
        return Network(self, self._call("network.create", config=self._network_config(xml)))

    # -- storage ----------------------------------------------------------------

    def list_pools(
        self, active: bool | None = None, persistent: bool | None = None
    ) -> list[StoragePool]:
        """Storage pools matching the filters."""
        refs: Sequence[PoolRef] = self._call("pool.list", active=active, persistent=persistent)
        return [StoragePool(self, ref) for ref in refs]

    def lookup_pool(self, name: str | None = None, *, uuid: str | None = None) -> StoragePool:
        """Find a storage pool by name or UUID.

        :raises NoStoragePoolError: nothing matches.
        """
        if (name is None) == (uuid is None):
            raise InvalidArgError("lookup_pool takes exactly one of name or uuid")
        if name is not None:
            _check_name(name, "pool")
            return StoragePool(self, self._call("pool.lookup_by_name", name=name))
        return StoragePool(self, self._call("pool.lookup_by_uuid", uuid=_check_uuid(str(uuid))))

    def _pool_config(self, xml: str | bytes | PoolConfig) -> PoolConfig:
        config = xml if isinstance(xml, PoolConfig) else _xml().parse_pool(xml)
        return _with_uuid(config)

    def define_pool(self, xml: str | bytes | PoolConfig) -> StoragePool:
        """Define a persistent, inactive storage pool."""
        return StoragePool(self, self._call("pool.define", config=self._pool_config(xml)))

    def create_pool(self, xml: str | bytes | PoolConfig) -> StoragePool:
        """Create and start a transient storage pool."""
        return StoragePool(self, self._call("pool.create", config=self._pool_config(xml)))

    def lookup_volume(self, key: str | None = None, *, path: str | None = None) -> StorageVolume:
        """Find a volume by its key or its path.

        :raises NoStorageVolError: nothing matches.
        """
        if (key is None) == (path is None):
            raise InvalidArgError("lookup_volume takes exactly one of key or path")
        if key is not None:
            ref = self._call("volume.lookup_by_key", key=key)
        else:
            ref = self._call("volume.lookup_by_path", path=path)
        return StorageVolume(self, ref)

    # -- events ----------------------------------------------------------------

    def events(
        self,
        callback: Callable[[Event], None] | None = None,
        *,
        kinds: Iterable[EventKind | str] | None = None,
        names: Iterable[str] | None = None,
    ) -> Subscription:
        """Subscribe to lifecycle events.

        With *callback*, it is called for each event (from the thread that
        caused it, or the driver's watcher thread). Without, iterate over the
        returned :class:`~virtplug.events.Subscription` or call its ``get()``.

        :param kinds: only these kinds (``"domain"``, ``"network"``, ``"pool"``).
        :param names: only events about objects with these names.
        """
        if self._closed:
            raise InvalidConnectionError(f"connection to {self.uri} is closed")
        return self._d.bus.subscribe(callback, kinds=kinds, names=names)


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidArgError(f"{what} name must be a non-empty string, not {name!r}")
    if len(name) > 255 or "/" in name or "\x00" in name or name in (".", ".."):
        raise InvalidArgError(f"invalid {what} name {name!r}")
    return name


def _check_uuid(value: str) -> str:
    try:
        return normalize_uuid(value)
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidArgError(f"invalid UUID {value!r}") from exc


def _with_uuid(config: _C) -> _C:
    if config.uuid is None:
        return evolve(config, uuid=new_uuid())
    return config


class _Managed:
    """Shared handle behaviour of domains, networks and pools: identity by UUID.

    A handle holds the connection and the object's ref (name and UUID); every
    call passes the object's name to the driver.
    """

    _kind = "object"

    def __init__(self, conn: Connection, ref: DomainRef | NetworkRef | PoolRef) -> None:
        self._conn = conn
        self._ref = ref

    def __repr__(self) -> str:
        return f"<virtplug.{type(self).__name__} {self.name!r} uuid={self.uuid}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._ref.uuid == self._ref.uuid

    def __hash__(self) -> int:
        return hash(self._ref.uuid)

    @property
    def connection(self) -> Connection:
        """The connection this object came from."""
        return self._conn

    @property
    def name(self) -> str:
        """The object's name."""
        return self._ref.name

    @property
    def uuid(self) -> str:
        """The object's UUID."""
        return self._ref.uuid

    def _call(self, op: str, /, **kwargs: Any) -> Any:
        return self._conn._call(op, name=self._ref.name, **kwargs)


class Domain(_Managed):
    """A domain (container). Identity is fixed; state is asked of the driver each time."""

    _ref: DomainRef

    @property
    def id(self) -> int | None:
        """Positive while running (the init PID for containers), ``None`` when off."""
        ref: DomainRef = self._conn._call("domain.lookup_by_name", name=self._ref.name)
        return ref.id

    @property
    def state(self) -> DomainState:
        """The current :class:`~virtplug.models.DomainState`."""
        state, _reason = self._call("domain.state")
        return DomainState(state)

    @property
    def state_reason(self) -> int:
        """The reason code for the current state (per-state libvirt enums)."""
        _state, reason = self._call("domain.state")
        return int(reason)

    def is_active(self) -> bool:
        """True when running, paused or shutting down."""
        return self.state in _ACTIVE_STATES

    def is_persistent(self) -> bool:
        """True for a defined domain, False for a transient one."""
        return self.info().persistent

    def info(self) -> DomainInfo:
        """State, memory, vCPUs, CPU time and persistence."""
        info: DomainInfo = self._call("domain.info")
        return info

    @property
    def config(self) -> DomainConfig:
        """The live configuration (the definition when inactive)."""
        config: DomainConfig = self._call("domain.xml", inactive=False)
        return config

    def xml(self, inactive: bool = False) -> str:
        """The domain as libvirt domain XML (*inactive*: the persistent definition)."""
        config: DomainConfig = self._call("domain.xml", inactive=inactive)
        dom_id = None if inactive else self.id
        return str(_xml().format_domain(config, id=dom_id))

    def start(self) -> None:
        """Boot the domain. :raises OperationInvalidError: already running."""
        self._call("domain.start")

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop gracefully; kill after *timeout* seconds (driver default when ``None``)."""
        if timeout is not None and (isinstance(timeout, bool) or timeout < 0):
            raise InvalidArgError(f"timeout must be a non-negative number, not {timeout!r}")
        self._call("domain.shutdown", timeout=timeout)

    def destroy(self) -> None:
        """Stop immediately."""
        self._call("domain.destroy")

    def reboot(self) -> None:
        """Restart the domain's init."""
        self._call("domain.reboot")

    def suspend(self) -> None:
        """Freeze every process."""
        self._call("domain.suspend")

    def resume(self) -> None:
        """Thaw a paused domain."""
        self._call("domain.resume")

    def undefine(self) -> None:
        """Remove the persistent definition (a running domain becomes transient)."""
        self._call("domain.undefine")

    def set_memory(self, kib: int) -> None:
        """Set current memory in KiB (live when running, and in the definition)."""
        if isinstance(kib, bool) or not isinstance(kib, int) or kib <= 0:
            raise InvalidArgError(f"memory must be a positive number of KiB, not {kib!r}")
        self._call("domain.set_memory", kib=kib)

    def set_vcpus(self, count: int) -> None:
        """Set the vCPU count."""
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise InvalidArgError(f"vcpu count must be a positive integer, not {count!r}")
        self._call("domain.set_vcpus", count=count)

    @property
    def autostart(self) -> bool:
        """Whether the domain starts with the backend."""
        return bool(self._call("domain.get_autostart"))

    @autostart.setter
    def autostart(self, value: bool) -> None:
        self._call("domain.set_autostart", autostart=bool(value))

    def attach_device(self, xml: str | bytes | DeviceConfig) -> None:
        """Attach an ``<interface>`` or ``<filesystem>`` device."""
        device = xml if not isinstance(xml, str | bytes) else _xml().parse_device(xml)
        self._call("domain.attach_device", device=device)

    def detach_device(self, xml: str | bytes | DeviceConfig) -> None:
        """Detach a device matching the given one."""
        device = xml if not isinstance(xml, str | bytes) else _xml().parse_device(xml)
        self._call("domain.detach_device", device=device)

    def stats(self) -> DomainStats:
        """CPU time and memory use."""
        stats: DomainStats = self._call("domain.stats")
        return stats

    def exec(self, argv: Sequence[str], timeout: float | None = None) -> ExecResult:
        """Run *argv* inside the running domain; return exit code, stdout and stderr."""
        if isinstance(argv, str) or not argv or not all(isinstance(a, str) for a in argv):
            raise InvalidArgError("argv must be a non-empty sequence of strings")
        result: ExecResult = self._call("domain.exec", argv=tuple(argv), timeout=timeout)
        return result

    def create_snapshot(self, xml: str | bytes | SnapshotConfig | None = None) -> Snapshot:
        """Take a snapshot (``<domainsnapshot>`` XML, a config, or ``None`` for defaults)."""
        if xml is None:
            snap = SnapshotConfig()
        elif isinstance(xml, SnapshotConfig):
            snap = xml
        else:
            snap = _xml().parse_snapshot(xml)
        info: SnapshotInfo = self._call("domain.snapshot_create", snapshot=snap)
        return Snapshot(self, info)

    def list_snapshots(self) -> list[Snapshot]:
        """Snapshots, oldest first."""
        infos: Sequence[SnapshotInfo] = self._call("domain.snapshot_list")
        return [Snapshot(self, info) for info in infos]

    def lookup_snapshot(self, name: str) -> Snapshot:
        """One snapshot by name. :raises NoDomainSnapshotError: no such snapshot."""
        _check_name(name, "snapshot")
        info: SnapshotInfo = self._call("domain.snapshot_lookup", snapshot=name)
        return Snapshot(self, info)


class Snapshot:
    """A domain snapshot."""

    def __init__(self, domain: Domain, info: SnapshotInfo) -> None:
        self.domain = domain
        self.info = info

    def __repr__(self) -> str:
        return f"<virtplug.Snapshot {self.name!r} of {self.domain.name!r}>"

    @property
    def name(self) -> str:
        """The snapshot's name."""
        return self.info.name

    def xml(self) -> str:
        """Libvirt ``<domainsnapshot>`` XML."""
        return str(_xml().format_snapshot(self.info))

    def revert(self) -> None:
        """Return the domain to this snapshot's configuration and state."""
        self.domain._call("domain.snapshot_revert", snapshot=self.info.name)

    def delete(self) -> None:
        """Delete the snapshot."""
        self.domain._call("domain.snapshot_delete", snapshot=self.info.name)


class Network(_Managed):
    """A virtual network."""

    _ref: NetworkRef

    def info(self) -> NetworkInfo:
        """Active, persistent, autostart, bridge."""
        info: NetworkInfo = self._call("network.info")
        return info

    def is_active(self) -> bool:
        """True when active."""
        return self.info().active

    def is_persistent(self) -> bool:
        """True when defined (not transient)."""
        return self.info().persistent

    @property
    def config(self) -> NetworkConfig:
        """The live configuration."""
        config: NetworkConfig = self._call("network.xml", inactive=False)
        return config

    def xml(self, inactive: bool = False) -> str:
        """Libvirt network XML."""
        return str(_xml().format_network(self._call("network.xml", inactive=inactive)))

    def start(self) -> None:
        """Activate the network."""
        self._call("network.start")

    def stop(self) -> None:
        """Deactivate the network (libvirt's ``destroy``)."""
        self._call("network.stop")

    def undefine(self) -> None:
        """Remove the definition."""
        self._call("network.undefine")

    @property
    def autostart(self) -> bool:
        """Whether the network starts with the backend."""
        return bool(self._call("network.get_autostart"))

    @autostart.setter
    def autostart(self, value: bool) -> None:
        self._call("network.set_autostart", autostart=bool(value))


class StoragePool(_Managed):
    """A storage pool."""

    _ref: PoolRef

    def info(self) -> PoolInfo:
        """State, capacity, allocation, available (bytes)."""
        info: PoolInfo = self._call("pool.info")
        return info

    def is_active(self) -> bool:
        """True when running."""
        from virtplug.models import PoolState

        return self.info().state == PoolState.RUNNING

    def is_persistent(self) -> bool:
        """True when defined (not transient)."""
        return self.info().persistent

    @property
    def config(self) -> PoolConfig:
        """The configuration with runtime sizes."""
        config: PoolConfig = self._call("pool.xml", inactive=False)
        return config

    def xml(self, inactive: bool = False) -> str:
        """Libvirt storage pool XML."""
        return str(_xml().format_pool(self._call("pool.xml", inactive=inactive)))

    def start(self) -> None:
        """Activate the pool."""
        self._call("pool.start")

    def stop(self) -> None:
        """Deactivate the pool (libvirt's ``destroy``)."""
        self._call("pool.stop")

    def build(self) -> None:
        """Create the pool's underlying storage."""
        self._call("pool.build")

    def delete(self) -> None:
        """Delete the pool's underlying storage."""
        self._call("pool.delete")

    def undefine(self) -> None:
        """Remove the definition."""
        self._call("pool.undefine")

    def refresh(self) -> None:
        """Rescan volumes and sizes."""
        self._call("pool.refresh")

    @property
    def autostart(self) -> bool:
        """Whether the pool starts with the backend."""
        return bool(self._call("pool.get_autostart"))

    @autostart.setter
    def autostart(self, value: bool) -> None:
        self._call("pool.set_autostart", autostart=bool(value))

    def list_volumes(self) -> list[StorageVolume]:
        """The pool's volumes."""
        refs: Sequence[VolumeRef] = self._conn._call("volume.list", pool=self._ref.name)
        return [StorageVolume(self._conn, ref) for ref in refs]

    def lookup_volume(self, name: str) -> StorageVolume:
        """One volume by name. :raises NoStorageVolError: no such volume."""
        _check_name(name, "volume")
        ref = self._conn._call("volume.lookup_by_name", pool=self._ref.name, name=name)
        return StorageVolume(self._conn, ref)

    def create_volume(self, xml: str | bytes | VolumeConfig) -> StorageVolume:
        """Create a volume from libvirt ``<volume>`` XML."""
        config = xml if isinstance(xml, VolumeConfig) else _xml().parse_volume(xml)
        ref = self._conn._call("volume.create", pool=self._ref.name, config=config)
        return StorageVolume(self._conn, ref)


class StorageVolume:
    """A storage volume."""

    def __init__(self, conn: Connection, ref: VolumeRef) -> None:
        self._conn = conn
        self._ref = ref

    def __repr__(self) -> str:
        return f"<virtplug.StorageVolume {self.pool}/{self.name}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StorageVolume) and other._ref.key == self._ref.key

    def __hash__(self) -> int:
        return hash(self._ref.key)

    @property
    def name(self) -> str:
        """The volume's name."""
        return self._ref.name

    @property
    def pool(self) -> str:
        """The name of the pool holding it."""
        return self._ref.pool

    @property
    def key(self) -> str:
        """The globally unique key."""
        return self._ref.key

    @property
    def path(self) -> str:
        """The host path."""
        return str(self._conn._call("volume.path", pool=self._ref.pool, name=self._ref.name))

    def _call(self, op: str, /, **kwargs: Any) -> Any:
        return self._conn._call(op, pool=self._ref.pool, name=self._ref.name, **kwargs)

    def info(self) -> VolumeInfo:
        """Type, capacity, allocation (bytes)."""
        info: VolumeInfo = self._call("volume.info")
        return info

    @property
    def config(self) -> VolumeConfig:
        """The configuration with key and path."""
        config: VolumeConfig = self._call("volume.xml")
        return config

    def xml(self) -> str:
        """Libvirt storage volume XML."""
        return str(_xml().format_volume(self._call("volume.xml")))

    def delete(self) -> None:
        """Delete the volume and its content."""
        self._call("volume.delete")

    def clone(self, name: str) -> StorageVolume:
        """Copy this volume to a new one called *name* in the same pool."""
        _check_name(name, "volume")
        return StorageVolume(self._conn, self._call("volume.clone", new_name=name))
