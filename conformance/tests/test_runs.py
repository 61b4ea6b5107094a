"""Whole runs through both doors: the reference driver certifies at level full; the CLI
verifies certificates and builds the matrix; leftovers stop a run; a driver without a
profile cannot be certified.
"""

from __future__ import annotations

import contextlib
import io
import json
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest

import virtplug
from virtplug_conformance import certificate as cert
from virtplug_conformance import cli


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``virtplug-conformance`` with no driver named: every installed driver.

    ``VIRTPLUG_DRIVERS=test`` limits "every installed driver" to the test driver, which
    then runs at its own profile's URI (a persisted state file).
    """
    tmp = tmp_path_factory.mktemp("reference")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv("VIRTPLUG_DRIVERS", "test")
        code = cli.main(
            [
                "--junitxml",
                str(tmp / "junit.xml"),
                "--certificate",
                str(tmp / "{driver}.json"),
                "--matrix",
                str(tmp / "matrix.html"),
                "--workdir",
                str(tmp / "work"),
            ]
        )
    doc = json.loads((tmp / "test.json").read_text())
    return {"code": code, "certs": {"test": doc}, "tmp": tmp, "out": out.getvalue()}


def test_reference_driver_passes_at_level_full(reference: dict[str, Any]) -> None:
    assert reference["code"] == 0
    assert "found drivers: test (virtplug-test" in reference["out"]
    doc = reference["certs"]["test"]
    assert doc["result"] == {"passed": True, "level": "full"}
    assert doc["totals"]["passed"] == 76
    assert doc["totals"]["checks"]["failed"] == doc["totals"]["checks"]["error"] == 0
    assert doc["totals"]["checks"]["skipped"] == 0
    assert doc["driver"]["distribution"] == "virtplug-test"
    assert all(c["outcome"] == "passed" for c in doc["checks"].values())
    assert doc["driver"]["uri"].startswith("test:///")  # the profile's URI
    assert cert.verify(doc) == []


def test_junit_xml_lists_every_check(reference: dict[str, Any]) -> None:
    root = ET.parse(reference["tmp"] / "junit.xml").getroot()
    cases = root.iter("testcase")
    names = [c.get("name") for c in cases]
    assert len(names) == reference["certs"]["test"]["totals"]["checks"]["passed"]
    assert "test_no_prefixed_objects_left[test]" in names


def test_html_matrix(reference: dict[str, Any]) -> None:
    html = (reference["tmp"] / "matrix.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert "<code>domain.snapshot_revert</code>" in html
    assert html.count("✅ passed") == 76


def test_cli_verify_and_matrix(
    reference: dict[str, Any], tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = reference["tmp"] / "test.json"
    assert cli.main(["verify", str(good)]) == 0
    assert "valid: driver test" in capsys.readouterr().out
    doc = json.loads(good.read_text())
    doc["operations"]["domain.reboot"]["outcome"] = "unsupported"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    assert cli.main(["verify", str(bad)]) == 1
    assert "INVALID" in capsys.readouterr().out
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "test.json").write_text(good.read_text())
    out = tmp_path / "matrix.md"
    assert cli.main(["matrix", str(certs), "-o", str(out)]) == 0
    text = out.read_text()
    assert "| `domain.start` | ✅ passed |" in text
    assert "**full**" in text
    (certs / "bad.json").write_text(json.dumps(doc))
    assert cli.main(["matrix", str(certs), "-o", str(out)]) == 1  # the invalid one is skipped
    assert "bad.json: skipped, invalid" in capsys.readouterr().err


def test_driver_without_profile_is_not_certifiable(register: Callable[..., str]) -> None:
    from virtplug.testing import registered_driver
    from virtplug_test import TestDriver

    with registered_driver("noprofile", TestDriver):
        code, certs = cli.run(drivers=["noprofile"], junitxml=None, certificate=None)
    assert code == 1
    doc = certs["noprofile"]
    assert doc["result"] == {"passed": False, "level": "none"}
    assert doc["checks"]["profile"]["outcome"] == "failed"
    assert "no conformance profile" in doc["checks"]["profile"]["reason"]
    assert {e["outcome"] for e in doc["operations"].values()} == {"error"}


def test_leftovers_stop_the_run_unless_force_clean(
    register: Callable[..., str], tmp_path: pathlib.Path
) -> None:
    scheme = register("leftover")
    work = tmp_path / "work"
    # the profile writes the state file; open it first to plant objects
    from broken import profile_for

    uri = profile_for(scheme)(work / scheme)["uri"]
    xml = (
        "<domain type='test'><name>{}</name><memory>65536</memory>"
        "<os><type>exe</type><init>/bin/sh</init></os></domain>"
    )
    holder = virtplug.open(uri)  # keeps the in-memory state alive across runs
    try:
        holder.define_domain(xml.format("vpc-0ld000-dom-1"))
        holder.define_domain(xml.format("keep-me"))
        code, certs = cli.run(drivers=[scheme], junitxml=None, certificate=None, workdir=str(work))
        assert code == 3
        assert certs == {}
        assert {d.name for d in holder.list_domains()} == {"vpc-0ld000-dom-1", "keep-me"}
        code, certs = cli.run(
            drivers=[scheme], junitxml=None, certificate=None, workdir=str(work), force_clean=True
        )
        assert code == 0, certs[scheme]["run"]["failures"][:3]
        assert "vpc-0ld000-dom-1" in certs[scheme]["checks"]["preflight"]["reason"]
        assert {d.name for d in holder.list_domains()} == {"keep-me"}
    finally:
        holder.close()


def test_pytest_door_and_exit_codes(tmp_path: pathlib.Path) -> None:
    """``pytest -p virtplug_conformance --virtplug-uri URI`` in a subprocess."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "virtplug_conformance",
            "--virtplug-uri",
            "test:///default",
            "-q",
            "-p",
            "no:cacheprovider",
            "--virtplug-certificate",
            str(tmp_path / "c.json"),
            "-k",
            "test_states or test_zz_leaks or test_00",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # a partial run cannot certify: unexercised operations are errors, so exit 1
    assert proc.returncode == 1, proc.stdout[-2000:]
    assert "failed" not in proc.stdout.split("virtplug conformance")[0].splitlines()[-1]
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["result"]["passed"] is False
    assert doc["operations"]["domain.start"]["outcome"] == "passed"
    assert doc["operations"]["node.info"]["outcome"] == "error"


def test_no_drivers(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VIRTPLUG_DRIVERS", "no-such-driver")
    assert cli.main([]) == cli.EXIT_NO_DRIVERS
    assert "no virtplug drivers" in capsys.readouterr().err
