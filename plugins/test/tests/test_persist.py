"""Persisted state files (``?persist=1``): atomic writes, file lock, several processes."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from vt_helpers import domain_xml, expect, network_xml

import virtplug
from virtplug import DomainState, ErrorCode
from virtplug import xml as codec
from virtplug.models import NodeDocument, PausedReason
from virtplug_test import _backend

E = ErrorCode


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _names(path: pathlib.Path) -> list[str]:
    return sorted(d.config.name for d in codec.parse_node(path.read_bytes()).domains)


@pytest.fixture
def state(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "state.xml"


def test_persist_creates_file_and_writes_every_change(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        assert state.exists()
        assert _names(state) == []
        dom = conn.define_domain(domain_xml("a"))
        assert _names(state) == ["a"]
        dom.start()
        doc = codec.parse_node(state.read_bytes())
        assert doc.domains[0].state == DomainState.RUNNING
        conn.define_network(network_xml("n", bridge="vtn0"))
        assert [n.config.name for n in codec.parse_node(state.read_bytes()).networks] == ["n"]
    assert not list(state.parent.glob(".state.xml.*.tmp"))
    with virtplug.open(uri) as conn:
        assert conn.lookup_domain("a").state == DomainState.RUNNING
        assert conn.lookup_domain("a").id is not None


def test_without_persist_changes_stay_in_memory(state: pathlib.Path) -> None:
    state.write_text(codec.format_node(NodeDocument()))
    before = state.read_bytes()
    with virtplug.open(f"test://{state}") as conn:
        conn.define_domain(domain_xml("a"))
        assert [d.name for d in conn.list_domains()] == ["a"]
    assert state.read_bytes() == before
    with virtplug.open(f"test://{state}") as conn:
        assert conn.list_domains() == []


def test_rejected_change_does_not_write(state: pathlib.Path) -> None:
    with virtplug.open(f"test://{state}?persist=1") as conn:
        conn.define_domain(domain_xml("a"))
        stamp = state.stat().st_mtime_ns
        expect(E.OPERATION_INVALID, None, conn.lookup_domain("a").destroy)
        assert state.stat().st_mtime_ns == stamp


def test_write_failure_keeps_previous_state(
    state: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with virtplug.open(f"test://{state}?persist=1") as conn:
        conn.define_domain(domain_xml("a"))

        def refuse(src: str, dst: str) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(_backend.os, "replace", refuse)
        err = expect(E.SYSTEM_ERROR, None, lambda: conn.define_domain(domain_xml("b")))
        assert "No space left on device" in err.message
        monkeypatch.undo()
        assert [d.name for d in conn.list_domains()] == ["a"]
        assert _names(state) == ["a"]
        assert not list(state.parent.glob(".state.xml.*.tmp"))


def test_stale_temp_files_are_removed(state: pathlib.Path) -> None:
    stale = state.parent / ".state.xml.abc123.tmp"
    with virtplug.open(f"test://{state}?persist=1") as conn:
        stale.write_text("<node><half")
        conn.define_domain(domain_xml("a"))
    assert not stale.exists()


def test_another_process_sees_and_changes_the_state(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        conn.define_domain(domain_xml("mine"))
        child = _run(
            """
            import sys, virtplug
            with virtplug.open(sys.argv[1]) as conn:
                names = [d.name for d in conn.list_domains()]
                conn.lookup_domain("mine").start()
                conn.define_domain(
                    "<domain type='test'><name>theirs</name><memory>1024</memory>"
                    "<os><type>exe</type></os></domain>"
                )
                print(",".join(names))
            """,
            uri,
        )
        assert child.returncode == 0, child.stderr
        assert child.stdout.strip() == "mine"
        assert [d.name for d in conn.list_domains()] == ["mine", "theirs"]
        assert conn.lookup_domain("mine").state == DomainState.RUNNING


def test_backend_events_from_another_process(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn, conn.events(kinds=["domain"]) as sub:
        child = _run(
            """
            import sys, virtplug
            with virtplug.open(sys.argv[1]) as conn:
                dom = conn.define_domain(
                    "<domain type='test'><name>far</name><memory>1024</memory>"
                    "<os><type>exe</type></os></domain>"
                )
                dom.start()
            """,
            uri,
        )
        assert child.returncode == 0, child.stderr
        got = []
        while len(got) < 2:
            event = sub.get(timeout=30)
            assert event is not None, f"only got {got}"
            got.append((event.name, event.type_name, event.source))
        assert got == [("far", "DEFINED", "backend"), ("far", "STARTED", "backend")]


WRITER = """
import sys, virtplug
uri, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with virtplug.open(uri) as conn:
    for i in range(count):
        conn.define_domain(
            f"<domain type='test'><name>{prefix}{i}</name><memory>1024</memory>"
            f"<os><type>exe</type></os></domain>"
        )
