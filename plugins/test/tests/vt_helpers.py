"""Helpers shared by the test driver's tests: XML builders and an exact-error check."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import virtplug
from virtplug.errors import VirtError


def domain_xml(
    name: str,
    *,
    type: str = "test",
    uuid: str | None = None,
    memory: int = 65536,
    current: int | None = None,
    vcpus: int = 1,
    os_type: str = "exe",
    devices: str = "",
) -> str:
    """A minimal container domain document."""
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    current_el = f"<currentMemory unit='KiB'>{current}</currentMemory>" if current else ""
    return (
        f"<domain type='{type}'><name>{name}</name>{uuid_el}"
        f"<memory unit='KiB'>{memory}</memory>{current_el}<vcpu>{vcpus}</vcpu>"
        f"<os><type>{os_type}</type><init>/bin/sh</init></os>"
        f"<devices><filesystem type='template'><source name='busybox'/>"
        f"<target dir='/'/></filesystem>{devices}</devices></domain>"
    )


def network_xml(name: str, bridge: str | None = None, uuid: str | None = None) -> str:
    """A NAT network document."""
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    bridge_el = f"<bridge name='{bridge}'/>" if bridge else ""
    return (
        f"<network><name>{name}</name>{uuid_el}{bridge_el}<forward mode='nat'/>"
        f"<ip address='10.251.7.1' prefix='24'/></network>"
    )


def pool_xml(name: str, path: str, uuid: str | None = None, capacity: int | None = None) -> str:
    """A directory pool document."""
    uuid_el = f"<uuid>{uuid}</uuid>" if uuid else ""
    cap_el = f"<capacity unit='bytes'>{capacity}</capacity>" if capacity is not None else ""
    return (
        f"<pool type='dir'><name>{name}</name>{uuid_el}{cap_el}"
        f"<target><path>{path}</path></target></pool>"
    )


def volume_xml(name: str, capacity: int = 1024 * 1024, allocation: int | None = None) -> str:
    """A raw file volume document."""
    alloc_el = (
        f"<allocation unit='bytes'>{allocation}</allocation>" if allocation is not None else ""
    )
    return (
        f"<volume type='file'><name>{name}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"{alloc_el}<target><format type='raw'/></target></volume>"
    )


def expect(
    exc_code: virtplug.ErrorCode, message: str | None, func: Callable[[], object]
) -> VirtError:
    """Call *func*, require a VirtError with *exc_code* (and exactly *message* when given)."""
    with pytest.raises(VirtError) as info:
        func()
    err = info.value
    assert err.code == exc_code, f"expected {exc_code.name}, got {err!r}"
    if message is not None:
        assert err.message == message, f"expected message {message!r}, got {err.message!r}"
    return err
