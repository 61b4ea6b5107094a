"""Fixtures for the LXC driver tests: real LXC, one private lxcpath per test, full cleanup."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import lxc
import pytest
from pyroute2 import IPRoute

import virtplug
from virtplug_lxc._net import nat_owner
from virtplug_lxc._state import LXCConnection

#: Bridges the tests name themselves start with this (<= 15 chars in total).
TEST_BRIDGE_PREFIX = "vpltb"

_LXCPATHS: list[Path] = []


def _links() -> set[str]:
    with IPRoute() as ipr:
        return {str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}


def _nat_rules() -> list[str]:
    proc = subprocess.run(
        ["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"],
        capture_output=True,
        text=True,
        check=False,
    )
    return [ln for ln in proc.stdout.splitlines() if "virtplug-lxc:" in ln]


def cleanup_lxcpath(path: Path) -> None:
    """Stop and destroy every container, bridge and NAT rule under *path*."""
    if not path.is_dir():
        return
    for name in lxc.list_containers(config_path=str(path)):
        c = lxc.Container(name, str(path))
        if c.state == "FROZEN":
            c.unfreeze()
        if c.running:
            c.stop()
            c.wait("STOPPED", 10)
        for snap in c.snapshot_list() or ():
            c.snapshot_destroy(snap[0])
        c.destroy()
    netdir = path / ".virtplug" / "networks"
    if netdir.is_dir():
        for f in netdir.glob("*.json"):
            data = json.loads(f.read_text())
            config = data["config"]
            bridge = config.get("bridge")
            tag = f"virtplug-lxc:{nat_owner(str(path))}:{config['name']}"
            for rule in _nat_rules():
                if tag in rule:
                    args = rule.replace("-A POSTROUTING", "-D POSTROUTING", 1)
                    subprocess.run(["sh", "-c", f"iptables -w -t nat {args}"], check=False)
            if bridge and config.get("forward") != "bridge" and bridge in _links():
                subprocess.run(["ip", "link", "del", bridge], check=False)
    shutil.rmtree(path, ignore_errors=True)
    shutil.rmtree(LXCConnection(path, readonly=True).rundir, ignore_errors=True)


_BRIDGES: list[str] = []


@pytest.fixture(scope="session", autouse=True)
def _leak_check() -> Iterator[None]:
    """At session end: none of this session's containers, bridges or NAT rules is left.

    Only objects this session created are checked (other jobs may run LXC or the
    conformance suite on this host at the same time).
    """
    yield
    leaks: list[str] = []
    for path in _LXCPATHS:
        if path.is_dir() and lxc.list_containers(config_path=str(path)):
            leaks.append(f"containers left in {path}")
            cleanup_lxcpath(path)
    links = _links()
    for bridge in _BRIDGES:
        if bridge in links:
            leaks.append(f"bridge {bridge}")
            subprocess.run(["ip", "link", "del", bridge], check=False)
    owners = {nat_owner(str(path)) for path in _LXCPATHS}
    for rule in _nat_rules():
        if any(f"virtplug-lxc:{owner}:" in rule for owner in owners):
            leaks.append(f"NAT rule {rule}")
    assert not leaks, f"LXC tests leaked: {leaks}"


@pytest.fixture
def lxcpath() -> Iterator[Path]:
    """A private lxcpath, destroyed with everything in it after the test."""
    if os.geteuid() != 0:
        pytest.fail("the LXC driver tests need root (run .ci/lxc-up.sh first)")
    path = Path(tempfile.mkdtemp(prefix="vpl-lxc-"))
    _LXCPATHS.append(path)
    try:
        yield path
    finally:
        cleanup_lxcpath(path)


@pytest.fixture
def conn(lxcpath: Path) -> Iterator[virtplug.Connection]:
    """A connection to the private lxcpath."""
    c = virtplug.open(f"lxc://{lxcpath}")
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def name() -> str:
    """A container name unique on this host (cgroups are named after containers)."""
    return f"vpl-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def bridge() -> str:
    """A bridge name unique on this host."""
    name = f"{TEST_BRIDGE_PREFIX}{uuid.uuid4().hex[:8]}"
    _BRIDGES.append(name)
    return name


@pytest.fixture
def octet() -> int:
    """A third octet for a 10.251.X.0/24 test subnet not in use on the host."""
    used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
    for n in range(200, 254):
        if f"10.251.{n}." not in used:
            return n
    pytest.fail("no free 10.251.X.0/24 subnet")
