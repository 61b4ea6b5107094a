"""The ``virtplug`` console script, driven in subprocesses on the test driver.

Each test runs the real installed console script. Commands that change state
use a persisted test-driver state file (``test:///ABS/state.xml?persist=1``) so
separate invocations share one state; read-only checks use ``test:///default``
(libvirt's default state, fresh in every process).

``COVERED`` records which commands each test exercises (``@covers``); the
meta-tests at the end fail when a command has no test or no reference docs.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pexpect
import pytest

pytest.importorskip("virtplug_test", reason="the CLI tests run on the test driver")

ROOT = Path(__file__).resolve().parents[2]
COVERED: set[str] = set()
_F = TypeVar("_F", bound=Callable[..., Any])


def covers(*commands: str) -> Callable[[_F], _F]:
    """Record that the decorated test exercises *commands*."""
    COVERED.update(commands)
    return lambda func: func


def _console_script() -> list[str]:
    script = shutil.which("virtplug")
    if script is None:  # pragma: no cover - the core is always installed for these tests
        pytest.fail("the 'virtplug' console script is not on PATH (pip install -e core)")
    return [script]


VIRTPLUG = _console_script()


@pytest.fixture(scope="session")
def pycache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Bytecode cache for the subprocesses (keeps hundreds of invocations quick)."""
    return tmp_path_factory.mktemp("pycache")


@pytest.fixture
def env(pycache: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("VIRTPLUG_")}
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    out["PYTHONPYCACHEPREFIX"] = str(pycache)
    out["EDITOR"] = "false"
    out.pop("VISUAL", None)
    return out


