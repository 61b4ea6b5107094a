"""Run benchmarks and write their results under bench/results/.

Usage: ``python bench/run.py [core] [cli] [docker] [lxc]`` (default: core and cli).
Each benchmark module has ``main(argv)`` and writes ``bench/results/<name>.{json,md}``.
Benchmarks measure ratios against the direct SDK / CLI in the same run; nothing here
asserts, and no test depends on wall time.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = {
    "core": "core_bench",
    "cli": "cli_bench",
    "docker": "docker_bench",
    "lxc": "lxc_bench",
}


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all given names must be known)."""
    names = [a for a in argv if not a.startswith("-")] or ["core", "cli"]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHES)}")
        return 2
    sys.path.insert(0, str(HERE))
    for name in names:
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(BENCHES[name])
        module.main([])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
