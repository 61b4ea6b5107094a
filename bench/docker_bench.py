"""Docker benchmark: the virtplug Docker driver vs docker-py direct vs the ``docker`` CLI.

One run, same engine, same container shape (``virtplug/busybox:latest``, an init that
exits on SIGTERM, 64 MiB, 1 CPU, no network):

- the lifecycle of N containers (default 20), phase by phase over all of them:
  create (``conn.define_domain`` / ``APIClient.create_container`` /
  ``docker create``), start, stop (graceful, 10 s grace: ``dom.shutdown()`` /
  ``APIClient.stop`` / ``docker stop``), remove (``dom.undefine()`` /
  ``APIClient.remove_container`` / ``docker rm``);
- listing M containers (default 500, created and left stopped): ``conn.list_domains()``
  vs ``APIClient.containers(all=True)`` vs ``DockerClient.containers.list(all=True,
  sparse=True)`` vs ``docker ps -a``.

"docker-py direct" is the SDK's low-level ``APIClient`` (the high-level client is also
reported: its ``containers.create`` inspects after creating). Methods run in rotated
order, interleaved phase by phase (with a 2 s pause before each phase for the engine's
asynchronous cleanup), for ``--rounds`` rounds (default 5); each phase reports the median
round.
Targets (issue 4): lifecycle <= 1.05x docker-py, faster than the CLI, listing <= 1.2x
docker-py. Nothing here asserts: the figures are reported, met or not.
Results: ``bench/results/docker.json`` and ``bench/results/docker.md``.

Usage: ``python bench/docker_bench.py [--count N] [--list-count M] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import docker
import docker.errors

import virtplug

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PREFIX = "vpbench-"
IMAGE = "virtplug/busybox:latest"
INIT = 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done'
PHASES = ("create", "start", "stop", "remove")
TARGET_SDK = 1.05
SETTLE = 2.0  # seconds between phases
TARGET_LIST = 1.2

XML = f"""<domain type='docker'><name>{{name}}</name><memory unit='KiB'>65536</memory>
<vcpu>1</vcpu><os><type>exe</type><init>/bin/sh</init><initarg>-c</initarg>
<initarg>{escape(INIT, {'"': "&quot;"})}</initarg></os>
<devices><filesystem type='template'><source name='{IMAGE}'/><target dir='/'/></filesystem>
</devices></domain>"""


class Method:
    """One way of driving the engine."""

    label = ""

    def create(self, name: str) -> None:
        raise NotImplementedError

    def start(self, name: str) -> None:
        raise NotImplementedError

    def stop(self, name: str) -> None:
        raise NotImplementedError

    def remove(self, name: str) -> None:
        raise NotImplementedError

    def listing(self) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the method holds."""


class Driver(Method):
    label = "virtplug driver"

    def __init__(self) -> None:
        self.conn = virtplug.open("docker:///")
        self.conn.host_capabilities()  # cached by the connection, as in any long-lived client
        self.doms: dict[str, virtplug.Domain] = {}

    def create(self, name: str) -> None:
        self.doms[name] = self.conn.define_domain(XML.format(name=name))

    def start(self, name: str) -> None:
        self.doms[name].start()

    def stop(self, name: str) -> None:
        self.doms[name].shutdown(timeout=10)

    def remove(self, name: str) -> None:
        self.doms.pop(name).undefine()

    def listing(self) -> int:
        return len(self.conn.list_domains())

    def close(self) -> None:
        self.conn.close()


class SDK(Method):
    label = "docker-py APIClient"

    def __init__(self) -> None:
        self.api = docker.APIClient(version="auto")

    def create(self, name: str) -> None:
        hc = self.api.create_host_config(
            mem_limit=64 * 1024 * 1024, memswap_limit=-1, nano_cpus=10**9, network_mode="none"
        )
        self.api.create_container(
            IMAGE,
            command=["-c", INIT],
            entrypoint=["/bin/sh"],
            name=name,
            host_config=hc,
            use_config_proxy=False,
        )

    def start(self, name: str) -> None:
        self.api.start(name)

    def stop(self, name: str) -> None:
        self.api.stop(name, timeout=10)

    def remove(self, name: str) -> None:
        self.api.remove_container(name)

    def listing(self) -> int:
        return len(self.api.containers(all=True))

    def close(self) -> None:
        self.api.close()


