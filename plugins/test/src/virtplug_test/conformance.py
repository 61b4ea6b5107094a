"""The test driver's conformance profile (entry point group ``virtplug.conformance``).

Plain data: the conformance suite calls :func:`profile` with a fresh work
directory and runs every hook against the URI it returns.
"""

from __future__ import annotations

import pathlib
from typing import Any

__all__ = ["profile"]

_DOMAIN_XML = """<domain type='test'>
  <name>{name}</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
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
  <ip address='10.251.{octet}.1' prefix='24'>
    <dhcp>
      <range start='10.251.{octet}.2' end='10.251.{octet}.254'/>
    </dhcp>
  </ip>
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
    """Return the test driver's conformance profile.

    The URI names a fresh persisted state file under *workdir*, so the suite sees
    only the objects it creates (its leak check included) and every connection it
    opens, in this process or another, shares one state.

    :param workdir: a fresh directory owned by the conformance run.
    :returns: the profile dict (keys ``uri``, ``domain_xml``, ``network_xml``,
        ``pool_xml``, ``volume_xml``, ``exec_probe``, ``timeout``, ``notes``).
    """
    state = pathlib.Path(workdir).resolve() / "test-driver-state.xml"
    return {
        "uri": f"test://{state}?persist=1",
        "domain_xml": _DOMAIN_XML,
        "network_xml": _NETWORK_XML,
        "pool_xml": _POOL_XML,
        "volume_xml": _VOLUME_XML,
        "exec_probe": {"argv": ["echo", "hello"], "exit_code": 0, "stdout": "hello\n"},
        "timeout": 10,
        "notes": (
            "In-memory reference driver on a fresh persisted state file; exec is simulated "
            "(echo, true, false, cat, env, pwd, hostname, id, uname, sleep, sh -c)."
        ),
    }
