"""A driver that blocks while holding the GIL freezes the process; the watchdog still ends
the run with a diagnosis, and the CLI turns it into a failure naming the check.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

from virtplug_conformance import cli
from virtplug_conformance.plugin import PROGRESS_FILE, WATCHDOG_FILE

FROZEN = textwrap.dedent(
    """
    import ctypes, sys
    sys.path.insert(0, {tests!r})
    from broken import profile_for
    from virtplug import hookimpl
    from virtplug.testing import registered_driver
    from virtplug_conformance import cli
    from virtplug_conformance.profiles import registered_profile
    from virtplug_test import TestDriver

    class FreezesOnSuspend(TestDriver):
        @hookimpl
        def virtplug_domain_suspend(self, conn, name):
            ctypes.PyDLL(None).sleep(120)  # libc sleep() with the GIL held

    with registered_driver("broken-freeze", FreezesOnSuspend), registered_profile(
        "broken-freeze", profile_for("broken-freeze", timeout=1)
    ):
        cli.run(drivers=["broken-freeze"], junitxml=None, certificate=None,
                workdir={work!r}, pytest_args=["--virtplug-watchdog", "3", "-x",
                "-k", "test_states and running-suspend"])
    print("NOT REACHED")
    """
)


def test_frozen_process_is_ended_by_the_watchdog(tmp_path: pathlib.Path) -> None:
    work = tmp_path / "work"
    script = FROZEN.format(tests=str(pathlib.Path(__file__).parent), work=str(work))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONFAULTHANDLER": ""},
    )
    assert proc.returncode == 1
    assert "NOT REACHED" not in proc.stdout
    dump = (work / WATCHDOG_FILE).read_text()
    assert "virtplug_domain_suspend" in dump  # where the driver is stuck
    assert "test_domain_transition" in dump  # and which check was running
    progress = (work / PROGRESS_FILE).read_text()
    assert "running-suspend-paused" in progress


def test_cli_reports_a_frozen_run(tmp_path: pathlib.Path, capsys: object) -> None:
    (tmp_path / WATCHDOG_FILE).write_text('Thread 0x1 (most recent call first):\n  File "d.py"\n')
    (tmp_path / PROGRESS_FILE).write_text("test_states.py::test_domain_transition[x-running]\n")
    junit = tmp_path / "junit.xml"
    ns = argparse.Namespace(junitxml=str(junit))
    code = cli._report_frozen(ns, tmp_path, tmp_path / WATCHDOG_FILE, tmp_path / PROGRESS_FILE)
    assert code == cli.EXIT_FAILED
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "test_domain_transition[x-running]"
    failure = case.find("failure")
    assert failure is not None and "stopped making progress" in (failure.text or "")
