"""The suite's view of one driver under test: guarded connections, named objects, cleanup.

:class:`Harness` (one per target and run) opens connections whose every driver
call runs under a deadline and is checked for two-way honesty (an operation
the driver claims to implement must never raise NO_SUPPORT). :class:`Case`
(one per check) creates objects named with the run prefix, in a wanted state,
and removes them last-in-first-out when the check ends, even after a failure.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from typing import Any

import pytest

import virtplug
from virtplug import ErrorCode, VirtError
from virtplug import xml as codec
from virtplug.api import Connection, Domain, Network, StoragePool, StorageVolume
from virtplug.errors import UnsupportedError
from virtplug.models import (
    DomainConfig,
    DomainRef,
    DomainState,
    NetworkConfig,
    NetworkRef,
    PoolConfig,
    PoolRef,
    VolumeRef,
)
from virtplug_conformance._deadline import ConformanceFailure, Deadline
from virtplug_conformance.profiles import Profile, Target

__all__ = [
    "LEFTOVER_PREFIX",
    "MANDATORY",
    "Case",
    "Harness",
    "new_prefix",
]

#: Every object the suite creates starts with this; leftovers are found by it.
LEFTOVER_PREFIX = "vpc-"

#: Operations no driver may declare unsupported.
MANDATORY: tuple[str, ...] = (
    "connection.open",
    "connection.close",
    "domain.list",
    "domain.lookup_by_name",
    "domain.lookup_by_uuid",
    "domain.lookup_by_id",
    "domain.define",
    "domain.undefine",
    "domain.start",
    "domain.destroy",
    "domain.state",
    "domain.xml",
)

_ACTIVE = frozenset({DomainState.RUNNING, DomainState.BLOCKED, DomainState.PAUSED})


def new_prefix() -> str:
    """A fresh run prefix, ``vpc-<6 hex>-``."""
    return f"{LEFTOVER_PREFIX}{secrets.token_hex(3)}-"


def _code(exc: BaseException) -> str:
    if isinstance(exc, VirtError):
        return f"{exc.code.name} ({type(exc).__name__}: {exc.message})"
    return f"{type(exc).__name__}: {exc}"


class Harness:
    """One target for one run: guarded connections and the prefix its objects carry.

    :ivar target: the driver under test.
    :ivar prefix: the run prefix (``vpc-<6 hex>-``).
    :ivar deadline: the per-call deadline keeper.
    :ivar violations: two-way honesty violations, by operation.
    :ivar settle: seconds the event checks wait for late backend events.
    """

    def __init__(self, target: Target, prefix: str, *, settle: float = 0.1) -> None:
        if target.profile is None:
            raise ValueError(f"target {target.label} has no profile: {target.problem}")
        self.target = target
        self.profile: Profile = target.profile
        self.prefix = prefix
        self.settle = settle
        self.deadline = Deadline(target.driver, target.timeout)
        self.violations: dict[str, list[str]] = {}
        self._counter = 0
        self._lock = threading.Lock()
        self._conn: Connection | None = None

    # -- connections ---------------------------------------------------------

    @property
    def conn(self) -> Connection:
        """The shared read-write connection (opened on first use)."""
        if self._conn is None or self._conn.closed:
            self._conn = self.open()
        return self._conn

    def open(self, *, readonly: bool = False) -> Connection:
        """Open a guarded connection to the target's URI."""
        uri = self.target.uri
        conn = self.deadline.run("connection.open", lambda: virtplug.open(uri, readonly=readonly))
        self._guard(conn)
        return conn

    def _guard(self, conn: Connection) -> None:
        dispatcher = conn._d
        original = dispatcher.call
        caps = dispatcher.capabilities

        def call(op: str, /, **kwargs: Any) -> Any:
            try:
                return self.deadline.run(op, lambda: original(op, **kwargs))
            except UnsupportedError as exc:
                if caps[op].supported:
                    msg = (
                        f"two-way honesty: driver '{self.target.driver}' claims {op} "
                        f"(implemented) but it raised NO_SUPPORT: {exc.message}"
                    )
                    with self._lock:
                        self.violations.setdefault(op, []).append(msg)
                    raise ConformanceFailure(msg, operation=op) from exc
                raise
            except VirtError as exc:
                exc.details.setdefault("operation", op)
                raise

        vars(dispatcher)["call"] = call

    def close(self) -> None:
        """Close the shared connection and stop the worker threads."""
        if self._conn is not None and not self._conn.closed:
            conn, self._conn = self._conn, None
            with contextlib.suppress(Exception):  # best effort at the end of a run
                conn.close()
        self.deadline.close()

    # -- capabilities --------------------------------------------------------

    def supports(self, op: str) -> bool:
        """True when the driver implements *op*."""
        return self.conn.capabilities()[op].supported

    def skip_unless(self, *ops: str) -> None:
        """Skip the calling check when an operation it needs is not implemented."""
        caps = self.conn.capabilities()
        for op in ops:
            cap = caps[op]
            if not cap.supported:
                why = cap.reason if cap.status == "unsupported" else "undeclared"
                pytest.skip(f"unsupported: {op}: {why}")

    # -- names ---------------------------------------------------------------

    def next_number(self) -> int:
        """A run-unique counter."""
        with self._lock:
            self._counter += 1
            return self._counter

    def name(self, kind: str) -> str:
        """A fresh prefixed object name, e.g. ``vpc-1a2b3c-dom-7``."""
        return f"{self.prefix}{kind}-{self.next_number()}"

    # -- leftovers -----------------------------------------------------------

    def leftovers(self, prefix: str) -> list[tuple[str, str]]:
        """Objects whose name starts with *prefix*, as ``(kind, name)``, volumes as ``pool/vol``."""
        conn = self.conn
        found: list[tuple[str, str]] = []
        if self.supports("domain.list"):
            found += [("domain", d.name) for d in conn.list_domains() if d.name.startswith(prefix)]
        if self.supports("network.list"):
            found += [
                ("network", n.name) for n in conn.list_networks() if n.name.startswith(prefix)
            ]
        if self.supports("pool.list"):
            pools = conn.list_pools()
            if self.supports("volume.list"):
                for pool in conn.list_pools(active=True):
                    for vol in pool.list_volumes():
                        if vol.name.startswith(prefix):
                            found.append(("volume", f"{pool.name}/{vol.name}"))
            found += [("pool", p.name) for p in pools if p.name.startswith(prefix)]
        return found

    def remove(self, kind: str, name: str) -> None:
        """Remove one object (and what it holds), whatever its state; absent is fine."""
        {
            "domain": self.remove_domain,
            "network": self.remove_network,
            "pool": self.remove_pool,
            "volume": self._remove_volume_path,
        }[kind](name)

    def _remove_volume_path(self, pool_and_name: str) -> None:
        pool, _, name = pool_and_name.partition("/")
        self.remove_volume(pool, name)

    def remove_domain(self, name: str) -> None:
        """Destroy, delete snapshots and undefine a domain, as far as it exists."""
        conn = self.conn
        try:
            dom = conn.lookup_domain(name)
        except VirtError as exc:
            if exc.code == ErrorCode.NO_DOMAIN:
                return
            raise
        if self.supports("domain.snapshot_list") and self.supports("domain.snapshot_delete"):
            for snap in dom.list_snapshots():
                snap.delete()
        if dom.state in _ACTIVE:
            if self.supports("domain.destroy"):
                dom.destroy()
            else:  # a driver that cannot destroy (it fails certification) still gets cleaned
                dom.shutdown(timeout=5.0)
        if name in {d.name for d in conn.list_domains(persistent=True)}:
            dom.undefine()

    def remove_network(self, name: str) -> None:
        """Stop and undefine a network, as far as it exists."""
        conn = self.conn
        if not self.supports("network.lookup_by_name"):
            return
        try:
            net = conn.lookup_network(name)
        except VirtError as exc:
            if exc.code == ErrorCode.NO_NETWORK:
                return
            raise
        if name in {n.name for n in conn.list_networks(active=True)}:
            net.stop()
        if name in {n.name for n in conn.list_networks(persistent=True)}:
            net.undefine()

    def remove_pool(self, name: str) -> None:
        """Delete the prefixed volumes of, stop and undefine a pool, as far as it exists."""
        conn = self.conn
        if not self.supports("pool.lookup_by_name"):
            return
        try:
            pool = conn.lookup_pool(name)
        except VirtError as exc:
            if exc.code == ErrorCode.NO_STORAGE_POOL:
                return
            raise
        active = name in {p.name for p in conn.list_pools(active=True)}
        if active:
            if self.supports("volume.list") and self.supports("volume.delete"):
                for vol in pool.list_volumes():
                    if vol.name.startswith(LEFTOVER_PREFIX):  # never touch others' volumes
                        vol.delete()
            pool.stop()
        if name in {p.name for p in conn.list_pools(persistent=True)}:
            pool.undefine()

    def remove_volume(self, pool: str, name: str) -> None:
        """Delete a volume if its pool is active and it exists."""
        if not (self.supports("volume.lookup_by_name") and self.supports("volume.delete")):
            return
        try:
            vol = StoragePool(self.conn, PoolRef(pool, "")).lookup_volume(name)
        except VirtError as exc:
            if exc.code in (
                ErrorCode.NO_STORAGE_VOL,
                ErrorCode.NO_STORAGE_POOL,
                ErrorCode.OPERATION_INVALID,
            ):
                return
            raise
        vol.delete()

    def clean(self, prefix: str) -> list[str]:
        """Remove every object starting with *prefix* (pools last); return what was removed."""
        removed = []
        order = {"volume": 0, "domain": 1, "network": 2, "pool": 3}
        for kind, name in sorted(self.leftovers(prefix), key=lambda kn: order[kn[0]]):
            self.remove(kind, name)
            removed.append(f"{kind} {name}")
        return removed


