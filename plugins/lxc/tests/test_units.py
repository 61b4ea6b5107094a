"""Unit tests (no containers): name validation, liblxc log parsing, JSON model round trips,
and error translation with a fake binding object."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from virtplug.errors import ErrorCode, InvalidArgError, OperationFailedError, VirtError, XMLError
from virtplug.models import (
    DomainConfig,
    DomainState,
    FilesystemConfig,
    InterfaceConfig,
    OSConfig,
    SnapshotInfo,
)
from virtplug_lxc._config import check_config, init_command, mount_entry
from virtplug_lxc._state import Meta, check_name, destroy_container, log_reason
from virtplug_lxc._store import dump_model, load_model

pytestmark = pytest.mark.lxc


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "a..b", "a/b", "x\x00", "x\ny", "-lead", "sp ace", "x" * 65, "a:b"]
)
def test_bad_names(bad: str) -> None:
    with pytest.raises(InvalidArgError):
        check_name(bad)
    with pytest.raises(XMLError):
        check_name(bad, "domain", XMLError)


@pytest.mark.parametrize("good", ["a", "web-1", "db_2.test", "x" * 64, "A+b@c"])
def test_good_names(good: str) -> None:
    assert check_name(good) == good


def test_log_reason_quotes_errors_after_offset(tmp_path: Path) -> None:
    log = tmp_path / "lxc.log"
    old = "lxc c 20260101 ERROR    conf - conf.c:x:1 - old failure\n"
    log.write_text(
        old
        + "lxc c 20260101 WARN     cgfsng - cgfsng.c:y:2 - just a warning\n"
        + 'lxc c 20260101 ERROR    start - start.c:z:3 - Failed to exec "/nope"\n'
    )
    assert log_reason(tmp_path, len(old)) == 'Failed to exec "/nope"'
    assert "old failure" in log_reason(tmp_path)
    assert log_reason(tmp_path / "missing") == "liblxc gave no reason (no log file)"


def test_models_round_trip_through_json() -> None:
    config = DomainConfig(
        name="a",
        uuid="0d7ad4b4-7a4e-4a34-9b7e-44e1f3c8a001",
        type="lxc",
        os=OSConfig(init="/bin/sh", initargs=("-c", "two words"), initenv=(("K", "v"),)),
        filesystems=(FilesystemConfig("mount", "/srv/a", "/"),),
        interfaces=(InterfaceConfig("network", "default", ips=(("10.0.0.2", 24),)),),
    )
    assert load_model(DomainConfig, dump_model(config)) == config
    snap = SnapshotInfo("s", "a", 1.5, DomainState.SHUTOFF, "d", config)
    assert load_model(SnapshotInfo, dump_model(snap)) == snap
    meta = Meta(uuid=str(config.uuid), persistent=False, config=config, live=config)
    assert Meta.from_json(meta.to_json()) == meta


def test_init_command_only_when_expressible() -> None:
    plain = DomainConfig(name="a", type="lxc", os=OSConfig(init="/bin/sleep", initargs=("9",)))
    assert init_command(plain) == "/bin/sleep 9"
    spaced = DomainConfig(name="a", type="lxc", os=OSConfig(init="/bin/sh", initargs=("-c", "a b")))
    assert init_command(spaced) is None


def test_check_config_refusals() -> None:
    root = (FilesystemConfig("template", "busybox", "/"),)
    with pytest.raises(VirtError) as exc:
        check_config(DomainConfig(name="a", type="docker", filesystems=root))
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
    with pytest.raises(VirtError) as exc:
        check_config(DomainConfig(name="a", type="lxc"))
    assert "root filesystem" in exc.value.message
    with pytest.raises(VirtError) as exc:
        check_config(DomainConfig(name="a", type="lxc", filesystems=root, os=OSConfig(type="hvm")))
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
    with pytest.raises(VirtError) as exc:
        check_config(
            DomainConfig(name="a", type="lxc", filesystems=root, os=OSConfig(inituser="bob"))
        )
    assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED


def test_mount_entry_escapes_and_flags(tmp_path: Path) -> None:
    src = tmp_path / "with space"
    src.mkdir()
    entry = mount_entry(FilesystemConfig("mount", str(src), "/mnt/x", readonly=True), _no_vol)
    escaped = str(src).replace(" ", "\\040")
    assert entry == f"{escaped} mnt/x none bind,create=dir,ro 0 0"


def _no_vol(pool: str, name: str) -> str:
    raise AssertionError("no volume expected")


class _FakeContainer:
    """Stands in for lxc.Container where liblxc answers False."""

    name = "fake"

    def __init__(self, snaps: tuple[Any, ...] = (), destroy_ok: bool = False) -> None:
        self._snaps = snaps
        self._destroy_ok = destroy_ok

    def snapshot_list(self) -> tuple[Any, ...]:
        return self._snaps

    def snapshot_destroy(self, name: str) -> bool:
        return False

    def destroy(self) -> bool:
        return self._destroy_ok


def test_destroy_failure_becomes_operation_failed_with_log_reason(tmp_path: Path) -> None:
    (tmp_path / "lxc.log").write_text(
        "lxc fake 2026 ERROR    lxccontainer - c.c:f:1 - Container is still running\n"
    )
    with pytest.raises(OperationFailedError) as exc:
        destroy_container(_FakeContainer(), tmp_path)  # type: ignore[arg-type]
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    assert exc.value.message == (
        "liblxc could not destroy container 'fake': Container is still running"
    )
    with pytest.raises(OperationFailedError) as exc:
        destroy_container(_FakeContainer(snaps=(("snap0", "", "", ""),)), tmp_path)  # type: ignore[arg-type]
    assert exc.value.message.startswith("cannot destroy snapshot 'snap0' of container 'fake'")


def test_freeze_that_never_settles_times_out_and_thaws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A freezer stuck in the kernel is abandoned after the deadline, never a hung process."""
    from types import SimpleNamespace

    from virtplug.errors import OperationTimeoutError
    from virtplug_lxc import driver

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    (bin_dir / "lxc-freeze").write_text("#!/bin/sh\nexec sleep 30\n")
    (bin_dir / "lxc-unfreeze").write_text(f'#!/bin/sh\necho "unfreeze $*" >> {log}\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setattr(driver, "FREEZE_TIMEOUT", 0.5)
    fake = SimpleNamespace(lxcpath=tmp_path / "lxcpath")
    with pytest.raises(OperationTimeoutError) as err:
        driver._freezer(fake, "c1", "lxc-freeze")  # type: ignore[arg-type]
    assert "lxc-freeze of domain 'c1' did not finish in 0 s" in str(err.value)
    assert log.read_text() == f"unfreeze -n c1 -P {tmp_path / 'lxcpath'}\n"
    assert driver._freezer(fake, "c1", "lxc-unfreeze") is True  # type: ignore[arg-type]
