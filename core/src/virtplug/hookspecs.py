"""The hook contract between the virtplug core and its drivers.

One hookspec per driver operation, in lifecycle order: connection, node, domain,
network, storage pool, storage volume. Every hook is named
``virtplug_<object>_<verb>``; its operation name (what ``conn.supports()`` takes)
is ``<object>.<verb>``. Every hook is ``firstresult=True`` and receives the
driver's own connection state as ``conn`` (except ``virtplug_connection_open``,
which creates it).

A driver implements a hook with ``@virtplug.hookimpl`` or declares it
unsupported with ``virtplug_x_y = virtplug.unsupported("reason")``. The core
parses and validates all XML, assigns UUIDs, enforces read-only connections and
emits lifecycle events; drivers receive and return the models of
:mod:`virtplug.models` and raise the errors of :mod:`virtplug.errors`.

Arguments are only ever added, never renamed: a driver may accept a subset of a
hook's arguments (pluggy's opt-in arguments).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from virtplug._markers import hookspec

if TYPE_CHECKING:
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

__all__: list[str] = []  # filled in below with every hook name
_HOOKS: list[str] = []

_F = TypeVar("_F", bound=Callable[..., Any])

#: Operation names (``object.verb``) of hooks that change state; read-only
#: connections refuse them with OPERATION_DENIED.
MUTATING: set[str] = set()


def _spec(*, mutating: bool) -> Callable[[_F], _F]:
    def mark(func: _F) -> _F:
        if mutating:
            MUTATING.add(operation_name(func.__name__))
        __all__.append(func.__name__)
        _HOOKS.append(func.__name__)
        return hookspec(firstresult=True)(func)

    return mark


def operation_name(hook_name: str) -> str:
    """Map ``virtplug_domain_snapshot_create`` to ``domain.snapshot_create``."""
    if not hook_name.startswith("virtplug_"):
        raise ValueError(f"not a virtplug hook name: {hook_name!r}")
    obj, _, verb = hook_name[len("virtplug_") :].partition("_")
    return f"{obj}.{verb}"


def hook_name(operation: str) -> str:
    """Map ``domain.snapshot_create`` to ``virtplug_domain_snapshot_create``."""
    obj, sep, verb = operation.partition(".")
    if not sep or not obj or not verb:
        raise ValueError(f"not an operation name: {operation!r} (expected 'object.verb')")
    return f"virtplug_{obj}_{verb}"


# ---------------------------------------------------------------------------
# Connection
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_connection_open(uri: URI, auth: AuthCallback | None, readonly: bool) -> Any:
    """Open a connection to the backend named by *uri* and return the driver's connection state.

    Stops at first non-None result (``firstresult=True``).

    :param uri: the parsed connection URI (``uri.driver`` is this driver's scheme).
    :param auth: callable returning :class:`~virtplug.models.Credentials` for the URI, or ``None``
        when the caller gave none.
    :param readonly: True for a read-only connection (the core enforces it; drivers may open the
        backend read-only).
    :returns: an opaque state object; the core passes it back as ``conn`` to every other hook.
    :raises NoConnectError: the backend is unreachable (the message names the URI)
    :raises AuthFailedError: credentials were refused
    :raises AuthCancelledError: the callback returned ``None``
    :raises InvalidArgError: the URI's path or parameters are not valid for this driver

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_close(conn: Any) -> None:
    """Release everything the connection holds (sockets, watchers, locks).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: nothing.
    :raises: nothing: closing twice must be harmless

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_is_alive(conn: Any) -> bool:
    """Tell whether the backend still answers.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: True when a cheap round trip to the backend succeeded.
    :raises: nothing: a dead backend is ``False``, not an error

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_type(conn: Any) -> str:
    """Name the hypervisor / engine type, e.g. ``Docker``, ``LXC``, ``TEST``.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: the type name.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_version(conn: Any) -> str:
    """Report the backend's version.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: the backend (engine, library) version, e.g. ``26.1.5``.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_hostname(conn: Any) -> str:
    """Report the host name of the machine the backend runs on.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: the host name.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_capabilities(conn: Any) -> HostCapabilities:
    """Describe what the host and driver can run.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: architecture, accepted domain types, os types, host features.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_connection_watch_events(
    conn: Any, emit: Callable[[Event], None]
) -> Callable[[], None]:
    """Start delivering backend lifecycle events (changes made outside this connection).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param emit: thread-safe callable the driver calls with each :class:`~virtplug.models.Event` it
        observes, with ``source='backend'``.
    :returns: a function that stops the watcher; the core calls it on unsubscribe or close.
    :raises UnsupportedError: the backend has no event source (the core still emits events for
        operations made through virtplug)

    Use in driver plugins: The core already emits an event for every successful operation made
    through virtplug; the watcher adds what happened outside (a container that exited, a change
    from another client). Report everything the backend says, own operations included: while an
    operation of this connection changes an object, and for ``virtplug.events.OWN_GRACE``
    seconds after it succeeded, the core folds backend events about that object into the
    operation's own events (they are delivered if it failed), and it drops a backend event that
    repeats one it emitted moments ago for the same object.
    """


# ---------------------------------------------------------------------------
# Node
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_node_info(conn: Any) -> NodeInfo:
    """Describe the host's CPUs and memory.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: CPU model, logical CPUs, memory in KiB, topology.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_node_free_memory(conn: Any) -> int:
    """Report the host's free memory.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :returns: free memory in bytes.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


# ---------------------------------------------------------------------------
# Domain
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_domain_list(
    conn: Any, active: bool | None, persistent: bool | None
) -> Sequence[DomainRef]:
    """List domains, filtered.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param active: True: running or paused only; False: inactive only; None: both.
    :param persistent: True: defined domains only; False: transient only; None: both.
    :returns: matching domains, in a stable order (by name).
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_lookup_by_name(conn: Any, name: str) -> DomainRef:
    """Find a domain by name.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: its identity.
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_lookup_by_uuid(conn: Any, uuid: str) -> DomainRef:
    """Find a domain by UUID.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param uuid: canonical lower-case UUID text.
    :returns: its identity.
    :raises NoDomainError: no domain has that UUID

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_lookup_by_id(conn: Any, id: int) -> DomainRef:
    """Find a running domain by id.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param id: the positive id of a running domain.
    :returns: its identity.
    :raises NoDomainError: no running domain has that id

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_domain_define(conn: Any, config: DomainConfig) -> DomainRef:
    """Define (or update) a persistent domain without starting it.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the parsed, validated configuration; ``config.uuid`` is always set by the core.
    :returns: the defined domain.
    :raises OperationFailedError: another domain has this name with a different UUID ("domain 'x'
        already exists with uuid ...")
    :raises ConfigUnsupportedError: the configuration asks for something the backend cannot do (a
        foreign ``<domain type>``, a missing image)

    Use in driver plugins: Defining an existing name with the same UUID updates its configuration
    (effective at next start when running). Defining the name of a running transient domain makes
    it persistent.
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_create(conn: Any, config: DomainConfig) -> DomainRef:
    """Create and start a transient domain (gone when it stops).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the configuration; ``config.uuid`` is set by the core.
    :returns: the running domain.
    :raises OperationFailedError: a domain with this name already exists
    :raises ConfigUnsupportedError: as for define

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_undefine(conn: Any, name: str) -> None:
    """Remove a domain's persistent definition.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is transient ("cannot undefine transient domain")

    Use in driver plugins: Undefining a running persistent domain makes it transient: it keeps
    running and disappears when it stops.
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_start(conn: Any, name: str) -> None:
    """Boot a defined, inactive domain.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is already running ("domain is already running")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_shutdown(conn: Any, name: str, timeout: float | None) -> None:
    """Ask the domain to stop gracefully (SIGTERM to init), forcing it after *timeout*.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param timeout: seconds to wait before killing; ``None``: the driver's default (10 s).
    :returns: nothing; the domain is SHUTOFF (or gone, when transient) on return.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_destroy(conn: Any, name: str) -> None:
    """Stop the domain immediately (SIGKILL).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_reboot(conn: Any, name: str) -> None:
    """Restart the domain's init.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing; the domain is RUNNING on return.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_suspend(conn: Any, name: str) -> None:
    """Freeze every process of the domain.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing; the domain is PAUSED.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running"); suspending
        a paused domain is a no-op

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_resume(conn: Any, name: str) -> None:
    """Thaw a paused domain.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: nothing; the domain is RUNNING.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not paused ("domain is not paused")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_domain_state(conn: Any, name: str) -> tuple[DomainState, int]:
    """Report the domain's state and the reason for it.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: the state and a reason from the per-state enums (``RunningReason``,
        ``ShutoffReason``, ...).
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_info(conn: Any, name: str) -> DomainInfo:
    """Report state, memory, vCPUs, CPU time and persistence.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: the facts.
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_xml(conn: Any, name: str, inactive: bool) -> DomainConfig:
    """Return the configuration that ``dom.xml()`` serialises.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param inactive: True: the persistent definition (what the next start uses); False: the live
        configuration.
    :returns: the configuration; the core writes the XML.
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_domain_set_memory(conn: Any, name: str, kib: int) -> None:
    """Set the domain's current memory (the cgroup limit for containers).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param kib: new memory in KiB, 1 <= kib <= maximum memory.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises InvalidArgError: *kib* above the maximum memory or not positive

    Use in driver plugins: A running domain changes live and in its persistent definition; an
    inactive one changes its definition.
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_set_vcpus(conn: Any, name: str, count: int) -> None:
    """Set the domain's vCPU count (the CPU quota for containers).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param count: new vCPU count, >= 1.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises InvalidArgError: *count* below 1 or above what the host has

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_domain_get_autostart(conn: Any, name: str) -> bool:
    """Tell whether the domain starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: the autostart flag.
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_domain_set_autostart(conn: Any, name: str, autostart: bool) -> None:
    """Set whether the domain starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param autostart: the new flag.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is transient

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_attach_device(conn: Any, name: str, device: DeviceConfig) -> None:
    """Attach a device to the domain (live when running, and to its definition).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param device: a parsed ``<interface>`` or ``<filesystem>``.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises NoNetworkError: the interface names an unknown network
    :raises OperationFailedError: an equal device is already attached
    :raises ArgumentUnsupportedError: the backend cannot attach this device type (live)

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_detach_device(conn: Any, name: str, device: DeviceConfig) -> None:
    """Detach a device matching *device*.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param device: the device to remove; interfaces match on MAC when given, else on source;
        filesystems on target.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises OperationFailedError: no matching device ("device not found")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_domain_stats(conn: Any, name: str) -> DomainStats:
    """Report the domain's resource usage.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: CPU time, memory use and limit.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running")

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_domain_exec(
    conn: Any, name: str, argv: Sequence[str], timeout: float | None
) -> ExecResult:
    """Run *argv* inside the running domain and wait for it.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param argv: program and arguments (no shell).
    :param timeout: seconds before giving up (``None``: no limit).
    :returns: exit code, stdout and stderr.
    :raises NoDomainError: no domain has that name
    :raises OperationInvalidError: the domain is not running ("domain is not running")
    :raises OperationTimeoutError: the command outran *timeout*

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_snapshot_create(conn: Any, name: str, snapshot: SnapshotConfig) -> SnapshotInfo:
    """Take a snapshot of the domain.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param snapshot: name and description (name ``None``: the driver picks one).
    :returns: the stored snapshot.
    :raises NoDomainError: no domain has that name
    :raises OperationFailedError: a snapshot with that name exists
    :raises OperationInvalidError: the backend needs the domain in another state for this

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_domain_snapshot_list(conn: Any, name: str) -> Sequence[SnapshotInfo]:
    """List the domain's snapshots.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :returns: snapshots, oldest first.
    :raises NoDomainError: no domain has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_domain_snapshot_lookup(conn: Any, name: str, snapshot: str) -> SnapshotInfo:
    """Find one snapshot.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param snapshot: the snapshot's name.
    :returns: the snapshot.
    :raises NoDomainError: no domain has that name
    :raises NoDomainSnapshotError: no snapshot with that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_domain_snapshot_revert(conn: Any, name: str, snapshot: str) -> None:
    """Return the domain to a snapshot's configuration and state.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param snapshot: the snapshot's name.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises NoDomainSnapshotError: no snapshot with that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_domain_snapshot_delete(conn: Any, name: str, snapshot: str) -> None:
    """Delete one snapshot.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the domain's name.
    :param snapshot: the snapshot's name.
    :returns: nothing.
    :raises NoDomainError: no domain has that name
    :raises NoDomainSnapshotError: no snapshot with that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


# ---------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_network_list(
    conn: Any, active: bool | None, persistent: bool | None
) -> Sequence[NetworkRef]:
    """List networks, filtered.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param active: True: active only; False: inactive only; None: both.
    :param persistent: True: defined only; False: transient only; None: both.
    :returns: matching networks, by name.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_network_lookup_by_name(conn: Any, name: str) -> NetworkRef:
    """Find a network by name.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: its identity.
    :raises NoNetworkError: no network has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_network_lookup_by_uuid(conn: Any, uuid: str) -> NetworkRef:
    """Find a network by UUID.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param uuid: canonical UUID text.
    :returns: its identity.
    :raises NoNetworkError: no network has that UUID

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_network_define(conn: Any, config: NetworkConfig) -> NetworkRef:
    """Define a persistent, inactive network.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the configuration; ``uuid`` set by the core.
    :returns: the network.
    :raises OperationFailedError: the name is taken with another UUID
    :raises ConfigUnsupportedError: the backend cannot do what the configuration asks

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_network_create(conn: Any, config: NetworkConfig) -> NetworkRef:
    """Create and start a transient network.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the configuration.
    :returns: the network.
    :raises OperationFailedError: the name is taken
    :raises ConfigUnsupportedError: as for define

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_network_undefine(conn: Any, name: str) -> None:
    """Remove a network's persistent definition.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: nothing.
    :raises NoNetworkError: no network has that name
    :raises OperationInvalidError: the network is transient

    Use in driver plugins: An active persistent network becomes transient and disappears when
    stopped.
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_network_start(conn: Any, name: str) -> None:
    """Activate a defined network.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: nothing.
    :raises NoNetworkError: no network has that name
    :raises OperationInvalidError: network is already active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_network_stop(conn: Any, name: str) -> None:
    """Deactivate a network (libvirt's destroy).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: nothing.
    :raises NoNetworkError: no network has that name
    :raises OperationInvalidError: network is not active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_network_info(conn: Any, name: str) -> NetworkInfo:
    """Report a network's live facts.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: active, persistent, autostart, bridge.
    :raises NoNetworkError: no network has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_network_xml(conn: Any, name: str, inactive: bool) -> NetworkConfig:
    """Return the configuration that ``net.xml()`` serialises.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :param inactive: True: the persistent definition.
    :returns: the configuration.
    :raises NoNetworkError: no network has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_network_get_autostart(conn: Any, name: str) -> bool:
    """Tell whether the network starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :returns: the flag.
    :raises NoNetworkError: no network has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_network_set_autostart(conn: Any, name: str, autostart: bool) -> None:
    """Set whether the network starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the network's name.
    :param autostart: the new flag.
    :returns: nothing.
    :raises NoNetworkError: no network has that name
    :raises OperationInvalidError: the network is transient

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


# ---------------------------------------------------------------------------
# Storage pool
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_pool_list(
    conn: Any, active: bool | None, persistent: bool | None
) -> Sequence[PoolRef]:
    """List storage pools, filtered.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param active: True: active only; False: inactive only; None: both.
    :param persistent: True: defined only; False: transient only; None: both.
    :returns: matching pools, by name.
    :raises NoConnectError: the backend stopped answering

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_pool_lookup_by_name(conn: Any, name: str) -> PoolRef:
    """Find a pool by name.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: its identity.
    :raises NoStoragePoolError: no pool has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_pool_lookup_by_uuid(conn: Any, uuid: str) -> PoolRef:
    """Find a pool by UUID.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param uuid: canonical UUID text.
    :returns: its identity.
    :raises NoStoragePoolError: no pool has that UUID

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_pool_define(conn: Any, config: PoolConfig) -> PoolRef:
    """Define a persistent, inactive pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the configuration; ``uuid`` set by the core.
    :returns: the pool.
    :raises OperationFailedError: the name is taken with another UUID
    :raises ConfigUnsupportedError: unsupported pool type

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_create(conn: Any, config: PoolConfig) -> PoolRef:
    """Create and start a transient pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param config: the configuration.
    :returns: the pool.
    :raises OperationFailedError: the name is taken
    :raises ConfigUnsupportedError: unsupported pool type

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_build(conn: Any, name: str) -> None:
    """Build the pool's underlying storage (e.g. create its directory).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: the pool is active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_start(conn: Any, name: str) -> None:
    """Activate a pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: storage pool is already active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_stop(conn: Any, name: str) -> None:
    """Deactivate a pool (libvirt's destroy).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: storage pool is not active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_delete(conn: Any, name: str) -> None:
    """Delete the pool's underlying storage (the inverse of build).

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: the pool is active
    :raises OperationFailedError: the storage is not empty

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_undefine(conn: Any, name: str) -> None:
    """Remove an inactive pool's definition.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: the pool is active or transient

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_pool_refresh(conn: Any, name: str) -> None:
    """Rescan the pool's volumes and sizes.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: storage pool is not active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_pool_info(conn: Any, name: str) -> PoolInfo:
    """Report state, capacity, allocation and available bytes.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: the facts.
    :raises NoStoragePoolError: no pool has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_pool_xml(conn: Any, name: str, inactive: bool) -> PoolConfig:
    """Return the configuration that ``pool.xml()`` serialises.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :param inactive: True: the persistent definition.
    :returns: the configuration, with runtime sizes filled in.
    :raises NoStoragePoolError: no pool has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_pool_get_autostart(conn: Any, name: str) -> bool:
    """Tell whether the pool starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :returns: the flag.
    :raises NoStoragePoolError: no pool has that name

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_pool_set_autostart(conn: Any, name: str, autostart: bool) -> None:
    """Set whether the pool starts with the backend.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param name: the storage pool's name.
    :param autostart: the new flag.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: the pool is transient

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


