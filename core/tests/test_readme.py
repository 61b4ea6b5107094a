"""The README's main-job command keeps working (run with the installed CLI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_readme_names_the_demo_and_the_test_command() -> None:
    text = (ROOT / "README.md").read_text()
    first = text.split("\n## ", 2)[1]
    commands = [
        line
        for line in re.findall(r"```sh\n(.*?)```", first, re.S)[0].splitlines()
        if line and not line.startswith("#")
    ]
    assert commands == [
        "bash examples/demo.sh",
        "python3 -m pip install 'tox>=4.11' && tox run",
    ]
    assert "tox run" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.skipif(shutil.which("virtplug") is None, reason="virtplug console script not on PATH")
def test_demo_script_runs_the_main_job() -> None:
    env = dict(os.environ, VIRTPLUG_DEMO_INSTALLED="1")
    env.pop("VIRTPLUG_DEFAULT_URI", None)
    proc = subprocess.run(
        ["bash", str(ROOT / "examples" / "demo.sh")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Domain 'web' defined from examples/web.xml" in out or "Domain 'web' defined" in out
    assert "Domain 'web' started" in out
    assert re.search(r"^\s*1\s+web\s+running\s*$", out, re.M), out
    assert "<name>web</name>" in out
    assert "hello from inside" in out
    assert "Domain 'web' destroyed" in out
    assert "Domain 'web' has been undefined" in out
