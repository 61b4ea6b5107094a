"""LXC benchmark: the virtplug LXC driver vs the ``lxc`` binding direct vs the ``lxc-*`` CLI.

One run, same machine, same container shape (busybox template, no network): the
lifecycle of N containers (default 20) — create, start, stop (hard stop:
``dom.destroy()`` / ``Container.stop()`` / ``lxc-stop -k``), destroy
(``dom.undefine()`` / ``Container.destroy()`` / ``lxc-destroy``) — and listing
names with run state while the N containers run (``conn.list_domains()`` /
``lxc.list_containers(as_object=True)`` + ``.state`` / ``lxc-ls -f``).

Each method gets its own temporary lxcpath and its own N containers. Operations
are interleaved: for every phase and container index each method does its
operation in turn (order rotated), so every method sees the same machine load;
``--rounds`` rounds (default 3), each phase reports the median round. Four
methods: the driver, the driver with its template cache off
(``?template_cache=no``, the like-for-like comparison), the binding, the CLI.
Targets (issue 5): driver <= 1.05x the binding, driver <= 0.8x the CLI over the
whole lifecycle. Nothing here asserts: the figures are reported, met or not.
Results: ``bench/results/lxc.json`` and ``bench/results/lxc.md``.

Usage: ``python bench/lxc_bench.py [--count N] [--rounds R] [--list-calls L]`` (root).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxc

import virtplug

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PHASES = ("create", "start", "stop", "destroy")
TARGET_BINDING = 1.05
TARGET_CLI = 0.8

XML = """<domain type='lxc'><name>{name}</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type>exe</type></os>
<devices><filesystem type='template'><source name='busybox'/><target dir='/'/></filesystem>
</devices></domain>"""


class Method:
    """One way of driving LXC; subclasses time each phase over every container."""

    label = ""

    def __init__(self, path: Path, names: list[str]) -> None:
        self.path = path
        self.names = names

    def create(self, name: str) -> None:
        raise NotImplementedError

    def start(self, name: str) -> None:
        raise NotImplementedError

    def stop(self, name: str) -> None:
        raise NotImplementedError

    def destroy(self, name: str) -> None:
        raise NotImplementedError

    def listing(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the method holds."""


class Driver(Method):
    label = "virtplug driver"

    def __init__(self, path: Path, names: list[str]) -> None:
        super().__init__(path, names)
        self.conn = virtplug.open(f"lxc://{path}")
        self.doms: dict[str, Any] = {}

    def create(self, name: str) -> None:
        self.doms[name] = self.conn.define_domain(XML.format(name=name))

    def start(self, name: str) -> None:
        self.doms[name].start()

    def stop(self, name: str) -> None:
        self.doms[name].destroy()

    def destroy(self, name: str) -> None:
        self.doms[name].undefine()

    def listing(self) -> int:
        return sum(1 for ref in self.conn.list_domains() if ref is not None)

    def close(self) -> None:
        self.conn.close()


class DriverNoCache(Driver):
    label = "virtplug driver, template cache off"

    def __init__(self, path: Path, names: list[str]) -> None:
        Method.__init__(self, path, names)
        self.conn = virtplug.open(f"lxc://{path}?template_cache=no")
        self.doms = {}


class Binding(Method):
    label = "lxc binding"

    def _c(self, name: str) -> lxc.Container:
        return lxc.Container(name, str(self.path))

    def create(self, name: str) -> None:
        c = self._c(name)
        c.clear_config_item("lxc.net")
        c.set_config_item("lxc.net.0.type", "empty")
        if not c.create("busybox", lxc.LXC_CREATE_QUIET, ()):
            raise RuntimeError(f"binding: create {name} failed")

    def start(self, name: str) -> None:
        c = self._c(name)
        if not c.start() or not c.wait("RUNNING", 10):
            raise RuntimeError(f"binding: start {name} failed")

    def stop(self, name: str) -> None:
        if not self._c(name).stop():
            raise RuntimeError(f"binding: stop {name} failed")

    def destroy(self, name: str) -> None:
        if not self._c(name).destroy():
            raise RuntimeError(f"binding: destroy {name} failed")

    def listing(self) -> int:
        containers = lxc.list_containers(as_object=True, config_path=str(self.path))
        return sum(1 for c in containers if c.state)


