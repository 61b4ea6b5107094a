"""State machines: every (state x operation) cell for domains, networks, pools, volumes.

Each cell starts a fresh object in its state, applies one operation, and
expects either the new state or the exact error code; a rejected operation must
leave the object exactly as it was (state, persistence, configuration,
autostart, id).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

from virtplug import ErrorCode
from virtplug.models import (
    CrashedReason,
    DomainState,
    NoStateReason,
    PausedReason,
    RunningReason,
    ShutdownReason,
    ShutoffReason,
    new_uuid,
)
from virtplug.records import evolve
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers_cells
from virtplug_conformance.suite._cells import (
    DOMAIN_CELLS,
    NETWORK_CELLS,
    POOL_CELLS,
    VOLUME_CELLS,
    Cell,
)

_REASONS: dict[DomainState, type[enum.IntEnum]] = {
    DomainState.NOSTATE: NoStateReason,
    DomainState.RUNNING: RunningReason,
    DomainState.PAUSED: PausedReason,
    DomainState.SHUTDOWN: ShutdownReason,
    DomainState.SHUTOFF: ShutoffReason,
    DomainState.CRASHED: CrashedReason,
}

#: graceful shutdown: seconds before the driver may kill (keeps runs short)
SHUTDOWN_TIMEOUT = 3.0
MARK = "updated by virtplug-conformance"


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    keys = sorted(set(before) | set(after))
    return "; ".join(
        f"{k}: {before.get(k)!r:.120} -> {after.get(k)!r:.120}"
        for k in keys
        if before.get(k) != after.get(k)
    )


def _run_cell(
    vp: Case,
    cell: Cell,
    action: Callable[[], object],
    fingerprint: Callable[[], dict[str, Any]],
    status: Callable[[], str],
) -> None:
    what = f"{cell.kind} {cell.action} from state {cell.state}"
    if isinstance(cell.expect, ErrorCode):
        before = fingerprint()
        vp.raises(cell.expect, action, op=cell.op, what=what)
        after = fingerprint()
        vp.check(
            after == before,
            f"{cell.op}: the rejected {what} had side effects: {_diff(before, after)}",
            op=cell.op,
        )
        return
    action()
    got = status()
    vp.check(
        got == cell.expect,
        f"{cell.op}: {what}: expected state {cell.expect}, got {got}",
        op=cell.op,
    )


# -- domains -------------------------------------------------------------------------


@covers_cells("cell", DOMAIN_CELLS)
def test_domain_transition(vp: Case, cell: Cell) -> None:
    """One cell of the domain state machine."""
    vp.require(cell.op)
    name = vp.name("dom")
    if cell.state == "absent":
        vp.track_domain(name)
        dom = vp.domain_handle(name)
    else:
        dom = vp.new_domain(cell.state, name=name)
    conn = vp.conn

    def define(uuid: str | None) -> None:
        config = vp.domain_config(name)
        if uuid is not None:
            config = evolve(config, uuid=uuid, description=MARK)
        conn.define_domain(config)

    def create(uuid: str | None) -> None:
        config = vp.domain_config(name)
        conn.create_domain(evolve(config, uuid=uuid) if uuid else config)

    def set_autostart() -> None:
        dom.autostart = True

    actions: dict[str, Callable[[], object]] = {
        "start": dom.start,
        "shutdown": lambda: dom.shutdown(timeout=SHUTDOWN_TIMEOUT),
        "destroy": dom.destroy,
        "reboot": dom.reboot,
        "suspend": dom.suspend,
        "resume": dom.resume,
        "undefine": dom.undefine,
        "define": lambda: define(None),
        "define_same_uuid": lambda: define(dom.uuid),
        "define_other_uuid": lambda: define(new_uuid()),
        "create": lambda: create(None),
        "create_same_name": lambda: create(new_uuid()),
        "set_autostart": set_autostart,
    }
    _run_cell(
        vp,
        cell,
        actions[cell.action],
        lambda: vp.domain_fingerprint(name),
        lambda: vp.domain_status(name),
    )
    if not isinstance(cell.expect, ErrorCode) and cell.expect != "gone":
        state, reason = conn._call("domain.state", name=name)
        enum = _REASONS.get(DomainState(state))
        vp.check(
            enum is None or int(reason) in {int(r) for r in enum},
            f"domain.state: reason {reason!r} is not a {getattr(enum, '__name__', '?')} value",
            op="domain.state",
        )
    if cell.action == "define_same_uuid" and not isinstance(cell.expect, ErrorCode):
        inactive = conn._call("domain.xml", name=name, inactive=True)
        vp.check(
            inactive.description == MARK,
            f"domain.define: redefining {name} with its own UUID did not update the "
            f"persistent definition (description {inactive.description!r})",
            op="domain.define",
        )
    if (
        cell.action == "set_autostart"
        and not isinstance(cell.expect, ErrorCode)
        and vp.harness.supports("domain.get_autostart")
    ):
        vp.check(dom.autostart is True, "set_autostart(True) did not stick", op=cell.op)


# -- networks ------------------------------------------------------------------------


@covers_cells("cell", NETWORK_CELLS)
def test_network_transition(vp: Case, cell: Cell) -> None:
    """One cell of the network state machine."""
    vp.require_profile("network_xml")
    vp.require(cell.op, "network.list")
    name = vp.name("net")
    if cell.state == "absent":
        vp.defer(f"remove network {name}", lambda: vp.harness.remove_network(name))
        net = vp.network_handle(name)
    else:
        net = vp.new_network(cell.state, name=name)
    conn = vp.conn
    config = vp.network_config(name)

    def set_autostart() -> None:
        net.autostart = True

    actions: dict[str, Callable[[], object]] = {
        "start": net.start,
        "stop": net.stop,
        "undefine": net.undefine,
        "define": lambda: conn.define_network(config),
        "define_same_uuid": lambda: conn.define_network(evolve(config, uuid=net.uuid)),
        "define_other_uuid": lambda: conn.define_network(evolve(config, uuid=new_uuid())),
        "create": lambda: conn.create_network(config),
        "create_same_name": lambda: conn.create_network(evolve(config, uuid=new_uuid())),
        "set_autostart": set_autostart,
    }
    _run_cell(
        vp,
        cell,
        actions[cell.action],
        lambda: vp.network_fingerprint(name),
        lambda: vp.network_status(name),
    )


# -- pools ---------------------------------------------------------------------------


@covers_cells("cell", POOL_CELLS)
def test_pool_transition(vp: Case, cell: Cell) -> None:
    """One cell of the storage pool state machine."""
    vp.require_profile("pool_xml")
    vp.require(cell.op, "pool.list")
    name = vp.name("pool")
    if cell.state == "absent":
        vp.defer(f"remove pool {name}", lambda: vp.harness.remove_pool(name))
        pool = vp.pool_handle(name)
    else:
        pool = vp.new_pool(cell.state, name=name)
    conn = vp.conn
    config = vp.pool_config(name)

    def set_autostart() -> None:
        pool.autostart = True

    def with_uuid(uuid: str) -> Any:
        return evolve(config, uuid=uuid)

    actions: dict[str, Callable[[], object]] = {
        "build": pool.build,
        "start": pool.start,
        "stop": pool.stop,
        "delete": pool.delete,
        "undefine": pool.undefine,
        "refresh": pool.refresh,
        "define": lambda: conn.define_pool(config),
        "define_same_uuid": lambda: conn.define_pool(with_uuid(pool.uuid)),
        "define_other_uuid": lambda: conn.define_pool(with_uuid(new_uuid())),
        "create": lambda: conn.create_pool(config),
        "create_same_name": lambda: conn.create_pool(with_uuid(new_uuid())),
        "set_autostart": set_autostart,
    }
    _run_cell(
        vp,
        cell,
        actions[cell.action],
        lambda: vp.pool_fingerprint(name),
        lambda: vp.pool_status(name),
    )


# -- volumes -------------------------------------------------------------------------


@covers_cells("cell", VOLUME_CELLS)
def test_volume_transition(vp: Case, cell: Cell) -> None:
    """One cell of the storage volume state machine (in an active pool unless stated)."""
    vp.require_profile("volume_xml")
    vp.require(cell.op, "pool.list", "volume.list", "volume.lookup_by_name")
    pool = vp.new_pool("inactive" if cell.state == "inactive-pool" else "active")
    name = vp.name("vol")
    other = vp.name("vol")
    for n in (name, other):
        vp.defer(f"remove volume {n}", lambda n=n: vp.harness.remove_volume(pool.name, n))  # type: ignore[misc]
    vol = vp.volume_handle(pool.name, name)
    if cell.state == "present":
        vol = vp.new_volume(pool, name=name)
    if cell.action == "clone_onto_existing":
        vp.new_volume(pool, name=other)

    def status() -> str:
        try:
            pool.lookup_volume(name)
        except Exception as exc:
            if getattr(exc, "code", None) == ErrorCode.NO_STORAGE_VOL:
                return "gone"
            raise
        if cell.action == "clone":
            names = vp.volume_names(pool)
            if other not in names:
                return f"present but the clone {other} is missing (volumes: {names})"
        return "present"

    def fingerprint() -> dict[str, Any]:
        out = vp.pool_fingerprint(pool.name)
        if out["status"] == "active" and name in out.get("volumes", []):
            out["volume"] = pool.lookup_volume(name).config
        return out

    actions: dict[str, Callable[[], object]] = {
        "create": lambda: pool.create_volume(vp.volume_xml(name)),
        "create_same_name": lambda: pool.create_volume(vp.volume_xml(name)),
        "clone": lambda: vol.clone(other),
        "clone_onto_existing": lambda: vol.clone(other),
        "delete": vol.delete,
    }
    _run_cell(vp, cell, actions[cell.action], fingerprint, status)
