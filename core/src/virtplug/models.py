"""Frozen value objects shared by the core, the drivers and the XML codec.

Every model is a frozen :func:`~virtplug.records.record`; change one with
:func:`~virtplug.records.evolve` (re-exported here).
Collections are tuples. Sizes: memory in KiB (as libvirt's ``<memory>``),
storage in bytes (as libvirt's ``<capacity>``), CPU time in nanoseconds.
Serialisation to and from libvirt XML lives in :mod:`virtplug.xml` only.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Literal

from virtplug.records import evolve, field, record

__all__ = [
    "AuthCallback",
    "ConsoleConfig",
    "CrashedReason",
    "Credentials",
    "DHCPRange",
    "DeviceConfig",
    "DomainConfig",
    "DomainEventDetail",
    "DomainEventType",
    "DomainInfo",
    "DomainRef",
    "DomainState",
    "DomainStats",
    "Event",
    "EventKind",
    "ExecResult",
    "FilesystemConfig",
    "HostCapabilities",
    "IPConfig",
    "InterfaceConfig",
    "NetworkConfig",
    "NetworkEventType",
    "NetworkInfo",
    "NetworkRef",
    "NoStateReason",
    "NodeInfo",
    "OSConfig",
    "PausedReason",
    "PoolConfig",
    "PoolEventType",
    "PoolInfo",
    "PoolRef",
    "PoolState",
    "RunningReason",
    "ShutdownReason",
    "ShutoffReason",
    "SnapshotConfig",
    "SnapshotInfo",
    "VolumeConfig",
    "VolumeInfo",
    "VolumeRef",
    "evolve",
    "new_uuid",
    "normalize_uuid",
]


def new_uuid() -> str:
    """Return a new random RFC 4122 UUID in canonical text form."""
    import uuid  # lazy: uuid imports platform, a cost every CLI run would pay

    return str(uuid.uuid4())


def normalize_uuid(value: str) -> str:
    """Return *value* in canonical lower-case hyphenated form.

    :raises ValueError: if *value* is not a UUID.
    """
    import uuid

    return str(uuid.UUID(value))


# ---------------------------------------------------------------------------
# States and reasons (values equal libvirt's)
# ---------------------------------------------------------------------------


class DomainState(enum.IntEnum):
    """Domain state; values equal libvirt's ``virDomainState``."""

    NOSTATE = 0
    RUNNING = 1
    BLOCKED = 2
    PAUSED = 3
    SHUTDOWN = 4
    SHUTOFF = 5
    CRASHED = 6


class NoStateReason(enum.IntEnum):
    """Reason for NOSTATE (``virDomainNostateReason``)."""

    UNKNOWN = 0


class RunningReason(enum.IntEnum):
    """Reason for RUNNING (``virDomainRunningReason``)."""

    UNKNOWN = 0
    BOOTED = 1
    MIGRATED = 2
    RESTORED = 3
    FROM_SNAPSHOT = 4
    UNPAUSED = 5


class PausedReason(enum.IntEnum):
    """Reason for PAUSED (``virDomainPausedReason``)."""

    UNKNOWN = 0
    USER = 1
    MIGRATION = 2
    SAVE = 3
    DUMP = 4
    IOERROR = 5
    WATCHDOG = 6
    FROM_SNAPSHOT = 7


class ShutdownReason(enum.IntEnum):
    """Reason for SHUTDOWN (``virDomainShutdownReason``)."""

    UNKNOWN = 0
    USER = 1


class ShutoffReason(enum.IntEnum):
    """Reason for SHUTOFF (``virDomainShutoffReason``)."""

    UNKNOWN = 0
    SHUTDOWN = 1
    DESTROYED = 2
    CRASHED = 3
    MIGRATED = 4
    SAVED = 5
    FAILED = 6
    FROM_SNAPSHOT = 7


class CrashedReason(enum.IntEnum):
    """Reason for CRASHED (``virDomainCrashedReason``)."""

    UNKNOWN = 0
    PANICKED = 1


class PoolState(enum.IntEnum):
    """Storage pool state; values equal libvirt's ``virStoragePoolState``."""

    INACTIVE = 0
    BUILDING = 1
    RUNNING = 2
    DEGRADED = 3
    INACCESSIBLE = 4


# ---------------------------------------------------------------------------
# Events (values equal libvirt's lifecycle event enums)
# ---------------------------------------------------------------------------


class EventKind(enum.StrEnum):
    """The kind of object an event is about."""

    DOMAIN = "domain"
    NETWORK = "network"
    POOL = "pool"


