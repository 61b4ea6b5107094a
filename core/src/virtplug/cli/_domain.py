"""Domain commands: lifecycle, configuration, monitoring, snapshots, exec and events."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from virtplug.cli import _complete
from virtplug.cli._app import State, command, pass_state, read_input
from virtplug.cli._output import (
    keyvalue,
    reason_name,
    state_name,
    table,
)
from virtplug.cli._progress import wait_with_progress

if TYPE_CHECKING:
    from virtplug.api import Domain

__all__: list[str] = []

_T = TypeVar("_T")

MGMT = "Domain Management"
MON = "Domain Monitoring"
SNAP = "Snapshots"

_domain_arg = click.argument("domain", metavar="DOMAIN", shell_complete=_complete.domains)


def _slow(state: State, label: str, func: Callable[[], _T]) -> _T:
    """Run *func*; on a terminal, show progress if it takes a while (image pulls)."""
    return wait_with_progress(label, func, enabled=not state.json)


def _done(state: State, dom_name: str, result: str, text: str, **extra: Any) -> None:
    state.emit({"domain": dom_name, "result": result, **extra}, text)


# ---------------------------------------------------------------------------
# Listing and identity
# ---------------------------------------------------------------------------


@command(
    "list",
    MGMT,
    examples=["virtplug -c test:///default list --all", "virtplug list --inactive --name"],
)
@click.option("--all", "all_", is_flag=True, help="List active and inactive domains.")
@click.option("--inactive", is_flag=True, help="List inactive domains only.")
@click.option("--persistent", is_flag=True, help="List persistent domains only.")
@click.option("--transient", is_flag=True, help="List transient domains only.")
@click.option("--name", "names_only", is_flag=True, help="Print only the names, one per line.")
@click.option("--uuid", "uuids_only", is_flag=True, help="Print only the UUIDs, one per line.")
@pass_state
def list_(
    state: State,
    all_: bool,
    inactive: bool,
    persistent: bool,
    transient: bool,
    names_only: bool,
    uuids_only: bool,
) -> None:
    """List domains (running ones unless --all or --inactive).

    Running domains come first, ordered by id, then inactive ones by name.
    """
    if persistent and transient:
        raise click.UsageError("--persistent and --transient are mutually exclusive")
    active: bool | None = None if all_ else (not inactive)
    pers: bool | None = True if persistent else (False if transient else None)
    from virtplug.errors import NoDomainError

    rows = []
    for dom in state.conn().list_domains(active=active, persistent=pers):
        try:
            row = {"id": dom.id, "name": dom.name, "uuid": dom.uuid, "state": state_name(dom.state)}
        except NoDomainError:  # removed since the listing (another client): skip it
            continue
        rows.append(row)
    rows.sort(key=lambda r: (r["id"] is None, r["id"] or 0, r["name"]))
    if names_only or uuids_only:
        key = "name" if names_only else "uuid"
        text = "\n".join(str(r[key]) for r in rows)
    else:
        text = table(
            ["Id", "Name", "State"],
            [["-" if r["id"] is None else r["id"], r["name"], r["state"]] for r in rows],
        )
    state.emit(rows, text)


@command("domid", MGMT)
@_domain_arg
@pass_state
def domid(state: State, domain: str) -> None:
    """Print a domain's id ("-" when it is not running)."""
    dom = state.domain(domain)
    dom_id = dom.id
    state.emit({"domain": dom.name, "id": dom_id}, "-" if dom_id is None else str(dom_id))


@command("domuuid", MGMT)
@_domain_arg
@pass_state
def domuuid(state: State, domain: str) -> None:
    """Print a domain's UUID."""
    dom = state.domain(domain)
    state.emit({"domain": dom.name, "uuid": dom.uuid}, dom.uuid)


@command("domname", MGMT)
@_domain_arg
@pass_state
def domname(state: State, domain: str) -> None:
    """Print a domain's name (given its id or UUID)."""
    dom = state.domain(domain)
    state.emit({"domain": dom.name, "uuid": dom.uuid}, dom.name)


