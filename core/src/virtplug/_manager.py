"""One pluggy manager per connection: the driver, the core's wrappers, middleware.

The core's cross-cutting behaviour lives here as pluggy hookwrappers around
every hook, never in drivers:

- read-only enforcement (OPERATION_DENIED before the driver is reached);
- error normalisation (anything but a :class:`~virtplug.errors.VirtError`
  escaping a driver becomes INTERNAL_ERROR naming driver and operation);
- lifecycle event emission for successful mutating operations, and holding
  the backend events about an object while an operation of this connection
  changes it (see :mod:`virtplug.events`);
- tracing, when ``VIRTPLUG_TRACE`` is set (every hook call logged with its
  arguments, outcome and duration on the ``virtplug.trace`` logger).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
import types
from collections.abc import Callable, Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from virtplug import hookspecs
from virtplug._loader import DriverEntry, load_middleware
from virtplug._markers import PROJECT, Unsupported, hookimpl
from virtplug.errors import (
    DriverLoadError,
    InternalError,
    OperationDeniedError,
    UnsupportedError,
    VirtError,
)
from virtplug.events import EventBus
from virtplug.models import (
    DomainEventDetail,
    DomainEventType,
    DomainState,
    Event,
    EventKind,
    NetworkEventType,
    PoolEventType,
)
from virtplug.records import record

if TYPE_CHECKING:
    import logging

__all__ = ["EVENTS_BY_OPERATION", "Capability", "CapabilityMap", "Dispatcher", "Status"]

Status = Literal["implemented", "unsupported", "undeclared"]


@record
class Capability:
    """How a driver answers one operation.

    :ivar operation: ``object.verb``.
    :ivar status: ``implemented``, ``unsupported`` (declared, with a reason) or
        ``undeclared`` (neither: a driver defect).
    :ivar reason: the declared reason, for ``unsupported``.
    """

    operation: str
    status: Status
    reason: str | None = None

    @property
    def supported(self) -> bool:
        """True when the driver implements the operation."""
        return self.status == "implemented"


class CapabilityMap(Mapping[str, Capability]):
    """The capability map of one driver: every operation name to a :class:`Capability`."""

    def __init__(self, driver: str, caps: Mapping[str, Capability]) -> None:
        self.driver = driver
        self._caps = dict(caps)

    def __getitem__(self, operation: str) -> Capability:
        return self._caps[operation]

    def __iter__(self) -> Iterator[str]:
        return iter(self._caps)

    def __len__(self) -> int:
        return len(self._caps)

    def with_status(self, status: Status) -> tuple[str, ...]:
        """Operation names whose status is *status*, in hookspec order."""
        return tuple(op for op, cap in self._caps.items() if cap.status == status)

    def to_dict(self) -> dict[str, dict[str, str | None]]:
        """A JSON-ready form: ``{op: {"status": ..., "reason": ...}}``."""
        return {op: {"status": c.status, "reason": c.reason} for op, c in self._caps.items()}

    def __repr__(self) -> str:
        counts = {s: len(self.with_status(s)) for s in ("implemented", "unsupported", "undeclared")}
        return f"CapabilityMap(driver={self.driver!r}, {counts})"


def build_capability_map(name: str, driver: object) -> CapabilityMap:
    """Classify every hookspec for *driver*.

    :raises DriverLoadError: the driver declares an unsupported marker for a
        name that is not a hook (a typo would otherwise hide a defect).
    """
    caps: dict[str, Capability] = {}
    for op in hookspecs.OPERATIONS:
        attr = getattr(driver, hookspecs.hook_name(op), None)
        if isinstance(attr, Unsupported):
            caps[op] = Capability(op, "unsupported", attr.reason)
        elif attr is not None and getattr(attr, PROJECT + "_impl", None) is not None:
            caps[op] = Capability(op, "implemented")
        else:
            caps[op] = Capability(op, "undeclared")
    known = set(hookspecs.HOOK_NAMES)
    for attr_name in dir(type(driver)):
        value = getattr(driver, attr_name, None)
        if isinstance(value, Unsupported) and attr_name not in known:
            raise DriverLoadError(
                f"Driver '{name}' declares {attr_name!r} unsupported, but no such hook exists",
                driver=name,
            )
    return CapabilityMap(name, caps)


# Events the core emits per operation: (kind, type, detail, needs a state change).
_EVENTS: dict[str, tuple[tuple[EventKind, int, int], ...]] = {
    "domain.create": (
        (EventKind.DOMAIN, DomainEventType.STARTED, DomainEventDetail.Started.BOOTED),
    ),
    "domain.undefine": (
        (EventKind.DOMAIN, DomainEventType.UNDEFINED, DomainEventDetail.Undefined.REMOVED),
    ),
    "domain.start": (
        (EventKind.DOMAIN, DomainEventType.STARTED, DomainEventDetail.Started.BOOTED),
    ),
    "domain.shutdown": (
        (EventKind.DOMAIN, DomainEventType.SHUTDOWN, DomainEventDetail.Shutdown.FINISHED),
        (EventKind.DOMAIN, DomainEventType.STOPPED, DomainEventDetail.Stopped.SHUTDOWN),
    ),
    "domain.destroy": (
        (EventKind.DOMAIN, DomainEventType.STOPPED, DomainEventDetail.Stopped.DESTROYED),
    ),
    "domain.suspend": (
        (EventKind.DOMAIN, DomainEventType.SUSPENDED, DomainEventDetail.Suspended.PAUSED),
    ),
    "domain.resume": (
        (EventKind.DOMAIN, DomainEventType.RESUMED, DomainEventDetail.Resumed.UNPAUSED),
    ),
    "domain.snapshot_revert": (
        (EventKind.DOMAIN, DomainEventType.DEFINED, DomainEventDetail.Defined.FROM_SNAPSHOT),
    ),
    "network.define": ((EventKind.NETWORK, NetworkEventType.DEFINED, 0),),
    "network.create": ((EventKind.NETWORK, NetworkEventType.STARTED, 0),),
    "network.undefine": ((EventKind.NETWORK, NetworkEventType.UNDEFINED, 0),),
    "network.start": ((EventKind.NETWORK, NetworkEventType.STARTED, 0),),
    "network.stop": ((EventKind.NETWORK, NetworkEventType.STOPPED, 0),),
    "pool.define": ((EventKind.POOL, PoolEventType.DEFINED, 0),),
    "pool.create": ((EventKind.POOL, PoolEventType.STARTED, 0),),
    "pool.build": ((EventKind.POOL, PoolEventType.CREATED, 0),),
    "pool.start": ((EventKind.POOL, PoolEventType.STARTED, 0),),
    "pool.stop": ((EventKind.POOL, PoolEventType.STOPPED, 0),),
    "pool.delete": ((EventKind.POOL, PoolEventType.DELETED, 0),),
    "pool.undefine": ((EventKind.POOL, PoolEventType.UNDEFINED, 0),),
}


def _type_name(kind: EventKind, value: int) -> str:
    enum_cls: Any = {
        EventKind.DOMAIN: DomainEventType,
        EventKind.NETWORK: NetworkEventType,
        EventKind.POOL: PoolEventType,
    }[kind]
    return str(enum_cls(value).name)


#: The lifecycle events each operation emits when it succeeds, as
#: ``(kind, type name, detail)``; ``domain.define`` emits DEFINED with detail
#: ADDED (0) for a new domain or UPDATED (1) for an existing one. This table is
#: what the conformance suite checks and what docs/concepts/events.md shows.
EVENTS_BY_OPERATION: dict[str, tuple[tuple[str, str, int], ...]] = {
    "domain.define": (("domain", "DEFINED", 0),),
    **{
        op: tuple((k.value, _type_name(k, t), int(d)) for k, t, d in evs)
        for op, evs in _EVENTS.items()
    },
}


def _emits(op: str) -> bool:
    return op in _EVENTS or op == "domain.define"


#: Mutating operations whose object's backend events are held while they run
#: and attributed to them after (:meth:`virtplug.events.EventBus.begin`): every
#: mutating operation on a domain, network or pool except ``domain.exec``, which
#: runs a process inside the domain (possibly for long) without changing it.
_WATCHED = frozenset(
    op
    for op in hookspecs.MUTATING
    if op.split(".", 1)[0] in ("domain", "network", "pool") and op != "domain.exec"
)

# What the core remembers from before a watched operation to after it: the
# object (kind, name) and, for operations that emit events, the snapshot
# :meth:`Dispatcher.snapshot_for_events` took.
_Pending = tuple[tuple[EventKind, str], tuple[str, str, Any] | None]


# Domain operations that are no-ops (no event) when the state does not change.
_STATEFUL = {
    "domain.suspend": DomainState.PAUSED,
}

_LOOKUP_HOOK = {
    EventKind.DOMAIN: "virtplug_domain_lookup_by_name",
    EventKind.NETWORK: "virtplug_network_lookup_by_name",
    EventKind.POOL: "virtplug_pool_lookup_by_name",
}


def _with_spec_signature(
    hook: str, params: list[str], body: Callable[..., Generator[None, Any, Any]]
) -> Callable[..., Generator[None, Any, Any]]:
    """Return a generator function named *hook* whose parameters are exactly *params*.

    pluggy decides which hook arguments a hookimpl receives from the function's
    real parameter list (its code object), so a generic ``*args`` wrapper would
    receive nothing. The forwarder is generated from the hookspec's own parameter
    names (identifiers from this package, never user input) and delegates to
    *body* with ``yield from``, so pluggy's ``send``/``throw`` reach *body*.
    """
    code = _forwarder_code(hook, tuple(params))
    forwarder: Callable[..., Generator[None, Any, Any]] = types.FunctionType(
        code, {"_body": body}, hook
    )
    forwarder.__doc__ = body.__doc__
    return forwarder


@functools.cache
def _spec_params(hook: str) -> tuple[str, ...]:
    """The parameter names of hookspec *hook* (computed once per process)."""
    return tuple(inspect.signature(getattr(hookspecs, hook)).parameters)


@functools.cache
def _forwarder_code(hook: str, params: tuple[str, ...]) -> types.CodeType:
    """The forwarder's code for one hook, made once per process (connections reuse it).

    Forwarders with the same number of parameters share their bytecode, so one
    template per arity is compiled and renamed per hook (``CodeType.replace``):
    compiling all 76 at a CLI start would cost ~3 ms.
    """
    for param in params:
        if not param.isidentifier():  # pragma: no cover - hookspecs are ours
            raise ValueError(f"bad hook parameter name {param!r}")
    return _forwarder_template(len(params)).replace(
        co_varnames=params, co_name=hook, co_qualname=hook
    )


@functools.cache
def _forwarder_template(arity: int) -> types.CodeType:
    names = [f"_{i}" for i in range(arity)]
    args = ", ".join(names)
    packed = f"({args},)" if names else "()"
    source = f"def _forward({args}):\n    return (yield from _body(*{packed}))\n"
    code: types.CodeType = compile(source, "<virtplug hookwrapper>", "exec").co_consts[0]
    return code


_HOOK_PREFIX = PROJECT + "_"
_IMPL_MARK = PROJECT + "_impl"
_ABSENT = object()


class _PluginManager(pluggy.PluginManager):
    """pluggy's manager, discovering hooks by name first.

    pluggy inspects every attribute of every plugin with ``inspect.getattr_static``
    (about 4 ms for a driver with 76 hooks, on each connection). Hooks are named
    ``virtplug_*``, so only those names get pluggy's full treatment; any other
    attribute is probed with plain dictionary lookups, and one that carries the
    hookimpl mark anyway is still handed to pluggy, which reports it as a hook
    without a specification (a load error).
    """

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if name.startswith(_HOOK_PREFIX):
            return super().parse_hookimpl_opts(plugin, name)
        if name.startswith("__") or not _carries_impl_mark(plugin, name):
            return None
        return super().parse_hookimpl_opts(plugin, name)

    def parse_hookspec_opts(self, module_or_class: Any, name: str) -> Any:
        if not name.startswith(_HOOK_PREFIX):
            return None
        return super().parse_hookspec_opts(module_or_class, name)


def _carries_impl_mark(plugin: Any, name: str) -> bool:
    value = getattr(plugin, "__dict__", {}).get(name, _ABSENT)
    if value is _ABSENT:
        for klass in type(plugin).__mro__:
            value = klass.__dict__.get(name, _ABSENT)
            if value is not _ABSENT:
                break
    func = getattr(value, "__func__", value)
    return hasattr(func, _IMPL_MARK)


class _CoreWrappers:
    """The core's hookwrappers, one generated per hookspec."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self._d = dispatcher
        spec_module = hookspecs
        for hook in hookspecs.HOOK_NAMES:
            spec = getattr(spec_module, hook, None)
            if spec is None or not callable(spec):
                continue
            wrapper = self._make(hook, spec)
            setattr(self, hook, wrapper)

    def _make(self, hook: str, spec: Callable[..., Any]) -> Callable[..., Any]:
        op = hookspecs.operation_name(hook)
        params = list(_spec_params(hook))
        mutating = op in hookspecs.MUTATING
        watched = op in _WATCHED
        events = _emits(op)
        d = self._d

        def wrapper(*args: Any) -> Generator[None, Any, Any]:
            pending = d.before(op, mutating, watched, events, params, args)
            try:
                result = yield
            except Exception as exc:
                if pending is not None:
                    d.failed(pending)
                raise d.normalise(op, exc) from exc
            except BaseException:
                if pending is not None:
                    d.failed(pending)
                raise
            if pending is not None:
                d.succeeded(op, pending, result)
            return result

        return hookimpl(wrapper=True)(_with_spec_signature(hook, params, wrapper))