# ---------------------------------------------------------------------------
# Storage volume
# ---------------------------------------------------------------------------


@_spec(mutating=False)
def virtplug_volume_list(conn: Any, pool: str) -> Sequence[VolumeRef]:
    """List the volumes of an active pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :returns: volumes, by name.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: storage pool is not active

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_volume_lookup_by_name(conn: Any, pool: str, name: str) -> VolumeRef:
    """Find a volume in a pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :returns: its identity.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_volume_lookup_by_key(conn: Any, key: str) -> VolumeRef:
    """Find a volume by its globally unique key.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param key: the volume key.
    :returns: its identity.
    :raises NoStorageVolError: no volume has that key

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_volume_lookup_by_path(conn: Any, path: str) -> VolumeRef:
    """Find a volume by its host path.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param path: the volume's path.
    :returns: its identity.
    :raises NoStorageVolError: no volume has that path

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=True)
def virtplug_volume_create(conn: Any, pool: str, config: VolumeConfig) -> VolumeRef:
    """Create a volume in an active pool.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param config: name, capacity, format.
    :returns: the volume.
    :raises NoStoragePoolError: no pool has that name
    :raises OperationInvalidError: storage pool is not active
    :raises StorageVolExistsError: a volume with that name exists
    :raises InvalidArgError: bad name or size

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_volume_clone(conn: Any, pool: str, name: str, new_name: str) -> VolumeRef:
    """Create a new volume in the same pool with a copy of another's content.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :param new_name: the clone's name.
    :returns: the clone.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool
    :raises StorageVolExistsError: *new_name* exists

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=True)
def virtplug_volume_delete(conn: Any, pool: str, name: str) -> None:
    """Delete a volume and its content.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :returns: nothing.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool
    :raises ResourceBusyError: the volume is in use

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    Mutating: refused with OPERATION_DENIED on read-only connections (by the core).
    """


