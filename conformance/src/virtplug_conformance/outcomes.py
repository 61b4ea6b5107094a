"""From check results to per-operation outcomes, totals and the certification level.

Outcomes per (driver, operation):

- ``passed``: implemented; at least one positive and one negative check ran and
  every check covering it passed;
- ``failed``: implemented but a check covering it failed (or it raised
  NO_SUPPORT although claimed: two-way honesty), or a mandatory operation was
  declared unsupported, or a declared-unsupported operation did not raise
  NO_SUPPORT;
- ``error``: a check covering it errored (setup, teardown, a suite problem), or
  it is implemented but was never exercised both ways (e.g. the profile lacks
  the template its checks need);
- ``unsupported``: declared unsupported with a reason, and the suite verified
  that calling it raises NO_SUPPORT and ``supports()`` says False;
- ``undeclared``: neither implemented nor declared: a driver defect, counted
  as failed.

Levels, cumulative, only for a run that passed (every operation ``passed`` or
``unsupported`` and every run check passed): ``core`` (the mandatory tier
passed), ``core+network`` (and every ``network.*`` operation passed),
``core+network+storage`` (and every ``pool.*`` and ``volume.*`` operation),
``full`` (every operation passed). A run that did not pass has level ``none``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from virtplug.hookspecs import OPERATIONS
from virtplug_conformance.harness import MANDATORY

__all__ = [
    "LEVELS",
    "OUTCOMES",
    "Record",
    "compute_level",
    "compute_operations",
    "run_passed",
    "totals",
]

Outcome = Literal["passed", "failed", "error", "unsupported", "undeclared"]
TestOutcome = Literal["passed", "failed", "error", "skipped"]

OUTCOMES: tuple[str, ...] = ("passed", "failed", "error", "unsupported", "undeclared")
LEVELS: tuple[str, ...] = ("none", "core", "core+network", "core+network+storage", "full")


@attrs.define
class Record:
    """The result of one check item against one target.

    :ivar target: the target label.
    :ivar nodeid: the pytest node id.
    :ivar check: ``module.function``.
    :ivar positive: operations it covers positively.
    :ivar negative: operations it covers negatively.
    :ivar capability: the operation whose declaration it checks (capability checks).
    :ivar outcome: passed, failed, error or skipped.
    :ivar message: the failure, error or skip message.
    :ivar at_fault: the operation a failure is attributed to, when known.
    """

    target: str
    nodeid: str
    check: str
    positive: tuple[str, ...] = ()
    negative: tuple[str, ...] = ()
    capability: str | None = None
    outcome: TestOutcome = "passed"
    message: str = ""
    at_fault: str | None = None

    @property
    def ops(self) -> tuple[str, ...]:
        """Every operation the record covers."""
        return self.positive + tuple(op for op in self.negative if op not in self.positive)


def _short(message: str, limit: int = 300) -> str:
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first if len(first) <= limit else first[: limit - 3] + "..."


def compute_operations(
    records: Sequence[Record],
    capabilities: Mapping[str, Mapping[str, Any]] | None,
    violations: Mapping[str, Sequence[str]] | None = None,
    *,
    problem: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Per-operation outcome, reason and check counts for one target.

    :param capabilities: the driver's capability map as ``{op: {"status", "reason"}}``;
        ``None`` when the driver could not be opened.
    :param violations: two-way honesty violations by operation.
    :param problem: why the target could not be exercised at all.
    """
    violations = violations or {}
    out: dict[str, dict[str, Any]] = {}
    by_op: dict[str, list[Record]] = {op: [] for op in OPERATIONS}
    capability_checks: dict[str, Record] = {}
    faults: dict[str, list[Record]] = {op: [] for op in OPERATIONS}
    for rec in records:
        for op in rec.ops:
            by_op.setdefault(op, []).append(rec)
        if rec.capability:
            capability_checks[rec.capability] = rec
        if rec.outcome in ("failed", "error") and rec.at_fault in faults:
            faults[rec.at_fault].append(rec)
    for op in OPERATIONS:
        recs = by_op[op]
        counts = {k: 0 for k in ("passed", "failed", "error", "skipped")}
        for rec in recs:
            counts[rec.outcome] += 1
        entry: dict[str, Any] = {
            "outcome": "error",
            "reason": None,
            "mandatory": op in MANDATORY,
            "status": None,
            "checks": counts,
        }
        out[op] = entry
        if capabilities is None:
            entry["reason"] = problem or "the driver could not be opened"
            continue
        cap = capabilities.get(op, {"status": "undeclared", "reason": None})
        status = cap.get("status")
        entry["status"] = status
        if status == "undeclared":
            entry["outcome"] = "undeclared"
            entry["reason"] = (
                "neither implemented nor declared unsupported (a driver defect: "
                "declare it with virtplug.unsupported(reason))"
            )
            continue
        if status == "unsupported":
            declared = cap.get("reason") or ""
            cap_rec = capability_checks.get(op)
            if op in MANDATORY:
                entry["outcome"] = "failed"
                entry["reason"] = f"mandatory operation declared unsupported: {declared}"
            elif cap_rec is None:
                entry["outcome"] = "error"
                entry["reason"] = (
                    f"declared unsupported ({declared}) but the declaration was not checked"
                )
            elif cap_rec.outcome == "passed":
                entry["outcome"] = "unsupported"
                entry["reason"] = declared
            else:
                entry["outcome"] = "failed" if cap_rec.outcome == "failed" else "error"
                entry["reason"] = f"{cap_rec.check}: {_short(cap_rec.message)}"
            continue
        # implemented
        failed = [r for r in recs if r.outcome == "failed" and r.at_fault in (None, op)]
        failed += [r for r in faults[op] if r.outcome == "failed" and r not in failed]
        errored = [r for r in recs if r.outcome == "error" and r.at_fault in (None, op)]
        errored += [r for r in faults[op] if r.outcome == "error" and r not in errored]
        cap_rec = capability_checks.get(op)
        if violations.get(op):
            entry["outcome"] = "failed"
            entry["reason"] = _short(violations[op][0])
        elif failed:
            entry["outcome"] = "failed"
            entry["reason"] = f"{failed[0].check}: {_short(failed[0].message)}"
        elif cap_rec is not None and cap_rec.outcome == "failed":
            entry["outcome"] = "failed"
            entry["reason"] = f"{cap_rec.check}: {_short(cap_rec.message)}"
        elif errored:
            entry["outcome"] = "error"
            entry["reason"] = f"{errored[0].check}: {_short(errored[0].message)}"
        else:
            pos = any(r.outcome == "passed" and op in r.positive for r in recs)
            neg = any(r.outcome == "passed" and op in r.negative for r in recs)
            if pos and neg:
                entry["outcome"] = "passed"
            else:
                skipped = sorted({_short(r.message) for r in recs if r.outcome == "skipped"})
                missing = " and ".join(
                    p for p, ok in (("positive", pos), ("negative", neg)) if not ok
                )
                entry["reason"] = (
                    f"implemented but never exercised ({missing} checks did not run)"
                    + (f": {'; '.join(skipped[:3])}" if skipped else "")
                )
    return out