class _Tracer:
    """Logs every hook call when ``VIRTPLUG_TRACE`` is set."""

    def __init__(self, driver: str) -> None:
        self._driver = driver
        for hook in hookspecs.HOOK_NAMES:
            spec = getattr(hookspecs, hook, None)
            if spec is None or not callable(spec):
                continue
            setattr(self, hook, self._make(hook, spec))

    def _make(self, hook: str, spec: Callable[..., Any]) -> Callable[..., Any]:
        params = list(_spec_params(hook))
        driver = self._driver
        trace_log = _ensure_trace_handler()

        def tracer(*args: Any) -> Generator[None, Any, Any]:
            shown = ", ".join(
                f"{k}={v!r}" for k, v in zip(params, args, strict=False) if k != "conn"
            )
            start = time.perf_counter()
            try:
                result = yield
            except BaseException as exc:
                trace_log.debug(
                    "%s %s(%s) raised %r in %.1f us",
                    driver,
                    hook,
                    shown,
                    exc,
                    (time.perf_counter() - start) * 1e6,
                )
                raise
            trace_log.debug(
                "%s %s(%s) -> %r in %.1f us",
                driver,
                hook,
                shown,
                result,
                (time.perf_counter() - start) * 1e6,
            )
            return result

        return hookimpl(wrapper=True, tryfirst=True)(_with_spec_signature(hook, params, tracer))