@_spec(mutating=False)
def virtplug_volume_info(conn: Any, pool: str, name: str) -> VolumeInfo:
    """Report type, capacity and allocation.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :returns: the facts.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_volume_xml(conn: Any, pool: str, name: str) -> VolumeConfig:
    """Return the configuration that ``vol.xml()`` serialises.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :returns: the configuration with key and path.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


@_spec(mutating=False)
def virtplug_volume_path(conn: Any, pool: str, name: str) -> str:
    """Report the volume's host path.

    Stops at first non-None result (``firstresult=True``).

    :param conn: the driver's connection state, as returned by :func:`virtplug_connection_open`.
    :param pool: the storage pool's name.
    :param name: the volume's name within the pool.
    :returns: the path.
    :raises NoStoragePoolError: no pool has that name
    :raises NoStorageVolError: no such volume in the pool

    Use in driver plugins: implement it with the backend's own call and return core models;
    translate every backend exception (``raise ... from exc``).
    """


#: Every hook name, in the order of this module.
HOOK_NAMES: tuple[str, ...] = tuple(_HOOKS)
#: Every operation name (``object.verb``), in the order of this module.
OPERATIONS: tuple[str, ...] = tuple(operation_name(n) for n in HOOK_NAMES)
__all__ += ["HOOK_NAMES", "MUTATING", "OPERATIONS", "hook_name", "operation_name"]
