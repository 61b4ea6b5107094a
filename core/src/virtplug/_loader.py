"""Driver discovery: stevedore over the ``virtplug.drivers`` entry-point group.

The entry-point name is the URI scheme. A driver that fails to import is a loud,
typed :class:`~virtplug.errors.DriverLoadError` naming its distribution, never a
silent skip. ``VIRTPLUG_DRIVERS=test,docker`` limits which drivers may load
(a debug switch, as datasette's ``DATASETTE_LOAD_PLUGINS``).

Scanning the installed distributions means importing :mod:`importlib.metadata`
(and :mod:`email`) and reading every ``entry_points.txt``: most of a short CLI
run. So the result of a scan, restricted to the ``virtplug.drivers`` and
``virtplug.middleware`` groups, is kept in an *entry-point index*, a small JSON
file in ``$VIRTPLUG_CACHE_DIR`` (default ``$XDG_CACHE_HOME/virtplug``, else
``~/.cache/virtplug``). It is keyed on the interpreter (``sys.version``,
``sys.executable``, ``sys.prefix``), ``sys.path`` and the modification time of
every ``sys.path`` entry, which changes when a distribution is installed into or
removed from that directory (when it moved for another reason, the entry's
``*.dist-info`` / ``*.egg-info`` directories decide). On a hit a driver is
imported straight from the index, without importlib.metadata or stevedore; on a
miss the distributions are scanned as always, the driver goes through stevedore,
and the index is rewritten. A driver the index names that no longer imports triggers a fresh scan
before any error is reported, and so does a scheme the index does not know.
``VIRTPLUG_ENTRY_POINT_INDEX=0`` turns the index off.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from virtplug.errors import DriverLoadError, DriverNotFoundError
from virtplug.records import record

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
_GROUPS = (DRIVER_GROUP, MIDDLEWARE_GROUP)
_LIMIT_ENV = "VIRTPLUG_DRIVERS"
_INDEX_ENV = "VIRTPLUG_ENTRY_POINT_INDEX"
_CACHE_ENV = "VIRTPLUG_CACHE_DIR"
# Bumped whenever the index file's layout changes: old files then simply miss.
_INDEX_FORMAT = 1
# A directory modified this recently may be modified again within the same
# timestamp tick (file systems stamp with a coarse clock), which would leave its
# mtime unchanged; an index keyed on it is not written yet (git's "racy" rule).
_RACY_NS = 2_000_000_000
# Index files kept in the cache directory (one per interpreter and sys.path).
_INDEX_KEEP = 64

_lock = threading.Lock()
_classes: dict[str, type[Any]] = {}
# Drivers registered in-process (virtplug.testing.register_driver), consulted
# before the entry points: scheme -> (class, entry).
_registered: dict[str, tuple[type[Any], DriverEntry]] = {}


@record
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


# --- discovery: the entry-point index, or a full scan -------------------------------


class _Scan:
    """The entry points of :data:`_GROUPS` as seen for one ``sys.path``.

    :ivar path: the ``sys.path`` it was discovered for.
    :ivar groups: group -> every entry point in it, in discovery order (duplicates
        kept, as several distributions may declare one name).
    :ivar from_index: read from the persistent index rather than scanned now (so
        it may be stale).
    """

    __slots__ = ("from_index", "groups", "path")

    def __init__(
        self, path: tuple[str, ...], groups: dict[str, list[DriverEntry]], from_index: bool
    ) -> None:
        self.path = path
        self.groups = groups
        self.from_index = from_index

    def entries(self, group: str) -> list[DriverEntry]:
        """The group's entry points, one per name (the first found), sorted by name."""
        seen: dict[str, DriverEntry] = {}
        for entry in self.groups.get(group, ()):
            seen.setdefault(entry.name, entry)
        return [seen[name] for name in sorted(seen)]

    def ambiguous(self, group: str, name: str) -> bool:
        """Whether several entry points of *group* name *name* with different targets."""
        return len({e.target for e in self.groups.get(group, ()) if e.name == name}) > 1


class _StaleIndexError(Exception):
    """An entry point read from the index did not import: rescan before judging."""


_scan: _Scan | None = None