# ---------------------------------------------------------------------------
# Define, create, undefine
# ---------------------------------------------------------------------------


@command(
    "define",
    MGMT,
    examples=["virtplug define web.xml", "sed s/web/web2/ web.xml | virtplug define -"],
)
@click.argument("file", metavar="FILE")
@pass_state
def define(state: State, file: str) -> None:
    """Define (or update) a persistent domain from an XML FILE ("-": stdin)."""
    xml = read_input(file)
    conn = state.conn()
    dom = _slow(
        state, "Defining the domain (the driver may pull an image)", lambda: conn.define_domain(xml)
    )
    _done(state, dom.name, "defined", f"Domain '{dom.name}' defined from {file}", uuid=dom.uuid)


@command("create", MGMT, examples=["virtplug create job.xml"])
@click.argument("file", metavar="FILE")
@pass_state
def create(state: State, file: str) -> None:
    """Create and start a transient domain from an XML FILE ("-": stdin).

    A transient domain disappears when it stops.
    """
    xml = read_input(file)
    conn = state.conn()
    dom = _slow(
        state, "Creating the domain (the driver may pull an image)", lambda: conn.create_domain(xml)
    )
    _done(state, dom.name, "created", f"Domain '{dom.name}' created from {file}", uuid=dom.uuid)


@command("undefine", MGMT)
@_domain_arg
@pass_state
def undefine(state: State, domain: str) -> None:
    """Remove a domain's persistent definition.

    A running domain keeps running as a transient domain.
    """
    dom = state.domain(domain)
    dom.undefine()
    _done(state, dom.name, "undefined", f"Domain '{dom.name}' has been undefined")


# ---------------------------------------------------------------------------
# Lifecycle
# ---------------------------------------------------------------------------


@command("start", MGMT, examples=["virtplug start web"])
@_domain_arg
@pass_state
def start(state: State, domain: str) -> None:
    """Start (boot) an inactive persistent domain."""
    dom = state.domain(domain)
    _slow(state, f"Starting domain '{dom.name}'", dom.start)
    _done(state, dom.name, "started", f"Domain '{dom.name}' started")


@command("shutdown", MGMT, examples=["virtplug shutdown web --timeout 30"])
@_domain_arg
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Seconds to wait for a graceful stop before killing (driver default if omitted).",
)
@pass_state
def shutdown(state: State, domain: str, timeout: float | None) -> None:
    """Gracefully shut a domain down (SIGTERM to init, then kill after the timeout).

    Waits until the domain is off; on a terminal, progress is shown on stderr.
    """
    dom = state.domain(domain)
    wait_with_progress(
        f"Waiting for domain '{dom.name}' to shut down",
        lambda: dom.shutdown(timeout=timeout),
        limit=timeout,
        enabled=not state.json,
    )
    _done(state, dom.name, "shutdown", f"Domain '{dom.name}' is being shutdown")


@command("destroy", MGMT)
@_domain_arg
@pass_state
def destroy(state: State, domain: str) -> None:
    """Stop a domain immediately (a transient domain disappears)."""
    dom = state.domain(domain)
    dom.destroy()
    _done(state, dom.name, "destroyed", f"Domain '{dom.name}' destroyed")


@command("reboot", MGMT)
@_domain_arg
@pass_state
def reboot(state: State, domain: str) -> None:
    """Restart a running domain's init."""
    dom = state.domain(domain)
    dom.reboot()
    _done(state, dom.name, "rebooted", f"Domain '{dom.name}' is being rebooted")


@command("suspend", MGMT)
@_domain_arg
@pass_state
def suspend(state: State, domain: str) -> None:
    """Pause (freeze) every process of a running domain."""
    dom = state.domain(domain)
    dom.suspend()
    _done(state, dom.name, "suspended", f"Domain '{dom.name}' suspended")


@command("resume", MGMT)
@_domain_arg
@pass_state
def resume(state: State, domain: str) -> None:
    """Resume (thaw) a paused domain."""
    dom = state.domain(domain)
    dom.resume()
    _done(state, dom.name, "resumed", f"Domain '{dom.name}' resumed")


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


