"""The root command group, the per-invocation state and the error policy.

Exit codes: 0 success, 1 an operation failed (a :class:`~virtplug.errors.VirtError`
or an unreadable file), 2 a usage error (unknown command or option, bad
argument value), 130 interrupted. ``exec`` exits with the command's own code and
``supports`` with 3 when the operation is not implemented.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from virtplug.api import Connection, Domain

__all__ = [
    "EXIT_NOT_SUPPORTED",
    "EXIT_OPERATION",
    "EXIT_USAGE",
    "SECTIONS",
    "State",
    "command",
    "pass_state",
    "root",
    "run",
]

EXIT_OPERATION = 1
EXIT_USAGE = 2
EXIT_NOT_SUPPORTED = 3
EXIT_INTERRUPTED = 130

#: Help sections, in the order ``virtplug --help`` shows them.
SECTIONS = (
    "Domain Management",
    "Domain Monitoring",
    "Snapshots",
    "Networking",
    "Storage Pools",
    "Storage Volumes",
    "Host and Hypervisor",
    "Drivers and Capabilities",
    "Shell",
)

_F = TypeVar("_F", bound=Callable[..., Any])


_gc_paused = False


def pause_gc() -> None:
    """Pause cyclic garbage collection for start-up (see :func:`virtplug.cli.main`)."""
    global _gc_paused
    import gc

    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Freeze what start-up allocated and resume collection, if :func:`pause_gc` paused it."""
    global _gc_paused
    if _gc_paused:
        import gc

        _gc_paused = False
        gc.freeze()
        gc.enable()


