"""CLI start-up: ``virtplug -c test:///default list --all`` against ``virsh`` doing the same.

Both commands run as fresh processes, alternately, many times in one run; the
figure is the ratio of the medians (target: virtplug within 5x virsh).

virtplug is measured *as a user installs it*: the benchmark creates a fresh
virtual environment, ``pip install``s the core and the test driver into it (not
editable), and times that environment's console script. Bytecode is cached as
pip leaves it, and three warm-up runs fill the driver entry-point index (kept in
a private ``VIRTPLUG_CACHE_DIR``), as any second run on a machine would. The
interpreter's own floor (``python -c pass``, ``python -c "import virtplug"``) is
measured in the same run. ``--here`` measures the environment running the
benchmark instead (a development install; its interpreter may carry site
start-up costs of its own, which the table then shows).

Usage: ``python bench/cli_bench.py [--runs N] [--here]``; writes
``bench/results/cli.json`` and ``bench/results/cli.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
TARGET_RATIO = 5.0


ROOT = HERE.parent


def _env(cache: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTPLUG_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    env["VIRTPLUG_CACHE_DIR"] = cache
    return env


def _install(where: Path) -> tuple[str, str]:
    """A fresh venv with the core and the test driver pip-installed: (python, virtplug)."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True)
    python = where / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         str(ROOT / "core"), str(ROOT / "plugins" / "test")],
        check=True,
    )  # fmt: skip
    return str(python), str(where / "bin" / "virtplug")


def _here() -> tuple[str, str]:
    # The console script installed beside this interpreter, as pip leaves it; a PATH
    # lookup can find a version manager's shim (pyenv's is a bash script that costs
    # ~50 ms before Python even starts), which would measure the shim, not virtplug.
    beside = Path(sys.executable).parent / "virtplug"
    virtplug = str(beside) if beside.exists() else shutil.which("virtplug")
    if virtplug is None:
        raise SystemExit("virtplug is not installed (pip install -e core -e plugins/test)")
    return sys.executable, virtplug


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{argv} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "mean_ms": statistics.fmean(ordered) * 1e3,
        "p10_ms": ordered[max(0, n // 10)] * 1e3,
        "p90_ms": ordered[min(n - 1, (9 * n) // 10)] * 1e3,
        "min_ms": ordered[0] * 1e3,
        "runs": n,
    }


def measure(runs: int, here: bool = False) -> dict[str, object]:
    """Run every command *runs* times, interleaved; return the result document."""
    with tempfile.TemporaryDirectory(prefix="virtplug-cli-bench-") as tmp:
        python, virtplug = _here() if here else _install(Path(tmp) / "venv")
        return _measure(runs, python, virtplug, Path(tmp) / "cache", here)


def _measure(runs: int, python: str, virtplug: str, cache: Path, here: bool) -> dict[str, object]:
    virsh = shutil.which("virsh")
    commands: dict[str, list[str]] = {
        "virtplug list --all": [virtplug, "-c", "test:///default", "list", "--all"],
        "virtplug --version": [virtplug, "--version"],
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import virtplug'": [python, "-c", "import virtplug"],
    }
    if virsh is not None:
        commands["virsh list --all"] = [virsh, "-c", "test:///default", "list", "--all"]
    samples: dict[str, list[float]] = {name: [] for name in commands}
    env = _env(str(cache))
    for argv in commands.values():
        for _ in range(3):
            _time(argv, env)
    for _ in range(runs):
        for name, argv in commands.items():
            samples[name].append(_time(argv, env))
    stats = {name: _summary(values) for name, values in samples.items()}
    ratio = None
    if virsh is not None:
        ratio = stats["virtplug list --all"]["median_ms"] / stats["virsh list --all"]["median_ms"]
    import virtplug as vp

    return {
        "benchmark": "cli-startup",
        "command": "list --all on test:///default",
        "target_ratio": TARGET_RATIO,
        "ratio_virtplug_to_virsh": ratio,
        "target_met": ratio is not None and ratio <= TARGET_RATIO,
        "stats": stats,
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "virtplug": vp.__version__,
            "virsh": _virsh_version(virsh),
            "bytecode_cached": True,
            "install": "development environment" if here else "fresh venv, pip install (wheel)",
        },
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _virsh_version(virsh: str | None) -> str | None:
    if virsh is None:
        return None
    out = subprocess.run([virsh, "--version"], capture_output=True, text=True)
    return out.stdout.strip() or None


def markdown(doc: dict[str, object]) -> str:
    """The results as a Markdown section (included by docs/performance.md)."""
    stats = doc["stats"]
    assert isinstance(stats, dict)
    env = doc["environment"]
    assert isinstance(env, dict)
    ratio = doc["ratio_virtplug_to_virsh"]
    lines = [
        "## CLI start-up",
        "",
        f"`virtplug -c test:///default list --all` against `virsh -c test:///default list --all`,"
        f" each a fresh process, {next(iter(stats.values()))['runs']} interleaved runs"
        f" ({doc['timestamp']}, Python {env['python']}, {env['cpus']} CPUs, virsh {env['virsh']})."
        f" virtplug installed into: {env.get('install', 'development environment')}.",
        "",
        "| Command | median ms | p10 ms | p90 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, s in stats.items():
        lines.append(f"| `{name}` | {s['median_ms']:.1f} | {s['p10_ms']:.1f} | {s['p90_ms']:.1f} |")
    lines.append("")
    if ratio is None:
        lines.append("virsh is not installed: no ratio.")
    else:
        verdict = "met" if doc["target_met"] else "**not met**"
        lines.append(
            f"**Ratio virtplug / virsh: {ratio:.1f}x** (target <= {doc['target_ratio']:.0f}x: "
            f"{verdict})."
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Measure and write ``bench/results/cli.{json,md}``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--here", action="store_true", help="measure this environment, not a fresh venv"
    )
    args = parser.parse_args(argv)
    doc = measure(args.runs, args.here)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cli.json").write_text(json.dumps(doc, indent=2) + "\n")
    text = markdown(doc)
    (RESULTS / "cli.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