@command(
    "dumpxml", MGMT, examples=["virtplug dumpxml web > web.xml", "virtplug dumpxml web --inactive"]
)
@_domain_arg
@click.option("--inactive", is_flag=True, help="Show the persistent definition, not the live one.")
@pass_state
def dumpxml(state: State, domain: str, inactive: bool) -> None:
    """Print a domain's libvirt domain XML."""
    dom = state.domain(domain)
    xml = dom.xml(inactive=inactive)
    state.emit({"domain": dom.name, "xml": xml}, xml.rstrip("\n"))


def _editor() -> list[str]:
    import shlex  # the imports of rarely used commands stay out of start-up

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    return shlex.split(editor)


@command("edit", MGMT, examples=["EDITOR=nano virtplug edit web"])
@_domain_arg
@pass_state
def edit(state: State, domain: str) -> None:
    """Edit a domain's persistent XML in $VISUAL / $EDITOR, then redefine it.

    When the edited XML is rejected (malformed, unsupported, name clash) the
    error is reported, the domain is left unchanged and the exit code is 1.
    """
    import subprocess
    import tempfile

    dom = state.domain(domain)
    original = dom.xml(inactive=True)
    fd, path = tempfile.mkstemp(prefix=f"virtplug-{dom.name}-", suffix=".xml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(original)
        argv = [*_editor(), path]
        try:
            rc = subprocess.call(argv)
        except OSError as exc:
            raise click.ClickException(f"cannot run editor {argv[0]!r}: {exc}") from exc
        if rc != 0:
            raise click.ClickException(
                f"editor {argv[0]!r} exited with status {rc}; domain '{dom.name}' not changed"
            )
        edited = read_input(path)
    finally:
        os.unlink(path)
    if edited == original:
        _done(state, dom.name, "unchanged", f"Domain '{dom.name}' XML configuration not changed.")
        return
    from virtplug.errors import VirtError

    try:
        new = state.conn().define_domain(edited)
    except VirtError as exc:
        raise click.ClickException(
            f"{exc.message}\nDomain '{dom.name}' XML configuration not changed."
        ) from exc
    _done(state, new.name, "edited", f"Domain '{new.name}' XML configuration edited.")


@command("autostart", MGMT)
@_domain_arg
@click.option("--disable", is_flag=True, help="Stop starting the domain with the backend.")
@pass_state
def autostart(state: State, domain: str, disable: bool) -> None:
    """Mark a domain to start automatically with its backend (or --disable)."""
    dom = state.domain(domain)
    dom.autostart = not disable
    word = "unmarked" if disable else "marked"
    _done(
        state,
        dom.name,
        f"autostart {'disabled' if disable else 'enabled'}",
        f"Domain '{dom.name}' {word} as autostarted",
        autostart=not disable,
    )


_SCALE = {
    "": 1,
    "b": 1 / 1024,
    "k": 1,
    "kb": 1000 / 1024,
    "kib": 1,
    "m": 1024,
    "mb": 1000**2 / 1024,
    "mib": 1024,
    "g": 1024**2,
    "gb": 1000**3 / 1024,
    "gib": 1024**2,
    "t": 1024**3,
    "tib": 1024**3,
}


def parse_kib(text: str) -> int:
    """A memory size in KiB from "1048576", "512M", "2GiB" (no suffix: KiB)."""
    raw = text.strip().lower()
    digits = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(digits) :].strip()
    if unit not in _SCALE or not digits.strip().isdigit():
        raise click.BadParameter(f"{text!r} is not a size (e.g. 1048576, 512M, 2GiB)")
    kib = int(int(digits) * _SCALE[unit])
    if kib <= 0:
        raise click.BadParameter(f"{text!r} must be at least 1 KiB")
    return kib


