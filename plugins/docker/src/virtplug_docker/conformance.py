"""The Docker driver's conformance profile (entry point ``virtplug.conformance``)."""

from __future__ import annotations

import pathlib
from typing import Any

__all__ = ["DOMAIN_XML", "profile"]

#: A minimal bootable domain: the offline busybox image, an init that exits on SIGTERM.
DOMAIN_XML = """<domain type='docker'>
  <name>{name}</name>
  <memory unit='KiB'>65536</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>trap "exit 0" TERM; while :; do sleep 1; done</initarg>
  </os>
  <devices>
    <filesystem type='template'>
      <source name='virtplug/busybox:latest'/>
      <target dir='/'/>
    </filesystem>
  </devices>
</domain>
"""

NETWORK_XML = """<network>
  <name>{name}</name>
  <bridge name='{bridge}'/>
  <ip address='10.251.{octet}.1' prefix='24'/>
</network>
"""

POOL_XML = """<pool type='docker'>
  <name>{name}</name>
  <source><name>local</name></source>
  <target><path>{path}</path></target>
</pool>
"""

VOLUME_XML = """<volume>
  <name>{name}</name>
  <capacity unit='bytes'>0</capacity>
</volume>
"""


def profile(workdir: pathlib.Path) -> dict[str, Any]:
    """The conformance profile: ``docker:///`` with the offline busybox test image.

    Needs a running engine and ``virtplug/busybox:latest`` (``.ci/docker-up.sh`` or
    ``python -m virtplug_docker.testimage``).
    """
    return {
        "uri": "docker:///",
        "domain_xml": DOMAIN_XML,
        "network_xml": NETWORK_XML,
        "pool_xml": POOL_XML,
        "volume_xml": VOLUME_XML,
        "exec_probe": {"argv": ["/bin/echo", "virtplug"], "exit_code": 0, "stdout": "virtplug\n"},
        "timeout": 60,
        "notes": (
            "Real Docker engine; domains are containers of virtplug/busybox:latest "
            "(built offline by python -m virtplug_docker.testimage)."
        ),
    }