class CLI(Method):
    label = "lxc-* CLI"

    def __init__(self, path: Path, names: list[str]) -> None:
        super().__init__(path, names)
        self.conf = path / "bench-net.conf"
        self.conf.write_text("lxc.net.0.type = empty\n")

    def _run(self, *argv: str) -> str:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-300:]}")
        return proc.stdout

    def create(self, name: str) -> None:
        self._run(
            "lxc-create",
            "-q",
            "-P",
            str(self.path),
            "-n",
            name,
            "-t",
            "busybox",
            "-f",
            str(self.conf),
        )

    def start(self, name: str) -> None:
        self._run("lxc-start", "-P", str(self.path), "-n", name, "-d")

    def stop(self, name: str) -> None:
        self._run("lxc-stop", "-P", str(self.path), "-n", name, "-k")

    def destroy(self, name: str) -> None:
        self._run("lxc-destroy", "-P", str(self.path), "-n", name)

    def listing(self) -> int:
        out = self._run("lxc-ls", "-P", str(self.path), "-f", "-F", "NAME,STATE")
        return len(out.splitlines()) - 1


def _cleanup(path: Path) -> None:
    for name in lxc.list_containers(config_path=str(path)):
        c = lxc.Container(name, str(path))
        if c.running:
            c.stop()
        c.destroy()
    shutil.rmtree(path, ignore_errors=True)