@command("setmem", MGMT, examples=["virtplug setmem web 512M", "virtplug setmem web 1048576"])
@_domain_arg
@click.argument("size", metavar="SIZE")
@pass_state
def setmem(state: State, domain: str, size: str) -> None:
    """Set a domain's current memory: SIZE in KiB, or with a unit (512M, 2GiB).

    Applies live when the domain runs, and to its definition.
    """
    kib = parse_kib(size)
    dom = state.domain(domain)
    dom.set_memory(kib)
    state.emit({"domain": dom.name, "result": "memory set", "memory_kib": kib}, "")


@command("setvcpus", MGMT)
@_domain_arg
@click.argument("count", metavar="COUNT", type=click.IntRange(min=1))
@pass_state
def setvcpus(state: State, domain: str, count: int) -> None:
    """Set a domain's number of vCPUs (a CPU limit for containers)."""
    dom = state.domain(domain)
    dom.set_vcpus(count)
    state.emit({"domain": dom.name, "result": "vcpus set", "vcpus": count}, "")


@command("attach-device", MGMT, examples=["virtplug attach-device web nic.xml"])
@_domain_arg
@click.argument("file", metavar="FILE")
@pass_state
def attach_device(state: State, domain: str, file: str) -> None:
    """Attach an <interface> or <filesystem> device described in FILE."""
    dom = state.domain(domain)
    dom.attach_device(read_input(file))
    _done(state, dom.name, "attached", "Device attached successfully")


@command("detach-device", MGMT)
@_domain_arg
@click.argument("file", metavar="FILE")
@pass_state
def detach_device(state: State, domain: str, file: str) -> None:
    """Detach the device described in FILE."""
    dom = state.domain(domain)
    dom.detach_device(read_input(file))
    _done(state, dom.name, "detached", "Device detached successfully")


@command("exec", MGMT, context_settings={"ignore_unknown_options": False})
@_domain_arg
@click.argument("argv", nargs=-1, required=True, metavar="-- COMMAND [ARG]...")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Give up after this many seconds.")  # fmt: skip
@pass_state
def exec_(state: State, domain: str, argv: tuple[str, ...], timeout: float | None) -> int:
    """Run a command inside a running domain; exit with the command's exit code.

    The command's stdout and stderr are passed through. Put "--" before the
    command so its options are not taken as virtplug's:
    "virtplug exec web -- ls -l /".
    """
    dom = state.domain(domain)
    result = dom.exec(list(argv), timeout=timeout)
    if state.json:
        state.emit(
            {
                "domain": dom.name,
                "argv": list(argv),
                "exit_code": result.exit_code,
                "stdout": result.stdout.decode("utf-8", "replace"),
                "stderr": result.stderr.decode("utf-8", "replace"),
            },
            None,
        )
    else:
        sys.stdout.buffer.write(result.stdout)
        sys.stdout.flush()
        sys.stderr.buffer.write(result.stderr)
        sys.stderr.flush()
    return int(result.exit_code)


# ---------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------


def _info_data(dom: Domain) -> dict[str, Any]:
    info = dom.info()
    return {
        "id": dom.id,
        "name": dom.name,
        "uuid": dom.uuid,
        "os_type": dom.config.os.type,
        "state": state_name(info.state),
        "state_code": int(info.state),
        "state_reason": info.state_reason,
        "vcpus": info.vcpus,
        "cpu_time_ns": info.cpu_time_ns,
        "max_memory_kib": info.max_memory_kib,
        "memory_kib": info.memory_kib,
        "persistent": info.persistent,
        "autostart": dom.autostart,
    }


@command("dominfo", MON, examples=["virtplug dominfo web", "virtplug --json dominfo web"])
@_domain_arg
@pass_state
def dominfo(state: State, domain: str) -> None:
    """Print basic facts about a domain (id, UUID, state, CPUs, memory, ...)."""
    data = _info_data(state.domain(domain))
    pairs: list[tuple[str, object]] = [
        ("Id", "-" if data["id"] is None else data["id"]),
        ("Name", data["name"]),
        ("UUID", data["uuid"]),
        ("OS Type", data["os_type"]),
        ("State", data["state"]),
        ("CPU(s)", data["vcpus"]),
    ]
    if data["cpu_time_ns"]:
        pairs.append(("CPU time", f"{data['cpu_time_ns'] / 1e9:.1f}s"))
    pairs += [
        ("Max memory", f"{data['max_memory_kib']} KiB"),
        ("Used memory", f"{data['memory_kib']} KiB"),
        ("Persistent", "yes" if data["persistent"] else "no"),
        ("Autostart", "enable" if data["autostart"] else "disable"),
    ]
    state.emit(data, keyvalue(pairs))