class HighLevel(Method):
    label = "docker-py DockerClient"

    def __init__(self) -> None:
        self.client = docker.DockerClient(version="auto")
        self.containers: dict[str, Any] = {}

    def create(self, name: str) -> None:
        self.containers[name] = self.client.containers.create(
            IMAGE,
            command=["-c", INIT],
            entrypoint=["/bin/sh"],
            name=name,
            mem_limit=64 * 1024 * 1024,
            memswap_limit=-1,
            nano_cpus=10**9,
            network_mode="none",
        )

    def start(self, name: str) -> None:
        self.containers[name].start()

    def stop(self, name: str) -> None:
        self.containers[name].stop(timeout=10)

    def remove(self, name: str) -> None:
        self.containers.pop(name).remove()

    def listing(self) -> int:
        return len(self.client.containers.list(all=True, sparse=True))

    def close(self) -> None:
        self.client.close()


class CLI(Method):
    label = "docker CLI"

    @staticmethod
    def _run(*args: str) -> str:
        return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout

    def create(self, name: str) -> None:
        self._run(
            "create",
            "--name",
            name,
            "--memory",
            "64m",
            "--memory-swap",
            "-1",
            "--cpus",
            "1",
            "--network",
            "none",
            "--entrypoint",
            "/bin/sh",
            IMAGE,
            "-c",
            INIT,
        )

    def start(self, name: str) -> None:
        self._run("start", name)

    def stop(self, name: str) -> None:
        self._run("stop", "-t", "10", name)

    def remove(self, name: str) -> None:
        self._run("rm", name)

    def listing(self) -> int:
        return len(self._run("ps", "-a", "--format", "{{.Names}}").split())


def sweep(api: docker.APIClient) -> None:
    for c in api.containers(all=True, filters={"name": PREFIX}):
        if c["Names"][0].lstrip("/").startswith(PREFIX):
            with contextlib.suppress(docker.errors.APIError):
                api.remove_container(c["Id"], force=True)


def timed(fn: Callable[[str], None], names: list[str]) -> float:
    start = time.perf_counter()
    for n in names:
        fn(n)
    return time.perf_counter() - start


def lifecycle(methods: dict[str, Method], count: int, rounds: int) -> dict[str, dict[str, float]]:
    """Each round: every phase over N containers, the methods interleaved phase by phase in
    rotated order (so load drift on a shared machine hits every method alike)."""
    keys = list(methods)
    samples: dict[str, dict[str, list[float]]] = {k: {p: [] for p in PHASES} for k in keys}
    for r in range(rounds):
        order = keys[r % len(keys) :] + keys[: r % len(keys)]
        names = {key: [f"{PREFIX}{key}-{r}-{i}" for i in range(count)] for key in keys}
        for phase in PHASES:
            # let the engine finish asynchronous work of the previous phase (layer
            # unmounts after removals, ...) so that the first method is not penalised
            time.sleep(SETTLE)
            for key in order:
                samples[key][phase].append(timed(getattr(methods[key], phase), names[key]))
        print(
            f"  round {r + 1}: "
            + "; ".join(
                f"{methods[k].label} {sum(samples[k][p][-1] for p in PHASES):.2f}s" for k in keys
            ),
            flush=True,
        )
    out: dict[str, dict[str, float]] = {}
    for key in keys:
        med = {p: statistics.median(samples[key][p]) for p in PHASES}
        med["total"] = sum(med[p] for p in PHASES)
        totals = [sum(samples[key][p][r] for p in PHASES) for r in range(rounds)]
        med["round_min"] = min(totals)
        med["round_max"] = max(totals)
        out[key] = med
    return out


