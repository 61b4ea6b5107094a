"""Driver discovery through entry points: found, missing, broken; the entry-point index."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
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


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own entry-point index directory (never ~/.cache)."""
    path = tmp_path_factory.mktemp("vp-cache")
    monkeypatch.setenv("VIRTPLUG_CACHE_DIR", str(path))
    monkeypatch.delenv("VIRTPLUG_ENTRY_POINT_INDEX", raising=False)
    monkeypatch.delenv("VIRTPLUG_DRIVERS", raising=False)
    return path


FAKE_MODULES = ("vp_fake_ok", "vp_fake_broken", "vp_fake_notclass", "vp_fake_raises", "vp_fake_mw")


@pytest.fixture
def fake_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(_loader, "_classes", {})
    monkeypatch.setattr(_loader, "_scan", None)
    yield tmp_path
    for mod in FAKE_MODULES:
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


# --- the entry-point index ----------------------------------------------------------

FAKE_EP = "[virtplug.drivers]\nfake = vp_fake_ok:FakeDriver\n"
LOADED = 'import sys; print("importlib.metadata" in sys.modules, "stevedore" in sys.modules)'


def _age(path: Path, seconds: int = 60) -> int:
    """Backdate *path* (so its mtime is not "racy") and return the new mtime."""
    stamp = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return stamp


def _index_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("entry-points-*.json"))


def _indexed_names(cache: Path) -> set[str]:
    (index,) = _index_files(cache)
    return {row[1] for row in json.loads(index.read_text())["entry_points"]}


