"""Outcomes, levels, the certificate and ``verify`` (pure functions, no driver)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from virtplug.hookspecs import OPERATIONS
from virtplug_conformance import certificate as cert
from virtplug_conformance.harness import MANDATORY
from virtplug_conformance.outcomes import Record, compute_level, compute_operations, totals
from virtplug_conformance.registry import coverage_by_operation, load_suite

PASSED_CHECKS = {"leak": {"outcome": "passed", "reason": None}}


def ops_with(**outcomes: str) -> dict[str, dict[str, Any]]:
    out = {op: {"outcome": "passed", "reason": None} for op in OPERATIONS}
    for key, outcome in outcomes.items():
        out[key.replace("__", ".")] = {"outcome": outcome, "reason": "r"}
    return out


def test_levels() -> None:
    assert compute_level(ops_with(), PASSED_CHECKS) == "full"
    assert compute_level(ops_with(domain__snapshot_revert="unsupported"), PASSED_CHECKS) == (
        "core+network+storage"
    )
    assert compute_level(ops_with(volume__clone="unsupported"), PASSED_CHECKS) == "core+network"
    assert compute_level(ops_with(network__create="unsupported"), PASSED_CHECKS) == "core"
    # storage without network is still only core (levels are cumulative)
    assert (
        compute_level(ops_with(network__create="unsupported", pool__build="passed"), PASSED_CHECKS)
        == "core"
    )
    assert compute_level(ops_with(domain__reboot="failed"), PASSED_CHECKS) == "none"
    assert compute_level(ops_with(domain__reboot="undeclared"), PASSED_CHECKS) == "none"
    assert compute_level(ops_with(domain__reboot="error"), PASSED_CHECKS) == "none"
    failed_check = {"leak": {"outcome": "failed", "reason": "left: domain vpc-x"}}
    assert compute_level(ops_with(), failed_check) == "none"


def rec(
    check: str,
    outcome: str = "passed",
    *,
    pos: tuple[str, ...] = (),
    neg: tuple[str, ...] = (),
    **kw: Any,
) -> Record:
    return Record("t", f"x::{check}", check, pos, neg, outcome=outcome, **kw)  # type: ignore[arg-type]


def caps(**status: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        op: {"status": "implemented", "reason": None} for op in OPERATIONS
    }
    for key, st in status.items():
        out[key.replace("__", ".")] = {
            "status": st,
            "reason": "backend cannot" if st == "unsupported" else None,
        }
    return out


def test_outcome_rules() -> None:
    records = [
        rec("a", pos=("domain.start",), neg=("domain.start",)),
        rec("b", pos=("domain.reboot",)),  # never exercised negatively
        rec(
            "c",
            "failed",
            pos=("domain.suspend", "domain.resume"),
            message="boom",
            at_fault="domain.suspend",
        ),
        rec("d", neg=("domain.resume",)),
        rec("e", pos=("domain.resume",)),
        rec("cap", capability="domain.snapshot_revert"),
        rec("cap2", "failed", capability="network.create", message="did not raise NO_SUPPORT"),
        rec("f", "error", pos=("domain.stats",), neg=("domain.stats",), message="TypeError"),
    ]
    ops = compute_operations(
        records,
        caps(
            domain__snapshot_revert="unsupported",
            network__create="unsupported",
            domain__exec="undeclared",
            domain__destroy="unsupported",
        ),
        {"domain.shutdown": ["two-way honesty: ..."]},
    )
    assert ops["domain.start"]["outcome"] == "passed"
    assert ops["domain.reboot"]["outcome"] == "error"
    assert "never exercised" in ops["domain.reboot"]["reason"]
    assert ops["domain.suspend"]["outcome"] == "failed"
    # the failure was attributed to suspend only: resume passed both ways elsewhere
    assert ops["domain.resume"]["outcome"] == "passed"
    assert ops["domain.snapshot_revert"] == {
        **ops["domain.snapshot_revert"],
        "outcome": "unsupported",
        "reason": "backend cannot",
    }
    assert ops["network.create"]["outcome"] == "failed"
    assert ops["domain.exec"]["outcome"] == "undeclared"
    assert ops["domain.destroy"]["outcome"] == "failed"
    assert "mandatory" in ops["domain.destroy"]["reason"]
    assert ops["domain.shutdown"]["outcome"] == "failed"
    assert ops["domain.stats"]["outcome"] == "error"
    t = totals(ops, records)
    assert t["operations"] == 76
    assert sum(t[k] for k in ("passed", "failed", "error", "unsupported", "undeclared")) == 76
    assert t["checks"] == {"passed": 5, "failed": 2, "error": 1, "skipped": 0}


def test_undriveable_target_is_all_error() -> None:
    ops = compute_operations([], None, problem="no profile")
    assert {e["outcome"] for e in ops.values()} == {"error"}
    assert ops["domain.start"]["reason"] == "no profile"


@pytest.fixture
def good() -> dict[str, Any]:
    load_suite()
    ops = ops_with(domain__snapshot_revert="unsupported")
    return cert.build(
        driver={"name": "x", "distribution": "x-dist", "version": "1", "uri": "x:///"},
        operations=ops,
        checks=PASSED_CHECKS,
        totals=totals(ops),
        coverage=coverage_by_operation(),
        run={"started": "s", "finished": "f", "duration_s": 1.0},
    )


def reseal(doc: dict[str, Any]) -> dict[str, Any]:
    doc["integrity"]["digest"] = cert.digest(doc)
    return doc


def test_certificate_is_valid_and_sealed(good: dict[str, Any]) -> None:
    assert cert.verify(good) == []
    assert good["result"] == {"passed": True, "level": "core+network+storage"}
    assert good["coverage"]["complete"] is True
    assert good["suite"]["content_hash"] == cert.suite_hash()
    assert good["integrity"]["digest"].startswith("sha256:")


def test_verify_catches_edits(good: dict[str, Any]) -> None:
    edited = copy.deepcopy(good)
    edited["operations"]["domain.start"]["outcome"] = "unsupported"
    assert any("integrity" in p for p in cert.verify(edited))
    # re-sealed: the digest matches, but the totals and level no longer do
    problems = cert.verify(reseal(edited))
    assert any("totals.passed" in p for p in problems)
    assert any("mandatory operation domain.start" in p for p in problems)


def test_verify_catches_a_wrong_level(good: dict[str, Any]) -> None:
    doc = copy.deepcopy(good)
    doc["result"]["level"] = "full"
    assert any("level is 'full'" in p for p in cert.verify(reseal(doc)))
    doc = copy.deepcopy(good)
    doc["result"]["passed"] = False
    assert any("result.passed" in p for p in cert.verify(reseal(doc)))


def test_verify_catches_schema_problems(good: dict[str, Any]) -> None:
    doc = copy.deepcopy(good)
    del doc["totals"]
    assert cert.verify(doc) == ["missing field 'totals'"]
    doc = copy.deepcopy(good)
    doc["schema_version"] = 99
    assert any("schema_version 99" in p for p in cert.verify(reseal(doc)))
    doc = copy.deepcopy(good)
    doc["operations"]["domain.start"]["outcome"] = "great"
    assert any("unknown outcome" in p for p in cert.verify(reseal(doc)))
    doc = copy.deepcopy(good)
    doc["coverage"]["complete"] = False
    assert any("coverage.complete" in p for p in cert.verify(reseal(doc)))


def test_mandatory_tier_is_the_documented_one() -> None:
    assert set(MANDATORY) == {
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
    }
