"""Driver conformance profiles and the targets the suite runs against.

A driver distribution declares::

    [project.entry-points."virtplug.conformance"]
    <scheme> = "virtplug_<name>.conformance:profile"

``profile(workdir: pathlib.Path) -> dict`` returns plain data (no import of
this package): ``uri``, ``domain_xml`` (``str.format`` template with
``{name}``), ``network_xml`` (``{name}``, ``{bridge}``, ``{octet}``) or None,
``pool_xml`` (``{name}``, ``{path}``) or None, ``volume_xml`` (``{name}``) or
None, ``exec_probe`` (``{"argv": [...], "exit_code": 0, "stdout": "..."}``) or
None, optional ``timeout`` (seconds per operation, default 30) and ``notes``.

Tests may register a profile in-process with :func:`register_profile` (the
suite's own broken drivers do).
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs

import virtplug
from virtplug.errors import VirtError
from virtplug.records import evolve, record
from virtplug.uri import parse_uri

__all__ = [
    "PROFILE_GROUP",
    "Profile",
    "ProfileError",
    "Target",
    "find_profile",
    "register_profile",
    "registered_profile",
    "resolve_targets",
]

PROFILE_GROUP = "virtplug.conformance"
DEFAULT_TIMEOUT = 30.0

ProfileFunc = Callable[[pathlib.Path], Mapping[str, Any]]

_lock = threading.Lock()
_registered: dict[str, ProfileFunc] = {}


class ProfileError(Exception):
    """A driver's profile is missing or malformed."""


@record
class ExecProbe:
    """A command the suite runs in a running domain, and what it must print."""

    argv: tuple[str, ...]
    exit_code: int
    stdout: str


