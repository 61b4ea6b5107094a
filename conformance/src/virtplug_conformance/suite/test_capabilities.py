"""Every operation is implemented or honestly declared unsupported.

For a declared-unsupported operation the suite calls it through the public API
and expects NO_SUPPORT, and ``conn.supports(op)`` must say False. An undeclared
operation (neither implemented nor declared) is a defect. The mandatory tier
may not be unsupported. (The other direction of honesty, an implemented
operation raising NO_SUPPORT, is caught on every call the suite makes.)
"""

from __future__ import annotations

import pytest

from virtplug import ErrorCode
from virtplug.hookspecs import OPERATIONS
from virtplug_conformance.harness import MANDATORY, Case
from virtplug_conformance.suite._invoke import INVOKE, World, subjects_for


@pytest.mark.virtplug_capability("op")
@pytest.mark.parametrize("op", OPERATIONS)
def test_declared_capability(vp: Case, op: str) -> None:
    """The capability map's entry for *op* is honest."""
    cap = vp.conn.capabilities()[op]
    supports = vp.conn.supports(op)
    if op in MANDATORY and not cap.supported:
        vp.check(
            False,
            f"{op} is in the mandatory tier but the driver marks it {cap.status}"
            + (f" ({cap.reason})" if cap.reason else ""),
            op=op,
        )
    if cap.status == "implemented":
        vp.check(supports, f"{op} is implemented but supports() says False", op=op)
        return
    if cap.status == "undeclared":
        vp.check(
            False,
            f"{op} is undeclared: neither implemented nor declared with "
            f"virtplug.unsupported(reason)",
            op=op,
        )
    vp.check(not supports, f"{op} is declared unsupported but supports() says True", op=op)
    vp.check(bool(cap.reason and cap.reason.strip()), f"{op}: empty unsupported reason", op=op)
    world = World(dom=vp.harness.prefix + "missing-dom")
    subjects = subjects_for(vp, world, vp.conn, absent=True)
    err = vp.raises(
        ErrorCode.NO_SUPPORT,
        lambda: INVOKE[op](subjects),
        op=op,
        what="calling a declared-unsupported operation",
    )
    vp.check(
        err.details.get("operation") == op,
        f"{op}: NO_SUPPORT came from {err.details.get('operation')}, not from {op}",
        op=op,
    )