class CLI:
    """Runs the console script with one default URI."""

    def __init__(self, uri: str, env: dict[str, str], cwd: Path) -> None:
        self.uri = uri
        self.env = env
        self.cwd = cwd

    def __call__(
        self, *args: str, input: str | None = None, extra_env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "VIRTPLUG_DEFAULT_URI": self.uri, **(extra_env or {})}
        return subprocess.run(
            [*VIRTPLUG, *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.cwd,
            input=input,
            timeout=120,
        )

    def ok(self, *args: str, **kw: Any) -> str:
        proc = self(*args, **kw)
        assert proc.returncode == 0, (args, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc.stdout

    def fails(self, code: int, *args: str, **kw: Any) -> str:
        proc = self(*args, **kw)
        assert proc.returncode == code, (args, proc.returncode, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
        return proc.stderr

    def json(self, *args: str) -> Any:
        return json.loads(self.ok("--json", *args))


DOMAIN_XML = """\
<domain type='test'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type>exe</type>
    <init>/bin/sh</init>
    <initarg>-c</initarg>
    <initarg>sleep infinity</initarg>
  </os>
  <devices>
    <filesystem type='template'>
      <source name='busybox'/>
      <target dir='/'/>
    </filesystem>
  </devices>
</domain>
"""

NETWORK_XML = """\
<network>
  <name>{name}</name>
  <bridge name='vpbr-{name}'/>
  <forward mode='nat'/>
  <ip address='10.251.{octet}.1' prefix='24'/>
</network>
"""

POOL_XML = """\
<pool type='dir'>
  <name>{name}</name>
  <target><path>{path}</path></target>
</pool>
"""

VOLUME_XML = "<volume><name>{name}</name><capacity unit='MiB'>4</capacity></volume>\n"

NIC_XML = (
    "<interface type='network'><source network='{net}'/>"
    "<mac address='52:54:00:00:00:07'/></interface>\n"
)


@pytest.fixture
def cli(tmp_path: Path, env: dict[str, str]) -> CLI:
    """A CLI on a fresh persisted state file (empty node) in tmp_path."""
    return CLI(f"test://{tmp_path}/state.xml?persist=1", env, tmp_path)


@pytest.fixture
def default(tmp_path: Path, env: dict[str, str]) -> CLI:
    """A CLI on libvirt's default test state (fresh in every process)."""
    return CLI("test:///default", env, tmp_path)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def web(cli: CLI, tmp_path: Path) -> str:
    """A defined, shut-off persistent domain 'web'."""
    cli.ok("define", write(tmp_path, "web.xml", DOMAIN_XML.format(name="web")))
    return "web"


@pytest.fixture
def running(cli: CLI, web: str) -> str:
    cli.ok("start", web)
    return web


def table_rows(text: str) -> list[list[str]]:
    """Rows of a virsh table (header and rule dropped), cells split on 3+ spaces."""
    import re

    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[1].startswith("---"), text
    return [re.split(r"\s{3,}", line.strip()) for line in lines[2:]]


# ---------------------------------------------------------------------------
# Global behaviour
# ---------------------------------------------------------------------------


def test_console_script_is_the_installed_entry_point() -> None:
    text = Path(VIRTPLUG[0]).read_text(errors="replace")
    assert "virtplug.cli" in text


def test_version_flag(default: CLI) -> None:
    import virtplug

    assert default.ok("--version").strip() == f"virtplug {virtplug.__version__}"


@covers("help")
def test_help_lists_every_command_and_every_command_has_help(default: CLI) -> None:
    from virtplug.cli._app import iter_commands

    top = default.ok("--help")
    names = [name for name, _ in iter_commands()]
    for name in names:
        assert f"  {name} " in top or f"  {name}\n" in top, name
    for name in names:
        sub = default.ok(name, "--help")
        assert sub.startswith(f"Usage: virtplug {name}"), (name, sub)
        assert "--json" in sub, name
    assert default.ok("help", "dominfo") == default.ok("dominfo", "--help")
    assert "Domain Management" in default.ok("help")
    assert "unknown command" in default.fails(2, "help", "nosuch")


def test_usage_errors_exit_2_with_error_prefix(default: CLI) -> None:
    err = default.fails(2, "lsit")
    assert err.startswith("error: No such command 'lsit'")
    assert "Did you mean 'list'" in err
    err = default.fails(2, "list", "--bogus")
    assert err.startswith("error: No such option '--bogus'")
    err = default.fails(2, "dominfo")
    assert "Missing argument 'DOMAIN'" in err
    err = default.fails(2, "setvcpus", "test", "zero")
    assert err.startswith("error: Invalid value for 'COUNT'")
    err = default.fails(2, "setmem", "test", "12 parsecs")
    assert err.startswith("error: Invalid value")


def test_operation_errors_exit_1_without_traceback(default: CLI) -> None:
    err = default.fails(1, "dominfo", "nosuch")
    assert err == "error: no domain with matching name 'nosuch'\n"
    err = default.fails(1, "start", "test")
    assert err == "error: domain is already running\n"
    err = default.fails(1, "define", "/nonexistent/file.xml")
    assert err.startswith("error: ") and "/nonexistent/file.xml" in err


def test_debug_shows_the_traceback(default: CLI) -> None:
    proc = default("--debug", "dominfo", "nosuch")
    assert proc.returncode == 1
    err = proc.stderr
    assert "Traceback (most recent call last)" in err
    assert "NoDomainError" in err
    assert err.rstrip().endswith("error: no domain with matching name 'nosuch'")
    proc = default("dominfo", "nosuch", extra_env={"VIRTPLUG_DEBUG": "1"})
    assert proc.returncode == 1 and "Traceback" in proc.stderr


def test_connect_option_and_env_default(tmp_path: Path, env: dict[str, str]) -> None:
    bare = CLI("", env, tmp_path)
    proc = subprocess.run(
        [*VIRTPLUG, "list"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: no connection URI given")
    assert "test" in bare.ok("-c", "test:///default", "list", "--name")
    assert bare.ok("--connect", "test:///default", "uri").strip() == "test:///default"
    err = bare.fails(1, "-c", "nosuch:///", "list")
    assert err.startswith("error: Driver 'nosuch' not found")
    err = bare.fails(1, "-c", "not a uri", "list")
    assert err.startswith("error: invalid connection URI")


def test_readonly_refuses_mutations(default: CLI) -> None:
    assert default.fails(1, "-r", "destroy", "test") == (
        "error: read only access prevents domain.destroy\n"
    )
    assert "running" in default.ok("--readonly", "domstate", "test")


def test_json_is_accepted_globally_and_per_command(default: CLI) -> None:
    a = json.loads(default.ok("--json", "domstate", "test"))
    b = json.loads(default.ok("domstate", "test", "--json"))
    assert (
        a
        == b
        == {
            "domain": "test",
            "state": "running",
            "state_code": 1,
            "reason": "booted",
            "reason_code": 1,
        }
    )


def test_output_piped_to_a_closed_pipe_is_quiet(default: CLI) -> None:
    proc = subprocess.run(
        f"{VIRTPLUG[0]} -c test:///default capabilities --driver | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env=default.env,
        timeout=60,
    )
    assert proc.stdout.startswith(" Operation")
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------------------
# Domains: listing and identity
# ---------------------------------------------------------------------------


@covers("list")
def test_list_shapes_and_filters(cli: CLI, web: str, tmp_path: Path) -> None:
    out = cli.ok("list", "--all")
    assert out.splitlines()[0] == " Id   Name   State"
    assert out.splitlines()[1] == "-" * (2 + 4 + 8 + 9)
    assert table_rows(out) == [["-", "web", "shut off"]]
    assert out.endswith("\n\n")
    assert table_rows(cli.ok("list")) == []
    cli.ok("create", write(tmp_path, "tr.xml", DOMAIN_XML.format(name="tr")))
    cli.ok("start", web)
    rows = table_rows(cli.ok("list"))
    assert sorted(r[1] for r in rows) == ["tr", "web"]
    assert all(r[0].isdigit() and int(r[0]) > 0 and r[2] == "running" for r in rows)
    assert [r[1] for r in rows] == [r[1] for r in sorted(rows, key=lambda r: int(r[0]))]
    assert cli.ok("list", "--transient", "--name").split() == ["tr"]
    assert cli.ok("list", "--persistent", "--name").split() == ["web"]
    cli.ok("destroy", web)
    assert cli.ok("list", "--inactive", "--name").split() == ["web"]
    uuid = cli.ok("domuuid", web).strip()
    assert uuid in cli.ok("list", "--all", "--uuid").split()
    data = cli.json("list", "--all")
    assert {d["name"]: d["state"] for d in data} == {"web": "shut off", "tr": "running"}
    assert cli.fails(2, "list", "--persistent", "--transient").startswith("error: ")


def test_list_on_the_default_state(default: CLI) -> None:
    out = default.ok("list", "--all")
    assert out == " Id   Name   State\n----------------------\n 1    test   running\n\n"


@covers("domid", "domuuid", "domname")
def test_identity_commands(cli: CLI, web: str) -> None:
    assert cli.ok("domid", web) == "-\n\n"
    cli.ok("start", web)
    dom_id = cli.ok("domid", web).strip()
    assert dom_id.isdigit()
    uuid = cli.ok("domuuid", web).strip()
    assert len(uuid) == 36
    assert cli.ok("domname", dom_id).strip() == web
    assert cli.ok("domname", uuid).strip() == web
    assert cli.ok("domuuid", dom_id).strip() == uuid
    assert cli.json("domid", web) == {"domain": web, "id": int(dom_id)}
    assert cli.fails(1, "domname", "99999") == "error: no domain with matching name '99999'\n"


# ---------------------------------------------------------------------------
# Domains: define, create, undefine, lifecycle
# ---------------------------------------------------------------------------


@covers("define", "undefine")
def test_define_and_undefine(cli: CLI, tmp_path: Path) -> None:
    path = write(tmp_path, "d.xml", DOMAIN_XML.format(name="d1"))
    assert cli.ok("define", path) == f"Domain 'd1' defined from {path}\n\n"
    assert cli.ok("define", "-", input=DOMAIN_XML.format(name="d2")).startswith(
        "Domain 'd2' defined from -"
    )
    assert cli.ok("undefine", "d1") == "Domain 'd1' has been undefined\n\n"
    assert cli.ok("list", "--all", "--name").split() == ["d2"]
    bad = write(tmp_path, "bad.xml", "<domain type='test'><name>x</name>")
    err = cli.fails(1, "define", bad)
    assert err.startswith("error: ") and "line" in err.lower()
    assert cli.fails(1, "undefine", "d1") == "error: no domain with matching name 'd1'\n"
    data = cli.json("define", path)
    assert data["domain"] == "d1" and data["result"] == "defined" and len(data["uuid"]) == 36


@covers("create")
def test_create_transient(cli: CLI, tmp_path: Path) -> None:
    path = write(tmp_path, "t.xml", DOMAIN_XML.format(name="t1"))
    assert cli.ok("create", path) == f"Domain 't1' created from {path}\n\n"
    assert cli.ok("domstate", "t1") == "running\n\n"
    assert cli.json("dominfo", "t1")["persistent"] is False
    assert cli.fails(1, "undefine", "t1") == "error: cannot undefine transient domain\n"
    cli.ok("destroy", "t1")
    assert cli.ok("list", "--all", "--name").strip() == ""


@covers("start", "destroy")
def test_start_and_destroy(cli: CLI, web: str) -> None:
    assert cli.ok("start", web) == f"Domain '{web}' started\n\n"
    assert cli.fails(1, "start", web) == "error: domain is already running\n"
    assert cli.ok("destroy", web) == f"Domain '{web}' destroyed\n\n"
    assert cli.ok("domstate", web) == "shut off\n\n"
    assert cli.fails(1, "destroy", web) == "error: domain is not running\n"


@covers("shutdown")
def test_shutdown(cli: CLI, running: str) -> None:
    out = cli.ok("shutdown", running, "--timeout", "5")
    assert out == f"Domain '{running}' is being shutdown\n\n"
    assert cli.ok("domstate", running) == "shut off\n\n"
    assert cli.fails(1, "shutdown", running) == "error: domain is not running\n"
    assert cli.fails(2, "shutdown", running, "--timeout", "-1").startswith("error: Invalid value")


@covers("reboot")
def test_reboot(cli: CLI, running: str) -> None:
    assert cli.ok("reboot", running) == f"Domain '{running}' is being rebooted\n\n"
    assert cli.ok("domstate", running) == "running\n\n"
    cli.ok("destroy", running)
    assert cli.fails(1, "reboot", running) == "error: domain is not running\n"


@covers("suspend", "resume")
def test_suspend_and_resume(cli: CLI, running: str) -> None:
    assert cli.ok("suspend", running) == f"Domain '{running}' suspended\n\n"
    assert cli.ok("domstate", running, "--reason") == "paused (user)\n\n"
    assert cli.ok("resume", running) == f"Domain '{running}' resumed\n\n"
    assert cli.ok("domstate", running) == "running\n\n"
    err = cli.fails(1, "resume", running)
    assert err.startswith("error: ")
    cli.ok("destroy", running)
    assert cli.fails(1, "suspend", running) == "error: domain is not running\n"


# ---------------------------------------------------------------------------
# Domains: configuration
# ---------------------------------------------------------------------------


@covers("dumpxml")
def test_dumpxml_round_trips_through_define(cli: CLI, web: str, tmp_path: Path) -> None:
    xml = cli.ok("dumpxml", web)
    assert xml.startswith("<domain type=")
    assert f"<name>{web}</name>" in xml
    uuid = cli.ok("domuuid", web).strip()
    assert f"<uuid>{uuid}</uuid>" in xml
    inactive = cli.ok("dumpxml", web, "--inactive")
    assert "<initarg>sleep infinity</initarg>" in inactive
    copy = write(tmp_path, "copy.xml", xml)
    cli.ok("define", copy)  # same name, same UUID: an update
    assert cli.ok("domuuid", web).strip() == uuid
    cli.ok("start", web)
    live = cli.ok("dumpxml", web)
    dom_id = cli.ok("domid", web).strip()
    assert f"id='{dom_id}'" in live or f'id="{dom_id}"' in live
    assert cli.json("dumpxml", web)["xml"].rstrip() == live.rstrip()


@covers("autostart")
def test_autostart(cli: CLI, web: str) -> None:
    assert cli.ok("autostart", web) == f"Domain '{web}' marked as autostarted\n\n"
    assert cli.json("dominfo", web)["autostart"] is True
    assert "Autostart:      enable" in cli.ok("dominfo", web)
    assert cli.ok("autostart", web, "--disable") == f"Domain '{web}' unmarked as autostarted\n\n"
    assert cli.json("dominfo", web)["autostart"] is False


@covers("setmem")
def test_setmem(cli: CLI, web: str) -> None:
    cli.ok("setmem", web, "131072")
    assert cli.json("dominfo", web)["memory_kib"] == 131072
    cli.ok("setmem", web, "64M")
    assert cli.json("dominfo", web)["memory_kib"] == 65536
    assert cli.json("setmem", web, "96MiB") == {
        "domain": web,
        "result": "memory set",
        "memory_kib": 98304,
    }
    cli.ok("start", web)
    cli.ok("setmem", web, "128M")
    assert "Used memory:    131072 KiB" in cli.ok("dominfo", web)
    assert cli.fails(1, "setmem", web, "1T").startswith("error: ")
    assert cli.fails(2, "setmem", web, "0").startswith("error: Invalid value")


@covers("setvcpus")
def test_setvcpus(cli: CLI, web: str) -> None:
    cli.ok("setvcpus", web, "2")
    assert cli.json("dominfo", web)["vcpus"] == 2
    assert "CPU(s):         2" in cli.ok("dominfo", web)
    assert cli.fails(2, "setvcpus", web, "0").startswith("error: Invalid value for 'COUNT'")
    assert cli.fails(1, "setvcpus", "nosuch", "1").startswith("error: no domain")


@covers("attach-device", "detach-device")
def test_attach_and_detach_device(cli: CLI, web: str, tmp_path: Path) -> None:
    cli.ok("net-define", write(tmp_path, "n.xml", NETWORK_XML.format(name="lab", octet=7)))
    cli.ok("net-start", "lab")
    nic = write(tmp_path, "nic.xml", NIC_XML.format(net="lab"))
    assert cli.ok("attach-device", web, nic) == "Device attached successfully\n\n"
    assert "52:54:00:00:00:07" in cli.ok("dumpxml", web, "--inactive")
    assert cli.ok("detach-device", web, nic) == "Device detached successfully\n\n"
    assert "52:54:00:00:00:07" not in cli.ok("dumpxml", web, "--inactive")
    assert cli.fails(1, "detach-device", web, nic).startswith("error: ")
    bad = write(tmp_path, "bad.xml", "<interface type='network'>")
    assert cli.fails(1, "attach-device", web, bad).startswith("error: ")


@covers("exec")
def test_exec_passes_output_and_exit_code(cli: CLI, running: str) -> None:
    proc = cli("exec", running, "--", "echo", "hello", "-n", "world")
    assert proc.returncode == 0
    assert proc.stdout == "hello -n world\n"
    proc = cli("exec", running, "--", "sh", "-c", "exit 7")
    assert proc.returncode == 7
    proc = cli("exec", running, "--", "nosuchprogram")
    assert proc.returncode == 127
    assert "nosuchprogram: not found" in proc.stderr
    assert cli("exec", running, "--", "hostname").stdout.strip() == running
    data = json.loads(cli("--json", "exec", running, "--", "false").stdout)
    assert data["exit_code"] == 1 and data["argv"] == ["false"]
    proc = cli("exec", running, "--timeout", "0.2", "--", "sleep", "5")
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    cli.ok("destroy", running)
    assert cli.fails(1, "exec", running, "--", "true") == "error: domain is not running\n"
    assert cli.fails(2, "exec", running).startswith("error: Missing argument")


# ---------------------------------------------------------------------------
# Domains: monitoring
# ---------------------------------------------------------------------------


@covers("dominfo")
def test_dominfo(default: CLI) -> None:
    out = default.ok("dominfo", "test")
    lines = out.splitlines()
    assert lines[:6] == [
        "Id:             1",
        "Name:           test",
        "UUID:           6695eb01-f6a4-8304-79aa-97f2502e193f",
        "OS Type:        exe",
        "State:          running",
        "CPU(s):         2",
    ]
    assert "Max memory:     8388608 KiB" in lines
    assert "Used memory:    2097152 KiB" in lines
    assert "Persistent:     yes" in lines
    assert "Autostart:      disable" in lines
    data = default.json("dominfo", "1")
    assert data["name"] == "test" and data["max_memory_kib"] == 8388608 and data["vcpus"] == 2


@covers("domstate")
def test_domstate(default: CLI) -> None:
    assert default.ok("domstate", "test") == "running\n\n"
    assert default.ok("domstate", "test", "--reason") == "running (booted)\n\n"
    assert default.fails(1, "domstate", "nosuch").startswith("error: no domain")


@covers("domstats")
def test_domstats(default: CLI, cli: CLI, web: str) -> None:
    out = default.ok("domstats", "test")
    lines = out.splitlines()
    assert lines[0] == "Domain: 'test'"
    assert "  state.state=1" in lines
    assert any(line.startswith("  cpu.time=") for line in lines)
    assert any(line.startswith("  memory.used=") for line in lines)
    data = default.json("domstats")
    assert [d["domain"] for d in data] == ["test"]
    assert data[0]["stats"]["state.state"] == 1
    assert cli.ok("domstats") == "\n"  # nothing running
    assert cli.fails(1, "domstats", web) == "error: domain is not running\n"
    cli.ok("start", web)
    assert cli.ok("domstats", web).startswith(f"Domain: '{web}'\n  state.state=1\n")


@covers("events")
def test_events_from_another_process(cli: CLI, web: str) -> None:
    env = {**cli.env, "VIRTPLUG_DEFAULT_URI": cli.uri}
    watcher = subprocess.Popen(
        [*VIRTPLUG, "events", "--count", "2", "--timeout", "60", "--domain", web],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        import time

        # The watcher subscribes on start; repeat the change until it reports.
        for _ in range(100):
            if watcher.poll() is not None:
                break
            cli.ok("start", web)
            cli.ok("destroy", web)
            time.sleep(0.2)
        out, err = watcher.communicate(timeout=60)
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.communicate()
    assert watcher.returncode == 0, err
    lines = out.splitlines()
    assert lines[-1] == "events received: 2"
    assert all(line.startswith(f"event 'lifecycle' for domain '{web}': ") for line in lines[:-1])
    types = {line.split(": ", 1)[1].split()[0] for line in lines[:-1]}
    assert types <= {"Started", "Stopped"}


def test_events_timeout_and_json(default: CLI) -> None:
    assert default.ok("events", "--timeout", "0.3") == "events received: 0\n"
    assert default.ok("--json", "events", "--timeout", "0.3") == ""
    assert default.fails(2, "events", "--kind", "bogus").startswith("error: Invalid value")


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


@covers(
    "snapshot-create", "snapshot-list", "snapshot-dumpxml", "snapshot-revert", "snapshot-delete"
)
def test_snapshots(cli: CLI, running: str, tmp_path: Path) -> None:
    assert cli.ok("snapshot-create", running, "--name", "s1") == "Domain snapshot s1 created\n\n"
    rows = table_rows(cli.ok("snapshot-list", running))
    assert [r[0] for r in rows] == ["s1"] and rows[0][2] == "running"
    xml = cli.ok("snapshot-dumpxml", running, "s1")
    assert "<name>s1</name>" in xml
    spec = write(tmp_path, "snap.xml", "<domainsnapshot><name>s2</name></domainsnapshot>")
    assert cli.ok("snapshot-create", running, "--xmlfile", spec) == "Domain snapshot s2 created\n\n"
    cli.ok("destroy", running)
    assert cli.ok("snapshot-revert", running, "s1") == "Domain snapshot s1 reverted\n\n"
    assert cli.ok("domstate", running) == "running\n\n"
    assert cli.ok("snapshot-delete", running, "s1") == "Domain snapshot s1 deleted\n\n"
    assert [d["name"] for d in cli.json("snapshot-list", running)] == ["s2"]
    assert cli.fails(1, "snapshot-revert", running, "s1").startswith("error: ")
    assert cli.fails(1, "snapshot-delete", running, "nosuch").startswith("error: ")
    assert cli.fails(2, "snapshot-create", running, "--xmlfile", spec, "--name", "x").startswith(
        "error: --xmlfile cannot be combined"
    )


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------


@covers(
    "net-define",
    "net-start",
    "net-list",
    "net-info",
    "net-dumpxml",
    "net-autostart",
    "net-destroy",
    "net-undefine",
)
def test_network_lifecycle(cli: CLI, tmp_path: Path) -> None:
    path = write(tmp_path, "n.xml", NETWORK_XML.format(name="lab", octet=9))
    assert cli.ok("net-define", path) == f"Network lab defined from {path}\n\n"
    assert table_rows(cli.ok("net-list")) == []
    assert table_rows(cli.ok("net-list", "--all")) == [["lab", "inactive", "no", "yes"]]
    assert cli.ok("net-start", "lab") == "Network lab started\n\n"
    out = cli.ok("net-list")
    assert out.splitlines()[0] == " Name   State    Autostart   Persistent"
    assert table_rows(out) == [["lab", "active", "no", "yes"]]
    info = cli.ok("net-info", "lab").splitlines()
    assert info[0] == "Name:           lab"
    assert "Active:         yes" in info and "Bridge:         vpbr-lab" in info
    xml = cli.ok("net-dumpxml", "lab")
    assert "<name>lab</name>" in xml and "vpbr-lab" in xml
    assert cli.ok("net-dumpxml", "lab", "--inactive").startswith("<network")
    assert cli.ok("net-autostart", "lab") == "Network lab marked as autostarted\n\n"
    assert cli.json("net-info", "lab")["autostart"] is True
    assert cli.ok("net-autostart", "lab", "--disable") == "Network lab unmarked as autostarted\n\n"
    assert cli.fails(1, "net-undefine", "nosuch").startswith("error: ")
    assert cli.ok("net-destroy", "lab") == "Network lab destroyed\n\n"
    assert cli.fails(1, "net-destroy", "lab").startswith("error: ")
    assert cli.ok("net-undefine", "lab") == "Network lab has been undefined\n\n"
    assert cli.json("net-list", "--all") == []
    assert cli.fails(1, "net-info", "lab").startswith("error: ")


@covers("net-create")
def test_net_create_transient(cli: CLI, tmp_path: Path) -> None:
    path = write(tmp_path, "n.xml", NETWORK_XML.format(name="tmpnet", octet=11))
    assert cli.ok("net-create", path) == f"Network tmpnet created from {path}\n\n"
    assert cli.json("net-info", "tmpnet")["persistent"] is False
    cli.ok("net-destroy", "tmpnet")
    assert cli.ok("net-list", "--all", "--name").strip() == ""


def test_default_network(default: CLI) -> None:
    assert default.ok("net-list", "--all") == (
        " Name      State    Autostart   Persistent\n"
        "--------------------------------------------\n"
        " default   active   no          yes\n\n"
    )


# ---------------------------------------------------------------------------
# Storage
# ---------------------------------------------------------------------------


@covers(
    "pool-define",
    "pool-build",
    "pool-start",
    "pool-list",
    "pool-info",
    "pool-dumpxml",
    "pool-refresh",
    "pool-autostart",
    "pool-destroy",
    "pool-delete",
    "pool-undefine",
)
def test_pool_lifecycle(cli: CLI, tmp_path: Path) -> None:
    target = tmp_path / "images"
    path = write(tmp_path, "p.xml", POOL_XML.format(name="images", path=target))
    assert cli.ok("pool-define", path) == f"Pool images defined from {path}\n\n"
    assert table_rows(cli.ok("pool-list", "--all")) == [["images", "inactive", "no"]]
    assert cli.ok("pool-build", "images") == "Pool images built\n\n"
    assert cli.ok("pool-start", "images") == "Pool images started\n\n"
    out = cli.ok("pool-list", "--details")
    header = out.splitlines()[0].split()
    assert header == [
        "Name",
        "State",
        "Autostart",
        "Persistent",
        "Capacity",
        "Allocation",
        "Available",
    ]
    row = table_rows(out)[0]
    assert row[:4] == ["images", "running", "no", "yes"]
    assert all(cell.endswith("B") for cell in row[4:])
    info = cli.ok("pool-info", "images").splitlines()
    assert info[0] == "Name:           images" and "State:          running" in info
    assert f"<path>{target}</path>" in cli.ok("pool-dumpxml", "images")
    assert cli.ok("pool-dumpxml", "images", "--inactive").startswith("<pool")
    assert cli.ok("pool-refresh", "images") == "Pool images refreshed\n\n"
    assert cli.ok("pool-autostart", "images") == "Pool images marked as autostarted\n\n"
    assert cli.json("pool-info", "images")["autostart"] is True
    cli.ok("pool-autostart", "images", "--disable")
    assert cli.fails(1, "pool-undefine", "images").startswith("error: ")  # still active
    assert cli.ok("pool-destroy", "images") == "Pool images destroyed\n\n"
    assert cli.ok("pool-delete", "images") == "Pool images deleted\n\n"
    assert cli.ok("pool-undefine", "images") == "Pool images has been undefined\n\n"
    assert cli.json("pool-list", "--all") == []
    assert cli.fails(1, "pool-info", "images").startswith("error: ")


@covers("pool-create")
def test_pool_create_transient(cli: CLI, tmp_path: Path) -> None:
    target = tmp_path / "tp"
    target.mkdir()
    path = write(tmp_path, "p.xml", POOL_XML.format(name="tp", path=target))
    assert cli.ok("pool-create", path) == f"Pool tp created from {path}\n\n"
    data = cli.json("pool-info", "tp")
    assert data["persistent"] is False and data["active"] is True
    cli.ok("pool-destroy", "tp")
    assert cli.ok("pool-list", "--all", "--name").strip() == ""


def test_default_pool(default: CLI) -> None:
    out = default.ok("pool-list", "--all", "--details")
    assert table_rows(out) == [
        ["default-pool", "running", "no", "yes", "100.00 GiB", "0.00 B", "100.00 GiB"]
    ]


@pytest.fixture
def pool(cli: CLI, tmp_path: Path) -> str:
    target = tmp_path / "vols"
    cli.ok("pool-define", write(tmp_path, "vp.xml", POOL_XML.format(name="vols", path=target)))
    cli.ok("pool-build", "vols")
    cli.ok("pool-start", "vols")
    return "vols"


@covers("vol-create", "vol-list", "vol-info", "vol-path", "vol-dumpxml", "vol-clone", "vol-delete")
def test_volumes(cli: CLI, pool: str, tmp_path: Path) -> None:
    path = write(tmp_path, "v.xml", VOLUME_XML.format(name="data.img"))
    assert cli.ok("vol-create", pool, path) == f"Vol data.img created from {path}\n\n"
    vol_path = str(tmp_path / "vols" / "data.img")
    assert cli.ok("vol-list", pool) == (
        f" Name       Path\n{'-' * (8 + len(vol_path) + 6)}\n data.img   {vol_path}\n\n"
    )
    rows = table_rows(cli.ok("vol-list", pool, "--details"))
    assert rows == [["data.img", vol_path, "file", "4.00 MiB", rows[0][4]]]
    assert cli.ok("vol-info", "data.img", "--pool", pool).splitlines()[:3] == [
        "Name:           data.img",
        "Type:           file",
        "Capacity:       4.00 MiB",
    ]
    assert cli.ok("vol-path", "data.img", "--pool", pool) == vol_path + "\n\n"
    assert cli.ok("vol-info", vol_path).startswith("Name:           data.img")  # by path
    assert "<name>data.img</name>" in cli.ok("vol-dumpxml", "data.img", "--pool", pool)
    out = cli.ok("vol-clone", "data.img", "copy.img", "--pool", pool)
    assert out == "Vol copy.img cloned from data.img\n\n"
    assert sorted(d["name"] for d in cli.json("vol-list", pool)) == ["copy.img", "data.img"]
    assert cli.ok("vol-delete", "copy.img", "--pool", pool) == "Vol copy.img deleted\n\n"
    assert cli.fails(1, "vol-delete", "copy.img", "--pool", pool).startswith("error: ")
    assert cli.fails(1, "vol-info", "nosuch") == (
        "error: failed to get vol 'nosuch', specifying --pool might help\n"
    )
    assert cli.fails(1, "vol-create", pool, path).startswith("error: ")  # exists


# ---------------------------------------------------------------------------
# Host, drivers, shell
# ---------------------------------------------------------------------------


@covers("nodeinfo")
def test_nodeinfo(default: CLI) -> None:
    lines = default.ok("nodeinfo").splitlines()
    assert lines[0] == "CPU model:           i686"
    assert "CPU(s):              16" in lines
    assert "Memory size:         3145728 KiB" in lines
    assert default.json("nodeinfo")["cpus"] == 16


@covers("hostname", "uri")
def test_hostname_and_uri(default: CLI) -> None:
    import virtplug

    with virtplug.open("test:///default") as conn:
        expected = conn.hostname()
    assert default.ok("hostname") == expected + "\n\n"
    assert default.ok("uri") == "test:///default\n\n"


@covers("version")
def test_version(default: CLI) -> None:
    import virtplug

    lines = default.ok("version").splitlines()
    assert lines[0] == f"Compiled against library: virtplug {virtplug.__version__}"
    assert lines[2].startswith("Using API: TEST ")
    assert lines[3].startswith("Running hypervisor: TEST ")
    data = default.json("version")
    assert data["driver"] == "test" and data["virtplug"] == virtplug.__version__


@covers("capabilities", "ops")
def test_capabilities(default: CLI) -> None:
    xml = default.ok("capabilities")
    assert xml.startswith("<capabilities>")
    assert "<arch>" in xml
    from virtplug.hookspecs import OPERATIONS

    table_text = default.ok("ops")
    rows = table_rows(table_text.split("\n\n")[0])
    assert [r[0] for r in rows] == list(OPERATIONS)
    assert all(r[1] == "implemented" for r in rows)
    assert f"{len(OPERATIONS)} implemented, 0 unsupported, 0 undeclared" in table_text
    assert default.ok("capabilities", "--driver") == table_text
    data = default.json("ops")
    assert data["driver"] == "test"
    assert data["counts"] == {"implemented": len(OPERATIONS), "unsupported": 0, "undeclared": 0}


@covers("supports")
def test_supports(default: CLI) -> None:
    assert default.ok("supports", "domain.suspend") == "yes\n\n"
    assert default.json("supports", "domain.start")["supported"] is True
    err = default.fails(1, "supports", "domain.fly")
    assert err.startswith("error: unknown operation 'domain.fly'")


def test_supports_reports_unsupported_with_exit_3(tmp_path: Path, env: dict[str, str]) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys
            from virtplug import unsupported
            from virtplug.testing import register_driver
            from virtplug_test import TestDriver

            class NoSnap(TestDriver):
                virtplug_domain_snapshot_create = unsupported("no snapshots here")

            register_driver("nosnap", NoSnap, distribution="nosnap-dist", version="9.9")
            from virtplug.cli import main
            main(sys.argv[1:])
            """
        )
    )
    proc = subprocess.run(
        [
            sys.executable,
            str(script),
            "-c",
            "nosnap:///default",
            "supports",
            "domain.snapshot_create",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == "no (unsupported: no snapshots here)\n\n"
    proc = subprocess.run(
        [sys.executable, str(script), "drivers"], capture_output=True, text=True, env=env
    )
    row = next(r for r in table_rows(proc.stdout) if r[0] == "nosnap")
    from virtplug.hookspecs import OPERATIONS

    assert row[1:6] == ["nosnap-dist", "9.9", str(len(OPERATIONS) - 1), "1", "0"]


@covers("drivers")
def test_drivers(default: CLI) -> None:
    from virtplug.hookspecs import OPERATIONS

    proc = default("drivers")
    assert proc.stdout.splitlines()[0].split() == [
        "Driver",
        "Distribution",
        "Version",
        "Implemented",
        "Unsupported",
        "Undeclared",
        "Status",
    ]
    rows = {r[0]: r for r in table_rows(proc.stdout)}
    assert rows["test"][1:] == [
        "virtplug-test",
        rows["test"][2],
        str(len(OPERATIONS)),
        "0",
        "0",
        "ok",
    ]
    data = json.loads(default("--json", "drivers").stdout)
    test_row = next(d for d in data if d["name"] == "test")
    assert test_row["distribution"] == "virtplug-test"
    assert test_row["implemented"] == len(OPERATIONS)
    # A driver that fails to load is listed, reported, and makes the exit code 1.
    broken = [r for r in rows.values() if r[-1] == "load failed"]
    assert proc.returncode == (1 if broken else 0)
    for r in broken:
        assert f"Driver '{r[0]}'" in proc.stderr


def test_drivers_limited_by_env(default: CLI) -> None:
    out = default.ok("drivers", extra_env={"VIRTPLUG_DRIVERS": "test"})
    assert [r[0] for r in table_rows(out)] == ["test"]


@covers("completion")
def test_completion_scripts_and_dynamic_names(default: CLI, tmp_path: Path) -> None:
    bash = default.ok("completion", "bash")
    assert "_VIRTPLUG_COMPLETE=bash_complete" in bash and "complete " in bash
    zsh = default.ok("completion", "zsh")
    assert zsh.startswith("#compdef virtplug")
    assert default.fails(2, "completion", "fish").startswith("error: Invalid value")
    # What the bash function asks the program for: commands, then domain names.
    env = {"_VIRTPLUG_COMPLETE": "bash_complete", "COMP_WORDS": "virtplug dom", "COMP_CWORD": "1"}
    out = default.ok(extra_env=env)
    assert {"plain,dominfo", "plain,domstate", "plain,domid"} <= set(out.split())
    env["COMP_WORDS"] = "virtplug -c test:///default dominfo t"
    env["COMP_CWORD"] = "4"
    assert default.ok(extra_env=env).split() == ["plain,test"]
    env["COMP_WORDS"] = "virtplug supports domain.sus"
    env["COMP_CWORD"] = "2"
    assert default.ok(extra_env=env).split() == ["plain,domain.suspend"]
    if shutil.which("bash"):
        # The script really loads in bash and registers the completion function.
        proc = subprocess.run(
            ["bash", "-c", f'eval "$({VIRTPLUG[0]} completion bash)"; complete -p virtplug'],
            capture_output=True,
            text=True,
            env=default.env,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert "_virtplug_completion" in proc.stdout


# ---------------------------------------------------------------------------
# Terminal paths (pseudo-terminal): progress and edit
# ---------------------------------------------------------------------------

SLOW_DRIVER = """
import sys, time
from virtplug.testing import register_driver
from virtplug_test import TestDriver
from virtplug import hookimpl

class SlowShutdown(TestDriver):
    @hookimpl
    def virtplug_domain_shutdown(self, conn, name, timeout):
        '''Take a while, like a container that ignores SIGTERM until killed.'''
        time.sleep(1.5)
        return TestDriver.virtplug_domain_shutdown(self, conn, name, timeout)

register_driver("slow", SlowShutdown)
from virtplug.cli import main
main(sys.argv[1:])
"""


@pytest.fixture
def slow_script(tmp_path: Path) -> Path:
    path = tmp_path / "slow.py"
    path.write_text(SLOW_DRIVER)
    return path


def test_shutdown_shows_progress_on_a_terminal(slow_script: Path, env: dict[str, str]) -> None:
    child = pexpect.spawn(
        sys.executable,
        [str(slow_script), "-c", "slow:///default", "shutdown", "test", "--timeout", "30"],
        env=env,
        encoding="utf-8",
        timeout=60,
    )
    child.expect(r"Waiting for domain 'test' to shut down\.\.\. \d+s/30s")
    child.expect("Domain 'test' is being shutdown")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_shutdown_is_quiet_when_piped(slow_script: Path, env: dict[str, str]) -> None:
    proc = subprocess.run(
        [sys.executable, str(slow_script), "-c", "slow:///default", "shutdown", "test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 0
    assert proc.stdout == "Domain 'test' is being shutdown\n\n"
    assert proc.stderr == ""


EDITOR = """\
import sys
path = sys.argv[1]
text = open(path).read()
open(path, "w").write(text.replace({old!r}, {new!r}))
"""


def _editor(tmp_path: Path, old: str, new: str) -> str:
    path = tmp_path / "editor.py"
    path.write_text(EDITOR.format(old=old, new=new))
    return f"{sys.executable} {path}"


def _spawn(cli: CLI, *args: str, editor: str) -> Any:
    env = {**cli.env, "VIRTPLUG_DEFAULT_URI": cli.uri, "EDITOR": editor}
    return pexpect.spawn(VIRTPLUG[0], list(args), env=env, encoding="utf-8", timeout=60)


@covers("edit")
def test_edit_redefines_on_a_terminal(cli: CLI, web: str, tmp_path: Path) -> None:
    editor = _editor(tmp_path, "<vcpu>1</vcpu>", "<vcpu>3</vcpu>")
    child = _spawn(cli, "edit", web, editor=editor)
    child.expect(f"Domain '{web}' XML configuration edited.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert cli.json("dominfo", web)["vcpus"] == 3


def test_edit_without_changes(cli: CLI, web: str, tmp_path: Path) -> None:
    child = _spawn(cli, "edit", web, editor=_editor(tmp_path, "nothing", "nothing"))
    child.expect(f"Domain '{web}' XML configuration not changed.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_bad_edit_is_reported_and_nothing_changes(cli: CLI, web: str, tmp_path: Path) -> None:
    before = cli.ok("dumpxml", web, "--inactive")
    child = _spawn(cli, "edit", web, editor=_editor(tmp_path, "</domain>", "<oops></domain>"))
    child.expect("error: ")
    child.expect(f"Domain '{web}' XML configuration not changed.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert cli.ok("dumpxml", web, "--inactive") == before
    # Malformed XML, and an editor that fails: same outcome.
    child = _spawn(cli, "edit", web, editor=_editor(tmp_path, "</domain>", "<domain"))
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert cli.fails(1, "edit", web, extra_env={"EDITOR": "false"}).startswith("error: editor")
    assert cli.ok("dumpxml", web, "--inactive") == before


# ---------------------------------------------------------------------------
# Meta-tests: every command has a test and reference docs
# ---------------------------------------------------------------------------


def _command_names() -> list[str]:
    from virtplug.cli._app import iter_commands

    return [name for name, _ in iter_commands()]


def test_every_command_has_a_test() -> None:
    names = set(_command_names())
    assert not (names - COVERED), f"commands without a test: {sorted(names - COVERED)}"
    assert not (COVERED - names), f"tests claim unknown commands: {sorted(COVERED - names)}"


def test_every_command_is_documented_in_the_cli_reference() -> None:
    from virtplug.cli._app import iter_commands

    page = (ROOT / "docs" / "reference" / "cli.md").read_text()
    for name, cmd in iter_commands():
        assert cmd.help and len(cmd.help.strip()) > 10, f"command {name!r} has no help text"
        assert f"### `{name}`" in page, f"command {name!r} is missing from docs/reference/cli.md"
        for param in cmd.params:
            if param.name in ("as_json_local", "help") or not hasattr(param, "opts"):
                continue
            if getattr(param, "param_type_name", "") == "option":
                assert getattr(param, "help", None), f"{name} {param.opts} has no help"


def test_virsh_command_names_are_all_present() -> None:
    virsh = [
        "list",
        "dominfo",
        "domstate",
        "domid",
        "domuuid",
        "define",
        "undefine",
        "create",
        "start",
        "shutdown",
        "destroy",
        "reboot",
        "suspend",
        "resume",
        "dumpxml",
        "edit",
        "autostart",
        "setmem",
        "setvcpus",
        "attach-device",
        "detach-device",
        "domstats",
        "snapshot-create",
        "snapshot-list",
        "snapshot-revert",
        "snapshot-delete",
        "net-list",
        "net-define",
        "net-start",
        "net-destroy",
        "net-undefine",
        "net-dumpxml",
        "net-info",
        "net-autostart",
        "pool-list",
        "pool-define",
        "pool-start",
        "pool-destroy",
        "pool-undefine",
        "pool-build",
        "pool-delete",
        "pool-refresh",
        "pool-info",
        "pool-dumpxml",
        "vol-list",
        "vol-create",
        "vol-delete",
        "vol-info",
        "vol-dumpxml",
        "vol-path",
        "vol-clone",
        "nodeinfo",
        "hostname",
        "version",
        "capabilities",
    ]
    extra = ["drivers", "supports", "ops", "exec", "events", "completion"]
    names = set(_command_names())
    assert not (set(virsh + extra) - names)


def test_lazy_command_table_matches_the_registrations() -> None:
    from virtplug.cli._app import COMMAND_MODULES, _load_commands, root

    _load_commands()
    assert set(root.commands) == set(COMMAND_MODULES)
    for name, module in COMMAND_MODULES.items():
        callback = root.commands[name].callback
        assert callback is not None and callback.__module__ == f"virtplug.cli.{module}", name


def test_a_command_loads_only_its_own_module(env: dict[str, str]) -> None:
    code = (
        "import sys, contextlib, io\n"
        "from virtplug.cli._app import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert run(['-c', 'test:///default', 'list']) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith('virtplug.cli._')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    ).stdout
    loaded = ast.literal_eval(out)
    assert "virtplug.cli._domain" in loaded
    assert not {"virtplug.cli._storage", "virtplug.cli._network", "virtplug.cli._host"} & set(
        loaded
    )


def test_bare_invocation_prints_the_help(default: CLI) -> None:
    proc = subprocess.run(
        VIRTPLUG, capture_output=True, text=True, env=default.env, timeout=60, check=False
    )
    assert proc.returncode == 2
    assert proc.stdout.startswith("Usage: virtplug [OPTIONS] COMMAND [ARGS]...")
    assert "Domain Management:" in proc.stdout
    assert proc.stderr == ""


def test_events_ends_cleanly_on_ctrl_c(default: CLI) -> None:
    env = {**default.env, "VIRTPLUG_DEFAULT_URI": "test:///default"}
    child = pexpect.spawn(VIRTPLUG[0], ["events"], env=env, encoding="utf-8", timeout=60)
    child.expect(pexpect.TIMEOUT, timeout=1.5)  # watching, nothing happens
    child.sendintr()
    child.expect("events received: 0")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in (child.before or "")


def test_every_command_speaks_json(cli: CLI, tmp_path: Path) -> None:
    """A scripted session with --json: every output parses, and says what happened."""
    dom = write(tmp_path, "j.xml", DOMAIN_XML.format(name="j"))
    net = write(tmp_path, "jn.xml", NETWORK_XML.format(name="jn", octet=21))
    tnet = write(tmp_path, "jt.xml", NETWORK_XML.format(name="jt", octet=22))
    pool = write(tmp_path, "jp.xml", POOL_XML.format(name="jp", path=tmp_path / "jp"))
    tpool = write(tmp_path, "jq.xml", POOL_XML.format(name="jq", path=tmp_path / "jq"))
    vol = write(tmp_path, "jv.xml", VOLUME_XML.format(name="v.img"))
    nic = write(tmp_path, "jnic.xml", NIC_XML.format(net="jn"))
    snap = write(tmp_path, "js.xml", "<domainsnapshot><name>s</name></domainsnapshot>")
    session: list[tuple[str, ...]] = [
        ("define", dom),
        ("start", "j"),
        ("list", "--all"),
        ("domid", "j"),
        ("domuuid", "j"),
        ("domname", "j"),
        ("dominfo", "j"),
        ("domstate", "j", "--reason"),
        ("domstats", "j"),
        ("dumpxml", "j"),
        ("suspend", "j"),
        ("resume", "j"),
        ("reboot", "j"),
        ("setmem", "j", "100M"),
        ("setvcpus", "j", "2"),
        ("autostart", "j"),
        ("net-define", net),
        ("net-start", "jn"),
        ("net-create", tnet),
        ("net-list", "--all"),
        ("net-info", "jn"),
        ("net-dumpxml", "jn"),
        ("net-autostart", "jn", "--disable"),
        ("attach-device", "j", nic),
        ("detach-device", "j", nic),
        ("snapshot-create", "j", "--xmlfile", snap),
        ("snapshot-list", "j"),
        ("snapshot-dumpxml", "j", "s"),
        ("snapshot-revert", "j", "s"),
        ("snapshot-delete", "j", "s"),
        ("pool-define", pool),
        ("pool-build", "jp"),
        ("pool-start", "jp"),
        ("pool-create", tpool),
        ("pool-list", "--all", "--details"),
        ("pool-info", "jp"),
        ("pool-dumpxml", "jp"),
        ("pool-autostart", "jp"),
        ("pool-refresh", "jp"),
        ("vol-create", "jp", vol),
        ("vol-list", "jp", "--details"),
        ("vol-info", "v.img", "--pool", "jp"),
        ("vol-path", "v.img", "--pool", "jp"),
        ("vol-dumpxml", "v.img", "--pool", "jp"),
        ("vol-clone", "v.img", "w.img", "--pool", "jp"),
        ("vol-delete", "w.img", "--pool", "jp"),
        ("nodeinfo",),
        ("hostname",),
        ("uri",),
        ("version",),
        ("capabilities",),
        ("ops",),
        ("supports", "domain.start"),
        ("shutdown", "j"),
        ("undefine", "j"),
        ("create", dom),
        ("destroy", "j"),
        ("net-destroy", "jn"),
        ("net-undefine", "jn"),
        ("vol-delete", "v.img", "--pool", "jp"),
        ("pool-destroy", "jp"),
        ("pool-delete", "jp"),
        ("pool-undefine", "jp"),
    ]
    for args in session:
        out = cli.ok("--json", *args)
        data = json.loads(out)
        assert data not in (None, "", {}), args
    assert json.loads(cli.ok("--json", "list", "--all")) == []


# -- start-up ---------------------------------------------------------------------

#: Modules a `list --all` on the test driver must not import: each costs start-up
#: time (bench/cli_bench.py) and none is needed to list domains.
_NOT_AT_START_UP = (
    "attrs",
    "email",
    "importlib.metadata",
    "logging",
    "lxml",
    "stevedore",
    "subprocess",
    "tempfile",
)


def test_list_imports_nothing_it_does_not_need(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import atexit, sys
        sys.argv = ["virtplug", "-c", "test:///default", "list", "--all"]
        atexit.register(lambda: sys.stderr.write("MODULES " + " ".join(sorted(sys.modules))))
        from virtplug.cli import main
        main()
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTPLUG_")}
    env["VIRTPLUG_CACHE_DIR"] = str(tmp_path)
    runs = []
    for _ in range(2):  # the first run writes the driver entry-point index
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
        )
        assert proc.returncode == 0, proc.stderr
        assert " test " in proc.stdout
        runs.append(set(proc.stderr.rsplit("MODULES ", 1)[1].split()))
    assert "importlib.metadata" in runs[0]  # cold: the index was built by a scan
    # What the interpreter imports before any virtplug code (site hooks, .pth files)
    # is the environment's, not virtplug's.
    baseline = subprocess.run(
        [sys.executable, "-c", "import sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.split()
    runs[1] -= set(baseline)
    loaded = sorted(
        m for m in runs[1] if m.split(".")[0] in _NOT_AT_START_UP or m in _NOT_AT_START_UP
    )
    assert loaded == [], f"imported at start-up: {loaded}"


def test_start_up_pauses_garbage_collection_until_the_connection_is_open() -> None:
    import gc

    from virtplug.cli import _app

    assert gc.isenabled()
    _app.pause_gc()
    try:
        assert not gc.isenabled()
        state = _app.State("test:///default", readonly=True, as_json=False, debug=False)
        state.conn()
        assert gc.isenabled()  # the command itself runs with collection on
        state.close()
    finally:
        _app.resume_gc()
        gc.unfreeze()
        gc.enable()
    _app.resume_gc()  # without a pause it changes nothing
    assert gc.isenabled()
