"""Snapshots (config and state at snapshot time) and the simulated exec command set."""

from __future__ import annotations

import pytest
from vt_helpers import domain_xml, expect

import virtplug
from virtplug import DomainState, ErrorCode
from virtplug.models import PausedReason, RunningReason, ShutoffReason, SnapshotConfig

E = ErrorCode

# ---------------------------------------------------------------------------
# snapshots
# ---------------------------------------------------------------------------


def test_snapshot_create_list_lookup(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    snap = dom.create_snapshot(
        "<domainsnapshot><name>s1</name><description>first</description></domainsnapshot>"
    )
    assert snap.name == "s1"
    assert snap.info.state == DomainState.RUNNING
    assert snap.info.description == "first"
    assert snap.info.config == dom.config
    auto = dom.create_snapshot()
    assert auto.name and auto.name != "s1"
    assert [s.name for s in dom.list_snapshots()] == ["s1", auto.name]
    assert dom.lookup_snapshot("s1").info == snap.info
    assert "<name>s1</name>" in snap.xml()


def test_snapshot_errors(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    dom.create_snapshot(SnapshotConfig(name="s1"))
    expect(
        E.OPERATION_FAILED,
        "domain snapshot 's1' already exists",
        lambda: dom.create_snapshot(SnapshotConfig(name="s1")),
    )
    expect(
        E.NO_DOMAIN_SNAPSHOT,
        "no domain snapshot with matching name 'nope'",
        lambda: dom.lookup_snapshot("nope"),
    )
    for op in ("domain.snapshot_revert", "domain.snapshot_delete", "domain.snapshot_lookup"):
        expect(E.NO_DOMAIN_SNAPSHOT, None, lambda op=op: conn._call(op, name="test", snapshot="x"))
        expect(E.NO_DOMAIN, None, lambda op=op: conn._call(op, name="ghost", snapshot="s1"))
    expect(
        E.NO_DOMAIN,
        None,
        lambda: conn._call("domain.snapshot_create", name="ghost", snapshot=SnapshotConfig()),
    )
    assert [s.name for s in dom.list_snapshots()] == ["s1"]


def test_revert_restores_config_and_running_state(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    snap = dom.create_snapshot(SnapshotConfig(name="before"))
    dom.set_vcpus(8)
    dom.set_memory(1024)
    dom.destroy()
    snap.revert()
    assert dom.state == DomainState.RUNNING
    assert dom.state_reason == RunningReason.FROM_SNAPSHOT
    assert dom.id is not None
    info = dom.info()
    assert (info.vcpus, info.memory_kib) == (2, 2 * 1024 * 1024)
    assert dom.config.vcpus == 2
    assert "<vcpu>2</vcpu>" in dom.xml(inactive=True)


def test_revert_to_paused_and_to_shutoff(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    off = dom.create_snapshot(SnapshotConfig(name="off"))
    assert off.info.state == DomainState.SHUTOFF
    dom.start()
    dom.suspend()
    paused = dom.create_snapshot(SnapshotConfig(name="paused"))
    dom.resume()
    off.revert()
    assert (dom.state, dom.state_reason) == (DomainState.SHUTOFF, ShutoffReason.FROM_SNAPSHOT)
    assert dom.id is None
    paused.revert()
    assert (dom.state, dom.state_reason) == (DomainState.PAUSED, PausedReason.FROM_SNAPSHOT)


def test_transient_domain_cannot_revert_to_inactive_snapshot(conn: virtplug.Connection) -> None:
    dom = conn.define_domain(domain_xml("a"))
    dom.create_snapshot(SnapshotConfig(name="off"))
    dom.start()
    dom.undefine()
    expect(
        E.OPERATION_INVALID,
        "transient domain needs to request run or pause to revert to inactive snapshot",
        lambda: dom.lookup_snapshot("off").revert(),
    )
    assert dom.state == DomainState.RUNNING


def test_snapshot_delete(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    snap = dom.create_snapshot(SnapshotConfig(name="s"))
    snap.delete()
    assert dom.list_snapshots() == []
    expect(E.NO_DOMAIN_SNAPSHOT, None, snap.delete)


# ---------------------------------------------------------------------------
# exec
# ---------------------------------------------------------------------------

ENV_XML = domain_xml("envy").replace(
    "<init>/bin/sh</init>",
    "<init>/bin/sh</init><initenv name='FOO'>bar</initenv><initdir>/work</initdir>",
)


@pytest.mark.parametrize(
    ("argv", "code", "out", "err"),
    [
        (["true"], 0, "", ""),
        (["false"], 1, "", ""),
        (["echo", "hello", "world"], 0, "hello world\n", ""),
        (["echo", "-n", "x"], 0, "x", ""),
        (["/bin/echo", "abs"], 0, "abs\n", ""),
        (["hostname"], 0, "envy\n", ""),
        (["cat", "/etc/hostname"], 0, "envy\n", ""),
        (["cat", "/nope"], 1, "", "cat: /nope: No such file or directory\n"),
        (["pwd"], 0, "/work\n", ""),
        (["sh", "-c", "exit 3"], 3, "", ""),
        (["sh", "-c", "exit"], 0, "", ""),
        (["sh", "-c", "echo 'a b'"], 0, "a b\n", ""),
        (["id", "-u"], 0, "0\n", ""),
        (["id"], 0, "uid=0(root) gid=0(root) groups=0(root)\n", ""),
        (["uname", "-s", "-n"], 0, "Linux envy\n", ""),
        (["sleep", "0"], 0, "", ""),
        (["frobnicate", "x"], 127, "", "sh: frobnicate: not found\n"),
        (["sh", "-c", "frob"], 127, "", "sh: frob: not found\n"),
    ],
)
def test_exec_command_set(
    conn: virtplug.Connection, argv: list[str], code: int, out: str, err: str
) -> None:
    dom = conn.create_domain(ENV_XML)
    result = dom.exec(argv)
    assert (result.exit_code, result.stdout.decode(), result.stderr.decode()) == (code, out, err)


def test_exec_env(conn: virtplug.Connection) -> None:
    dom = conn.create_domain(ENV_XML)
    lines = dom.exec(["env"]).stdout.decode().splitlines()
    assert lines[0].startswith("PATH=")
    assert "HOSTNAME=envy" in lines
    assert lines[-1] == "FOO=bar"


def test_exec_timeout(conn: virtplug.Connection) -> None:
    dom = conn.lookup_domain("test")
    expect(E.OPERATION_TIMEOUT, None, lambda: dom.exec(["sleep", "5"], timeout=0))


def test_exec_unknown_domain(conn: virtplug.Connection) -> None:
    expect(
        E.NO_DOMAIN,
        None,
        lambda: conn._call("domain.exec", name="ghost", argv=("true",), timeout=None),
    )