def totals(
    operations: Mapping[str, Mapping[str, Any]], records: Iterable[Record] = ()
) -> dict[str, Any]:
    """Counts of operation outcomes and of check outcomes."""
    ops = {k: 0 for k in OUTCOMES}
    for entry in operations.values():
        ops[entry["outcome"]] += 1
    checks = {k: 0 for k in ("passed", "failed", "error", "skipped")}
    for rec in records:
        checks[rec.outcome] += 1
    return {"operations": len(operations), **ops, "checks": checks}


def run_passed(
    operations: Mapping[str, Mapping[str, Any]], checks: Mapping[str, Mapping[str, Any]]
) -> bool:
    """True when every operation passed or is honestly unsupported and every run check passed."""
    return all(e["outcome"] in ("passed", "unsupported") for e in operations.values()) and all(
        c["outcome"] == "passed" for c in checks.values()
    )


def compute_level(
    operations: Mapping[str, Mapping[str, Any]], checks: Mapping[str, Mapping[str, Any]]
) -> str:
    """The certification level (see the module docstring)."""
    if not operations or not run_passed(operations, checks):
        return "none"

    def all_passed(prefixes: tuple[str, ...]) -> bool:
        chosen = [e for op, e in operations.items() if op.startswith(prefixes)]
        return bool(chosen) and all(e["outcome"] == "passed" for e in chosen)

    if not all(operations[op]["outcome"] == "passed" for op in MANDATORY if op in operations):
        return "none"
    if all(e["outcome"] == "passed" for e in operations.values()):
        return "full"
    level = "core"
    if all_passed(("network.",)):
        level = "core+network"
        if all_passed(("pool.", "volume.")):
            level = "core+network+storage"
    return level