@command("domstate", MON, examples=["virtplug domstate web --reason"])
@_domain_arg
@click.option("--reason", is_flag=True, help="Also print why the domain is in that state.")
@pass_state
def domstate(state: State, domain: str, reason: bool) -> None:
    """Print a domain's state (running, paused, shut off, ...)."""
    dom = state.domain(domain)
    info = dom.info()
    st, why = info.state, info.state_reason
    text = state_name(st) + (f" ({reason_name(st, why)})" if reason else "")
    state.emit(
        {
            "domain": dom.name,
            "state": state_name(st),
            "state_code": int(st),
            "reason": reason_name(st, why),
            "reason_code": int(why),
        },
        text,
    )


@command("domstats", MON)
@click.argument("domains", nargs=-1, metavar="[DOMAIN]...", shell_complete=_complete.domains)
@pass_state
def domstats(state: State, domains: tuple[str, ...]) -> None:
    """Print resource statistics of the given domains (default: every running one)."""
    conn = state.conn()
    doms = [state.domain(d) for d in domains] if domains else conn.list_domains(active=True)
    out: list[dict[str, Any]] = []
    blocks: list[str] = []
    for dom in sorted(doms, key=lambda d: d.name) if not domains else doms:
        info = dom.info()
        st, why = info.state, info.state_reason
        stats = dom.stats()
        fields: dict[str, Any] = {
            "state.state": int(st),
            "state.reason": int(why),
            "cpu.time": stats.cpu_time_ns,
            "memory.used": stats.memory_used_kib,
        }
        if stats.memory_limit_kib is not None:
            fields["memory.limit"] = stats.memory_limit_kib
        if stats.pids is not None:
            fields["pids.count"] = stats.pids
        for key, value in stats.extra:
            fields[key] = value
        out.append({"domain": dom.name, "stats": fields})
        blocks.append(
            "\n".join([f"Domain: '{dom.name}'", *(f"  {k}={_num(v)}" for k, v in fields.items())])
        )
    state.emit(out, "\n\n".join(blocks))


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@command(
    "events",
    MON,
    examples=[
        "virtplug -c docker:/// events --kind domain",
        "virtplug events --domain web --count 1 --timeout 60",
    ],
)
@click.option("--domain", "names", multiple=True, metavar="NAME",
              help="Only events about this object (repeatable).")  # fmt: skip
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["domain", "network", "pool"]),
    help="Only events about this kind of object (repeatable).",
)
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop after this many seconds (default: until Ctrl-C).")  # fmt: skip
@click.option("--count", type=click.IntRange(min=1), default=None, metavar="N",
              help="Stop after N events.")  # fmt: skip
@pass_state
def events(
    state: State,
    names: tuple[str, ...],
    kinds: tuple[str, ...],
    timeout: float | None,
    count: int | None,
) -> None:
    """Print lifecycle events as they happen, until Ctrl-C, --timeout or --count.

    Shows events the driver observes in its backend (and, for drivers without
    a watcher, nothing until this connection changes something). One line per
    event, like "virsh event --loop"; with --json one JSON object per line.
    Ctrl-C ends the watch normally (exit 0).
    """
    import json

    conn = state.conn()
    deadline = None if timeout is None else time.monotonic() + timeout
    seen = 0
    try:
        with conn.events(kinds=kinds or None, names=names or None) as sub:
            sys.stderr.flush()
            while count is None or seen < count:
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    break
                event = sub.get(timeout=min(wait, 0.5) if wait is not None else 0.5)
                if event is None:
                    continue
                seen += 1
                if state.json:
                    line = json.dumps(
                        {
                            "kind": event.kind.value,
                            "name": event.name,
                            "uuid": event.uuid,
                            "type": event.type_name,
                            "detail": event.detail,
                            "source": event.source,
                            "timestamp": event.timestamp,
                        }
                    )
                else:
                    subject = f"{event.kind.value} '{event.name}'"
                    line = f"event 'lifecycle' for {subject}: {event.type_name.capitalize()}"
                    line += f" ({event.source})"
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
    except KeyboardInterrupt:  # Ctrl-C is how a watch normally ends
        sys.stderr.write("\n")
    if not state.json:
        sys.stdout.write(f"events received: {seen}\n")


