"""Driver discovery through entry points: found, missing, broken."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import virtplug
from virtplug import _loader, errors


def _fake_dist(root: Path, dist: str, module: str, source: str, group_lines: str) -> None:
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text(group_lines)


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_loader, "_classes", {})
    yield tmp_path
    for mod in ("vp_fake_ok", "vp_fake_broken", "vp_fake_notclass"):
        sys.modules.pop(mod, None)


OK_SOURCE = """
from virtplug import hookimpl

class FakeDriver:
    @hookimpl
    def virtplug_connection_open(self, uri, auth, readonly):
        '''Open.'''
        return {"uri": uri.text}

    @hookimpl
    def virtplug_connection_type(self, conn):
        '''Type.'''
        return "FAKE"
"""


def test_installed_driver_is_found_and_loaded(fake_site: Path) -> None:
    _fake_dist(
        fake_site,
        "virtplug-fake",
        "vp_fake_ok",
        OK_SOURCE,
        "[virtplug.drivers]\nfake = vp_fake_ok:FakeDriver\n",
    )
    entries = {e.name: e for e in virtplug.installed_drivers()}
    assert entries["fake"].distribution == "virtplug-fake"
    assert entries["fake"].version == "1.2.3"
    assert entries["fake"].target == "vp_fake_ok:FakeDriver"
    with virtplug.open("fake:///x") as conn:
        assert conn.driver == "fake" and conn.type() == "FAKE"
        assert conn.driver_version == "1.2.3"
        assert conn.capabilities()["domain.start"].status == "undeclared"


def test_unknown_scheme_names_installed_drivers(fake_site: Path) -> None:
    _fake_dist(
        fake_site,
        "virtplug-fake",
        "vp_fake_ok",
        OK_SOURCE,
        "[virtplug.drivers]\nfake = vp_fake_ok:FakeDriver\n",
    )
    with pytest.raises(errors.DriverNotFoundError) as info:
        virtplug.open("lxd:///")
    err = info.value
    assert err.code == errors.ErrorCode.NO_CONNECT
    assert err.message.startswith(
        "Driver 'lxd' not found. It is either misspelled or not installed (installed drivers: "
    )
    assert "fake" in err.details["installed"]


def test_broken_driver_names_its_distribution(fake_site: Path) -> None:
    _fake_dist(
        fake_site,
        "virtplug-broken",
        "vp_fake_broken",
        "raise ImportError('libfoo.so.1: cannot open shared object file')\n",
        "[virtplug.drivers]\nbroken = vp_fake_broken:Driver\n",
    )
    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open("broken:///")
    msg = info.value.message
    assert "Driver 'broken' from distribution 'virtplug-broken' failed to load" in msg
    assert "libfoo.so.1" in msg
    assert info.value.details["distribution"] == "virtplug-broken"


def test_entry_point_must_name_a_class(fake_site: Path) -> None:
    _fake_dist(
        fake_site,
        "virtplug-notclass",
        "vp_fake_notclass",
        "driver = object()\n",
        "[virtplug.drivers]\nnotclass = vp_fake_notclass:driver\n",
    )
    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open("notclass:///")
    assert "must name a class" in info.value.message


def test_driver_limit_env(fake_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dist(
        fake_site,
        "virtplug-fake",
        "vp_fake_ok",
        OK_SOURCE,
        "[virtplug.drivers]\nfake = vp_fake_ok:FakeDriver\n",
    )
    monkeypatch.setenv("VIRTPLUG_DRIVERS", "test")
    assert "fake" not in {e.name for e in virtplug.installed_drivers()}
    with pytest.raises(errors.DriverNotFoundError):
        virtplug.open("fake:///")


def test_no_uri_and_no_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTPLUG_DEFAULT_URI", raising=False)
    with pytest.raises(errors.InvalidArgError) as info:
        virtplug.open()
    assert "VIRTPLUG_DEFAULT_URI" in info.value.message


def test_default_uri_is_used(fake_site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_dist(
        fake_site,
        "virtplug-fake",
        "vp_fake_ok",
        OK_SOURCE,
        "[virtplug.drivers]\nfake = vp_fake_ok:FakeDriver\n",
    )
    monkeypatch.setenv("VIRTPLUG_DEFAULT_URI", "fake:///from-env")
    with virtplug.open() as conn:
        assert conn.uri == "fake:///from-env"


def test_bad_auth_argument() -> None:
    with pytest.raises(errors.InvalidArgError):
        virtplug.api._auth_callback(("only-user",))  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgError):
        virtplug.api._auth_callback(42)  # type: ignore[arg-type]