@record
class Profile:
    """A validated conformance profile (see the module docstring)."""

    uri: str
    domain_xml: str
    network_xml: str | None
    pool_xml: str | None
    volume_xml: str | None
    exec_probe: ExecProbe | None
    timeout: float = DEFAULT_TIMEOUT
    notes: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, source: str) -> Profile:
        """Validate plain profile data.

        :raises ProfileError: a key is missing, of the wrong type, or a template
            lacks a placeholder the suite fills in.
        """
        if not isinstance(data, Mapping):
            raise ProfileError(f"{source}: profile() must return a dict, not {type(data).__name__}")
        known = {
            "uri",
            "domain_xml",
            "network_xml",
            "pool_xml",
            "volume_xml",
            "exec_probe",
            "timeout",
            "notes",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProfileError(f"{source}: unknown profile keys {unknown}")

        def text(key: str, *, required: bool, fields: Sequence[str] = ()) -> str | None:
            value = data.get(key)
            if value is None:
                if required:
                    raise ProfileError(f"{source}: profile key {key!r} is required")
                return None
            if not isinstance(value, str) or not value.strip():
                raise ProfileError(f"{source}: profile key {key!r} must be a non-empty string")
            for field in fields:
                if "{" + field + "}" not in value:
                    raise ProfileError(f"{source}: {key} must contain the placeholder {{{field}}}")
            return value

        uri = text("uri", required=True)
        domain_xml = text("domain_xml", required=True, fields=("name",))
        network_xml = text("network_xml", required=False, fields=("name",))
        pool_xml = text("pool_xml", required=False, fields=("name",))
        volume_xml = text("volume_xml", required=False, fields=("name",))
        probe = data.get("exec_probe")
        exec_probe = None
        if probe is not None:
            if not isinstance(probe, Mapping) or not isinstance(probe.get("argv"), list | tuple):
                raise ProfileError(f"{source}: exec_probe must be {{'argv': [...], ...}}")
            argv = tuple(probe["argv"])
            if not argv or not all(isinstance(a, str) for a in argv):
                raise ProfileError(f"{source}: exec_probe.argv must be non-empty strings")
            exit_code = probe.get("exit_code", 0)
            stdout = probe.get("stdout", "")
            if not isinstance(exit_code, int) or not isinstance(stdout, str):
                raise ProfileError(f"{source}: exec_probe exit_code must be int, stdout str")
            exec_probe = ExecProbe(argv, exit_code, stdout)
        timeout = data.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ProfileError(f"{source}: timeout must be a positive number of seconds")
        notes = data.get("notes")
        if notes is not None and not isinstance(notes, str):
            raise ProfileError(f"{source}: notes must be a string")
        if volume_xml is not None and pool_xml is None:
            raise ProfileError(f"{source}: volume_xml needs pool_xml")
        assert uri is not None and domain_xml is not None
        return cls(
            uri=uri,
            domain_xml=domain_xml,
            network_xml=network_xml,
            pool_xml=pool_xml,
            volume_xml=volume_xml,
            exec_probe=exec_probe,
            timeout=float(timeout),
            notes=notes,
        )


def register_profile(driver: str, func: ProfileFunc) -> None:
    """Register a profile function for *driver* in this process (shadows an entry point)."""
    with _lock:
        _registered[driver] = func


def unregister_profile(driver: str) -> None:
    """Forget an in-process profile (no error if absent)."""
    with _lock:
        _registered.pop(driver, None)


@contextmanager
def registered_profile(driver: str, func: ProfileFunc) -> Iterator[None]:
    """Register a profile for the ``with`` block."""
    register_profile(driver, func)
    try:
        yield
    finally:
        unregister_profile(driver)


def find_profile(driver: str) -> tuple[ProfileFunc | None, str]:
    """The profile function for *driver* and where it comes from (``None`` if none)."""
    with _lock:
        func = _registered.get(driver)
    if func is not None:
        return func, f"in-process profile for '{driver}'"
    for ep in importlib.metadata.entry_points(group=PROFILE_GROUP):
        if ep.name == driver:
            loaded = ep.load()
            if not callable(loaded):
                raise ProfileError(
                    f"entry point {PROFILE_GROUP}:{driver} ({ep.value}) is not callable"
                )
            return loaded, f"{PROFILE_GROUP} entry point {ep.value}"
    return None, f"no '{PROFILE_GROUP}' entry point named '{driver}'"


@attrs.define
class Target:
    """One driver under test.

    :ivar label: unique name of the target in this run (the driver name, suffixed
        ``-2``, ``-3`` when one driver is given several URIs).
    :ivar driver: the driver name (URI scheme).
    :ivar uri: the URI the suite connects to.
    :ivar entry: the installed driver's entry-point description (``None``: not installed).
    :ivar profile: the validated profile (``None`` with ``problem`` set).
    :ivar problem: why the driver cannot be certified (no profile, bad profile, ...).
    :ivar workdir: a fresh directory for this target (pool paths, ...).
    """

    label: str
    driver: str
    uri: str
    entry: virtplug.DriverEntry | None
    profile: Profile | None
    problem: str | None
    workdir: pathlib.Path

    @property
    def id(self) -> str:
        """The pytest parameter id."""
        return self.label

    @property
    def timeout(self) -> float:
        """Seconds each driver call may take."""
        return self.profile.timeout if self.profile else DEFAULT_TIMEOUT


def _load(driver: str, workdir: pathlib.Path) -> tuple[Profile | None, str | None]:
    try:
        func, source = find_profile(driver)
        if func is None:
            return None, (
                f"driver '{driver}' has no conformance profile ({source}); it cannot be "
                f'certified. Declare [project.entry-points."{PROFILE_GROUP}"] {driver} = '
                f'"<module>:profile" in its distribution.'
            )
        return Profile.from_mapping(func(workdir), source=source), None
    except ProfileError as exc:
        return None, f"driver '{driver}': {exc}"
    except Exception as exc:  # a third party's profile() may raise anything
        return None, f"driver '{driver}': profile() failed: {type(exc).__name__}: {exc}"


def resolve_targets(
    uris: Sequence[str],
    base_workdir: pathlib.Path,
    *,
    timeout: float | None = None,
    drivers: Sequence[str] = (),
) -> list[Target]:
    """Targets for the given URIs and driver names, or every installed driver when none given.

    With a URI, the profile of that URI's driver is used with the URI overridden;
    a driver name uses its profile's own URI. *timeout* overrides every
    profile's per-call timeout.
    """
    entries = {e.name: e for e in virtplug.installed_drivers()}
    wanted: list[tuple[str, str | None]] = []
    bad_uris: dict[str, str] = {}
    if uris or drivers:
        for text in uris:
            try:
                wanted.append((parse_uri(text).driver, text))
            except VirtError as exc:
                name = text.split(":", 1)[0] or "invalid"
                bad_uris[text] = str(exc)
                wanted.append((name, text))
        wanted += [(name, None) for name in drivers]
    else:
        wanted = [(name, None) for name in sorted(entries)]
    targets: list[Target] = []
    seen: dict[str, int] = {}
    for driver, uri in wanted:
        n = seen[driver] = seen.get(driver, 0) + 1
        label = driver if n == 1 else f"{driver}-{n}"
        workdir = base_workdir / label
        workdir.mkdir(parents=True, exist_ok=True)
        entry = entries.get(driver)
        profile: Profile | None = None
        problem: str | None
        if uri is not None and uri in bad_uris:
            problem = f"invalid URI {uri!r}: {bad_uris[uri]}"
        elif entry is None:
            installed = ", ".join(sorted(entries)) or "none"
            problem = f"driver '{driver}' is not installed (installed: {installed})"
        else:
            profile, problem = _load(driver, workdir)
        if profile is not None:
            if uri is not None:
                profile = evolve(profile, uri=uri)
            if timeout is not None:
                profile = evolve(profile, timeout=float(timeout))
        target = Target(
            label=label,
            driver=driver,
            uri=uri or (profile.uri if profile else f"{driver}:///"),
            entry=entry,
            profile=profile,
            problem=problem,
            workdir=workdir,
        )
        targets.append(target)
    return targets
