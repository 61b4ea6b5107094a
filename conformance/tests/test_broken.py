"""The suite proves itself: every deliberately broken test driver fails it, in the right check."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

import pytest
from broken import VARIANTS, Variant, profile_for

from virtplug.testing import registered_driver
from virtplug_conformance import cli
from virtplug_conformance.profiles import registered_profile


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One in-process suite run against every broken variant at once."""
    tmp = tmp_path_factory.mktemp("broken")
    with ExitStack() as stack:
        for v in VARIANTS:
            stack.enter_context(registered_driver(v.scheme, v.cls, distribution="broken"))
            extra = {"timeout": v.timeout} if v.timeout else {}
            stack.enter_context(registered_profile(v.scheme, profile_for(v.scheme, **extra)))
        code, certs = cli.run(
            drivers=[v.scheme for v in VARIANTS],
            junitxml=str(tmp / "junit.xml"),
            certificate=str(tmp / "{driver}.json"),
            workdir=str(tmp / "work"),
            # the broken events variant emits synchronously: no need to wait for late events
            pytest_args=["--virtplug-settle", "0"],
        )
    return {"code": code, "certs": certs, "junit": (tmp / "junit.xml").read_text()}


def test_broken_run_fails(broken_run: dict[str, Any]) -> None:
    assert broken_run["code"] == 1
    assert set(broken_run["certs"]) == {v.scheme for v in VARIANTS}
    assert len(VARIANTS) >= 8


@pytest.mark.parametrize("variant", VARIANTS, ids=[v.scheme for v in VARIANTS])
def test_variant_is_caught(broken_run: dict[str, Any], variant: Variant) -> None:
    doc = broken_run["certs"][variant.scheme]
    assert doc["result"]["passed"] is False
    assert doc["result"]["level"] == "none"
    failing = [f["check"] for f in doc["run"]["failures"]]
    for check in variant.checks:
        assert any(check in nodeid for nodeid in failing), (check, failing[:20])
    for op, outcome in variant.operations.items():
        entry = doc["operations"][op]
        assert entry["outcome"] == outcome, (op, entry)
        assert entry["reason"]
    for name in variant.run_checks:
        assert doc["checks"][name]["outcome"] == "failed", doc["checks"][name]
    # the failure is named in the JUnit report too
    assert variant.checks[0].split("::", 1)[1] in broken_run["junit"]


def test_failure_reasons_name_the_fault(broken_run: dict[str, Any]) -> None:
    certs = broken_run["certs"]
    assert "two-way honesty" in certs["broken-nosupport"]["operations"]["domain.suspend"]["reason"]
    assert "hung driver" in " ".join(f["message"] for f in certs["broken-hang"]["run"]["failures"])
    assert "domain.reboot" in certs["broken-hang"]["checks"]["deadlines"]["reason"]
    assert "undeclared" in certs["broken-undeclared"]["operations"]["domain.reboot"]["outcome"]
    assert "mandatory" in certs["broken-mandatory"]["operations"]["domain.destroy"]["reason"]
    leak = certs["broken-leak"]["checks"]["leak"]["reason"]
    assert "-helper" in leak
    assert "side effects" in certs["broken-sideeffect"]["operations"]["domain.start"]["reason"]
    assert (
        "OPERATION_FAILED"
        in certs["broken-errclass"]["operations"]["domain.lookup_by_name"]["reason"]
    )


@pytest.mark.parametrize(
    "variant",
    [v for v in VARIANTS if v.scheme != "broken-leak"],
    ids=[v.scheme for v in VARIANTS if v.scheme != "broken-leak"],
)
def test_teardown_cleans_up_even_after_failures(
    broken_run: dict[str, Any], variant: Variant
) -> None:
    """Every other variant fails checks, yet LIFO teardown leaves nothing behind."""
    doc = broken_run["certs"][variant.scheme]
    assert doc["run"]["failures"]
    assert doc["checks"]["leak"] == {"outcome": "passed", "reason": None}
