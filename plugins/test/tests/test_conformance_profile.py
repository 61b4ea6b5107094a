"""The conformance profile: plain data whose templates work on this driver."""

from __future__ import annotations

import importlib.metadata
import pathlib

import virtplug
from virtplug import DomainState
from virtplug_test import _backend
from virtplug_test.conformance import profile


def test_profile_entry_point() -> None:
    (ep,) = [
        e for e in importlib.metadata.entry_points(group="virtplug.conformance") if e.name == "test"
    ]
    assert ep.load() is profile


def test_profile_templates_work(tmp_path: pathlib.Path) -> None:
    prof = profile(tmp_path)
    assert set(prof) >= {
        "uri",
        "domain_xml",
        "network_xml",
        "pool_xml",
        "volume_xml",
        "exec_probe",
    }
    with virtplug.open(prof["uri"]) as conn:
        assert conn.list_domains() == []  # isolated: only the suite's own objects
        assert conn.list_networks() == [] and conn.list_pools() == []
        dom = conn.define_domain(prof["domain_xml"].format(name="vp-conf"))
        dom.start()
        assert dom.state == DomainState.RUNNING
        probe = prof["exec_probe"]
        result = dom.exec(probe["argv"])
        assert result.exit_code == probe["exit_code"]
        assert result.stdout.decode() == probe["stdout"]
        nets = [
            conn.define_network(
                prof["network_xml"].format(name=f"n{i}", bridge=f"vpconf{i}", octet=i)
            )
            for i in (1, 2)
        ]
        for net in nets:
            net.start()
        pool_dir = tmp_path / "pool"
        pool = conn.define_pool(prof["pool_xml"].format(name="p", path=pool_dir))
        pool.build()
        pool.start()
        vol = pool.create_volume(prof["volume_xml"].format(name="v"))
        assert vol.info().capacity > 0
        vol.delete()
        pool.stop()
        pool.undefine()
        for net in nets:
            net.stop()
            net.undefine()
        dom.destroy()
        dom.undefine()
    with virtplug.open(prof["uri"]) as conn:
        assert conn.list_domains() == []
    assert not _backend._registry