# ---------------------------------------------------------------------------
# Snapshots
# ---------------------------------------------------------------------------


@command("snapshot-create", SNAP, examples=["virtplug snapshot-create web --name before-upgrade"])
@_domain_arg
@click.option("--name", default=None, help="Snapshot name (default: the driver picks one).")
@click.option("--description", default=None, help="Free-text description.")
@click.option("--xmlfile", default=None, metavar="FILE", help="A <domainsnapshot> XML file.")
@pass_state
def snapshot_create(
    state: State, domain: str, name: str | None, description: str | None, xmlfile: str | None
) -> None:
    """Take a snapshot of a domain's configuration and state."""
    from virtplug.models import SnapshotConfig

    dom = state.domain(domain)
    if xmlfile is not None and (name or description):
        raise click.UsageError("--xmlfile cannot be combined with --name or --description")
    spec: str | SnapshotConfig
    spec = (
        read_input(xmlfile)
        if xmlfile is not None
        else SnapshotConfig(name=name, description=description)
    )
    snap = dom.create_snapshot(spec)
    state.emit(
        {"domain": dom.name, "snapshot": snap.name, "result": "created"},
        f"Domain snapshot {snap.name} created",
    )


@command("snapshot-list", SNAP)
@_domain_arg
@pass_state
def snapshot_list(state: State, domain: str) -> None:
    """List a domain's snapshots, oldest first."""
    dom = state.domain(domain)
    rows: list[dict[str, Any]] = []
    for snap in dom.list_snapshots():
        info = snap.info
        rows.append(
            {
                "name": info.name,
                "creation_time": info.creation_time,
                "state": state_name(info.state),
                "description": info.description,
            }
        )
    text = table(
        ["Name", "Creation Time", "State"],
        [
            [
                r["name"],
                time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(float(r["creation_time"]))),
                r["state"],
            ]
            for r in rows
        ],
    )
    state.emit(rows, text)


@command("snapshot-dumpxml", SNAP)
@_domain_arg
@click.argument("snapshot", metavar="SNAPSHOT")
@pass_state
def snapshot_dumpxml(state: State, domain: str, snapshot: str) -> None:
    """Print a snapshot's <domainsnapshot> XML."""
    snap = state.domain(domain).lookup_snapshot(snapshot)
    xml = snap.xml()
    state.emit({"domain": snap.domain.name, "snapshot": snap.name, "xml": xml}, xml.rstrip("\n"))


@command("snapshot-revert", SNAP)
@_domain_arg
@click.argument("snapshot", metavar="SNAPSHOT")
@pass_state
def snapshot_revert(state: State, domain: str, snapshot: str) -> None:
    """Return a domain to a snapshot's configuration and state."""
    snap = state.domain(domain).lookup_snapshot(snapshot)
    snap.revert()
    state.emit(
        {"domain": snap.domain.name, "snapshot": snap.name, "result": "reverted"},
        f"Domain snapshot {snap.name} reverted",
    )


@command("snapshot-delete", SNAP)
@_domain_arg
@click.argument("snapshot", metavar="SNAPSHOT")
@pass_state
def snapshot_delete(state: State, domain: str, snapshot: str) -> None:
    """Delete a snapshot."""
    snap = state.domain(domain).lookup_snapshot(snapshot)
    snap.delete()
    state.emit(
        {"domain": snap.domain.name, "snapshot": snap.name, "result": "deleted"},
        f"Domain snapshot {snap.name} deleted",
    )