def run_round(
    classes: list[type[Method]], count: int, list_calls: int, tag: str
) -> dict[str, dict[str, float]]:
    """One round: every method drives its own N containers, operations interleaved.

    For each phase and each container index, every method does that operation in
    turn (order rotated per container), so all methods see the same machine load;
    a method's phase time is the sum of its own operations.
    """
    methods: list[Method] = []
    paths: list[Path] = []
    out: dict[str, dict[str, float]] = {cls.__name__: {} for cls in classes}
    try:
        for cls in classes:
            path = Path(tempfile.mkdtemp(prefix=f"vpl-bench-{cls.__name__.lower()}-"))
            paths.append(path)
            names = [f"b{tag}{cls.__name__.lower()[:6]}{i:02d}" for i in range(count)]
            methods.append(cls(path, names))

        def phase(phase_name: str) -> None:
            totals = dict.fromkeys(out, 0.0)
            for i in range(count):
                k = i % len(methods)
                for method in methods[k:] + methods[:k]:
                    fn: Callable[[str], None] = getattr(method, phase_name)
                    t0 = time.perf_counter()
                    fn(method.names[i])
                    totals[type(method).__name__] += time.perf_counter() - t0
            for key, total in totals.items():
                out[key][phase_name] = total

        phase("create")
        phase("start")
        totals = dict.fromkeys(out, 0.0)
        for _ in range(list_calls):
            for method in methods:
                t0 = time.perf_counter()
                seen = method.listing()
                totals[type(method).__name__] += time.perf_counter() - t0
                if seen != count:
                    raise RuntimeError(f"{method.label}: listing saw {seen}, expected {count}")
        for key, total in totals.items():
            out[key]["list"] = total / list_calls
        phase("stop")
        phase("destroy")
        for result in out.values():
            result["lifecycle"] = sum(result[p] for p in PHASES)
            result["start+stop"] = result["start"] + result["stop"]
    finally:
        for method in methods:
            method.close()
        for path in paths:
            _cleanup(path)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--list-calls", type=int, default=20)
    args = parser.parse_args()

    load_start = [round(x, 2) for x in os.getloadavg()]
    methods: list[type[Method]] = [Driver, DriverNoCache, Binding, CLI]
    run_round([Binding], 2, 1, "w")  # warm the template's page cache
    samples: dict[str, list[dict[str, float]]] = {m.__name__: [] for m in methods}
    for r in range(args.rounds):
        for name, result in run_round(methods, args.count, args.list_calls, str(r)).items():
            samples[name].append(result)

    keys = (*PHASES, "start+stop", "lifecycle", "list")
    med = {m: {k: statistics.median(s[k] for s in samples[m]) for k in keys} for m in samples}
    ratios = {
        "vs_binding": {k: med["Driver"][k] / med["Binding"][k] for k in keys},
        "vs_cli": {k: med["Driver"][k] / med["CLI"][k] for k in keys},
        "nocache_vs_binding": {k: med["DriverNoCache"][k] / med["Binding"][k] for k in keys},
        "nocache_vs_cli": {k: med["DriverNoCache"][k] / med["CLI"][k] for k in keys},
        "binding_vs_cli": {k: med["Binding"][k] / med["CLI"][k] for k in keys},
    }
    result = {
        "benchmark": "lxc",
        "containers": args.count,
        "rounds": args.rounds,
        "list_calls_per_round": args.list_calls,
        "machine": {
            "python": platform.python_version(),
            "liblxc": lxc.version,
            "kernel": platform.release(),
            "cpus": os.cpu_count(),
            "loadavg_start": load_start,
            "loadavg": [round(x, 2) for x in os.getloadavg()],
        },
        "seconds_median": med,
        "samples": samples,
        "ratios": ratios,
        "targets": {
            "lifecycle_vs_binding": TARGET_BINDING,
            "lifecycle_vs_cli": TARGET_CLI,
            "met_vs_binding": ratios["vs_binding"]["lifecycle"] <= TARGET_BINDING,
            "met_vs_cli": ratios["vs_cli"]["lifecycle"] <= TARGET_CLI,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lxc.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# LXC driver benchmark",
        "",
        f"{args.count} busybox containers per method, operations interleaved across methods, "
        f"median of {args.rounds} rounds, "
        f"4 methods, liblxc {lxc.version}, Python {platform.python_version()}, "
        f"kernel {platform.release()}. Generated by `bench/lxc_bench.py`.",
        "",
        "Seconds for all containers per phase; listing is seconds per call with the "
        "containers running.",
        "",
        "| phase | driver | driver, no cache | binding | CLI | driver / binding "
        "| driver / CLI | no cache / binding | no cache / CLI | binding / CLI |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k in keys:
        lines.append(
            f"| {k} | {med['Driver'][k]:.4f} | {med['DriverNoCache'][k]:.4f} "
            f"| {med['Binding'][k]:.4f} | {med['CLI'][k]:.4f} "
            f"| {ratios['vs_binding'][k]:.3f} | {ratios['vs_cli'][k]:.3f} "
            f"| {ratios['nocache_vs_binding'][k]:.3f} | {ratios['nocache_vs_cli'][k]:.3f} "
            f"| {ratios['binding_vs_cli'][k]:.3f} |"
        )
    t = result["targets"]
    lines += [
        "",
        f"Targets over the whole lifecycle: driver <= {TARGET_BINDING}x binding "
        f"({'met' if t['met_vs_binding'] else 'NOT met'}: "
        f"{ratios['vs_binding']['lifecycle']:.3f}x), driver <= {TARGET_CLI}x CLI "
        f"({'met' if t['met_vs_cli'] else 'NOT met'}: {ratios['vs_cli']['lifecycle']:.3f}x).",
        "",
        "The driver creates template containers by copying a cached run of the template "
        "(`?template_cache=no` turns that off); the binding and the CLI run the template "
        "for every container. The `no cache` column is the like-for-like comparison.",
        f"Load average (1, 5, 15 min) at start {load_start}, at end "
        f"{result['machine']['loadavg']} (other jobs share this 2-CPU machine).",
        "",
    ]
    (RESULTS / "lxc.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
