"""The LXC driver's conformance profile (entry point group ``virtplug.conformance``).

Plain data: the conformance suite calls :func:`profile` with a fresh work
directory; every container, bridge and pool lives under it (a private lxcpath),
so a certification run never touches containers it did not create.
"""

from __future__ import annotations

import pathlib
from typing import Any

__all__ = ["profile"]

_DOMAIN_XML = """<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <devices>
    <filesystem type='template'>
      <source name='busybox'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
"""

_NETWORK_XML = """<network>
  <name>{name}</name>
  <bridge name='{bridge}'/>
  <forward mode='nat'/>
  <ip address='10.251.{octet}.1' prefix='24'/>
</network>
"""

_POOL_XML = """<pool type='dir'>
  <name>{name}</name>
  <target>
    <path>{path}</path>
  </target>
</pool>
"""

_VOLUME_XML = """<volume type='file'>
  <name>{name}</name>
  <capacity unit='bytes'>1048576</capacity>
  <target>
    <format type='raw'/>
  </target>
</volume>
"""


def profile(workdir: pathlib.Path) -> dict[str, Any]:
    """Describe how to certify the LXC driver inside *workdir* (a private lxcpath)."""
    lxcpath = pathlib.Path(workdir).resolve() / "lxcpath"
    return {
        "uri": f"lxc://{lxcpath}",
        "domain_xml": _DOMAIN_XML,
        "network_xml": _NETWORK_XML,
        "pool_xml": _POOL_XML,
        "volume_xml": _VOLUME_XML,
        "exec_probe": {"argv": ["echo", "hello"], "exit_code": 0, "stdout": "hello\n"},
        "timeout": 60,
        "notes": (
            "Real LXC (liblxc 5) as root, busybox template, private lxcpath under the work "
            "directory. Snapshots need a stopped container (liblxc refuses running ones)."
        ),
    }
