"""XML builders and a rootfs maker shared by the LXC driver tests."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


def busybox_xml(name: str, memory_mib: int = 64, extra: str = "", os_extra: str = "") -> str:
    """A busybox-template domain."""
    return f"""<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>{memory_mib}</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type>{os_extra}</os>
  <devices>
    <filesystem type='template'><source name='busybox'/><target dir='/'/></filesystem>
    {extra}
  </devices>
</domain>"""


def network_xml(name: str, bridge: str, octet: int, forward: str = "nat") -> str:
    """A bridge network with an address (and NAT)."""
    fwd = f"<forward mode='{forward}'/>" if forward else ""
    return f"""<network><name>{name}</name><bridge name='{bridge}'/>{fwd}
  <ip address='10.251.{octet}.1' prefix='24'/></network>"""


def make_busybox_rootfs(root: Path) -> None:
    """A minimal rootfs: static busybox with its applets, the dirs init needs."""
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "etc", "root", "usr/bin"):
        (root / d).mkdir(parents=True, exist_ok=True)
    busybox = shutil.which("busybox")
    assert busybox, "busybox-static is not installed"
    shutil.copy2(busybox, root / "bin" / "busybox")
    for applet in ("sh", "ls", "cat", "echo", "sleep", "ip", "ping", "test", "touch", "awk"):
        with contextlib.suppress(FileExistsError):
            os.symlink("busybox", root / "bin" / applet)
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
