"""``TestDriver``: every virtplug hook, mapped onto the in-memory backend.

The driver is the template for new drivers: each hook is a thin adapter that
finds the connection's backend and calls one backend operation, which raises
:mod:`virtplug.errors` classes with libvirt's messages. Mutating operations pass
the connection handle as *origin*, so the backend can tell other connections
(and, through the state file, other processes) what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from virtplug import hookimpl
from virtplug.errors import InvalidArgError, InvalidConnectionError
from virtplug.models import (
    AuthCallback,
    DeviceConfig,
    DomainConfig,
    DomainInfo,
    DomainRef,
    DomainState,
    DomainStats,
    Event,
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
)
from virtplug.uri import URI
from virtplug_test import _backend
from virtplug_test._backend import Backend

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DOMAIN_TYPES", "TestConnection", "TestDriver", "parse_test_uri"]

#: ``<domain type>`` values the test driver accepts: its own and those of the
#: first-party container drivers, so their XML can be rehearsed here.
DOMAIN_TYPES = ("test", "docker", "lxc")

_VERSION = "0.1.0"
_PARAMS = frozenset({"persist"})
_BOOL = {"1": True, "yes": True, "true": True, "on": True}
_BOOL |= {"0": False, "no": False, "false": False, "off": False}


class TestConnection:
    """The state of one test-driver connection.

    :ivar backend: the shared state it operates on.
    :ivar uri: the URI it was opened with.
    :ivar readonly: opened read-only (enforced by the core).
    :ivar closed: set by ``virtplug_connection_close``.
    """

    __test__ = False  # not a pytest test class
    __slots__ = ("backend", "closed", "readonly", "uri")

    def __init__(self, backend: Backend, uri: URI, readonly: bool, closed: bool = False) -> None:
        self.backend = backend
        self.uri = uri
        self.readonly = readonly
        self.closed = closed

    def __repr__(self) -> str:
        state = f"readonly={self.readonly}, closed={self.closed}"
        return f"TestConnection(uri={self.uri.text!r}, {state})"

    def live(self) -> Backend:
        """The backend, or INVALID_CONN once closed."""
        if self.closed:
            raise InvalidConnectionError(f"connection to {self.uri.text} is closed")
        return self.backend


def parse_test_uri(uri: URI) -> tuple[Path | None, bool]:
    """Validate a ``test://`` URI.

    :returns: the state file path (``None`` for ``test:///default``) and the persist flag.
    :raises InvalidArgError: a host, a transport, an unknown parameter, a relative or
        empty path, or ``persist`` on ``test:///default``.
    """
    if uri.host or uri.transport or uri.port:
        raise InvalidArgError(
            f"test driver URIs are local ('test:///default' or 'test:///ABS/PATH.xml'), "
            f"not {uri.text!r}"
        )
    for key, _value in uri.params:
        if key not in _PARAMS:
            raise InvalidArgError(f"unknown test driver URI parameter '{key}' in {uri.text!r}")
    raw = uri.param("persist")
    if raw is not None and raw.lower() not in _BOOL:
        raise InvalidArgError(f"persist must be 0 or 1, not {raw!r}")
    persist = _BOOL.get((raw or "0").lower(), False)
    if uri.path == "/default":
        if persist:
            raise InvalidArgError("test:///default has no state file to persist to")
        return None, False
    if uri.path in ("", "/") or not uri.path.startswith("/"):
        raise InvalidArgError(
            f"test driver URI {uri.text!r} names no state file "
            f"(use 'test:///default' or 'test:///ABS/PATH.xml')"
        )
    from pathlib import Path  # file-backed state only

    return Path(uri.path), persist


class TestDriver:
    """The reference driver: an in-memory, strict mock hypervisor (URI scheme ``test``)."""

    __test__ = False  # not a pytest test class

    # -- connection ---------------------------------------------------------------

    @hookimpl
    def virtplug_connection_open(
        self, uri: URI, auth: AuthCallback | None, readonly: bool
    ) -> TestConnection:
        """Attach to the shared state the URI names, authenticating when it has users."""
        path, persist = parse_test_uri(uri)
        backend = _backend.acquire(path, persist, may_create=not readonly)
        try:
            backend.authenticate(uri.text, auth)
        except BaseException:
            _backend.release(backend)
            raise
        return TestConnection(backend, uri, readonly)

    @hookimpl
    def virtplug_connection_close(self, conn: TestConnection) -> None:
        """Detach from the shared state (the last connection discards it)."""
        if conn.closed:
            return
        conn.closed = True
        conn.backend.unwatch_all(conn)
        _backend.release(conn.backend)

    @hookimpl
    def virtplug_connection_is_alive(self, conn: TestConnection) -> bool:
        """True until the connection is closed."""
        return not conn.closed

    @hookimpl
    def virtplug_connection_type(self, conn: TestConnection) -> str:
        """``TEST``, as libvirt's test driver."""
        conn.live()
        return "TEST"

    @hookimpl
    def virtplug_connection_version(self, conn: TestConnection) -> str:
        """The test driver's version."""
        conn.live()
        return _VERSION

    @hookimpl
    def virtplug_connection_hostname(self, conn: TestConnection) -> str:
        """The host name of this machine (libvirt's test driver reports the real one too)."""
        conn.live()
        import socket  # lazy: only this hook needs it

        return socket.gethostname()

    @hookimpl
    def virtplug_connection_capabilities(self, conn: TestConnection) -> HostCapabilities:
        """The node's architecture; every first-party domain type; ``exe`` containers."""
        node = conn.live().node_info()
        return HostCapabilities(
            arch=node.model,
            domain_types=DOMAIN_TYPES,
            os_types=("exe",),
            features=("snapshots", "simulated-exec"),
        )

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: TestConnection, emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Deliver changes made by other connections and other processes sharing the state."""
        return conn.live().watch(conn, emit)

    # -- node ---------------------------------------------------------------------

    @hookimpl
    def virtplug_node_info(self, conn: TestConnection) -> NodeInfo:
        """The node of the state (libvirt's test node by default)."""
        return conn.live().node_info()

    @hookimpl
    def virtplug_node_free_memory(self, conn: TestConnection) -> int:
        """Node memory minus what active domains hold, in bytes."""
        return conn.live().free_memory()

    # -- domain ---------------------------------------------------------------------

    @hookimpl
    def virtplug_domain_list(
        self, conn: TestConnection, active: bool | None, persistent: bool | None
    ) -> list[DomainRef]:
        """Domains matching the filters, by name."""
        return conn.live().domain_list(active, persistent)

    @hookimpl
    def virtplug_domain_lookup_by_name(self, conn: TestConnection, name: str) -> DomainRef:
        """A domain by name (NO_DOMAIN when absent)."""
        return conn.live().domain_lookup(name)

    @hookimpl
    def virtplug_domain_lookup_by_uuid(self, conn: TestConnection, uuid: str) -> DomainRef:
        """A domain by UUID (NO_DOMAIN when absent)."""
        return conn.live().domain_lookup_uuid(uuid)

    @hookimpl
    def virtplug_domain_lookup_by_id(self, conn: TestConnection, id: int) -> DomainRef:
        """An active domain by id (NO_DOMAIN when absent)."""
        return conn.live().domain_lookup_id(id)

    @hookimpl
    def virtplug_domain_define(self, conn: TestConnection, config: DomainConfig) -> DomainRef:
        """Define a persistent domain, or update the definition of one with the same UUID."""
        return conn.live().domain_define(conn, config)

    @hookimpl
    def virtplug_domain_create(self, conn: TestConnection, config: DomainConfig) -> DomainRef:
        """Create and boot a transient domain."""
        return conn.live().domain_create(conn, config)

    @hookimpl
    def virtplug_domain_undefine(self, conn: TestConnection, name: str) -> None:
        """Remove a definition; a running domain becomes transient."""
        conn.live().domain_undefine(conn, name)

    @hookimpl
    def virtplug_domain_start(self, conn: TestConnection, name: str) -> None:
        """Boot an inactive domain (RUNNING/BOOTED, a new id)."""
        conn.live().domain_start(conn, name)

    @hookimpl
    def virtplug_domain_shutdown(
        self, conn: TestConnection, name: str, timeout: float | None
    ) -> None:
        """Stop gracefully: the simulated init obeys SIGTERM at once (SHUTOFF/SHUTDOWN)."""
        if timeout is not None and timeout < 0:
            raise InvalidArgError(f"timeout must not be negative, not {timeout}")
        conn.live().domain_shutdown(conn, name)

    @hookimpl
    def virtplug_domain_destroy(self, conn: TestConnection, name: str) -> None:
        """Stop at once (SHUTOFF/DESTROYED)."""
        conn.live().domain_destroy(conn, name)

    @hookimpl
    def virtplug_domain_reboot(self, conn: TestConnection, name: str) -> None:
        """Restart init: RUNNING/BOOTED with a new id."""
        conn.live().domain_reboot(conn, name)

    @hookimpl
    def virtplug_domain_suspend(self, conn: TestConnection, name: str) -> None:
        """Pause (PAUSED/USER); a paused domain stays paused."""
        conn.live().domain_suspend(conn, name)

    @hookimpl
    def virtplug_domain_resume(self, conn: TestConnection, name: str) -> None:
        """Unpause (RUNNING/UNPAUSED)."""
        conn.live().domain_resume(conn, name)

    @hookimpl
    def virtplug_domain_state(self, conn: TestConnection, name: str) -> tuple[DomainState, int]:
        """State and reason."""
        return conn.live().domain_state(name)

    @hookimpl
    def virtplug_domain_info(self, conn: TestConnection, name: str) -> DomainInfo:
        """State, memory, vCPUs, CPU time (growing while RUNNING), persistence."""
        return conn.live().domain_info(name)

    @hookimpl
    def virtplug_domain_xml(self, conn: TestConnection, name: str, inactive: bool) -> DomainConfig:
        """The definition (*inactive*) or the live configuration."""
        return conn.live().domain_xml(name, inactive)

    @hookimpl
    def virtplug_domain_set_memory(self, conn: TestConnection, name: str, kib: int) -> None:
        """Set current memory (INVALID_ARG above the maximum)."""
        conn.live().domain_set_memory(conn, name, kib)

    @hookimpl
    def virtplug_domain_set_vcpus(self, conn: TestConnection, name: str, count: int) -> None:
        """Set the vCPU count (INVALID_ARG outside 1..node CPUs)."""
        conn.live().domain_set_vcpus(conn, name, count)

    @hookimpl
    def virtplug_domain_get_autostart(self, conn: TestConnection, name: str) -> bool:
        """The autostart flag."""
        return conn.live().domain_get_autostart(name)

    @hookimpl
    def virtplug_domain_set_autostart(
        self, conn: TestConnection, name: str, autostart: bool
    ) -> None:
        """Set the autostart flag (refused on transient domains)."""
        conn.live().domain_set_autostart(conn, name, autostart)

    @hookimpl
    def virtplug_domain_attach_device(
        self, conn: TestConnection, name: str, device: DeviceConfig
    ) -> None:
        """Attach an interface, filesystem or console (live and in the definition)."""
        conn.live().domain_attach(conn, name, device)

    @hookimpl
    def virtplug_domain_detach_device(
        self, conn: TestConnection, name: str, device: DeviceConfig
    ) -> None:
        """Detach the matching device ("device not found" otherwise)."""
        conn.live().domain_detach(conn, name, device)

    @hookimpl
    def virtplug_domain_stats(self, conn: TestConnection, name: str) -> DomainStats:
        """CPU time and simulated memory use of an active domain."""
        return conn.live().domain_stats(name)

    @hookimpl
    def virtplug_domain_exec(
        self, conn: TestConnection, name: str, argv: Sequence[str], timeout: float | None
    ) -> ExecResult:
        """Simulate *argv* (see the documented command set in ``virtplug_test._exec``)."""
        return conn.live().domain_exec(name, argv, timeout)

    @hookimpl
    def virtplug_domain_snapshot_create(
        self, conn: TestConnection, name: str, snapshot: SnapshotConfig
    ) -> SnapshotInfo:
        """Capture the live configuration and the state."""
        return conn.live().snapshot_create(conn, name, snapshot)

    @hookimpl
    def virtplug_domain_snapshot_list(self, conn: TestConnection, name: str) -> list[SnapshotInfo]:
        """Snapshots, oldest first."""
        return conn.live().snapshot_list(name)

    @hookimpl
    def virtplug_domain_snapshot_lookup(
        self, conn: TestConnection, name: str, snapshot: str
    ) -> SnapshotInfo:
        """One snapshot (NO_DOMAIN_SNAPSHOT when absent)."""
        return conn.live().snapshot_lookup(name, snapshot)

    @hookimpl
    def virtplug_domain_snapshot_revert(
        self, conn: TestConnection, name: str, snapshot: str
    ) -> None:
        """Restore the snapshot's configuration and state."""
        conn.live().snapshot_revert(conn, name, snapshot)

    @hookimpl
    def virtplug_domain_snapshot_delete(
        self, conn: TestConnection, name: str, snapshot: str
    ) -> None:
        """Delete one snapshot."""
        conn.live().snapshot_delete(conn, name, snapshot)

    # -- network --------------------------------------------------------------------

    @hookimpl
    def virtplug_network_list(
        self, conn: TestConnection, active: bool | None, persistent: bool | None
    ) -> list[NetworkRef]:
        """Networks matching the filters, by name."""
        return conn.live().network_list(active, persistent)

    @hookimpl
    def virtplug_network_lookup_by_name(self, conn: TestConnection, name: str) -> NetworkRef:
        """A network by name (NO_NETWORK when absent)."""
        return conn.live().network_lookup(name)

    @hookimpl
    def virtplug_network_lookup_by_uuid(self, conn: TestConnection, uuid: str) -> NetworkRef:
        """A network by UUID (NO_NETWORK when absent)."""
        return conn.live().network_lookup_uuid(uuid)

    @hookimpl
    def virtplug_network_define(self, conn: TestConnection, config: NetworkConfig) -> NetworkRef:
        """Define a persistent network, or update one with the same UUID."""
        return conn.live().network_define(conn, config)

    @hookimpl
    def virtplug_network_create(self, conn: TestConnection, config: NetworkConfig) -> NetworkRef:
        """Create and start a transient network."""
        return conn.live().network_create(conn, config)

    @hookimpl
    def virtplug_network_undefine(self, conn: TestConnection, name: str) -> None:
        """Remove a definition; an active network becomes transient."""
        conn.live().network_undefine(conn, name)

    @hookimpl
    def virtplug_network_start(self, conn: TestConnection, name: str) -> None:
        """Activate a network."""
        conn.live().network_start(conn, name)

    @hookimpl
    def virtplug_network_stop(self, conn: TestConnection, name: str) -> None:
        """Deactivate a network; a transient one disappears."""
        conn.live().network_stop(conn, name)

    @hookimpl
    def virtplug_network_info(self, conn: TestConnection, name: str) -> NetworkInfo:
        """Active, persistent, autostart, bridge."""
        return conn.live().network_info(name)

    @hookimpl
    def virtplug_network_xml(
        self, conn: TestConnection, name: str, inactive: bool
    ) -> NetworkConfig:
        """The definition (*inactive*) or the live configuration."""
        return conn.live().network_xml(name, inactive)

    @hookimpl
    def virtplug_network_get_autostart(self, conn: TestConnection, name: str) -> bool:
        """The autostart flag."""
        return conn.live().network_get_autostart(name)

    @hookimpl
    def virtplug_network_set_autostart(
        self, conn: TestConnection, name: str, autostart: bool
    ) -> None:
        """Set the autostart flag (refused on transient networks)."""
        conn.live().network_set_autostart(conn, name, autostart)

    # -- storage pool -----------------------------------------------------------------

    @hookimpl
    def virtplug_pool_list(
        self, conn: TestConnection, active: bool | None, persistent: bool | None
    ) -> list[PoolRef]:
        """Pools matching the filters, by name."""
        return conn.live().pool_list(active, persistent)

    @hookimpl
    def virtplug_pool_lookup_by_name(self, conn: TestConnection, name: str) -> PoolRef:
        """A pool by name (NO_STORAGE_POOL when absent)."""
        return conn.live().pool_lookup(name)

    @hookimpl
    def virtplug_pool_lookup_by_uuid(self, conn: TestConnection, uuid: str) -> PoolRef:
        """A pool by UUID (NO_STORAGE_POOL when absent)."""
        return conn.live().pool_lookup_uuid(uuid)

    @hookimpl
    def virtplug_pool_define(self, conn: TestConnection, config: PoolConfig) -> PoolRef:
        """Define a persistent pool, or update one with the same UUID."""
        return conn.live().pool_define(conn, config)

    @hookimpl
    def virtplug_pool_create(self, conn: TestConnection, config: PoolConfig) -> PoolRef:
        """Create and start a transient pool."""
        return conn.live().pool_create(conn, config)

    @hookimpl
    def virtplug_pool_build(self, conn: TestConnection, name: str) -> None:
        """Build an inactive pool (nothing to create in memory)."""
        conn.live().pool_build(conn, name)

    @hookimpl
    def virtplug_pool_start(self, conn: TestConnection, name: str) -> None:
        """Activate a pool."""
        conn.live().pool_start(conn, name)

    @hookimpl
    def virtplug_pool_stop(self, conn: TestConnection, name: str) -> None:
        """Deactivate a pool; a transient one disappears."""
        conn.live().pool_stop(conn, name)

    @hookimpl
    def virtplug_pool_delete(self, conn: TestConnection, name: str) -> None:
        """Delete an inactive, empty pool's storage."""
        conn.live().pool_delete(conn, name)

    @hookimpl
    def virtplug_pool_undefine(self, conn: TestConnection, name: str) -> None:
        """Remove an inactive pool's definition."""
        conn.live().pool_undefine(conn, name)

    @hookimpl
    def virtplug_pool_refresh(self, conn: TestConnection, name: str) -> None:
        """Rescan an active pool."""
        conn.live().pool_refresh(conn, name)

    @hookimpl
    def virtplug_pool_info(self, conn: TestConnection, name: str) -> PoolInfo:
        """State, capacity, allocation, available."""
        return conn.live().pool_info(name)

    @hookimpl
    def virtplug_pool_xml(self, conn: TestConnection, name: str, inactive: bool) -> PoolConfig:
        """The definition (*inactive*) or the live configuration, with sizes."""
        return conn.live().pool_xml(name, inactive)

    @hookimpl
    def virtplug_pool_get_autostart(self, conn: TestConnection, name: str) -> bool:
        """The autostart flag."""
        return conn.live().pool_get_autostart(name)

    @hookimpl
    def virtplug_pool_set_autostart(self, conn: TestConnection, name: str, autostart: bool) -> None:
        """Set the autostart flag (refused on transient pools)."""
        conn.live().pool_set_autostart(conn, name, autostart)

    # -- storage volume -----------------------------------------------------------------

    @hookimpl
    def virtplug_volume_list(self, conn: TestConnection, pool: str) -> list[VolumeRef]:
        """Volumes of an active pool."""
        return conn.live().volume_list(pool)

    @hookimpl
    def virtplug_volume_lookup_by_name(
        self, conn: TestConnection, pool: str, name: str
    ) -> VolumeRef:
        """A volume by pool and name."""
        return conn.live().volume_lookup(pool, name)

    @hookimpl
    def virtplug_volume_lookup_by_key(self, conn: TestConnection, key: str) -> VolumeRef:
        """A volume of an active pool by key."""
        return conn.live().volume_lookup_key(key)

    @hookimpl
    def virtplug_volume_lookup_by_path(self, conn: TestConnection, path: str) -> VolumeRef:
        """A volume of an active pool by path."""
        return conn.live().volume_lookup_path(path)

    @hookimpl
    def virtplug_volume_create(
        self, conn: TestConnection, pool: str, config: VolumeConfig
    ) -> VolumeRef:
        """Create a volume (STORAGE_VOL_EXIST on a taken name; space is checked)."""
        return conn.live().volume_create(conn, pool, config)

    @hookimpl
    def virtplug_volume_clone(
        self, conn: TestConnection, pool: str, name: str, new_name: str
    ) -> VolumeRef:
        """Copy a volume within its pool."""
        return conn.live().volume_clone(conn, pool, name, new_name)

    @hookimpl
    def virtplug_volume_delete(self, conn: TestConnection, pool: str, name: str) -> None:
        """Delete a volume no active domain uses."""
        conn.live().volume_delete(conn, pool, name)

    @hookimpl
    def virtplug_volume_info(self, conn: TestConnection, pool: str, name: str) -> VolumeInfo:
        """Type, capacity, allocation."""
        return conn.live().volume_info(pool, name)

    @hookimpl
    def virtplug_volume_xml(self, conn: TestConnection, pool: str, name: str) -> VolumeConfig:
        """The volume's configuration with key and path."""
        return conn.live().volume_xml(pool, name)

    @hookimpl
    def virtplug_volume_path(self, conn: TestConnection, pool: str, name: str) -> str:
        """The volume's path."""
        return conn.live().volume_path(pool, name)
