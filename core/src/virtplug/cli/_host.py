"""Host, driver and shell commands: nodeinfo, version, capabilities, drivers, completion."""

from __future__ import annotations

import sys
from typing import Any

import click

from virtplug.cli import _complete
from virtplug.cli._app import EXIT_NOT_SUPPORTED, EXIT_OPERATION, State, command, pass_state, root
from virtplug.cli._output import keyvalue, table

__all__: list[str] = []

HOST = "Host and Hypervisor"
DRV = "Drivers and Capabilities"
SHELL = "Shell"


@command("nodeinfo", HOST)
@pass_state
def nodeinfo(state: State) -> None:
    """Print the host's CPU and memory facts."""
    info = state.conn().node_info()
    data = {
        "model": info.model,
        "cpus": info.cpus,
        "mhz": info.mhz,
        "sockets": info.sockets,
        "cores": info.cores,
        "threads": info.threads,
        "nodes": info.nodes,
        "memory_kib": info.memory_kib,
    }
    pairs: list[tuple[str, object]] = [
        ("CPU model", info.model),
        ("CPU(s)", info.cpus),
        ("CPU frequency", f"{info.mhz} MHz"),
        ("CPU socket(s)", info.sockets),
        ("Core(s) per socket", info.cores),
        ("Thread(s) per core", info.threads),
        ("NUMA cell(s)", info.nodes),
        ("Memory size", f"{info.memory_kib} KiB"),
    ]
    state.emit(data, keyvalue(pairs, width=21))


@command("hostname", HOST)
@pass_state
def hostname(state: State) -> None:
    """Print the backend host's name."""
    name = state.conn().hostname()
    state.emit({"hostname": name}, name)


@command("uri", HOST)
@pass_state
def uri(state: State) -> None:
    """Print the connection URI in use."""
    conn = state.conn()
    state.emit({"uri": conn.uri, "driver": conn.driver}, conn.uri)


@command("version", HOST)
@pass_state
def version(state: State) -> None:
    """Print the virtplug, driver and backend versions."""
    import virtplug

    conn = state.conn()
    kind = conn.type()
    data = {
        "virtplug": virtplug.__version__,
        "driver": conn.driver,
        "driver_version": conn.driver_version,
        "type": kind,
        "backend_version": conn.version(),
    }
    pairs: list[tuple[str, object]] = [
        ("Compiled against library", f"virtplug {virtplug.__version__}"),
        ("Using library", f"virtplug {virtplug.__version__}"),
        ("Using API", f"{kind} {conn.driver_version or 'unknown'}"),
        ("Running hypervisor", f"{kind} {data['backend_version']}"),
    ]
    state.emit(data, "\n".join(f"{k}: {v}" for k, v in pairs))


def _ops_table(state: State) -> None:
    conn = state.conn()
    caps = conn.capabilities()
    rows = [
        {"operation": op, "status": cap.status, "reason": cap.reason} for op, cap in caps.items()
    ]
    counts = {s: len(caps.with_status(s)) for s in ("implemented", "unsupported", "undeclared")}
    text = table(
        ["Operation", "Status", "Reason"],
        [[r["operation"], r["status"], r["reason"] or ""] for r in rows],
    )
    text += "\n\n" + ", ".join(f"{n} {s}" for s, n in counts.items())
    state.emit({"driver": conn.driver, "operations": rows, "counts": counts}, text)


@command("capabilities", HOST)
@click.option(
    "--driver",
    "driver_table",
    is_flag=True,
    help="Print the driver's operation table instead (same as 'ops').",
)
@pass_state
def capabilities(state: State, driver_table: bool) -> None:
    """Print the host capabilities XML (what the host and driver can run)."""
    if driver_table:
        _ops_table(state)
        return
    conn = state.conn()
    xml = conn.host_capabilities_xml()
    caps = conn.host_capabilities()
    data = {
        "arch": caps.arch,
        "domain_types": list(caps.domain_types),
        "os_types": list(caps.os_types),
        "features": list(caps.features),
        "xml": xml,
    }
    state.emit(data, xml.rstrip("\n"))


@command("ops", DRV, examples=["virtplug -c lxc:/// ops"])
@pass_state
def ops(state: State) -> None:
    """Print every operation with the connected driver's status and reason.

    Status is implemented, unsupported (declared, with a reason) or undeclared
    (a driver defect).
    """
    _ops_table(state)