def listing(
    methods: dict[str, Method], api: docker.APIClient, count: int, repeats: int
) -> dict[str, dict[str, float]]:
    hc = api.create_host_config(network_mode="none")
    for i in range(count):
        api.create_container(
            IMAGE,
            command=["true"],
            name=f"{PREFIX}list-{i}",
            host_config=hc,
            use_config_proxy=False,
        )
    total = len(api.containers(all=True))
    out: dict[str, dict[str, float]] = {}
    for key, m in methods.items():
        n = repeats if key != "cli" else max(3, repeats // 4)
        m.listing()  # warm
        times = []
        for _ in range(n):
            start = time.perf_counter()
            seen = m.listing()
            times.append(time.perf_counter() - start)
        out[key] = {"ms": statistics.median(times) * 1000, "containers": seen, "calls": n}
        print(f"  list {m.label}: {out[key]['ms']:.1f} ms ({seen} containers)", flush=True)
    out["_engine_total"] = {"containers": total}
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="docker_bench.py")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--list-count", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--list-repeats", type=int, default=20)
    args = parser.parse_args(argv)
    api = docker.APIClient(version="auto")
    version = api.version()
    sweep(api)
    methods: dict[str, Method] = {
        "driver": Driver(),
        "sdk": SDK(),
        "highlevel": HighLevel(),
        "cli": CLI(),
    }
    try:
        print(f"lifecycle of {args.count} containers, {args.rounds} rounds", flush=True)
        life = lifecycle(methods, args.count, args.rounds)
        print(f"listing {args.list_count} containers", flush=True)
        lists = listing(methods, api, args.list_count, args.list_repeats)
    finally:
        for m in methods.values():
            m.close()
        sweep(api)
    sdk, drv, cli = life["sdk"], life["driver"], life["cli"]
    ratios = {
        "lifecycle_vs_sdk": drv["total"] / sdk["total"],
        "lifecycle_vs_cli": drv["total"] / cli["total"],
        "sdk_vs_cli": sdk["total"] / cli["total"],
        "list_vs_sdk": lists["driver"]["ms"] / lists["sdk"]["ms"],
        "list_vs_cli": lists["driver"]["ms"] / lists["cli"]["ms"],
        **{f"{p}_vs_sdk": drv[p] / sdk[p] for p in PHASES},
    }
    result = {
        "benchmark": "docker",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "engine": version.get("Version"),
            "api": version.get("ApiVersion"),
            "docker_py": docker.__version__,
        },
        "params": vars(args),
        "lifecycle_seconds": life,
        "listing": lists,
        "ratios": ratios,
        "targets": {
            "lifecycle_vs_sdk": f"<= {TARGET_SDK}",
            "lifecycle_vs_cli": "< 1.0",
            "list_vs_sdk": f"<= {TARGET_LIST}",
        },
        "met": {
            "lifecycle_vs_sdk": ratios["lifecycle_vs_sdk"] <= TARGET_SDK,
            "lifecycle_vs_cli": ratios["lifecycle_vs_cli"] < 1.0,
            "list_vs_sdk": ratios["list_vs_sdk"] <= TARGET_LIST,
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "docker.json").write_text(json.dumps(result, indent=2) + "\n")
    labels = {k: m.label for k, m in methods.items()}
    lines = [
        "# Docker benchmark: virtplug driver vs docker-py vs the docker CLI",
        "",
        f"{result['when']}; engine {version.get('Version')} (API {version.get('ApiVersion')}), "
        f"docker-py {docker.__version__}; {args.count} containers, median of {args.rounds} "
        f"rotated rounds; listing {args.list_count} stopped containers "
        f"({lists['_engine_total']['containers']} on the engine).",
        "",
        "### Lifecycle (seconds for all containers)",
        "",
        "| method | " + " | ".join(PHASES) + " | total | rounds (min-max) |",
        "|---|" + "---|" * (len(PHASES) + 2),
    ]
    for key, med in life.items():
        lines.append(
            f"| {labels[key]} | "
            + " | ".join(f"{med[p]:.3f}" for p in PHASES)
            + f" | {med['total']:.3f} | {med['round_min']:.2f}-{med['round_max']:.2f} |"
        )
    lines += [
        "",
        "### Listing (ms per call, median)",
        "",
        "| method | ms | containers |",
        "|---|---|---|",
    ]
    for key in methods:
        lines.append(f"| {labels[key]} | {lists[key]['ms']:.1f} | {lists[key]['containers']} |")
    lines += [
        "",
        "### Ratios",
        "",
        "| ratio | value | target | met |",
        "|---|---|---|---|",
        f"| lifecycle driver / docker-py | {ratios['lifecycle_vs_sdk']:.3f} | <= {TARGET_SDK} "
        f"| {result['met']['lifecycle_vs_sdk']} |",
        f"| lifecycle driver / CLI | {ratios['lifecycle_vs_cli']:.3f} | < 1.0 "
        f"| {result['met']['lifecycle_vs_cli']} |",
        f"| lifecycle docker-py / CLI | {ratios['sdk_vs_cli']:.3f} | - | - |",
        f"| list driver / docker-py | {ratios['list_vs_sdk']:.3f} | <= {TARGET_LIST} "
        f"| {result['met']['list_vs_sdk']} |",
        f"| list driver / CLI | {ratios['list_vs_cli']:.3f} | - | - |",
    ]
    lines += [f"| {p} driver / docker-py | {ratios[f'{p}_vs_sdk']:.3f} | - | - |" for p in PHASES]
    (RESULTS / "docker.md").write_text("\n".join(lines) + "\n")
    print((RESULTS / "docker.md").read_text())
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