def _all_entry_points(*, fresh: bool = False) -> _Scan:
    # One discovery per sys.path: a scan reads every installed distribution (~20 ms
    # with a few hundred), and a CLI run would otherwise scan three times (drivers,
    # middleware, the driver lookup). ``fresh`` ignores the index and the memo.
    global _scan
    path = tuple(sys.path)
    scan = _scan
    if fresh or scan is None or scan.path != path:
        scan = _discover(path, use_index=not fresh)
        _scan = scan
    return scan


def _index_enabled() -> bool:
    return os.environ.get(_INDEX_ENV, "").strip().lower() not in {"0", "false", "no", "off"}


def _cache_dir() -> str | None:
    explicit = os.environ.get(_CACHE_ENV, "")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG spec ignores relative values
        base = os.path.join(os.path.expanduser("~"), ".cache")
    # No home directory at all: no index rather than one relative to the cwd.
    return os.path.join(base, "virtplug") if os.path.isabs(base) else None


class _Key:
    """What an index must match: the interpreter, ``sys.path`` and its entries' state.

    :ivar identity: interpreter and absolute ``sys.path``; it names the index file
        and must match exactly.
    :ivar entries: the absolute ``sys.path`` entries.
    :ivar stamps: each entry's ``st_mtime_ns`` now (``None`` if it does not exist).
    :ivar racy_after: stamps above this may still change within their clock tick.
    """

    __slots__ = ("entries", "identity", "racy_after", "stamps")

    def __init__(self, path: tuple[str, ...]) -> None:
        import time

        self.racy_after = time.time_ns() - _RACY_NS
        cwd: str | None = None
        self.entries: list[str] = []
        self.stamps: list[int | None] = []
        for entry in path:
            if not isinstance(entry, str):
                raise TypeError(entry)
            if not os.path.isabs(entry):  # "" and relative entries mean the cwd
                cwd = cwd or os.getcwd()
                entry = os.path.join(cwd, entry) if entry else cwd
            self.entries.append(entry)
            self.stamps.append(_stamp(entry))
        self.identity = [
            _INDEX_FORMAT,
            sys.version,
            sys.implementation.cache_tag,
            sys.executable,
            sys.prefix,
            self.entries,
        ]

    def stored_stamps(self) -> list[int | None]:
        """The stamps to store: a racy one is stored as ``None`` (check the listing)."""
        return [None if s is not None and s > self.racy_after else s for s in self.stamps]


def _stamp(entry: str) -> int | None:
    try:
        return os.stat(entry).st_mtime_ns
    except (OSError, ValueError):
        return None


def _listing(entry: str) -> list[Any] | None:
    """What importlib.metadata finds in a ``sys.path`` entry, cheaply.

    For a directory, its ``*.dist-info`` / ``*.egg-info`` children with their
    ``st_mtime_ns`` (a reinstall recreates them); for a file (a zip), its mtime
    and size; ``None`` if it does not exist.
    """
    import stat

    try:
        st = os.stat(entry)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(st.st_mode):
        return ["file", st.st_mtime_ns, st.st_size]
    rows: list[Any] = []
    try:
        with os.scandir(entry) as children:
            for child in children:
                low = child.name.lower()
                if low.endswith((".dist-info", ".egg-info")) or low == "egg-info":
                    try:
                        rows.append([child.name, child.stat().st_mtime_ns])
                    except OSError:
                        rows.append([child.name, None])
    except OSError:
        pass  # importlib.metadata finds nothing in an unreadable directory either
    rows.sort(key=lambda row: row[0])
    return rows


def _discover(path: tuple[str, ...], *, use_index: bool) -> _Scan:
    index_file: str | None = None
    key: _Key | None = None
    cache = _cache_dir() if _index_enabled() else None
    if cache is not None:
        import json
        import zlib

        try:
            key = _Key(path)
        except (TypeError, OSError):  # a non-str sys.path entry, a deleted cwd
            key = None
        if key is not None:
            digest = zlib.crc32(json.dumps(key.identity).encode("ascii"))
            index_file = os.path.join(cache, f"entry-points-{digest:08x}.json")
            if use_index:
                groups = _read_index(index_file, key)
                if groups is not None:
                    return _Scan(path, groups, from_index=True)
    if index_file is None or key is None:
        return _Scan(path, _scan_distributions(forget=not use_index), from_index=False)
    # Listed before the scan, as the stamps were: a distribution installed meanwhile
    # changes them, so the index written below cannot hide it from the next run.
    listings = [_listing(entry) for entry in key.entries]
    groups = _scan_distributions(forget=not use_index)
    paths = [list(pair) for pair in zip(key.stored_stamps(), listings, strict=True)]
    _write_index(index_file, key, paths, _rows(groups))
    _prune(os.path.dirname(index_file))
    return _Scan(path, groups, from_index=False)


