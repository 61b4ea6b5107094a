"""A read-only connection refuses every mutating operation and allows every read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from virtplug import ErrorCode
from virtplug.hookspecs import MUTATING, OPERATIONS
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers_each
from virtplug_conformance.suite._invoke import INVOKE, World, build_world, subjects_for

READS = [op for op in OPERATIONS if op not in MUTATING]

_NEEDS = {
    "network": ("net", "network_xml"),
    "pool": ("pool", "pool_xml"),
    "volume": ("vol", "volume_xml"),
}


@pytest.fixture(scope="module")
def world(vp_module: Case) -> Iterator[World]:
    """A running domain with a snapshot, an active network, an active pool with a volume."""
    yield build_world(vp_module, running=True)


def _fingerprint(vp: Case, world: World) -> dict[str, Any]:
    out: dict[str, Any] = {"domain": vp.domain_fingerprint(world.dom)}
    if world.net:
        out["network"] = vp.network_fingerprint(world.net)
    if world.pool:
        out["pool"] = vp.pool_fingerprint(world.pool)
    if world.snapshot:
        out["snapshots"] = [s.name for s in vp.conn.lookup_domain(world.dom).list_snapshots()]
    return out


@covers_each("op", ops=MUTATING, polarity="negative")
def test_readonly_refuses(vp: Case, world: World, op: str) -> None:
    """*op* on a read-only connection: OPERATION_DENIED, and nothing changes."""
    vp.require(op)
    ro = vp.open(readonly=True)
    subjects = subjects_for(vp, world, ro, readonly=True)
    before = _fingerprint(vp, world)
    vp.raises(
        ErrorCode.OPERATION_DENIED,
        lambda: INVOKE[op](subjects),
        op=op,
        what="on a read-only connection",
    )
    after = _fingerprint(vp, world)
    vp.check(after == before, f"{op} refused on a read-only connection but changed state", op=op)


@covers_each("op", ops=READS, polarity="positive")
def test_readonly_allows(vp: Case, world: World, op: str) -> None:
    """*op* works on a read-only connection."""
    vp.require(op)
    kind = op.split(".", 1)[0]
    if kind in _NEEDS and not getattr(world, _NEEDS[kind][0]):
        vp.require_profile(_NEEDS[kind][1])
        pytest.skip(f"not applicable: no {kind} could be created for this driver")
    if op == "domain.snapshot_lookup" and not world.snapshot:
        pytest.skip("not applicable: the driver cannot create snapshots")
    ro = vp.open(readonly=True)
    subjects = subjects_for(vp, world, ro, readonly=True)
    INVOKE[op](subjects)