def _tracing_enabled() -> bool:
    value = os.environ.get("VIRTPLUG_TRACE", "").strip().lower()
    return value not in ("", "0", "no", "false", "off")


class Dispatcher:
    """The plugin manager of one connection and a typed way to call its hooks.

    :ivar name: the driver name (URI scheme).
    :ivar entry: the driver's entry-point description.
    :ivar driver: the driver instance registered with pluggy.
    :ivar capabilities: the driver's capability map.
    """

    def __init__(
        self,
        name: str,
        driver_cls: type[Any],
        entry: DriverEntry | None = None,
        *,
        readonly: bool = False,
        middleware: bool = True,
    ) -> None:
        self.name = name
        self.entry = entry
        self.readonly = readonly
        self.state: Any = None
        dist = (entry.distribution if entry else None) or "unknown distribution"
        pm = _PluginManager(PROJECT)
        pm.add_hookspecs(hookspecs)
        try:
            self.driver = driver_cls()
        except Exception as exc:
            raise DriverLoadError(
                f"Driver '{name}' ({dist}) could not be instantiated: {exc}", driver=name
            ) from exc
        try:
            pm.register(self.driver, name=f"driver:{name}")
            self.capabilities = build_capability_map(name, self.driver)
            self.bus = EventBus(self._start_watcher)
            core = _CoreWrappers(self)
            pm.register(core, name="virtplug.core")
            if _tracing_enabled():
                _ensure_trace_handler()
                pm.register(_Tracer(name), name="virtplug.trace")
            if middleware:
                for mw_name, plugin in load_middleware():
                    _check_middleware(mw_name, plugin)
                    pm.register(plugin, name=f"middleware:{mw_name}")
            pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise DriverLoadError(
                f"Driver '{name}' ({dist}) does not fit the hook contract: {exc}",
                driver=name,
                distribution=entry.distribution if entry else None,
            ) from exc
        self.pm = pm
        self._callers: dict[str, Any] = {
            op: getattr(pm.hook, hookspecs.hook_name(op)) for op in hookspecs.OPERATIONS
        }
        self._fast = self._build_fast_paths(core)

    # -- calling hooks ---------------------------------------------------

    def unsupported(self, op: str) -> UnsupportedError:
        """The NO_SUPPORT error for *op* (declared reason, or undeclared defect)."""
        cap = self.capabilities[op]
        if cap.status == "unsupported":
            msg = f"driver '{self.name}' does not support {op}: {cap.reason}"
        else:
            msg = (
                f"driver '{self.name}' does not support {op}: the operation is not "
                f"implemented (undeclared: a driver defect)"
            )
        return UnsupportedError(msg, driver=self.name, operation=op, status=cap.status)

    def call(self, op: str, /, **kwargs: Any) -> Any:
        """Call the hook for *op* with the connection state and *kwargs*.

        When the manager holds only the driver and the core's wrapper for this
        hook (no middleware, no tracer), the call takes a fast path that runs the
        very same guard code (:meth:`before`, :meth:`normalise`, :meth:`succeeded`,
        :meth:`failed`) around the driver's hook function without pluggy's generic
        multicall; otherwise pluggy runs the full wrapper chain. Event bookkeeping
        happens only while someone is subscribed (``self.bus._subs``).

        :raises UnsupportedError: the driver does not implement *op*.
        """
        fast = self._fast.get(op)
        if fast is None:
            if not self.capabilities[op].supported:
                raise self.unsupported(op)
            return self._callers[op](conn=self.state, **kwargs)
        function, mutating, watched, events = fast
        if mutating:
            if self.readonly:
                raise OperationDeniedError(f"read only access prevents {op}", operation=op)
            if watched and self.bus._subs:
                return self._call_watched(op, function, events, kwargs)
        try:
            return function(conn=self.state, **kwargs)
        except Exception as exc:
            raise self.normalise(op, exc) from exc

    def _call_watched(
        self, op: str, function: Callable[..., Any], events: bool, kwargs: dict[str, Any]
    ) -> Any:
        """The fast path of a watched operation while the bus is active."""
        pending = self.begin(op, events, kwargs)
        try:
            result = function(conn=self.state, **kwargs)
        except Exception as exc:
            if pending is not None:
                self.failed(pending)
            raise self.normalise(op, exc) from exc
        except BaseException:
            if pending is not None:
                self.failed(pending)
            raise
        if pending is not None:
            self.succeeded(op, pending, result)
        return result

    def before(
        self,
        op: str,
        mutating: bool,
        watched: bool,
        events: bool,
        params: list[str],
        args: tuple[Any, ...],
    ) -> _Pending | None:
        """The core's pre-call guard: read-only refusal and event bookkeeping."""
        if mutating and self.readonly:
            raise OperationDeniedError(f"read only access prevents {op}", operation=op)
        if watched and self.bus._subs:
            return self.begin(op, events, dict(zip(params, args, strict=False)))
        return None

    def begin(self, op: str, events: bool, kwargs: dict[str, Any]) -> _Pending | None:
        """Start a watched operation: snapshot for its events, hold its object's backend events.

        Returns ``None`` when the object cannot be named from the arguments
        (then nothing is held and no event is emitted).
        """
        obj = self._object(op, kwargs)
        if obj is None:
            return None
        snapshot = self.snapshot_for_events(op, kwargs) if events else None
        self.bus.begin(*obj)
        return (obj, snapshot)

    def succeeded(self, op: str, pending: _Pending, result: Any) -> None:
        """Emit the API events of a successful watched operation, then end it on the bus."""
        obj, snapshot = pending
        try:
            if snapshot is not None:
                self.emit_for(op, snapshot, result)
        finally:
            self.bus.end(*obj, ok=True)

    def failed(self, pending: _Pending) -> None:
        """End a failed watched operation on the bus (its held backend events go out)."""
        self.bus.end(*pending[0], ok=False)

    def normalise(self, op: str, exc: Exception) -> VirtError:
        """Return *exc* if it is a VirtError, else an INTERNAL_ERROR naming driver and op."""
        if isinstance(exc, VirtError):
            return exc
        return InternalError(
            f"driver '{self.name}' failed in {op}: {type(exc).__name__}: {exc}",
            driver=self.name,
            operation=op,
        )

    def _build_fast_paths(
        self, core: object
    ) -> dict[str, tuple[Callable[..., Any], bool, bool, bool]]:
        fast: dict[str, tuple[Callable[..., Any], bool, bool, bool]] = {}
        for op in hookspecs.OPERATIONS:
            if not self.capabilities[op].supported or op == "connection.open":
                continue
            impls = self._callers[op].get_hookimpls()
            if len(impls) != 2:
                continue
            driver_impls = [i for i in impls if i.plugin is self.driver and not i.wrapper]
            core_impls = [i for i in impls if i.plugin is core and i.wrapper]
            if len(driver_impls) != 1 or len(core_impls) != 1:
                continue
            impl = driver_impls[0]
            spec_args = _spec_params(hookspecs.hook_name(op))
            if tuple(impl.argnames) + tuple(impl.kwargnames) != spec_args:
                continue  # opt-in subset of arguments: let pluggy pick them
            fast[op] = (impl.function, op in hookspecs.MUTATING, op in _WATCHED, _emits(op))
        return fast

    def open(self, **kwargs: Any) -> Any:
        """Call ``virtplug_connection_open`` and keep the state it returns."""
        if not self.capabilities["connection.open"].supported:
            raise self.unsupported("connection.open")
        state = self._callers["connection.open"](**kwargs)
        if state is None:
            raise InternalError(f"driver '{self.name}' returned no connection state")
        self.state = state
        return state

    # -- events ----------------------------------------------------------

    def _start_watcher(self, emit: Callable[[Event], None]) -> Callable[[], None] | None:
        if not self.capabilities["connection.watch_events"].supported:
            return None
        stop = self.call("connection.watch_events", emit=emit)
        return stop if callable(stop) else None

    def _object(self, op: str, kwargs: dict[str, Any]) -> tuple[EventKind, str] | None:
        """The (kind, name) *op* acts on: the config's name for define / create, else ``name``."""
        kind = (
            EventKind(op.split(".", 1)[0])
            if op.split(".", 1)[0] in ("domain", "network", "pool")
            else None
        )
        if kind is None:
            return None
        config = kwargs.get("config")
        name = config.name if config is not None else kwargs.get("name")
        return (kind, name) if isinstance(name, str) else None

    def snapshot_for_events(self, op: str, kwargs: dict[str, Any]) -> tuple[str, str, Any] | None:
        """Capture what event emission needs before the operation runs."""
        obj = self._object(op, kwargs)
        if obj is None:
            return None
        kind, name = obj
        uuid = ""
        existed = False
        config = kwargs.get("config")
        if config is not None and getattr(config, "uuid", None):
            uuid = config.uuid
        try:
            ref = self._callers_raw(_LOOKUP_HOOK[kind], name)
            uuid = uuid or ref.uuid
            existed = True
        except Exception:
            existed = False
        prior: Any = existed
        if op in _STATEFUL:
            try:
                prior = self._callers["domain.state"](conn=self.state, name=name)[0]
            except Exception:
                prior = None
        return (name, uuid, prior)

    def _callers_raw(self, hook: str, name: str) -> Any:
        return getattr(self.pm.hook, hook)(conn=self.state, name=name)

    def emit_for(self, op: str, before: tuple[str, str, Any], result: Any) -> None:
        """Emit the lifecycle events of a successful *op*."""
        name, uuid, prior = before
        uuid = uuid or getattr(result, "uuid", "") or ""
        if op == "domain.define":
            defined = DomainEventDetail.Defined
            detail = defined.UPDATED if prior else defined.ADDED
            self.bus.emit(Event(EventKind.DOMAIN, name, uuid, DomainEventType.DEFINED, detail))
            return
        if op in _STATEFUL and prior == _STATEFUL[op]:
            return  # no change, no event
        for kind, type_, extra in _EVENTS.get(op, ()):
            self.bus.emit(Event(kind, name, uuid, type_, extra))


def _check_middleware(name: str, plugin: object) -> None:
    for attr in dir(plugin):
        if not attr.startswith("virtplug_"):
            continue
        opts = getattr(getattr(plugin, attr), PROJECT + "_impl", None)
        if opts is not None and not (opts.get("wrapper") or opts.get("hookwrapper")):
            raise DriverLoadError(
                f"Middleware '{name}' implements {attr} as a plain hook; middleware may "
                f"only add hookwrappers",
                middleware=name,
            )


def _ensure_trace_handler() -> logging.Logger:
    # logging is imported only when tracing is on: it is 3 ms of every CLI start.
    import logging

    trace_log = logging.getLogger("virtplug.trace")
    if not trace_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("virtplug-trace: %(message)s"))
        trace_log.addHandler(handler)
    trace_log.setLevel(logging.DEBUG)
    return trace_log
