"""Core benchmark: the virtplug test driver against libvirt-python on libvirt's test:///default.

Measured in one run, same machine, same XML shape, N domains (default 2000):

- throughput of define, start, destroy, undefine (operations per second);
- list all domains (seconds per call with N domains defined);
- ``info()`` per call;
- the core's dispatch overhead: ``dom.info()`` through the API versus calling the
  driver's hook function directly with the same state, per call.

Ratios are virtplug / libvirt for throughput (higher is better, target >= 1.0 on
define, start and list) and virtplug time / libvirt time for info (target <= 3.0).
Results go to ``bench/results/core.json`` and ``bench/results/core.md``. Nothing here
asserts: the figures are reported, met or not.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

VIRTPLUG_XML = """<domain type='test'>
  <name>{name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/bin/sh</init></os>
</domain>"""

# libvirt's test driver only runs 'hvm' guests; everything else is the same document.
LIBVIRT_XML = """<domain type='test'>
  <name>{name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type>hvm</type></os>
</domain>"""


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _best(fn: Callable[[], Any], repeat: int) -> float:
    return min(_timed(fn) for _ in range(repeat))


def bench_libvirt(n: int, info_calls: int) -> dict[str, float]:
    """Run the lifecycle on libvirt's own test driver."""
    import libvirt

    libvirt.registerErrorHandler(lambda *_: None, None)
    conn = libvirt.open("test:///default")
    names = [f"bench-{i:05d}" for i in range(n)]
    xmls = [LIBVIRT_XML.format(name=name) for name in names]
    doms: list[Any] = []
    out: dict[str, float] = {}
    out["define"] = n / _timed(lambda: doms.extend(conn.defineXML(x) for x in xmls))
    out["start"] = n / _timed(lambda: [d.create() for d in doms])
    out["list_s"] = _best(lambda: conn.listAllDomains(0), 5)
    dom = doms[0]
    out["info_us"] = _best(lambda: [dom.info() for _ in range(info_calls)], 3) / info_calls * 1e6
    out["destroy"] = n / _timed(lambda: [d.destroy() for d in doms])
    out["undefine"] = n / _timed(lambda: [d.undefine() for d in doms])
    conn.close()
    return out


def bench_virtplug(n: int, info_calls: int, workdir: Path) -> dict[str, float]:
    """Run the same lifecycle on the virtplug test driver (isolated state)."""
    import virtplug
    from virtplug import xml
    from virtplug.models import NodeDocument

    # An empty node document, loaded into memory (no ?persist=1: nothing is written back).
    node = workdir / "bench-node.xml"
    node.write_text(xml.format_node(NodeDocument()))
    conn = virtplug.open(f"test://{node}")
    names = [f"bench-{i:05d}" for i in range(n)]
    xmls = [VIRTPLUG_XML.format(name=name) for name in names]
    doms: list[Any] = []
    out: dict[str, float] = {}
    out["define"] = n / _timed(lambda: doms.extend(conn.define_domain(x) for x in xmls))
    out["start"] = n / _timed(lambda: [d.start() for d in doms])
    out["list_s"] = _best(lambda: conn.list_domains(), 5)
    dom = doms[0]
    out["info_us"] = _best(lambda: [dom.info() for _ in range(info_calls)], 3) / info_calls * 1e6

    # Dispatch overhead: the API call versus the driver's hook function called directly.
    dispatcher = conn._d
    driver, state, name = dispatcher.driver, dispatcher.state, dom.name
    direct = driver.virtplug_domain_info
    api_s = _best(lambda: [dom.info() for _ in range(info_calls)], 5)
    direct_s = _best(lambda: [direct(conn=state, name=name) for _ in range(info_calls)], 5)
    out["dispatch_overhead_us"] = (api_s - direct_s) / info_calls * 1e6
    out["direct_info_us"] = direct_s / info_calls * 1e6

    out["destroy"] = n / _timed(lambda: [d.destroy() for d in doms])
    out["undefine"] = n / _timed(lambda: [d.undefine() for d in doms])
    conn.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both sides, write ``bench/results/core.{json,md}`` and return the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="domains (default 2000)")
    parser.add_argument("--info-calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3, help="median over this many rounds")
    args = parser.parse_args(argv)
    import tempfile

    rounds_lv: list[dict[str, float]] = []
    rounds_vp: list[dict[str, float]] = []
    for _ in range(args.rounds):
        rounds_lv.append(bench_libvirt(args.n, args.info_calls))
        with tempfile.TemporaryDirectory() as tmp:
            rounds_vp.append(bench_virtplug(args.n, args.info_calls, Path(tmp)))

    def med(rounds: list[dict[str, float]]) -> dict[str, float]:
        return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}

    lv, vp = med(rounds_lv), med(rounds_vp)
    ratios = {
        "define_throughput": vp["define"] / lv["define"],
        "start_throughput": vp["start"] / lv["start"],
        "destroy_throughput": vp["destroy"] / lv["destroy"],
        "undefine_throughput": vp["undefine"] / lv["undefine"],
        "list_throughput": lv["list_s"] / vp["list_s"],
        "info_time": vp["info_us"] / lv["info_us"],
    }
    targets = {
        "define_throughput": (">=", 1.0),
        "start_throughput": (">=", 1.0),
        "list_throughput": (">=", 1.0),
        "info_time": ("<=", 3.0),
        "dispatch_overhead_us": ("<=", 2.0),
    }
    import libvirt

    import virtplug

    result = {
        "benchmark": "core",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {"python": platform.python_version(), "machine": platform.machine()},
        "versions": {"virtplug": virtplug.__version__, "libvirt": libvirt.getVersion()},
        "domains": args.n,
        "rounds": args.rounds,
        "libvirt": lv,
        "virtplug": vp,
        "ratios": ratios,
        "dispatch_overhead_us": vp["dispatch_overhead_us"],
        "targets": {k: {"op": op, "value": v} for k, (op, v) in targets.items()},
    }
    met = {}
    for key, (op, target) in targets.items():
        value = result["dispatch_overhead_us"] if key == "dispatch_overhead_us" else ratios[key]
        met[key] = value >= target if op == ">=" else value <= target
    result["met"] = met
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "core.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Core benchmark: virtplug test driver vs libvirt test:///default",
        "",
        f"{args.n} domains, median of {args.rounds} rounds, {result['when']}.",
        "",
        "| measure | libvirt | virtplug | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for op in ("define", "start", "destroy", "undefine"):
        key = f"{op}_throughput"
        tgt = targets.get(key)
        lines.append(
            f"| {op} (ops/s) | {lv[op]:.0f} | {vp[op]:.0f} | {ratios[key]:.2f} | "
            f"{(tgt[0] + ' ' + str(tgt[1])) if tgt else '-'} | {met.get(key, '-')} |"
        )
    lines.append(
        f"| list all (ms/call) | {lv['list_s'] * 1e3:.2f} | {vp['list_s'] * 1e3:.2f} | "
        f"{ratios['list_throughput']:.2f} | >= 1.0 | {met['list_throughput']} |"
    )
    lines.append(
        f"| info() (us/call) | {lv['info_us']:.2f} | {vp['info_us']:.2f} | "
        f"{ratios['info_time']:.2f}x time | <= 3.0 | {met['info_time']} |"
    )
    lines.append(
        f"| dispatch overhead (us/call) | - | {vp['dispatch_overhead_us']:.2f} | - | <= 2.0 | "
        f"{met['dispatch_overhead_us']} |"
    )
    (RESULTS / "core.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