class State:
    """What one invocation knows: the global options and a lazily opened connection."""

    def __init__(self, uri: str | None, readonly: bool, as_json: bool, debug: bool) -> None:
        self.uri = uri
        self.readonly = readonly
        self.json = as_json
        self.debug = debug
        self._conn: Connection | None = None

    def conn(self) -> Connection:
        """The connection, opened on first use."""
        if self._conn is None:
            import virtplug

            self._conn = virtplug.open(self.uri, readonly=self.readonly)
            resume_gc()  # start-up is over: the command's own garbage is collected
        return self._conn

    def close(self) -> None:
        """Close the connection if one was opened."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def domain(self, ident: str) -> Domain:
        """Find a domain by id, UUID or name (virsh's order)."""
        from virtplug.errors import NoDomainError

        conn = self.conn()
        if ident.isdigit() and int(ident) > 0:
            try:
                return conn.lookup_domain(id=int(ident))
            except NoDomainError:
                pass
        if _looks_like_uuid(ident):
            try:
                return conn.lookup_domain(uuid=ident)
            except NoDomainError:
                pass
        return conn.lookup_domain(ident)

    def emit(self, data: object, text: str | None) -> None:
        """Print *data* as JSON with ``--json``, else *text* (virsh shape)."""
        from virtplug.cli._output import emit

        emit(self.json, data, text)


def _looks_like_uuid(text: str) -> bool:
    hexdigits = text.replace("-", "")
    return len(hexdigits) == 32 and all(c in "0123456789abcdefABCDEF" for c in hexdigits)


pass_state = click.make_pass_decorator(State)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        state = ctx.find_object(State)
        if state is not None:
            state.json = True


#: Which module defines each command, in help order. A command's module is
#: imported only when that command runs (or help lists everything), which keeps
#: start-up fast; a meta-test checks this table against the registrations.
COMMAND_MODULES: dict[str, str] = {
    **dict.fromkeys(
        [
            "list", "domid", "domuuid", "domname", "define", "create", "undefine", "start",
            "shutdown", "destroy", "reboot", "suspend", "resume", "dumpxml", "edit",
            "autostart", "setmem", "setvcpus", "attach-device", "detach-device", "exec",
            "dominfo", "domstate", "domstats", "events", "snapshot-create", "snapshot-list",
            "snapshot-dumpxml", "snapshot-revert", "snapshot-delete",
        ],
        "_domain",
    ),
    **dict.fromkeys(
        [
            "net-list", "net-define", "net-create", "net-start", "net-destroy",
            "net-undefine", "net-dumpxml", "net-info", "net-autostart",
        ],
        "_network",
    ),
    **dict.fromkeys(
        [
            "pool-list", "pool-define", "pool-create", "pool-build", "pool-start",
            "pool-destroy", "pool-delete", "pool-undefine", "pool-refresh", "pool-info",
            "pool-dumpxml", "pool-autostart", "vol-list", "vol-create", "vol-clone",
            "vol-delete", "vol-info", "vol-dumpxml", "vol-path",
        ],
        "_storage",
    ),
    **dict.fromkeys(
        [
            "nodeinfo", "hostname", "uri", "version", "capabilities", "ops", "supports",
            "drivers", "completion", "help",
        ],
        "_host",
    ),
}  # fmt: skip


class _Group(click.Group):
    """A group that loads command modules lazily and lists commands by section."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is not None and cmd_name not in self.commands:
            importlib.import_module(f"virtplug.cli.{module}")
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as exc:  # suggest from every command
            raise click.exceptions.NoSuchCommand(
                exc.command_name, possibilities=list(COMMAND_MODULES), ctx=ctx
            ) from None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _load_commands()
        by_section: dict[str, list[tuple[str, str]]] = {s: [] for s in SECTIONS}
        for name in COMMAND_MODULES:
            cmd = self.commands[name]
            if cmd.hidden:
                continue
            section = getattr(cmd, "section", "Shell")
            by_section.setdefault(section, []).append((name, cmd.get_short_help_str(90)))
        for section, rows in by_section.items():
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)


CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _version_text() -> str:
    import virtplug

    return f"virtplug {virtplug.__version__}"


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(_version_text())
        ctx.exit(0)


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS)
@click.option(
    "-c",
    "--connect",
    "uri",
    metavar="URI",
    envvar="VIRTPLUG_DEFAULT_URI",
    show_envvar=True,
    help="Connection URI, e.g. test:///default, docker:///, lxc:///.",
)
@click.option("-r", "--readonly", is_flag=True, help="Open a read-only connection.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
@click.option(
    "--debug",
    is_flag=True,
    envvar="VIRTPLUG_DEBUG",
    help="Show Python tracebacks for errors (env VIRTPLUG_DEBUG=1).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Print the virtplug version and exit.",
)
@click.pass_context
def root(ctx: click.Context, uri: str | None, readonly: bool, as_json: bool, debug: bool) -> None:
    """Manage containers through virtplug drivers, the way virsh manages libvirt.

    Every command takes --help. The connection URI comes from -c/--connect or
    VIRTPLUG_DEFAULT_URI. Exit codes: 0 success, 1 the operation failed,
    2 usage error.
    """
    state = State(uri, readonly, as_json, debug)
    ctx.obj = state
    ctx.call_on_close(state.close)


def command(
    name: str, section: str, *, examples: Sequence[str] = (), **kwargs: Any
) -> Callable[[_F], click.Command]:
    """Register a command under *section*; every command also accepts ``--json``.

    *examples* are command lines shown under "Examples" in ``--help`` and in the
    CLI reference.
    """
    if section not in SECTIONS:
        raise ValueError(f"unknown help section {section!r}")
    if examples:
        kwargs["epilog"] = "\b\nExamples:\n" + "\n".join(f"  {e}" for e in examples)

    def decorate(func: _F) -> click.Command:
        cmd = root.command(name, **kwargs)(func)
        cmd.examples = tuple(examples)  # type: ignore[attr-defined]
        cmd.params.append(
            click.Option(
                ["--json", "as_json_local"],
                is_flag=True,
                expose_value=False,
                callback=_set_json,
                help="Print machine-readable JSON on stdout.",
            )
        )
        cmd.section = section  # type: ignore[attr-defined]
        return cmd

    return decorate


def read_input(path: str) -> str:
    """The text of *path* (``-`` for stdin); an unreadable file is an operation error."""
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError as exc:
        raise click.FileError(path, hint=exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise click.FileError(path, hint=f"not UTF-8 text ({exc.reason})") from exc


def _debug_requested(args: Sequence[str]) -> bool:
    head = list(args[: list(args).index("--")] if "--" in args else args)
    if "--debug" in head:
        return True
    return os.environ.get("VIRTPLUG_DEBUG", "").strip().lower() not in ("", "0", "no", "false")


def _error(message: str) -> None:
    for i, line in enumerate(message.rstrip().splitlines() or [""]):
        sys.stderr.write(("error: " if i == 0 else "       ") + line + "\n")
    sys.stderr.flush()


def _load_commands() -> None:
    for module in dict.fromkeys(COMMAND_MODULES.values()):
        importlib.import_module(f"virtplug.cli.{module}")


def iter_commands() -> Iterator[tuple[str, click.Command]]:
    """Every registered command, in help order (used by docs and meta-tests)."""
    _load_commands()
    for name in COMMAND_MODULES:
        yield name, root.commands[name]


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI on *argv* (default ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        result = root.main(args=args, prog_name="virtplug", standalone_mode=False)
    except click.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `virtplug`: the help
            sys.stdout.write(exc.format_message() + "\n")
            return EXIT_USAGE
        _error(exc.format_message())
        cmd = exc.ctx.command_path if exc.ctx is not None else "virtplug"
        sys.stderr.write(f"Try '{cmd} --help' for help.\n")
        return EXIT_USAGE
    except click.ClickException as exc:
        _error(exc.format_message())
        return exc.exit_code if exc.exit_code != EXIT_USAGE else EXIT_OPERATION
    except (click.Abort, KeyboardInterrupt):
        sys.stderr.write("\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_OPERATION
    except Exception as exc:
        from virtplug.errors import VirtError

        if debug:
            import traceback

            traceback.print_exc()
        if isinstance(exc, VirtError):
            _error(exc.message)
        else:
            _error(f"internal error: {type(exc).__name__}: {exc}")
            if not debug:
                sys.stderr.write("(run with --debug for the traceback)\n")
        return EXIT_OPERATION
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    return 0


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