@command(
    "supports",
    DRV,
    examples=['virtplug -c docker:/// supports domain.snapshot_revert || echo "not on Docker"'],
)
@click.argument("operation", metavar="OPERATION", shell_complete=_complete.operations)
@pass_state
def supports(state: State, operation: str) -> int:
    """Tell whether the connected driver implements OPERATION, such as domain.suspend.

    Prints "yes" and exits 0 when implemented; prints "no" with the reason
    and exits 3 when unsupported or undeclared (1 stays for errors).
    """
    conn = state.conn()
    supported = conn.supports(operation)
    cap = conn.capabilities()[operation]
    data = {
        "driver": conn.driver,
        "operation": operation,
        "supported": supported,
        "status": cap.status,
        "reason": cap.reason,
    }
    if supported:
        text = "yes"
    elif cap.status == "unsupported":
        text = f"no (unsupported: {cap.reason})"
    else:
        text = "no (undeclared: the driver neither implements nor declares it)"
    state.emit(data, text)
    return 0 if supported else EXIT_NOT_SUPPORTED


def driver_rows() -> tuple[list[dict[str, Any]], list[str]]:
    """Every installed driver with its operation counts, and load errors."""
    from virtplug._loader import installed_drivers, load_driver_class
    from virtplug._manager import build_capability_map
    from virtplug.errors import VirtError

    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for entry in installed_drivers():
        row: dict[str, Any] = {
            "name": entry.name,
            "distribution": entry.distribution,
            "version": entry.version,
            "target": entry.target,
            "implemented": None,
            "unsupported": None,
            "undeclared": None,
            "error": None,
        }
        try:
            cls, _entry = load_driver_class(entry.name)
            caps = build_capability_map(entry.name, cls)
        except VirtError as exc:
            row["error"] = exc.message
            errors.append(exc.message)
        else:
            for status in ("implemented", "unsupported", "undeclared"):
                row[status] = len(caps.with_status(status))
        rows.append(row)
    return rows, errors


@command("drivers", DRV, examples=["virtplug drivers", "virtplug --json drivers"])
@pass_state
def drivers(state: State) -> int:
    """List installed drivers: URI scheme, distribution, version, operation counts.

    Needs no connection. A driver that fails to load is listed with status
    "load failed", its error is printed, and the exit code is 1.
    """
    rows, errors = driver_rows()

    def cell(value: object) -> str:
        return "-" if value is None else str(value)

    text = table(
        ["Driver", "Distribution", "Version", "Implemented", "Unsupported", "Undeclared", "Status"],
        [
            [
                r["name"],
                cell(r["distribution"]),
                cell(r["version"]),
                cell(r["implemented"]),
                cell(r["unsupported"]),
                cell(r["undeclared"]),
                "load failed" if r["error"] else "ok",
            ]
            for r in rows
        ],
    )
    state.emit(rows, text)
    for message in errors:
        sys.stderr.write(f"error: {message}\n")
    return EXIT_OPERATION if errors else 0


@command("completion", SHELL, examples=['eval "$(virtplug completion bash)"'])
@click.argument("shell", type=click.Choice(["bash", "zsh"]))
def completion(shell: str) -> None:
    """Print the shell completion script for bash or zsh.

    Enable it with eval "$(virtplug completion bash)" in ~/.bashrc, or
    eval "$(virtplug completion zsh)" in ~/.zshrc. It completes commands,
    options, and domain, network and pool names from the connection given with
    -c (or VIRTPLUG_DEFAULT_URI).
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    if cls is None:  # pragma: no cover - click ships both
        raise click.UsageError(f"unsupported shell {shell!r}")
    comp = cls(root, {}, "virtplug", "_VIRTPLUG_COMPLETE")
    sys.stdout.write(comp.source())
    if not comp.source().endswith("\n"):
        sys.stdout.write("\n")


@command("help", SHELL)
@click.argument("command_name", required=False, metavar="[COMMAND]")
@click.pass_context
def help_(ctx: click.Context, command_name: str | None) -> None:
    """Show the help of virtplug or of one COMMAND (like virsh help)."""
    parent = ctx.parent
    assert parent is not None
    if command_name is None:
        click.echo(root.get_help(parent))
        return
    cmd = root.get_command(parent, command_name)
    if cmd is None:
        raise click.UsageError(f"unknown command: '{command_name}'", ctx=ctx)
    sub = click.Context(cmd, info_name=command_name, parent=parent)
    click.echo(cmd.get_help(sub))