def _forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start over as a new process would: no memo, no loaded classes."""
    monkeypatch.setattr(_loader, "_scan", None)
    monkeypatch.setattr(_loader, "_classes", {})
    for mod in FAKE_MODULES:
        sys.modules.pop(mod, None)
    importlib.invalidate_caches()
    importlib.metadata.MetadataPathFinder().invalidate_caches()


def _run(code: str, cwd: Path, **env: str) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("VIRTPLUG_")}
    full.update(env)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _pythonpath(site: Path) -> str:
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))


def test_index_hit_loads_without_metadata_or_stevedore(tmp_path: Path, cache_dir: Path) -> None:
    pytest.importorskip("virtplug_test", reason="opens the test driver")
    probe = f'import virtplug; virtplug.open("test:///default").close(); {LOADED}'
    env = {"VIRTPLUG_CACHE_DIR": str(cache_dir)}
    assert _run(probe, tmp_path, **env) == "True True"  # cold: scanned, loaded by stevedore
    assert "test" in _indexed_names(cache_dir)
    assert _run(probe, tmp_path, **env) == "False False"
    listing = (
        f"import virtplug; print(sorted(e.name for e in virtplug.installed_drivers())); {LOADED}"
    )
    names, loaded = _run(listing, tmp_path, **env).splitlines()
    assert "'test'" in names and loaded == "False False"
    # Switched off: every run scans, nothing is written.
    off = tmp_path / "off"
    assert _run(probe, tmp_path, VIRTPLUG_CACHE_DIR=str(off), VIRTPLUG_ENTRY_POINT_INDEX="0") == (
        "True True"
    )
    assert not off.exists()


def test_index_follows_distributions_installed_on_sys_path(tmp_path: Path, cache_dir: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    driver = "class Driver:\n    pass\n"
    _fake_dist(site, "fake-one", "fakemod", driver, "[virtplug.drivers]\nfake = fakemod:Driver\n")
    _age(site)
    probe = (
        "from virtplug import _loader\n"
        "names = [e.name for e in _loader.installed_drivers()]\n"
        "print(','.join(name for name in names if name.startswith('fake')))\n"
        "print(_loader._all_entry_points().from_index)\n"
        "for name in ('fake', 'fake2'):\n"
        "    try:\n"
        "        print(name, _loader.load_driver_class(name)[0].__module__)\n"
        "    except Exception as exc:\n"
        "        print(name, type(exc).__name__)\n"
    )
    env = {"PYTHONPATH": _pythonpath(site), "VIRTPLUG_CACHE_DIR": str(cache_dir)}
    assert _run(probe, tmp_path, **env).splitlines() == [
        "fake",
        "False",
        "fake fakemod",
        "fake2 DriverNotFoundError",
    ]
    assert {"fake"} <= _indexed_names(cache_dir)
    assert _run(probe, tmp_path, **env).splitlines()[:3] == ["fake", "True", "fake fakemod"]

    # A file that is no distribution changes the directory's mtime, not the index.
    (site / "notes.txt").write_text("unrelated\n")
    assert _run(probe, tmp_path, **env).splitlines()[:2] == ["fake", "True"]

    # Installing a second distribution there changes the directory: rescanned.
    _fake_dist(
        site, "fake-two", "fakemod2", driver, "[virtplug.drivers]\nfake2 = fakemod2:Driver\n"
    )
    assert _run(probe, tmp_path, **env).splitlines() == [
        "fake,fake2",
        "False",
        "fake fakemod",
        "fake2 fakemod2",
    ]
    assert {"fake", "fake2"} <= _indexed_names(cache_dir)
    assert _run(probe, tmp_path, **env).splitlines()[1] == "True"

    # And uninstalling it is seen too.
    shutil.rmtree(site / "fake_two-1.2.3.dist-info")
    lines = _run(probe, tmp_path, **env).splitlines()
    assert lines[0] == "fake" and lines[-1] == "fake2 DriverNotFoundError"


def test_index_hit_in_process(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _fake_dist(
        fake_site,
        "virtplug-mw",
        "vp_fake_mw",
        "class Middleware:\n    pass\n",
        "[virtplug.middleware]\nvp-mw = vp_fake_mw:Middleware\n",
    )
    _age(fake_site)
    first = {e.name: e for e in virtplug.installed_drivers()}
    assert not _loader._all_entry_points().from_index
    assert len(_index_files(cache_dir)) == 1

    _forget(monkeypatch)
    assert {e.name: e for e in virtplug.installed_drivers()} == first
    assert _loader._all_entry_points().from_index
    with virtplug.open("fake:///x") as conn:
        assert conn.type() == "FAKE" and conn.driver_version == "1.2.3"
    middleware = dict(_loader.load_middleware())
    assert type(middleware["vp-mw"]).__name__ == "Middleware"

    # An in-process registration still shadows the indexed driver.
    class Other:
        pass

    from virtplug.testing import register_driver, unregister_driver

    entry = register_driver("fake", Other, distribution="mine")
    try:
        assert _loader.load_driver_class("fake") == (Other, entry)
    finally:
        unregister_driver("fake")
    assert _loader.load_driver_class("fake")[1] == first["fake"]


def test_driver_missing_from_index_is_found_by_a_rescan(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    stamp = _age(fake_site)
    virtplug.installed_drivers()
    # Installed without the directory's mtime changing (the index cannot see it).
    _fake_dist(
        fake_site,
        "virtplug-notclass",
        "vp_fake_notclass",
        "driver = object()\n",
        "[virtplug.drivers]\nnotclass = vp_fake_notclass:driver\n",
    )
    os.utime(fake_site, ns=(stamp, stamp))
    _forget(monkeypatch)
    assert "notclass" not in {e.name for e in virtplug.installed_drivers()}
    with pytest.raises(errors.DriverLoadError, match="must name a class"):
        virtplug.open("notclass:///")
    assert "notclass" in {e.name for e in virtplug.installed_drivers()}


def _uninstall_behind_the_index(site: Path, *, keep_metadata: bool) -> None:
    stamp = site.stat().st_mtime_ns
    (site / "vp_fake_ok.py").unlink()
    if not keep_metadata:
        shutil.rmtree(site / "virtplug_fake-1.2.3.dist-info")
    os.utime(site, ns=(stamp, stamp))  # as if the mtime had not moved


def test_stale_index_uninstalled_driver_is_not_found(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    assert "fake" in {e.name for e in virtplug.installed_drivers()}
    _uninstall_behind_the_index(fake_site, keep_metadata=False)
    _forget(monkeypatch)
    assert "fake" in {e.name for e in virtplug.installed_drivers()}  # stale, as documented
    with pytest.raises(errors.DriverNotFoundError) as info:
        virtplug.open("fake:///")
    assert "fake" not in info.value.details["installed"]
    assert "fake" not in {e.name for e in virtplug.installed_drivers()}
    assert "fake" not in _indexed_names(cache_dir)  # rewritten by the rescan


def test_stale_index_broken_install_names_the_distribution(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    virtplug.installed_drivers()
    _uninstall_behind_the_index(fake_site, keep_metadata=True)
    _forget(monkeypatch)
    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open("fake:///")
    msg = info.value.message
    assert "Driver 'fake' from distribution 'virtplug-fake' failed to load" in msg
    assert "ModuleNotFoundError" in msg and "vp_fake_ok" in msg
    assert info.value.details["distribution"] == "virtplug-fake"


@pytest.mark.parametrize(
    ("module", "source", "expected", "rescanned"),
    [
        ("vp_fake_broken", "raise ImportError('libfoo.so.1: missing')\n", "ImportError", True),
        ("vp_fake_ok", "x = 1\n", "AttributeError", True),
        ("vp_fake_raises", "raise RuntimeError('no socket')\n", "RuntimeError: no sock", False),
        ("vp_fake_ok", "Driver = 42\n", "must name a class", False),
    ],
)
def test_load_errors_are_the_same_from_the_index(
    fake_site: Path,
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    source: str,
    expected: str,
    rescanned: bool,
) -> None:
    """A failing import from the index rescans first (the index may be stale)."""
    ep = f"[virtplug.drivers]\nbad = {module}:Driver\n"
    _fake_dist(fake_site, "virtplug-bad", module, source, ep)
    _age(fake_site)
    messages = []
    for _ in ("scanned", "indexed"):
        _forget(monkeypatch)
        with pytest.raises(errors.DriverLoadError) as info:
            virtplug.open("bad:///")
        assert info.value.details["distribution"] == "virtplug-bad"
        messages.append(info.value.message)
    assert _loader._all_entry_points().from_index is not rescanned
    assert messages[0] == messages[1]
    assert expected in messages[0] and "'virtplug-bad'" in messages[0]


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\\x00\\xff not json",
        b"[]",
        b'{"identity": 1}',
        b'{"identity": null, "paths": [], "entry_points": []}',
    ],
)
def test_corrupt_index_is_rebuilt(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    virtplug.installed_drivers()
    (index,) = _index_files(cache_dir)
    good = json.loads(index.read_text())
    index.write_bytes(garbage)
    _forget(monkeypatch)
    assert "fake" in {e.name for e in virtplug.installed_drivers()}
    assert not _loader._all_entry_points().from_index
    assert json.loads(index.read_text())["entry_points"] == good["entry_points"]


def test_index_rows_of_the_wrong_type_are_a_miss(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    virtplug.installed_drivers()
    (index,) = _index_files(cache_dir)
    data = json.loads(index.read_text())
    data["entry_points"].append(["virtplug.drivers", "x", 42, None, None])
    index.write_text(json.dumps(data))
    _forget(monkeypatch)
    assert "x" not in {e.name for e in virtplug.installed_drivers()}
    assert not _loader._all_entry_points().from_index


def test_unwritable_cache_dir_still_works(
    fake_site: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path_factory.mktemp("ro") / "a-file"
    blocker.write_text("not a directory\n")
    monkeypatch.setenv("VIRTPLUG_CACHE_DIR", str(blocker / "virtplug"))
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    for _ in range(2):
        _forget(monkeypatch)
        with virtplug.open("fake:///x") as conn:
            assert conn.type() == "FAKE"
        assert not _loader._all_entry_points().from_index


def test_index_can_be_switched_off(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIRTPLUG_ENTRY_POINT_INDEX", "0")
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    _age(fake_site)
    for _ in range(2):
        _forget(monkeypatch)
        with virtplug.open("fake:///x") as conn:
            assert conn.type() == "FAKE"
    assert list(cache_dir.iterdir()) == []


def test_old_index_files_are_pruned(cache_dir: Path) -> None:
    for n in range(70):
        path = cache_dir / f"entry-points-{n:08x}.json"
        path.write_text("{}")
        stamp = (1_000_000 + n) * 1_000_000_000
        os.utime(path, ns=(stamp, stamp))
    _loader._prune(str(cache_dir), keep=64)
    left = {p.name for p in _index_files(cache_dir)}
    assert len(left) == 64 and "entry-points-00000000.json" not in left
    assert "entry-points-00000045.json" in left


def test_import_target_reads_entry_point_values() -> None:
    assert _loader._import_target("os.path:join") is os.path.join
    assert _loader._import_target("os.path : join [extra]") is os.path.join
    assert _loader._import_target("os.path") is os.path
    with pytest.raises(AttributeError):
        _loader._import_target("os.path:no_such_thing")


def test_recently_modified_entries_are_checked_by_listing(
    fake_site: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A directory changed within the last clock tick may change again with the same
    # mtime, so its mtime is not stored: the next run compares its listing instead.
    _fake_dist(fake_site, "virtplug-fake", "vp_fake_ok", OK_SOURCE, FAKE_EP)
    virtplug.installed_drivers()
    (index,) = _index_files(cache_dir)
    data = json.loads(index.read_text())
    position = data["identity"][-1].index(str(fake_site))
    stamp, listing = data["paths"][position]
    assert stamp is None
    assert listing == [["virtplug_fake-1.2.3.dist-info", ANY_INT]]
    _forget(monkeypatch)
    virtplug.installed_drivers()
    assert _loader._all_entry_points().from_index
    # Once it has settled, the hit refreshes the stored mtime.
    aged = _age(fake_site)
    _forget(monkeypatch)
    virtplug.installed_drivers()
    assert _loader._all_entry_points().from_index
    assert json.loads(index.read_text())["paths"][position][0] == aged


class _AnyInt:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, int)


ANY_INT = _AnyInt()


def test_a_scheme_two_distributions_declare_goes_through_stevedore(
    fake_site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for dist, module in (("virtplug-dup-a", "vp_fake_ok"), ("virtplug-dup-b", "vp_fake_mw")):
        ep = f"[virtplug.drivers]\ndup = {module}:FakeDriver\n"
        _fake_dist(fake_site, dist, module, OK_SOURCE, ep)
    _age(fake_site)
    stevedore = pytest.importorskip("stevedore")
    for _ in ("scanned", "indexed"):
        _forget(monkeypatch)
        # stevedore caches a group's entry points per process: as a new process would.
        monkeypatch.setattr(stevedore.ExtensionManager, "ENTRY_POINT_CACHE", {})
        with pytest.raises(errors.DriverLoadError, match="declared by more than one distribution"):
            virtplug.open("dup:///")
    assert _loader._all_entry_points().from_index