class Case:
    """What one check uses: the harness, fresh names, objects in a state, LIFO cleanup."""

    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.profile = harness.profile
        self.target = harness.target
        self._cleanup: list[tuple[str, Callable[[], None]]] = []

    # -- basics ---------------------------------------------------------------

    @property
    def conn(self) -> Connection:
        """The shared read-write connection."""
        return self.harness.conn

    def name(self, kind: str) -> str:
        """A fresh prefixed name."""
        return self.harness.name(kind)

    def require(self, *ops: str) -> None:
        """Skip unless the driver implements every operation in *ops*."""
        self.harness.skip_unless(*ops)

    def require_profile(self, key: str) -> str:
        """Skip unless the profile supplies template *key*; return it."""
        value = getattr(self.profile, key)
        if value is None:
            pytest.skip(f"profile: the driver's profile has no {key}")
        text: str = value
        return text

    def defer(self, what: str, func: Callable[[], None]) -> None:
        """Run *func* when the check ends (last registered runs first)."""
        self._cleanup.append((what, func))

    def open(self, *, readonly: bool = False) -> Connection:
        """A new guarded connection, closed when the check ends."""
        conn = self.harness.open(readonly=readonly)
        self.defer("close connection", conn.close)
        return conn

    def finish(self) -> None:
        """Run the deferred cleanups, last first; raise one error naming every failure."""
        errors = []
        while self._cleanup:
            what, func = self._cleanup.pop()
            try:
                func()
            except BaseException as exc:
                errors.append(f"cleanup '{what}' failed: {_code(exc)}")
        if errors:
            raise ConformanceFailure("; ".join(errors))

    def raises(
        self, code: ErrorCode, func: Callable[[], object], *, op: str, what: str
    ) -> VirtError:
        """Assert *func* raises a :class:`VirtError` with exactly *code*; return it."""
        try:
            func()
        except ConformanceFailure:
            raise
        except VirtError as exc:
            if exc.code != code:
                raise ConformanceFailure(
                    f"{op}: {what}: expected {code.name}, got {_code(exc)}", operation=op
                ) from exc
            return exc
        raise ConformanceFailure(
            f"{op}: {what}: expected {code.name}, but the call succeeded", operation=op
        )

    def check(self, condition: bool, message: str, *, op: str | None = None) -> None:
        """Fail with *message* (attributed to *op*) unless *condition*."""
        if not condition:
            raise ConformanceFailure(message, operation=op)

    # -- domains --------------------------------------------------------------

    def domain_xml(self, name: str, *, extra: str = "") -> str:
        """The profile's domain XML for *name*, with *extra* inserted after ``</name>``."""
        xml = self.profile.domain_xml.format(name=name)
        if extra:
            xml = xml.replace("</name>", "</name>" + extra, 1)
        return xml

    def domain_config(self, name: str, *, extra: str = "") -> DomainConfig:
        """The parsed profile domain (no UUID yet)."""
        config: DomainConfig = codec.parse_domain(self.domain_xml(name, extra=extra))
        return config

    def track_domain(self, name: str) -> None:
        """Remove domain *name* when the check ends."""
        self.defer(f"remove domain {name}", lambda: self.harness.remove_domain(name))

    def new_domain(self, state: str = "shutoff", *, name: str | None = None) -> Domain:
        """A prefixed domain in *state*: shutoff, running, paused, transient, transient-paused."""
        name = name or self.name("dom")
        if state in ("shutoff", "running", "paused"):
            self.require("domain.define")
            self.track_domain(name)
            dom = self.conn.define_domain(self.domain_xml(name))
            if state in ("running", "paused"):
                dom.start()
        elif state in ("transient", "transient-paused"):
            self.require("domain.create")
            self.track_domain(name)
            dom = self.conn.create_domain(self.domain_xml(name))
        else:
            raise ValueError(f"unknown domain state {state!r}")
        if state.endswith("paused"):
            self.require("domain.suspend")
            dom.suspend()
        return dom

    def domain_status(self, name: str) -> str:
        """``gone``, ``shutoff``, ``running``, ``paused``, ``transient``, ``transient-paused``.

        Other states are returned by their enum name (``SHUTDOWN``, ``CRASHED``, ...).
        """
        conn = self.conn
        try:
            dom = conn.lookup_domain(name)
        except VirtError as exc:
            if exc.code == ErrorCode.NO_DOMAIN:
                return "gone"
            raise
        state = dom.state
        persistent = name in {d.name for d in conn.list_domains(persistent=True)}
        if state == DomainState.SHUTOFF:
            return "shutoff" if persistent else "SHUTOFF-transient"
        if state == DomainState.RUNNING:
            return "running" if persistent else "transient"
        if state == DomainState.PAUSED:
            return "paused" if persistent else "transient-paused"
        return state.name + ("" if persistent else "-transient")

    def domain_fingerprint(self, name: str) -> dict[str, Any]:
        """Everything a rejected operation must leave unchanged."""
        conn = self.conn
        status = self.domain_status(name)
        if status == "gone":
            return {"status": status}
        dom = conn.lookup_domain(name)
        out: dict[str, Any] = {"status": status, "uuid": dom.uuid, "id": dom.id}
        out["config"] = conn._call("domain.xml", name=name, inactive=False)
        if status in ("shutoff", "running", "paused"):
            out["inactive"] = conn._call("domain.xml", name=name, inactive=True)
        if self.harness.supports("domain.get_autostart"):
            out["autostart"] = dom.autostart
        return out

    # -- networks -------------------------------------------------------------

    def network_xml(self, name: str) -> str:
        """The profile's network XML for *name*, with a fresh bridge and subnet octet."""
        template = self.require_profile("network_xml")
        n = self.harness.next_number()
        bridge = (self.harness.prefix.replace("-", "") + str(n))[:15]
        base = int(self.harness.prefix[len(LEFTOVER_PREFIX) : -1], 16)
        octet = (base + n) % 254 + 1
        return template.format(name=name, bridge=bridge, octet=octet)

    def network_config(self, name: str) -> NetworkConfig:
        """The parsed profile network (no UUID yet)."""
        config: NetworkConfig = codec.parse_network(self.network_xml(name))
        return config

    def new_network(self, state: str = "inactive", *, name: str | None = None) -> Network:
        """A prefixed network in *state*: inactive, active, transient."""
        name = name or self.name("net")
        self.require_profile("network_xml")
        if state in ("inactive", "active"):
            self.require("network.define")
            self.defer(f"remove network {name}", lambda: self.harness.remove_network(name))
            net = self.conn.define_network(self.network_xml(name))
            if state == "active":
                self.require("network.start")
                net.start()
        elif state == "transient":
            self.require("network.create")
            self.defer(f"remove network {name}", lambda: self.harness.remove_network(name))
            net = self.conn.create_network(self.network_xml(name))
        else:
            raise ValueError(f"unknown network state {state!r}")
        return net

    def network_status(self, name: str) -> str:
        """``gone``, ``inactive``, ``active``, ``transient`` (or ``inactive-transient``)."""
        conn = self.conn
        names = {n.name for n in conn.list_networks()}
        if name not in names:
            return "gone"
        active = name in {n.name for n in conn.list_networks(active=True)}
        persistent = name in {n.name for n in conn.list_networks(persistent=True)}
        if persistent:
            return "active" if active else "inactive"
        return "transient" if active else "inactive-transient"

    def network_fingerprint(self, name: str) -> dict[str, Any]:
        """What a rejected network operation must leave unchanged."""
        status = self.network_status(name)
        out: dict[str, Any] = {"status": status}
        if status != "gone":
            net = self.conn.lookup_network(name)
            out["uuid"] = net.uuid
            if self.harness.supports("network.xml"):
                out["config"] = net.config
            if self.harness.supports("network.get_autostart"):
                out["autostart"] = net.autostart
        return out

    # -- pools and volumes --------------------------------------------------------

    def pool_xml(self, name: str) -> str:
        """The profile's pool XML for *name* on a fresh, empty directory under the workdir."""
        template = self.require_profile("pool_xml")
        path = self.target.workdir / name
        path.mkdir(parents=True, exist_ok=True)
        self.defer(f"remove directory {path}", lambda: shutil.rmtree(path, ignore_errors=True))
        return template.format(name=name, path=os.fspath(path))

    def pool_config(self, name: str) -> PoolConfig:
        """The parsed profile pool (no UUID yet)."""
        config: PoolConfig = codec.parse_pool(self.pool_xml(name))
        return config

    def new_pool(self, state: str = "active", *, name: str | None = None) -> StoragePool:
        """A prefixed pool in *state*: inactive, active, transient."""
        name = name or self.name("pool")
        self.require_profile("pool_xml")
        if state in ("inactive", "active"):
            self.require("pool.define")
            xml = self.pool_xml(name)
            self.defer(f"remove pool {name}", lambda: self.harness.remove_pool(name))
            pool = self.conn.define_pool(xml)
            if state == "active":
                self.require("pool.start")
                pool.start()
        elif state == "transient":
            self.require("pool.create")
            xml = self.pool_xml(name)
            self.defer(f"remove pool {name}", lambda: self.harness.remove_pool(name))
            pool = self.conn.create_pool(xml)
        else:
            raise ValueError(f"unknown pool state {state!r}")
        return pool

    def pool_status(self, name: str) -> str:
        """``gone``, ``inactive``, ``active``, ``transient`` (or ``inactive-transient``)."""
        conn = self.conn
        if name not in {p.name for p in conn.list_pools()}:
            return "gone"
        active = name in {p.name for p in conn.list_pools(active=True)}
        persistent = name in {p.name for p in conn.list_pools(persistent=True)}
        if persistent:
            return "active" if active else "inactive"
        return "transient" if active else "inactive-transient"

    def pool_fingerprint(self, name: str) -> dict[str, Any]:
        """What a rejected pool operation must leave unchanged."""
        status = self.pool_status(name)
        out: dict[str, Any] = {"status": status}
        if status != "gone":
            pool = self.conn.lookup_pool(name)
            out["uuid"] = pool.uuid
            if self.harness.supports("pool.xml"):
                out["config"] = pool.config
            if self.harness.supports("pool.get_autostart"):
                out["autostart"] = pool.autostart
            if status in ("active", "transient") and self.harness.supports("volume.list"):
                out["volumes"] = sorted(v.name for v in pool.list_volumes())
        return out

    def volume_xml(self, name: str) -> str:
        """The profile's volume XML for *name*."""
        return self.require_profile("volume_xml").format(name=name)

    def new_volume(self, pool: StoragePool, *, name: str | None = None) -> StorageVolume:
        """A prefixed volume in *pool* (active)."""
        self.require("volume.create")
        name = name or self.name("vol")
        xml = self.volume_xml(name)
        pool_name = pool.name
        self.defer(
            f"remove volume {pool_name}/{name}",
            lambda: self.harness.remove_volume(pool_name, name),
        )
        return pool.create_volume(xml)

    def volume_names(self, pool: StoragePool) -> list[str]:
        """Names of the volumes in *pool*."""
        return sorted(v.name for v in pool.list_volumes())

    # -- handles to objects that need not exist -----------------------------------

    def domain_handle(self, name: str, uuid: str = "", conn: Connection | None = None) -> Domain:
        """A handle for domain *name* (no lookup: it may not exist)."""
        return Domain(conn or self.conn, DomainRef(name, uuid))

    def network_handle(
        self, name: str, conn: Connection | None = None, *, uuid: str = ""
    ) -> Network:
        """A handle for network *name* (no lookup)."""
        return Network(conn or self.conn, NetworkRef(name, uuid))

    def pool_handle(
        self, name: str, conn: Connection | None = None, *, uuid: str = ""
    ) -> StoragePool:
        """A handle for pool *name* (no lookup)."""
        return StoragePool(conn or self.conn, PoolRef(name, uuid))

    def volume_handle(
        self, pool: str, name: str, *, key: str = "", path: str = "", conn: Connection | None = None
    ) -> StorageVolume:
        """A handle for volume *pool*/*name* (no lookup)."""
        return StorageVolume(conn or self.conn, VolumeRef(pool, name, key, path))
