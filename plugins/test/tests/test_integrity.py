"""Rejected operations change nothing; concurrent threads keep the state consistent."""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

import pytest
from vt_helpers import domain_xml, network_xml, pool_xml, volume_xml

import virtplug
from virtplug.models import (
    DomainConfig,
    FilesystemConfig,
    InterfaceConfig,
    NetworkConfig,
    PoolConfig,
    SnapshotConfig,
    VolumeConfig,
)
from virtplug_test import _backend

TEST_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"


def _snapshot(backend: _backend.Backend) -> tuple[Any, ...]:
    return (
        dict(backend.domains),
        dict(backend.networks),
        dict(backend.pools),
        backend._next_id,
    )


REJECTED: dict[str, Callable[[virtplug.Connection], object]] = {
    "define name clash": lambda c: c.define_domain(domain_xml("test", uuid=str(uuidlib.uuid4()))),
    "define uuid clash": lambda c: c.define_domain(domain_xml("x", uuid=TEST_UUID)),
    "define hvm": lambda c: c.define_domain(domain_xml("x", os_type="hvm")),
    "define too many vcpus": lambda c: c.define_domain(
        DomainConfig(name="x", uuid=str(uuidlib.uuid4()), vcpus=99)
    ),
    "create existing": lambda c: c.create_domain(domain_xml("test")),
    "create on missing network": lambda c: c.create_domain(
        domain_xml("x", devices="<interface type='network'><source network='no'/></interface>")
    ),
    "start running": lambda c: c.lookup_domain("test").start(),
    "resume running": lambda c: c.lookup_domain("test").resume(),
    "memory above max": lambda c: c.lookup_domain("test").set_memory(10**9),
    "vcpus above host": lambda c: c.lookup_domain("test").set_vcpus(64),
    "attach unknown network": lambda c: c.lookup_domain("test").attach_device(
        InterfaceConfig(type="network", source="nope")
    ),
    "detach missing": lambda c: c.lookup_domain("test").detach_device(
        FilesystemConfig(type="mount", source="/a", target="/a")
    ),
    "revert unknown snapshot": lambda c: c._call(
        "domain.snapshot_revert", name="test", snapshot="s"
    ),
    "snapshot invalid name": lambda c: c.lookup_domain("test").create_snapshot(
        SnapshotConfig(name="a/b")
    ),
    "network name clash": lambda c: c.define_network(
        network_xml("default", uuid=str(uuidlib.uuid4()))
    ),
    "network bridge clash": lambda c: c.define_network(
        NetworkConfig(name="n", uuid=str(uuidlib.uuid4()), bridge="virbr0")
    ),
    "network start active": lambda c: c.lookup_network("default").start(),
    "pool target clash": lambda c: c.define_pool(pool_xml("p", "/default-pool")),
    "pool relative target": lambda c: c.define_pool(
        PoolConfig(name="p", uuid=str(uuidlib.uuid4()), target="x")
    ),
    "pool undefine active": lambda c: c.lookup_pool("default-pool").undefine(),
    "volume too big": lambda c: c.lookup_pool("default-pool").create_volume(
        volume_xml("v", capacity=10**15)
    ),
    "volume bad name": lambda c: c.lookup_pool("default-pool").create_volume(
        VolumeConfig(name="..", capacity=1)
    ),
    "malformed xml": lambda c: c.define_domain("<domain type='test'><name>x</name"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_operation_changes_nothing(conn: virtplug.Connection, case: str) -> None:
    backend = _backend._registry[("default", False)]
    before = _snapshot(backend)
    with pytest.raises(virtplug.VirtError):
        REJECTED[case](conn)
    assert _snapshot(backend) == before


def test_threads_share_one_consistent_state(conn: virtplug.Connection) -> None:
    errors: list[BaseException] = []
    ids: list[int] = []
    ids_lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            for i in range(30):
                dom = conn.define_domain(domain_xml(f"w{n}-{i}"))
                dom.start()
                dom_id = dom.id
                assert dom_id is not None
                with ids_lock:
                    ids.append(dom_id)
                dom.suspend()
                dom.resume()
                dom.info()
                dom.destroy()
                dom.undefine()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(200):
                for dom in conn.list_domains():
                    try:
                        dom.info()
                    except virtplug.VirtError as exc:
                        assert exc.code == virtplug.ErrorCode.NO_DOMAIN
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(ids) == len(set(ids)) == 180
    assert [d.name for d in conn.list_domains()] == ["test"]