class DomainEventType(enum.IntEnum):
    """Domain lifecycle event type (``virDomainEventType``)."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    SUSPENDED = 3
    RESUMED = 4
    STOPPED = 5
    SHUTDOWN = 6
    PMSUSPENDED = 7
    CRASHED = 8


class DomainEventDetail:
    """Detail values per domain event type (libvirt's ``virDomainEvent*DetailType``)."""

    class Defined(enum.IntEnum):
        ADDED = 0
        UPDATED = 1
        RENAMED = 2
        FROM_SNAPSHOT = 3

    class Undefined(enum.IntEnum):
        REMOVED = 0
        RENAMED = 1

    class Started(enum.IntEnum):
        BOOTED = 0
        MIGRATED = 1
        RESTORED = 2
        FROM_SNAPSHOT = 3
        WAKEUP = 4

    class Suspended(enum.IntEnum):
        PAUSED = 0
        MIGRATED = 1
        IOERROR = 2
        WATCHDOG = 3
        RESTORED = 4
        FROM_SNAPSHOT = 5

    class Resumed(enum.IntEnum):
        UNPAUSED = 0
        MIGRATED = 1
        FROM_SNAPSHOT = 2

    class Stopped(enum.IntEnum):
        SHUTDOWN = 0
        DESTROYED = 1
        CRASHED = 2
        MIGRATED = 3
        SAVED = 4
        FAILED = 5
        FROM_SNAPSHOT = 6

    class Shutdown(enum.IntEnum):
        FINISHED = 0


class NetworkEventType(enum.IntEnum):
    """Network lifecycle event type (``virNetworkEventLifecycleType``)."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    STOPPED = 3


class PoolEventType(enum.IntEnum):
    """Storage pool lifecycle event type (``virStoragePoolEventLifecycleType``)."""

    DEFINED = 0
    UNDEFINED = 1
    STARTED = 2
    STOPPED = 3
    CREATED = 4
    DELETED = 5


@record
class Event:
    """One lifecycle event.

    :ivar kind: domain, network or pool.
    :ivar name: the object's name.
    :ivar uuid: the object's UUID ('' when unknown).
    :ivar type: the event type (``DomainEventType``, ``NetworkEventType`` or
        ``PoolEventType`` value).
    :ivar detail: the libvirt detail value for the type (0 when none).
    :ivar source: ``"api"`` for operations made through virtplug, ``"backend"``
        for changes the driver observed in the backend.
    :ivar timestamp: ``time.time()`` when the event was emitted.
    """

    kind: EventKind
    name: str
    uuid: str
    type: int
    detail: int = 0
    source: Literal["api", "backend"] = "api"
    timestamp: float = field(factory=time.time, eq=False)

    @property
    def type_name(self) -> str:
        """The event type's symbolic name, e.g. ``"STARTED"``."""
        enum_cls: type[enum.IntEnum] = {
            EventKind.DOMAIN: DomainEventType,
            EventKind.NETWORK: NetworkEventType,
            EventKind.POOL: PoolEventType,
        }[self.kind]
        return enum_cls(self.type).name


# ---------------------------------------------------------------------------
# Domain configuration (libvirt's container form)
# ---------------------------------------------------------------------------


@record
class OSConfig:
    """``<os>``: the container's init process.

    :ivar type: ``exe`` for containers (libvirt's application container form).
    :ivar init: ``<init>``: path of the program run as PID 1 (``None``: backend default).
    :ivar initargs: ``<initarg>`` elements, in order.
    :ivar initenv: ``<initenv name=...>`` pairs, in order.
    :ivar initdir: ``<initdir>``: working directory of init.
    :ivar inituser: ``<inituser>``: user name or uid init runs as.
    :ivar arch: ``<type arch=...>`` (``None``: host architecture).
    """

    type: str = "exe"
    init: str | None = None
    initargs: tuple[str, ...] = ()
    initenv: tuple[tuple[str, str], ...] = ()
    initdir: str | None = None
    inituser: str | None = None
    arch: str | None = None


@record
class FilesystemConfig:
    """``<filesystem>``: a root filesystem source or a mount.

    :ivar type: ``template`` (``source name``: an image or template name),
        ``mount`` (``source dir``: a host directory), ``file`` (``source file``:
        an image file), ``volume`` (``source pool`` + ``volume``) or ``bind``.
    :ivar source: the name, directory or file (per ``type``); for ``volume``
        the volume name.
    :ivar target: ``target dir``: where it appears inside; ``/`` is the root fs.
    :ivar pool: the storage pool for ``type='volume'``.
    :ivar readonly: ``<readonly/>``.
    :ivar accessmode: ``accessmode`` attribute (``passthrough``, ``mapped``, ...).
    """

    type: str
    source: str
    target: str
    pool: str | None = None
    readonly: bool = False
    accessmode: str | None = None

    @property
    def is_root(self) -> bool:
        """True when this filesystem is the container's root (target ``/``)."""
        return self.target == "/"


@record
class InterfaceConfig:
    """``<interface>``: a network interface.

    :ivar type: ``network`` (source is a virtplug network name), ``bridge``
        (source is a host bridge) or ``ethernet``.
    :ivar source: network or bridge name (``None`` for ``ethernet``).
    :ivar mac: ``<mac address>`` (``None``: driver chooses).
    :ivar target: ``<target dev>``: host-side device name.
    :ivar model: ``<model type>``.
    :ivar ips: ``<ip address prefix>`` pairs assigned inside the guest.
    """

    type: str
    source: str | None = None
    mac: str | None = None
    target: str | None = None
    model: str | None = None
    ips: tuple[tuple[str, int], ...] = ()


@record
class ConsoleConfig:
    """``<console>``: a console device (``type='pty'`` for containers)."""

    type: str = "pty"
    target_type: str | None = None
    target_port: int | None = None


DeviceConfig = FilesystemConfig | InterfaceConfig | ConsoleConfig


@record
class DomainConfig:
    """A domain definition: what ``<domain>`` XML describes.

    :ivar name: unique per connection.
    :ivar uuid: RFC 4122 UUID; ``None`` before define (the core assigns one).
    :ivar type: ``<domain type>``: ``docker``, ``lxc`` or ``test``.
    :ivar memory_kib: ``<memory>``: maximum memory in KiB.
    :ivar current_memory_kib: ``<currentMemory>`` in KiB (``None``: same as max).
    :ivar vcpus: ``<vcpu>``.
    :ivar os: the ``<os>`` block.
    :ivar filesystems: ``<filesystem>`` devices, in document order.
    :ivar interfaces: ``<interface>`` devices, in document order.
    :ivar consoles: ``<console>`` devices.
    :ivar emulator: ``<emulator>`` path, kept for round trips.
    :ivar title: ``<title>``.
    :ivar description: ``<description>``.
    :ivar on_poweroff: ``<on_poweroff>`` action.
    :ivar on_reboot: ``<on_reboot>`` action.
    :ivar on_crash: ``<on_crash>`` action.
    :ivar features: names of the empty elements under ``<features>``.
    :ivar metadata: ``<metadata>`` children kept verbatim as XML strings.
    :ivar unknown: paths of elements the codec does not model, reported
        at parse time (never silently dropped; never written back).
    """

    name: str
    uuid: str | None = None
    type: str = "test"
    memory_kib: int = 65536
    current_memory_kib: int | None = None
    vcpus: int = 1
    os: OSConfig = field(factory=OSConfig)
    filesystems: tuple[FilesystemConfig, ...] = ()
    interfaces: tuple[InterfaceConfig, ...] = ()
    consoles: tuple[ConsoleConfig, ...] = ()
    emulator: str | None = None
    title: str | None = None
    description: str | None = None
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "destroy"
    features: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    unknown: tuple[str, ...] = field(default=(), eq=False)

    @property
    def root(self) -> FilesystemConfig | None:
        """The root filesystem (target ``/``), or ``None``."""
        for fs in self.filesystems:
            if fs.is_root:
                return fs
        return None

    @property
    def effective_memory_kib(self) -> int:
        """Current memory, defaulting to the maximum."""
        return self.current_memory_kib if self.current_memory_kib is not None else self.memory_kib


@record
class DomainRef:
    """A domain's identity as returned by list and lookup hooks.

    :ivar name: the domain name.
    :ivar uuid: its UUID.
    :ivar id: positive while running (the init PID for containers), else ``None``.
    """

    name: str
    uuid: str
    id: int | None = None


@record
class DomainInfo:
    """``virDomainGetInfo`` plus persistence.

    :ivar state: current state.
    :ivar max_memory_kib: maximum memory.
    :ivar memory_kib: current memory (balloon / cgroup limit).
    :ivar vcpus: number of vCPUs.
    :ivar cpu_time_ns: CPU time used, nanoseconds.
    :ivar persistent: True for defined domains, False for transient ones.
    :ivar state_reason: reason code for the state (libvirt's per-state enums).
    """

    state: DomainState
    max_memory_kib: int
    memory_kib: int
    vcpus: int
    cpu_time_ns: int
    persistent: bool = True
    state_reason: int = 0


@record
class DomainStats:
    """Resource usage of a domain (``virDomainListGetStats`` subset).

    :ivar cpu_time_ns: total CPU time, nanoseconds.
    :ivar memory_used_kib: memory in use.
    :ivar memory_limit_kib: memory limit in force (``None``: unlimited).
    :ivar pids: number of processes (``None``: unknown).
    :ivar extra: driver-specific figures (name -> number).
    """

    cpu_time_ns: int
    memory_used_kib: int
    memory_limit_kib: int | None = None
    pids: int | None = None
    extra: tuple[tuple[str, float], ...] = ()


@record
class ExecResult:
    """Result of running a command inside a domain."""

    exit_code: int
    stdout: bytes = b""
    stderr: bytes = b""


@record
class SnapshotConfig:
    """``<domainsnapshot>`` as given to ``create_snapshot``.

    :ivar name: snapshot name (``None``: the driver picks one, e.g. a timestamp).
    :ivar description: free text.
    """

    name: str | None = None
    description: str | None = None


@record
class SnapshotInfo:
    """A stored snapshot.

    :ivar name: snapshot name, unique per domain.
    :ivar domain: the domain's name.
    :ivar creation_time: seconds since the epoch.
    :ivar state: the domain state when the snapshot was taken.
    :ivar description: free text.
    :ivar config: the domain configuration captured with the snapshot.
    """

    name: str
    domain: str
    creation_time: float
    state: DomainState
    description: str | None = None
    config: DomainConfig | None = None


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------


@record
class DHCPRange:
    """``<range start end>`` inside ``<dhcp>``."""

    start: str
    end: str


@record
class IPConfig:
    """``<ip address prefix|netmask>`` of a network, with optional DHCP ranges."""

    address: str
    prefix: int
    family: str = "ipv4"
    dhcp: tuple[DHCPRange, ...] = ()


@record
class NetworkConfig:
    """A network definition (libvirt's ``<network>``).

    :ivar name: unique per connection.
    :ivar uuid: ``None`` before define.
    :ivar bridge: ``<bridge name>`` (``None``: driver chooses).
    :ivar forward: ``<forward mode>``: ``nat``, ``route``, ``bridge``, ``open``
        or ``None`` for an isolated network.
    :ivar ips: ``<ip>`` elements.
    :ivar mtu: ``<mtu size>``.
    :ivar domain: ``<domain name>`` (DNS domain).
    :ivar unknown: unmodelled elements reported at parse time.
    """

    name: str
    uuid: str | None = None
    bridge: str | None = None
    forward: str | None = None
    ips: tuple[IPConfig, ...] = ()
    mtu: int | None = None
    domain: str | None = None
    unknown: tuple[str, ...] = field(default=(), eq=False)


@record
class NetworkRef:
    """A network's identity."""

    name: str
    uuid: str


@record
class NetworkInfo:
    """A network's live facts."""

    active: bool
    persistent: bool
    autostart: bool
    bridge: str | None = None


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------


@record
class PoolConfig:
    """A storage pool definition (libvirt's ``<pool>``).

    :ivar name: unique per connection.
    :ivar uuid: ``None`` before define.
    :ivar type: ``<pool type>``: ``dir``, ``docker``, ``images``, ...
    :ivar target: ``<target><path>``: where the pool lives on the host.
    :ivar source: ``<source><name>`` (backend-specific source, e.g. a volume driver).
    :ivar capacity: bytes, as reported in XML (runtime, not configuration).
    :ivar allocation: bytes in use (runtime).
    :ivar available: bytes free (runtime).
    :ivar unknown: unmodelled elements reported at parse time.
    """

    name: str
    uuid: str | None = None
    type: str = "dir"
    target: str | None = None
    source: str | None = None
    capacity: int = field(default=0, eq=False)
    allocation: int = field(default=0, eq=False)
    available: int = field(default=0, eq=False)
    unknown: tuple[str, ...] = field(default=(), eq=False)


@record
class PoolRef:
    """A storage pool's identity."""

    name: str
    uuid: str


@record
class PoolInfo:
    """``virStoragePoolGetInfo`` plus persistence."""

    state: PoolState
    capacity: int
    allocation: int
    available: int
    persistent: bool = True
    autostart: bool = False


@record
class VolumeConfig:
    """A storage volume definition (libvirt's ``<volume>``).

    :ivar name: unique per pool.
    :ivar capacity: bytes.
    :ivar allocation: bytes actually used (``None``: driver decides; sparse).
    :ivar format: ``<target><format type>``: ``raw``, ``dir``, ``qcow2``, ...
    :ivar type: ``<volume type>``: ``file``, ``dir``, ``block``, ...
    :ivar key: ``<key>`` (runtime: assigned by the driver).
    :ivar path: ``<target><path>`` (runtime).
    :ivar unknown: unmodelled elements reported at parse time.
    """

    name: str
    capacity: int = 0
    allocation: int | None = None
    format: str | None = None
    type: str = "file"
    key: str | None = field(default=None, eq=False)
    path: str | None = field(default=None, eq=False)
    unknown: tuple[str, ...] = field(default=(), eq=False)


@record
class VolumeRef:
    """A storage volume's identity."""

    pool: str
    name: str
    key: str
    path: str


@record
class VolumeInfo:
    """``virStorageVolGetInfo``."""

    type: str
    capacity: int
    allocation: int


# ---------------------------------------------------------------------------
# Node and connection
# ---------------------------------------------------------------------------


@record
class NodeInfo:
    """``virNodeGetInfo``: the host's CPU and memory.

    :ivar model: CPU model / architecture string.
    :ivar memory_kib: total memory, KiB.
    :ivar cpus: active logical CPUs.
    :ivar mhz: CPU frequency (0 when unknown).
    :ivar nodes: NUMA nodes.
    :ivar sockets: sockets per node.
    :ivar cores: cores per socket.
    :ivar threads: threads per core.
    """

    model: str
    memory_kib: int
    cpus: int
    mhz: int = 0
    nodes: int = 1
    sockets: int = 1
    cores: int = 1
    threads: int = 1


@record
class HostCapabilities:
    """What the host and driver can run (``virConnectGetCapabilities`` subset).

    :ivar arch: host architecture.
    :ivar domain_types: ``<domain type>`` values the driver accepts.
    :ivar os_types: ``<os><type>`` values (``exe`` for containers).
    :ivar features: free-form host feature names (``cgroups-v2``, ``overlay2``, ...).
    """

    arch: str
    domain_types: tuple[str, ...]
    os_types: tuple[str, ...] = ("exe",)
    features: tuple[str, ...] = ()


@record
class Credentials:
    """A user name and password given to a driver that authenticates."""

    username: str
    password: str = field(repr=False)


#: A callable the driver calls for credentials; it receives the URI text and
#: returns :class:`Credentials`, or ``None`` to cancel (AUTH_CANCELLED).
AuthCallback = Callable[[str], Credentials | None]


# ---------------------------------------------------------------------------
# Test-driver state file (libvirt's test driver ``<node>`` document)
# ---------------------------------------------------------------------------


@record
class NodeDomain:
    """A domain stored in a test-driver state file.

    :ivar config: the domain definition.
    :ivar state: its run state.
    :ivar persistent: defined (True) or transient (False).
    :ivar autostart: started when the connection opens.
    :ivar snapshots: its snapshots, in creation order.
    :ivar id: its id while active (``None``: not stored; the driver assigns one).
    :ivar reason: the reason code of *state* (``None``: not stored).
    :ivar live: the live configuration of an active domain when it differs from
        *config* (a definition updated while running); ``None``: same as *config*.
    """

    config: DomainConfig
    state: DomainState = DomainState.SHUTOFF
    persistent: bool = True
    autostart: bool = False
    snapshots: tuple[SnapshotInfo, ...] = ()
    id: int | None = None
    reason: int | None = None
    live: DomainConfig | None = None


@record
class NodeNetwork:
    """A network stored in a test-driver state file."""

    config: NetworkConfig
    active: bool = False
    persistent: bool = True
    autostart: bool = False


@record
class NodePool:
    """A storage pool, with its volumes, stored in a test-driver state file."""

    config: PoolConfig
    active: bool = False
    persistent: bool = True
    autostart: bool = False
    volumes: tuple[VolumeConfig, ...] = ()


@record
class NodeDocument:
    """The whole test-driver state file (``<node>``).

    :ivar domains: stored domains.
    :ivar networks: stored networks.
    :ivar pools: stored storage pools with their volumes.
    :ivar users: accounts the driver authenticates against.
    :ivar node: the node's CPU and memory facts (``None``: driver defaults).
    """

    domains: tuple[NodeDomain, ...] = ()
    networks: tuple[NodeNetwork, ...] = ()
    pools: tuple[NodePool, ...] = ()
    users: tuple[Credentials, ...] = ()
    node: NodeInfo | None = None
