"""Host facts: the cgroup layout LXC will use, CPUs and memory from /proc."""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path

from virtplug.records import record

__all__ = ["CgroupLayout", "cgroup_layout", "meminfo", "node_facts"]

_CG = Path("/sys/fs/cgroup")
#: cfs period used for the vCPU quota, microseconds.
CPU_PERIOD_US = 100_000


@record
class CgroupLayout:
    """Which cgroup keys express memory and CPU limits on this host.

    :ivar version: ``2`` when the memory controller is on the unified (cgroup2)
        hierarchy, ``1`` when it is a legacy v1 hierarchy (hybrid hosts).
    """

    version: int

    def memory_limit_items(self, kib: int) -> list[tuple[str, str]]:
        """LXC config items that cap memory at *kib* KiB."""
        value = str(kib * 1024)
        if self.version == 2:
            return [("lxc.cgroup2.memory.max", value)]
        return [("lxc.cgroup.memory.limit_in_bytes", value)]

    def cpu_limit_items(self, vcpus: int) -> list[tuple[str, str]]:
        """LXC config items that cap CPU time at *vcpus* CPUs' worth."""
        quota = str(vcpus * CPU_PERIOD_US)
        if self.version == 2:
            return [("lxc.cgroup2.cpu.max", f"{quota} {CPU_PERIOD_US}")]
        return [
            ("lxc.cgroup.cpu.cfs_period_us", str(CPU_PERIOD_US)),
            ("lxc.cgroup.cpu.cfs_quota_us", quota),
        ]

    @property
    def config_prefix(self) -> str:
        """Prefix of the LXC keys for this hierarchy (``lxc.cgroup2.`` or ``lxc.cgroup.``)."""
        return "lxc.cgroup2." if self.version == 2 else "lxc.cgroup."

    @property
    def memory_limit_key(self) -> str:
        """Cgroup file holding the memory limit."""
        return "memory.max" if self.version == 2 else "memory.limit_in_bytes"

    @property
    def memory_usage_key(self) -> str:
        """Cgroup file holding current memory use."""
        return "memory.current" if self.version == 2 else "memory.usage_in_bytes"

    @property
    def cpu_usage_key(self) -> str:
        """Cgroup file holding CPU time used."""
        return "cpu.stat" if self.version == 2 else "cpuacct.usage"

    @property
    def pids_key(self) -> str:
        """Cgroup file holding the number of tasks."""
        return "pids.current"

    def parse_cpu_ns(self, text: str) -> int:
        """CPU time in nanoseconds from the :attr:`cpu_usage_key` file's text."""
        if self.version == 2:
            for line in text.splitlines():
                key, _, val = line.partition(" ")
                if key == "usage_usec":
                    return int(val) * 1000
            return 0
        return int(text.strip() or 0)


@functools.cache
def cgroup_layout() -> CgroupLayout:
    """Detect the cgroup layout once per process."""
    controllers = _CG / "cgroup.controllers"
    if controllers.exists() and "memory" in controllers.read_text().split():
        return CgroupLayout(2)
    if (_CG / "memory").is_dir():
        return CgroupLayout(1)
    return CgroupLayout(2)


def cgroup_features() -> tuple[str, ...]:
    """Host feature names describing cgroups (for capabilities)."""
    feats = [f"cgroups-v{cgroup_layout().version}"]
    if (_CG / "unified").is_dir() or (_CG / "cgroup.controllers").exists():
        feats.append("cgroup2-mounted")
    return tuple(feats)


def meminfo() -> dict[str, int]:
    """``/proc/meminfo`` as KiB values by key."""
    out: dict[str, int] = {}
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[key] = int(parts[0])
    return out


def node_facts() -> tuple[str, int, int, int, int, int, int]:
    """(model, cpus, mhz, sockets, cores per socket, threads per core, nodes)."""
    model = platform.machine()
    mhz = 0.0
    sockets: set[str] = set()
    cores: set[tuple[str, str]] = set()
    cpus = os.cpu_count() or 1
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            phys = "0"
            for line in fh:
                key, _, val = line.partition(":")
                key, val = key.strip(), val.strip()
                if key == "model name" and model == platform.machine():
                    model = val
                elif key == "cpu MHz" and not mhz:
                    mhz = float(val or 0)
                elif key == "physical id":
                    phys = val
                    sockets.add(val)
                elif key == "core id":
                    cores.add((phys, val))
    except OSError:
        pass
    n_sockets = max(1, len(sockets))
    n_cores = max(1, len(cores) // n_sockets) if cores else max(1, cpus // n_sockets)
    threads = max(1, cpus // (n_sockets * n_cores))
    nodes = len(list(Path("/sys/devices/system/node").glob("node[0-9]*"))) or 1
    return model, cpus, int(mhz), n_sockets, n_cores, threads, nodes
