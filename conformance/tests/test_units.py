"""Unit tests: deadlines, profile validation, target resolution."""

from __future__ import annotations

import pathlib
import threading
from collections.abc import Callable
from typing import Any

import pytest

from virtplug_conformance._deadline import TRIP_AFTER, Deadline, DriverHung
from virtplug_conformance.profiles import Profile, ProfileError, resolve_targets

GOOD: dict[str, Any] = {
    "uri": "x:///",
    "domain_xml": "<domain><name>{name}</name></domain>",
    "network_xml": None,
    "pool_xml": None,
    "volume_xml": None,
    "exec_probe": None,
}


def test_deadline_returns_and_raises() -> None:
    d = Deadline("x", 5.0)
    assert d.run("domain.state", lambda: 42) == 42
    with pytest.raises(KeyError):
        d.run("domain.state", lambda: {}["missing"])
    d.close()


def test_deadline_diagnoses_a_hung_call_and_does_not_call_it_again() -> None:
    d = Deadline("x", 0.05)
    release = threading.Event()
    with pytest.raises(DriverHung) as info:
        d.run("domain.reboot", lambda: release.wait(30))
    assert info.value.operation == "domain.reboot"
    assert "did not return from domain.reboot" in str(info.value)
    assert "release.wait" in str(info.value)  # the stack of the hung call
    calls: list[int] = []
    with pytest.raises(DriverHung, match="not attempted"):
        d.run("domain.reboot", lambda: calls.append(1))
    assert calls == []
    assert d.run("domain.state", lambda: "other operations still run") == (
        "other operations still run"
    )
    release.set()


def test_deadline_trips_after_enough_hung_operations() -> None:
    d = Deadline("x", 0.02)
    release = threading.Event()
    for i in range(TRIP_AFTER):
        with pytest.raises(DriverHung):
            d.run(f"op.{i}", lambda: release.wait(30))
    assert d.tripped
    with pytest.raises(DriverHung, match="is hung"):
        d.run("domain.state", lambda: 1)
    release.set()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"uri": None}, "'uri' is required"),
        ({"domain_xml": "<domain/>"}, "placeholder {name}"),
        ({"volume_xml": "<volume><name>{name}</name></volume>"}, "volume_xml needs pool_xml"),
        ({"exec_probe": {"argv": "echo hi"}}, "exec_probe"),
        ({"timeout": 0}, "timeout"),
        ({"colour": "blue"}, "unknown profile keys"),
    ],
)
def test_profile_validation(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Profile.from_mapping({**GOOD, **change}, source="p")


def test_profile_defaults() -> None:
    profile = Profile.from_mapping(
        {**GOOD, "exec_probe": {"argv": ["echo", "hi"], "stdout": "hi\n"}}, source="p"
    )
    assert profile.timeout == 30.0
    assert profile.exec_probe is not None
    assert profile.exec_probe.argv == ("echo", "hi")
    assert profile.exec_probe.exit_code == 0


def test_targets_override_the_uri_and_report_problems(
    tmp_path: pathlib.Path, register: Callable[..., str]
) -> None:
    scheme = register("unit-target")
    targets = resolve_targets(
        [f"{scheme}:///elsewhere.xml", "no such uri"],
        tmp_path,
        timeout=3,
        drivers=[scheme, "not-installed"],
    )
    labels = [t.label for t in targets]
    assert labels == [scheme, "no such uri", f"{scheme}-2", "not-installed"]
    first, bad, second, missing = targets
    assert first.uri == f"{scheme}:///elsewhere.xml"
    assert first.profile is not None and first.profile.timeout == 3
    assert second.uri.startswith(f"{scheme}:///") and second.uri != first.uri
    assert bad.problem is not None and "invalid URI" in bad.problem
    assert missing.problem is not None and "not installed" in missing.problem
