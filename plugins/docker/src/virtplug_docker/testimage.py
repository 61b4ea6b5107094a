"""Build the offline test image ``virtplug/busybox:latest`` (no registry needed).

A root filesystem with the static ``busybox`` binary (Debian's ``busybox-static``)
and a symlink per applet, imported with ``docker import``::

    python -m virtplug_docker.testimage [--tag virtplug/busybox:latest]
        [--busybox /bin/busybox] [--uri docker:///] [--force]
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import time
from typing import Any

import docker
import docker.errors

from virtplug.uri import parse_uri
from virtplug_docker._connect import make_client

__all__ = ["DEFAULT_TAG", "build", "ensure", "main", "rootfs_tar"]

DEFAULT_TAG = "virtplug/busybox:latest"


def rootfs_tar(busybox: str = "/bin/busybox") -> bytes:
    """A tar archive of a minimal busybox root filesystem."""
    listing = subprocess.run([busybox, "--list"], check=True, capture_output=True, text=True)
    applets = sorted({a for a in listing.stdout.split() if a and a != "busybox" and "/" not in a})
    buf = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_dir(path: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(path)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            info.mtime = int(now)
            tar.addfile(info)

        def add_file(path: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = mode
            info.mtime = int(now)
            tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "var", "usr", "usr/bin"):
            add_dir(d, 0o1777 if d == "tmp" else 0o755)
        with open(busybox, "rb") as fh:
            add_file("bin/busybox", fh.read(), 0o755)
        for applet in applets:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            info.mode = 0o777
            info.mtime = int(now)
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        add_file("etc/group", b"root:x:0:\n")
    return buf.getvalue()


def build(api: docker.APIClient, tag: str = DEFAULT_TAG, busybox: str = "/bin/busybox") -> str:
    """Import the image under *tag*; return its id."""
    repo, _, version = tag.rpartition(":")
    if not repo or "/" in version:
        repo, version = tag, "latest"
    api.import_image_from_data(
        rootfs_tar(busybox), repository=repo, tag=version, changes=['CMD ["/bin/sh"]']
    )
    return _image_id(api, tag)


def _image_id(api: docker.APIClient, tag: str) -> str:
    untyped: Any = api
    return str(untyped.inspect_image(tag)["Id"])


def ensure(api: docker.APIClient, tag: str = DEFAULT_TAG, busybox: str = "/bin/busybox") -> str:
    """Build the image unless it exists; return its id."""
    try:
        return _image_id(api, tag)
    except docker.errors.ImageNotFound:
        return build(api, tag, busybox)


def main(argv: list[str] | None = None) -> int:
    """Command line entry: build (or check) the test image."""
    parser = argparse.ArgumentParser(prog="python -m virtplug_docker.testimage")
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--busybox", default="/bin/busybox")
    parser.add_argument("--uri", default="docker:///")
    parser.add_argument("--force", action="store_true", help="rebuild even when present")
    args = parser.parse_args(argv)
    api = make_client(parse_uri(args.uri))
    image_id = (
        build(api, args.tag, args.busybox) if args.force else ensure(api, args.tag, args.busybox)
    )
    print(f"{args.tag} {image_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
