"""Meta-tests: the coverage registry against the hookspec module, and the suite's tables."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

from virtplug.hookspecs import MUTATING, OPERATIONS
from virtplug_conformance import suite
from virtplug_conformance.registry import (
    REGISTRY,
    coverage_by_operation,
    covers,
    load_suite,
    missing_coverage,
)
from virtplug_conformance.suite._cells import DOMAIN_CELLS, NETWORK_CELLS, POOL_CELLS, VOLUME_CELLS
from virtplug_conformance.suite._invoke import INVOKE

#: Checks that are about the run, not about an operation.
RUN_CHECKS = {
    "test_00_profile.test_profile",
    "test_capabilities.test_declared_capability",
    "test_zz_leaks.test_no_prefixed_objects_left",
}


@pytest.fixture(scope="module", autouse=True)
def _suite_loaded() -> None:
    load_suite()


def test_every_hookspec_has_a_positive_and_a_negative_check() -> None:
    assert missing_coverage() == []
    cov = coverage_by_operation()
    assert set(cov) == set(OPERATIONS)
    assert len(OPERATIONS) == 76
    for op, entry in cov.items():
        assert entry["positive"], op
        assert entry["negative"], op


def test_every_check_is_registered() -> None:
    names = set()
    for info in pkgutil.iter_modules(suite.__path__):
        if not info.name.startswith("test_"):
            continue
        module = importlib.import_module(f"{suite.__name__}.{info.name}")
        for fname, func in inspect.getmembers(module, inspect.isfunction):
            if fname.startswith("test_") and func.__module__ == module.__name__:
                names.add(f"{info.name}.{fname}")
    unregistered = names - set(REGISTRY) - RUN_CHECKS
    assert unregistered == set()
    assert set(REGISTRY) <= names


def test_registry_refuses_unknown_operations() -> None:
    with pytest.raises(ValueError, match=r"domain\.teleport"):
        covers(positive=["domain.teleport"])(lambda: None)
    with pytest.raises(ValueError, match="at least one"):
        covers()(lambda: None)


def test_invoke_reaches_every_operation() -> None:
    assert set(INVOKE) == set(OPERATIONS)


def test_read_only_checks_span_every_operation() -> None:
    cov = coverage_by_operation()
    for op in MUTATING:
        assert "test_readonly.test_readonly_refuses" in cov[op]["negative"], op
    for op in set(OPERATIONS) - MUTATING:
        assert "test_readonly.test_readonly_allows" in cov[op]["positive"], op


def test_state_tables_have_every_lifecycle_operation() -> None:
    ops = {c.op for c in DOMAIN_CELLS + NETWORK_CELLS + POOL_CELLS + VOLUME_CELLS}
    for op in (
        "domain.start",
        "domain.shutdown",
        "domain.destroy",
        "domain.reboot",
        "domain.suspend",
        "domain.resume",
        "domain.undefine",
        "domain.define",
        "domain.create",
        "network.start",
        "network.stop",
        "network.undefine",
        "pool.build",
        "pool.start",
        "pool.stop",
        "pool.delete",
        "pool.undefine",
        "pool.refresh",
        "volume.create",
        "volume.clone",
        "volume.delete",
    ):
        assert op in ops, op
    # every domain state has a row for every lifecycle action
    rows: dict[str, set[str]] = {}
    for c in DOMAIN_CELLS:
        rows.setdefault(c.state, set()).add(c.action)
    actions = {"start", "shutdown", "destroy", "reboot", "suspend", "resume", "undefine"}
    for state, acts in rows.items():
        assert actions <= acts, (state, actions - acts)
