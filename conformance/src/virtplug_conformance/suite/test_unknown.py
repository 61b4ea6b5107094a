"""Unknown names, UUIDs, ids, keys and paths give the exact NO_* code of their object."""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pytest

from virtplug import ErrorCode
from virtplug_conformance.harness import Case
from virtplug_conformance.registry import covers_each
from virtplug_conformance.suite._invoke import INVOKE, World, build_world, subjects_for

D, N, P, V = (
    ErrorCode.NO_DOMAIN,
    ErrorCode.NO_NETWORK,
    ErrorCode.NO_STORAGE_POOL,
    ErrorCode.NO_STORAGE_VOL,
)

#: The error each operation must give for an object that does not exist.
UNKNOWN: dict[str, ErrorCode] = {
    **{
        f"domain.{verb}": D
        for verb in (
            "lookup_by_name",
            "lookup_by_uuid",
            "lookup_by_id",
            "undefine",
            "start",
            "shutdown",
            "destroy",
            "reboot",
            "suspend",
            "resume",
            "state",
            "info",
            "xml",
            "set_memory",
            "set_vcpus",
            "get_autostart",
            "set_autostart",
            "attach_device",
            "detach_device",
            "stats",
            "exec",
            "snapshot_create",
            "snapshot_list",
            "snapshot_lookup",
            "snapshot_revert",
            "snapshot_delete",
        )
    },
    **{
        f"network.{verb}": N
        for verb in (
            "lookup_by_name",
            "lookup_by_uuid",
            "undefine",
            "start",
            "stop",
            "info",
            "xml",
            "get_autostart",
            "set_autostart",
        )
    },
    **{
        f"pool.{verb}": P
        for verb in (
            "lookup_by_name",
            "lookup_by_uuid",
            "build",
            "start",
            "stop",
            "delete",
            "undefine",
            "refresh",
            "info",
            "xml",
            "get_autostart",
            "set_autostart",
        )
    },
    "volume.list": P,
    "volume.create": P,
    **{
        f"volume.{verb}": V
        for verb in (
            "lookup_by_name",
            "lookup_by_key",
            "lookup_by_path",
            "clone",
            "delete",
            "info",
            "xml",
            "path",
        )
    },
}

_NEEDS_POOL = {"volume.lookup_by_name", "volume.clone", "volume.delete", "volume.info"}
_NEEDS_POOL |= {"volume.xml", "volume.path"}


@pytest.fixture(scope="module")
def world(vp_module: Case) -> Iterator[World]:
    """A real active pool (unknown volumes live in it) and network (for device XML)."""
    yield build_world(vp_module, running=False)


@covers_each("op", ops=UNKNOWN, polarity="negative")
def test_unknown_object(vp: Case, world: World, op: str) -> None:
    """*op* on an object that does not exist fails with exactly its NO_* code."""
    vp.require(op)
    if op in _NEEDS_POOL and not world.pool:
        vp.require_profile("pool_xml")
        vp.require("pool.define", "pool.start")
    subjects = subjects_for(vp, attrs.evolve(world), vp.conn, absent=True)
    vp.raises(
        UNKNOWN[op], lambda: INVOKE[op](subjects), op=op, what="an object that does not exist"
    )
