"""Driver discovery: stevedore over the ``virtplug.drivers`` entry-point group.

The entry-point name is the URI scheme. A driver that fails to import is a loud,
typed :class:`~virtplug.errors.DriverLoadError` naming its distribution, never a
silent skip. ``VIRTPLUG_DRIVERS=test,docker`` limits which drivers may load
(a debug switch, as datasette's ``DATASETTE_LOAD_PLUGINS``).
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
import threading
from typing import Any

import attrs

from virtplug.errors import DriverLoadError, DriverNotFoundError

__all__ = [
    "DRIVER_GROUP",
    "MIDDLEWARE_GROUP",
    "DriverEntry",
    "installed_drivers",
    "load_driver_class",
    "load_middleware",
    "register_driver",
    "unregister_driver",
]

DRIVER_GROUP = "virtplug.drivers"
MIDDLEWARE_GROUP = "virtplug.middleware"
_LIMIT_ENV = "VIRTPLUG_DRIVERS"

_lock = threading.Lock()
_classes: dict[str, type[Any]] = {}
# Drivers registered in-process (virtplug.testing.register_driver), consulted
# before the entry points: scheme -> (class, entry).
_registered: dict[str, tuple[type[Any], DriverEntry]] = {}


@attrs.frozen
class DriverEntry:
    """An installed driver as its entry point describes it.

    :ivar name: the entry-point name, which is the URI scheme.
    :ivar target: ``module:attribute`` the entry point names.
    :ivar distribution: the distribution that declares it (``None`` if unknown).
    :ivar version: that distribution's version.
    """

    name: str
    target: str
    distribution: str | None
    version: str | None


def _allowed() -> set[str] | None:
    raw = os.environ.get(_LIMIT_ENV, "").strip()
    if not raw:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


_scan: tuple[tuple[str, ...], dict[str, list[importlib.metadata.EntryPoint]]] | None = None


def _all_entry_points() -> dict[str, list[importlib.metadata.EntryPoint]]:
    # One metadata scan per sys.path: each scan reads every installed distribution
    # (~20 ms with a few hundred), and a CLI run would otherwise scan three times
    # (drivers, middleware, the driver lookup).
    global _scan
    key = tuple(sys.path)
    scan = _scan
    if scan is None or scan[0] != key:
        groups: dict[str, list[importlib.metadata.EntryPoint]] = {}
        for dist in importlib.metadata.distributions():
            for ep in dist.entry_points:
                groups.setdefault(ep.group, []).append(ep)
        scan = (key, groups)
        _scan = scan
    return scan[1]


def _entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    seen: dict[str, importlib.metadata.EntryPoint] = {}
    for ep in _all_entry_points().get(group, ()):
        seen.setdefault(ep.name, ep)
    return sorted(seen.values(), key=lambda ep: ep.name)


def _describe(ep: importlib.metadata.EntryPoint) -> DriverEntry:
    dist = getattr(ep, "dist", None)
    return DriverEntry(
        name=ep.name,
        target=ep.value,
        distribution=dist.metadata["Name"] if dist is not None else None,
        version=dist.version if dist is not None else None,
    )


def installed_drivers() -> tuple[DriverEntry, ...]:
    """Every driver installed in this environment (subject to ``VIRTPLUG_DRIVERS``)."""
    allowed = _allowed()
    entries = {ep.name: _describe(ep) for ep in _entry_points(DRIVER_GROUP)}
    with _lock:
        entries.update({name: entry for name, (_cls, entry) in _registered.items()})
    return tuple(entries[name] for name in sorted(entries) if allowed is None or name in allowed)


def register_driver(
    name: str,
    cls: type[Any],
    *,
    distribution: str | None = None,
    version: str | None = None,
) -> DriverEntry:
    """Register *cls* in this process as the driver for URI scheme *name*.

    A testing aid (see :mod:`virtplug.testing`): the driver is opened exactly as
    an installed one, without an entry point. It shadows an installed driver of
    the same name until :func:`unregister_driver`.

    :raises InvalidArgError: *name* is not a valid URI scheme or *cls* not a class.
    """
    from virtplug.errors import InvalidArgError
    from virtplug.uri import _SCHEME_RE

    if not isinstance(cls, type):
        raise InvalidArgError(f"driver must be a class, not {type(cls).__name__}")
    if not _SCHEME_RE.match(name) or "+" in name:
        raise InvalidArgError(f"invalid driver name {name!r} (it becomes the URI scheme)")
    entry = DriverEntry(
        name=name,
        target=f"{cls.__module__}:{cls.__qualname__}",
        distribution=distribution,
        version=version,
    )
    with _lock:
        _registered[name] = (cls, entry)
        _classes.pop(name, None)
    return entry


def unregister_driver(name: str) -> None:
    """Forget a driver registered with :func:`register_driver` (no error if absent)."""
    with _lock:
        _registered.pop(name, None)
        _classes.pop(name, None)


def load_driver_class(name: str) -> tuple[type[Any], DriverEntry]:
    """Import the driver registered for URI scheme *name*.

    :raises DriverNotFoundError: no installed driver has that name (the message
        lists the installed ones).
    :raises DriverLoadError: the driver's module failed to import; the message
        names the distribution.
    """
    entries = {entry.name: entry for entry in installed_drivers()}
    entry = entries.get(name)
    with _lock:
        registered = _registered.get(name)
    if registered is not None and entry is registered[1]:
        return registered
    if entry is None:
        names = ", ".join(sorted(entries)) or "none"
        raise DriverNotFoundError(
            f"Driver '{name}' not found. It is either misspelled or not installed "
            f"(installed drivers: {names}).",
            driver=name,
            installed=tuple(sorted(entries)),
        )
    with _lock:
        cls = _classes.get(name)
        if cls is None:
            cls = _load_with_stevedore(entry)
            _classes[name] = cls
    return cls, entry


def _load_with_stevedore(entry: DriverEntry) -> type[Any]:
    import stevedore  # lazy: keeps `import virtplug` fast
    import stevedore.exception

    failures: list[BaseException] = []

    def on_failure(_mgr: Any, _ep: Any, exc: BaseException) -> None:
        failures.append(exc)

    dist = entry.distribution or "an unknown distribution"
    try:
        mgr = stevedore.DriverManager(
            namespace=DRIVER_GROUP,
            name=entry.name,
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
        )
    except stevedore.exception.NoMatches as exc:
        cause: BaseException = failures[0] if failures else exc
        if not failures:
            # stevedore's entry-point cache can lag behind sys.path changes; the
            # entry point exists (importlib.metadata listed it), so load it directly
            # to either succeed or surface the real import error.
            try:
                direct = _direct_load(entry.name)
            except Exception as direct_exc:
                cause = direct_exc
            else:
                return _require_class(entry, direct)
        raise DriverLoadError(
            f"Driver '{entry.name}' from distribution '{dist}' failed to load "
            f"({entry.target}): {type(cause).__name__}: {cause}",
            driver=entry.name,
            distribution=entry.distribution,
        ) from cause
    except stevedore.exception.MultipleMatches as exc:
        raise DriverLoadError(
            f"Driver '{entry.name}' is declared by more than one distribution: {exc}",
            driver=entry.name,
        ) from exc
    return _require_class(entry, mgr.driver)


def _require_class(entry: DriverEntry, plugin: Any) -> type[Any]:
    if not isinstance(plugin, type):
        raise DriverLoadError(
            f"Driver '{entry.name}' from distribution "
            f"'{entry.distribution or 'an unknown distribution'}' must name a class, "
            f"not {type(plugin).__name__} ({entry.target})",
            driver=entry.name,
            distribution=entry.distribution,
        )
    return plugin


def _direct_load(name: str) -> Any:
    for ep in _entry_points(DRIVER_GROUP):
        if ep.name == name:
            return ep.load()
    raise LookupError(name)


def load_middleware() -> list[tuple[str, Any]]:
    """Load every ``virtplug.middleware`` plugin (hookwrappers only).

    Each entry point names a class (instantiated per connection) or an object.

    :raises DriverLoadError: a middleware failed to import (names its distribution).
    """
    out: list[tuple[str, Any]] = []
    for ep in _entry_points(MIDDLEWARE_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:
            entry = _describe(ep)
            raise DriverLoadError(
                f"Middleware '{ep.name}' from distribution "
                f"'{entry.distribution or 'unknown'}' failed to load: {exc}",
                middleware=ep.name,
                distribution=entry.distribution,
            ) from exc
        out.append((ep.name, obj() if isinstance(obj, type) else obj))
    return out