"""


def test_concurrent_writers_lose_nothing(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    count = 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, uri, prefix, str(count)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("a", "b", "c")
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    expected = sorted(f"{p}{i}" for p in "abc" for i in range(count))
    assert _names(state) == expected
    with virtplug.open(uri) as conn:
        assert sorted(d.name for d in conn.list_domains()) == expected


CHURN = """
import os, sys, virtplug
uri = sys.argv[1]
with virtplug.open(uri) as conn:
    i = 0
    while True:
        dom = conn.define_domain(
            f"<domain type='test'><name>churn{os.getpid()}-{i}</name><memory>1024</memory>"
            f"<os><type>exe</type></os></domain>"
        )
        dom.start()
        if i % 2:
            dom.destroy()
            dom.undefine()
        else:
            dom.undefine()
            dom.destroy()
        i += 1
"""


def test_writer_killed_mid_write_leaves_a_valid_file(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        conn.define_domain(domain_xml("keeper"))
    for round_ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", CHURN, uri], stderr=subprocess.PIPE)
        try:
            start = state.stat().st_mtime_ns
            for _ in range(6000):  # wait (bounded) until it has written a few times
                time.sleep(0.005)
                if proc.poll() is not None or state.stat().st_mtime_ns != start:
                    break
            time.sleep(0.01 * round_)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            if proc.stderr:
                proc.stderr.close()
        doc = codec.parse_node(state.read_bytes())  # always a whole document
        assert "keeper" in [d.config.name for d in doc.domains]
        with virtplug.open(uri) as conn:  # the lock died with the writer
            conn.define_domain(domain_xml(f"after{round_}"))
    assert {f"after{i}" for i in range(5)} <= set(_names(state))


def test_runtime_state_is_the_same_in_another_process(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        dom = conn.define_domain(domain_xml("a", vcpus=1))
        dom.start()
        dom.suspend()
        conn.define_domain(domain_xml("a", uuid=dom.uuid, vcpus=3))  # pending definition
        child = _run(
            """
            import sys, virtplug
            with virtplug.open(sys.argv[1]) as conn:
                dom = conn.lookup_domain("a")
                pending = conn._call("domain.xml", name="a", inactive=True).vcpus
                print(dom.id, int(dom.state), dom.state_reason, dom.config.vcpus, pending)
            """,
            uri,
        )
        assert child.returncode == 0, child.stderr
        expected = [dom.id, DomainState.PAUSED, PausedReason.USER, 1, 3]
        assert child.stdout.split() == [str(int(v or 0)) for v in expected]


def test_resubscribing_keeps_watching_the_file(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        for _ in range(3):
            conn.events().close()
        with conn.events(kinds=["network"]) as sub:
            child = _run(
                """
                import sys, virtplug
                with virtplug.open(sys.argv[1]) as conn:
                    conn.define_network("<network><name>fromchild</name></network>")
                """,
                uri,
            )
            assert child.returncode == 0, child.stderr
            event = sub.get(timeout=30)
            assert event is not None
            assert (event.name, event.type_name, event.source) == (
                "fromchild",
                "DEFINED",
                "backend",
            )


def test_readonly_connection_does_not_create_the_file(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    err = expect(E.NO_CONNECT, None, lambda: virtplug.open(uri, readonly=True))
    assert str(state) in err.message
    assert not state.exists()
    assert not state.with_name("state.xml.lock").exists()
    with virtplug.open(uri):
        pass
    with virtplug.open(uri, readonly=True) as ro:
        assert ro.list_domains() == []
        expect(E.OPERATION_DENIED, None, lambda: ro.define_domain(domain_xml("a")))


def test_state_file_in_missing_directory(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "no" / "such" / "state.xml"
    expect(E.NO_CONNECT, None, lambda: virtplug.open(f"test://{path}?persist=1"))


def test_corrupted_state_file_is_reported_and_never_overwritten(state: pathlib.Path) -> None:
    uri = f"test://{state}?persist=1"
    with virtplug.open(uri) as conn:
        conn.define_domain(domain_xml("a"))
        good = state.read_bytes()
        broken = state.with_name("broken.xml")
        broken.write_text("<node><domain type='test'>")
        os.replace(broken, state)  # another writer left garbage
        reads = {
            "list domains": conn.list_domains,
            "list networks": conn.list_networks,
            "list pools": conn.list_pools,
            "node info": conn.node_info,
            "free memory": conn.node_free_memory,
            "capabilities": conn.host_capabilities,
        }
        for what, read in reads.items():
            err = expect(E.XML_ERROR, None, read)
            assert err.code == E.XML_ERROR, what
        expect(E.XML_ERROR, None, lambda: conn.define_domain(domain_xml("b")))
        assert state.read_text() == "<node><domain type='test'>"
        repaired = state.with_name("repaired.xml")
        repaired.write_bytes(good)
        os.replace(repaired, state)
        assert [d.name for d in conn.list_domains()] == ["a"]