def _scan_distributions(*, forget: bool = False) -> dict[str, list[DriverEntry]]:
    import importlib.metadata  # lazy: the index spares most runs this import

    if forget:
        # importlib.metadata caches directory listings by mtime too: a rescan done
        # because the index looked stale must not trust that cache either. (An
        # instance: 3.11 forgot the classmethod decorator.)
        importlib.metadata.MetadataPathFinder().invalidate_caches()
    groups: dict[str, list[DriverEntry]] = {group: [] for group in _GROUPS}
    for dist in importlib.metadata.distributions():
        described: tuple[str | None, str | None] | None = None
        for ep in dist.entry_points:
            bucket = groups.get(ep.group)
            if bucket is None:
                continue
            if described is None:  # reading METADATA parses it: only when needed
                described = (dist.metadata["Name"], dist.version)
            bucket.append(
                DriverEntry(
                    name=ep.name,
                    target=ep.value,
                    distribution=described[0],
                    version=described[1],
                )
            )
    return groups


def _rows(groups: dict[str, list[DriverEntry]]) -> list[list[str | None]]:
    return [
        [group, e.name, e.target, e.distribution, e.version]
        for group in _GROUPS
        for e in groups.get(group, ())
    ]


def _read_index(index_file: str, key: _Key) -> dict[str, list[DriverEntry]] | None:
    """The groups the index file holds for *key*; ``None`` if absent, stale or corrupt.

    An entry whose stored mtime still matches is taken as unchanged; one whose
    mtime moved (a busy current directory, say) is compared by its listing, and
    the index is refreshed with the new mtimes when only unrelated files changed.
    """
    import json

    try:
        with open(index_file, "rb") as f:
            if hasattr(os, "getuid") and os.fstat(f.fileno()).st_uid != os.getuid():
                return None  # someone else's file: do not import what it names
            data = json.loads(f.read())
        if data["identity"] != key.identity:
            return None
        paths = data["paths"]
        rows = data["entry_points"]
        if len(paths) != len(key.entries):
            return None
        refresh = False
        for entry, (stored, listing), stamp in zip(key.entries, paths, key.stamps, strict=True):
            if stored is not None and stored == stamp:
                continue
            if _listing(entry) != listing:
                return None
            refresh = True
        groups: dict[str, list[DriverEntry]] = {group: [] for group in _GROUPS}
        for group, name, target, distribution, version in rows:
            if not (
                isinstance(group, str)
                and isinstance(name, str)
                and isinstance(target, str)
                and isinstance(distribution, str | None)
                and isinstance(version, str | None)
            ):
                return None
            if group in groups:
                groups[group].append(
                    DriverEntry(
                        name=name, target=target, distribution=distribution, version=version
                    )
                )
    except (OSError, ValueError, LookupError, TypeError):
        return None
    if refresh:
        stamps = key.stored_stamps()
        fresh = [[stamp, listing] for stamp, (_old, listing) in zip(stamps, paths, strict=True)]
        if fresh != paths:
            _write_index(index_file, key, fresh, rows)
    return groups


def _write_index(index_file: str, key: _Key, paths: list[Any], rows: list[Any]) -> None:
    """Replace the index file atomically; a failure only costs the next run a scan."""
    import contextlib
    import json

    payload = {"identity": key.identity, "paths": paths, "entry_points": rows}
    data = json.dumps(payload, separators=(",", ":")).encode("ascii")
    tmp = f"{index_file}.{os.getpid()}-{threading.get_ident()}.tmp"
    try:
        os.makedirs(os.path.dirname(index_file), exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, index_file)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        pass  # read-only or full cache directory: run without the index


def _prune(directory: str, keep: int = _INDEX_KEEP) -> None:
    """Keep the *keep* most recently written index files (one per environment)."""
    import contextlib

    found: list[tuple[int, str]] = []
    try:
        with os.scandir(directory) as children:
            for child in children:
                if child.name.startswith("entry-points-") and child.name.endswith(".json"):
                    found.append((child.stat().st_mtime_ns, child.path))
    except OSError:
        return
    found.sort(reverse=True)
    for _mtime, stale in found[keep:]:
        with contextlib.suppress(OSError):
            os.unlink(stale)


