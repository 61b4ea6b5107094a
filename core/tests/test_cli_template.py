"""The driver template renders a package that installs, passes its tests and certifies.

Renders ``templates/driver`` with copier (defaults plus a driver name),
pip-installs the result into a private directory that subprocesses put on
PYTHONPATH (so the shared environment never gains a stray driver), runs the
generated tests, lints
and type-checks the generated code, and runs the conformance suite on it: every
operation but ``connection.open`` must be reported ``undeclared``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "templates" / "driver"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copier = pytest.importorskip("copier")
    out = tmp_path_factory.mktemp("template") / "virtplug-podman"
    copier.run_copy(
        str(TEMPLATE),
        str(out),
        data={"driver_name": "podman", "backend_name": "Podman"},
        defaults=True,
        unsafe=True,
        vcs_ref="HEAD",  # the working tree, uncommitted edits included
        quiet=True,
    )
    return out


@pytest.fixture(scope="module")
def site(rendered: Path) -> Path:
    """The generated distribution, pip-installed into a private directory.

    Subprocesses see it through PYTHONPATH (its ``.dist-info`` carries the entry
    points), on top of everything this environment has, virtplug included; the
    shared environment itself never gains the driver.
    """
    target = rendered.parent / "site"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            str(rendered),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return target


def _env(site: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTPLUG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return env


def _run(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=_env(site),
        cwd=cwd,
        timeout=900,
    )


def test_template_renders_a_driver_distribution(rendered: Path) -> None:
    files = sorted(str(p.relative_to(rendered)) for p in rendered.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/virtplug_podman/__init__.py",
        "src/virtplug_podman/conformance.py",
        "src/virtplug_podman/driver.py",
        "src/virtplug_podman/py.typed",
        "tests/test_driver.py",
    ]
    pyproject = (rendered / "pyproject.toml").read_text()
    assert 'name = "virtplug-podman"' in pyproject
    assert 'podman = "virtplug_podman:PodmanDriver"' in pyproject
    assert 'podman = "virtplug_podman.conformance:profile"' in pyproject


def test_template_refuses_a_bad_driver_name(tmp_path: Path) -> None:
    copier = pytest.importorskip("copier")
    with pytest.raises(Exception, match="lowercase letters and digits"):
        copier.run_copy(
            str(TEMPLATE),
            str(tmp_path / "bad"),
            data={"driver_name": "Bad-Name"},
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )


def test_generated_driver_is_installed_in_its_site_only(site: Path) -> None:
    code = "import virtplug; print(' '.join(e.name for e in virtplug.installed_drivers()))"
    proc = _run(site, "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert "podman" in proc.stdout.split()
    import virtplug

    assert "podman" not in [e.name for e in virtplug.installed_drivers()]


def test_generated_tests_pass(rendered: Path, site: Path) -> None:
    proc = _run(site, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rxX", cwd=rendered)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "6 passed, 1 xfailed" in proc.stdout


def test_generated_code_is_lint_and_type_clean(rendered: Path, site: Path) -> None:
    ruff = shutil.which("ruff")
    if ruff is not None:
        proc = subprocess.run([ruff, "check", "."], cwd=rendered, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout
    pytest.importorskip("mypy")
    proc = _run(site, "-m", "mypy", "src", cwd=rendered)
    assert proc.returncode == 0, proc.stdout


def test_generated_driver_shows_up_in_the_cli(site: Path) -> None:
    from virtplug.hookspecs import OPERATIONS

    run = "import sys; from virtplug.cli import main; main(sys.argv[1:])"
    proc = _run(site, "-c", run, "-c", "podman:///", "--json", "ops")
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)["counts"]
    assert counts == {"implemented": 1, "unsupported": 0, "undeclared": len(OPERATIONS) - 1}


def test_conformance_reports_every_operation_undeclared(rendered: Path, site: Path) -> None:
    pytest.importorskip("virtplug_conformance")
    from virtplug.hookspecs import OPERATIONS

    cert = rendered.parent / "certificate.json"
    run = "import sys; from virtplug_conformance.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = _run(
        site,
        "-c",
        run,
        "--uri",
        "podman:///",
        "--certificate",
        str(cert),
        "--junitxml",
        str(rendered.parent / "junit.xml"),
        cwd=rendered.parent,
    )
    assert proc.returncode == 1, proc.stdout[-3000:]  # a skeleton does not certify
    data = json.loads(cert.read_text())
    ops = data["operations"]
    assert set(ops) == set(OPERATIONS)
    undeclared = {op for op, entry in ops.items() if entry["outcome"] == "undeclared"}
    assert undeclared == set(OPERATIONS) - {"connection.open"}
    assert ops["connection.open"]["status"] == "implemented"
    assert data["totals"]["undeclared"] == len(OPERATIONS) - 1
