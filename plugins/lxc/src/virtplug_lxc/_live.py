"""Work inside a running container: exec, live bind mounts (liblxc attach)."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import tempfile
import time
from collections.abc import Sequence

import lxc

from virtplug.errors import OperationFailedError, OperationTimeoutError
from virtplug.models import ExecResult

__all__ = ["bind_mount_live", "run", "unmount_live"]

_libc = ctypes.CDLL(None, use_errno=True)
_NR_OPEN_TREE = 428
_NR_MOVE_MOUNT = 429
_AT_FDCWD = -100
_OPEN_TREE_CLONE = 1
_OPEN_TREE_CLOEXEC = 0o2000000
_AT_RECURSIVE = 0x8000
_MOVE_MOUNT_F_EMPTY_PATH = 0x4
_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MNT_DETACH = 2


def run(c: lxc.Container, argv: Sequence[str], timeout: float | None) -> ExecResult:
    """Run *argv* in the container (liblxc attach), capturing output and exit code.

    The exit code is the program's, or 128 + signal when a signal ended it.

    :raises OperationFailedError: liblxc could not attach.
    :raises OperationTimeoutError: *timeout* passed (the process is killed).
    """
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        open(os.devnull, "rb") as devnull,
    ):
        pid = c.attach(lxc.attach_run_command, list(argv), stdin=devnull, stdout=out, stderr=err)
        if not isinstance(pid, int) or pid <= 0:
            raise OperationFailedError(f"liblxc could not attach to container '{c.name}'")
        status = _wait(pid, timeout, " ".join(argv))
        out.seek(0)
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            code = 128 - code
        return ExecResult(exit_code=code, stdout=out.read(), stderr=err.read())


def _wait(pid: int, timeout: float | None, what: str) -> int:
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = 0.001
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return status
        if deadline is not None and time.monotonic() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise OperationTimeoutError(f"command '{what}' did not finish within {timeout} s")
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def bind_mount_live(c: lxc.Container, source: str, target: str, readonly: bool) -> None:
    """Bind-mount host path *source* at *target* inside the running container.

    A detached copy of the host mount is made with ``open_tree(2)`` in the host
    mount namespace, then moved into place with ``move_mount(2)`` from a process
    liblxc attached to the container's mount namespace.

    :raises OperationFailedError: the kernel or liblxc refused; the message says which step.
    """
    is_file = os.path.isfile(source)
    fd = _libc.syscall(
        _NR_OPEN_TREE,
        _AT_FDCWD,
        os.fsencode(source),
        _OPEN_TREE_CLONE | _OPEN_TREE_CLOEXEC | _AT_RECURSIVE,
    )
    if fd < 0:
        errno = ctypes.get_errno()
        raise OperationFailedError(f"cannot clone mount of '{source}': {os.strerror(errno)}")
    try:
        target_b = os.fsencode(target)

        def mover(_: object) -> int:  # runs in the container's mount namespace
            try:
                parent = os.path.dirname(target) or "/"
                os.makedirs(parent, exist_ok=True)
                if is_file:
                    if not os.path.exists(target):
                        open(target, "ab").close()
                else:
                    os.makedirs(target, exist_ok=True)
            except OSError as exc:
                return 100 + (exc.errno or 0)
            if (
                _libc.syscall(
                    _NR_MOVE_MOUNT, fd, b"", _AT_FDCWD, target_b, _MOVE_MOUNT_F_EMPTY_PATH
                )
                != 0
            ):
                return 100 + ctypes.get_errno()
            if (
                readonly
                and _libc.mount(None, target_b, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY, None)
                != 0
            ):
                return 100 + ctypes.get_errno()
            return 0

        rc = c.attach_wait(mover, None, namespaces=lxc.CLONE_NEWNS, attach_flags=0)
    finally:
        os.close(fd)
    if rc != 0:
        reason = os.strerror(rc - 100) if rc > 100 else f"attach returned {rc}"
        raise OperationFailedError(
            f"cannot mount '{source}' at '{target}' in container '{c.name}': {reason}"
        )


def unmount_live(c: lxc.Container, target: str) -> None:
    """Lazily unmount *target* inside the running container.

    :raises OperationFailedError: nothing is mounted there, or the kernel refused.
    """
    target_b = os.fsencode(target)

    def umounter(_: object) -> int:
        if _libc.umount2(target_b, _MNT_DETACH) != 0:
            return 100 + ctypes.get_errno()
        return 0

    rc = c.attach_wait(umounter, None, namespaces=lxc.CLONE_NEWNS, attach_flags=0)
    if rc != 0:
        reason = os.strerror(rc - 100) if rc > 100 else f"attach returned {rc}"
        raise OperationFailedError(f"cannot unmount '{target}' in container '{c.name}': {reason}")