# --- the public functions -----------------------------------------------------------


def _installed(scan: _Scan) -> tuple[DriverEntry, ...]:
    allowed = _allowed()
    entries = {entry.name: entry for entry in scan.entries(DRIVER_GROUP)}
    with _lock:
        entries.update({name: entry for name, (_cls, entry) in _registered.items()})
    return tuple(entries[name] for name in sorted(entries) if allowed is None or name in allowed)


def installed_drivers() -> tuple[DriverEntry, ...]:
    """Every driver installed in this environment (subject to ``VIRTPLUG_DRIVERS``)."""
    return _installed(_all_entry_points())


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
    try:
        return _load_driver_class(name, _all_entry_points())
    except _StaleIndexError:
        # The index may predate an install or uninstall it could not see: decide
        # on a fresh scan, which loads through stevedore and reports the real error.
        return _load_driver_class(name, _all_entry_points(fresh=True))


def _load_driver_class(name: str, scan: _Scan) -> tuple[type[Any], DriverEntry]:
    installed = _installed(scan)
    entries = {entry.name: entry for entry in installed}
    entry = entries.get(name)
    with _lock:
        registered = _registered.get(name)
    if registered is not None and entry is registered[1]:
        return registered
    if entry is None:
        allowed = _allowed()
        if scan.from_index and (allowed is None or name in allowed):
            raise _StaleIndexError(name)
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
            if scan.from_index and not scan.ambiguous(DRIVER_GROUP, name):
                cls = _load_from_index(entry)
            else:
                cls = _load_with_stevedore(entry)
            _classes[name] = cls
    return cls, entry


def _load_from_index(entry: DriverEntry) -> type[Any]:
    try:
        plugin = _import_target(entry.target)
    except (ImportError, AttributeError) as exc:
        raise _StaleIndexError(entry.name) from exc
    except Exception as exc:
        raise _load_error(entry, exc) from exc
    return _require_class(entry, plugin)


def _import_target(target: str) -> Any:
    """Import ``module:attr.attr [extras]`` as :meth:`EntryPoint.load` does."""
    import importlib

    module_name, _, attr_path = target.split("[", 1)[0].partition(":")
    obj: Any = importlib.import_module(module_name.strip())
    for attr in filter(None, attr_path.strip().split(".")):
        obj = getattr(obj, attr)
    return obj


def _load_error(entry: DriverEntry, cause: BaseException) -> DriverLoadError:
    dist = entry.distribution or "an unknown distribution"
    return DriverLoadError(
        f"Driver '{entry.name}' from distribution '{dist}' failed to load "
        f"({entry.target}): {type(cause).__name__}: {cause}",
        driver=entry.name,
        distribution=entry.distribution,
    )


def _load_with_stevedore(entry: DriverEntry) -> type[Any]:
    import stevedore  # lazy: keeps `import virtplug` fast
    import stevedore.exception

    failures: list[BaseException] = []

    def on_failure(_mgr: Any, _ep: Any, exc: BaseException) -> None:
        failures.append(exc)

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
                direct = _import_target(entry.target)
            except Exception as direct_exc:
                cause = direct_exc
            else:
                return _require_class(entry, direct)
        raise _load_error(entry, cause) from cause
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


def load_middleware() -> list[tuple[str, Any]]:
    """Load every ``virtplug.middleware`` plugin (hookwrappers only).

    Each entry point names a class (instantiated per connection) or an object.

    :raises DriverLoadError: a middleware failed to import (names its distribution).
    """
    try:
        loaded = _import_middleware(_all_entry_points())
    except _StaleIndexError:
        loaded = _import_middleware(_all_entry_points(fresh=True))
    # Instantiated only once every one imported, so a retry creates none twice.
    return [(name, obj() if isinstance(obj, type) else obj) for name, obj in loaded]


def _import_middleware(scan: _Scan) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for entry in scan.entries(MIDDLEWARE_GROUP):
        try:
            obj = _import_target(entry.target)
        except Exception as exc:
            if scan.from_index and isinstance(exc, ImportError | AttributeError):
                raise _StaleIndexError(entry.name) from exc
            raise DriverLoadError(
                f"Middleware '{entry.name}' from distribution "
                f"'{entry.distribution or 'unknown'}' failed to load: {exc}",
                middleware=entry.name,
                distribution=entry.distribution,
            ) from exc
        out.append((entry.name, obj))
    return out
