"""Meta-tests keeping the hook contract honest."""

from __future__ import annotations

import inspect
import re

import pytest

from virtplug import hookspecs
from virtplug._markers import PROJECT


def _specs() -> list[tuple[str, object]]:
    return [(name, getattr(hookspecs, name)) for name in hookspecs.HOOK_NAMES]


def test_operation_count_and_names() -> None:
    assert len(hookspecs.HOOK_NAMES) == len(set(hookspecs.HOOK_NAMES)) == 76
    for name in hookspecs.HOOK_NAMES:
        assert re.fullmatch(r"virtplug_(connection|node|domain|network|pool|volume)_[a-z_]+", name)
        assert hookspecs.hook_name(hookspecs.operation_name(name)) == name


@pytest.mark.parametrize(("name", "spec"), _specs())
def test_every_spec_is_documented(name: str, spec: object) -> None:
    doc = inspect.getdoc(spec) or ""
    params = list(inspect.signature(spec).parameters)  # type: ignore[arg-type]
    for param in params:
        assert f":param {param}:" in doc, f"{name} lacks :param {param}:"
    assert ":returns:" in doc, name
    assert ":raises" in doc, name
    assert "firstresult=True" in doc, name
    assert "Use in driver plugins" in doc, name
    opts = getattr(spec, PROJECT + "_spec")
    assert opts["firstresult"] is True


@pytest.mark.parametrize(("name", "spec"), _specs())
def test_conn_first(name: str, spec: object) -> None:
    params = list(inspect.signature(spec).parameters)  # type: ignore[arg-type]
    if name == "virtplug_connection_open":
        assert params == ["uri", "auth", "readonly"]
    else:
        assert params[0] == "conn"


def test_mutating_set() -> None:
    assert set(hookspecs.OPERATIONS) >= hookspecs.MUTATING
    reads = {op for op in hookspecs.OPERATIONS if op not in hookspecs.MUTATING}
    for op in reads:
        verb = op.split(".", 1)[1]
        assert verb.startswith(
            (
                "list",
                "lookup",
                "info",
                "state",
                "xml",
                "get_",
                "stats",
                "snapshot_list",
                "snapshot_lookup",
                "path",
                "is_alive",
                "type",
                "version",
                "hostname",
                "capabilities",
                "free_memory",
                "open",
                "close",
                "watch_events",
            )
        ), op
    for op in (
        "domain.start",
        "domain.define",
        "network.stop",
        "pool.build",
        "volume.delete",
        "domain.exec",
        "domain.set_autostart",
    ):
        assert op in hookspecs.MUTATING


def test_name_mapping_errors() -> None:
    with pytest.raises(ValueError):
        hookspecs.operation_name("pytest_foo")
    with pytest.raises(ValueError):
        hookspecs.hook_name("domainstart")
