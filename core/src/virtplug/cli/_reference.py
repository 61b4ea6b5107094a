"""The CLI reference page (Markdown), generated from the command definitions.

``python -m virtplug.cli._reference`` prints it; ``docs/reference/cli.md`` is this
output, and the docs build and a test check that the committed page is current.
"""

from __future__ import annotations

import inspect
import sys

import click

from virtplug.cli._app import SECTIONS, iter_commands, root

__all__ = ["command_help", "render"]

_HEADER = """\
# CLI reference

<!-- Generated from the command definitions by `python -m virtplug.cli._reference`;
     do not edit by hand (the docs build and core/tests/test_cli_docs.py check it). -->

`virtplug` speaks virsh: the same command names, arguments and output shapes, over any
installed virtplug driver. Every command accepts `--help` and `--json`.

```text
virtplug [GLOBAL OPTIONS] COMMAND [ARGS]...
```

## Exit codes

| Code | Meaning |
|---|---|
| 0 | success |
| 1 | the operation failed (`error: <message>` on stderr; a virtplug error, an unreadable file) |
| 2 | usage error: unknown command or option, missing or invalid argument |
| 3 | `supports`: the operation is not implemented by the driver |
| 130 | interrupted (Ctrl-C) |
| *n* | `exec`: the exit code of the command run inside the domain |

No Python traceback is printed unless `--debug` is given (or `VIRTPLUG_DEBUG=1`).

## Environment

| Variable | Meaning |
|---|---|
| `VIRTPLUG_DEFAULT_URI` | connection URI when `-c` is not given |
| `VIRTPLUG_DEBUG` | `1`: show tracebacks, like `--debug` |
| `VISUAL`, `EDITOR` | the editor `edit` runs (default `vi`) |
| `VIRTPLUG_TRACE` | `1`: log every driver hook call on stderr |
| `VIRTPLUG_DRIVERS` | comma-separated list limiting which drivers may load |
| `VIRTPLUG_CACHE_DIR` | where the driver entry-point index is kept |
| `VIRTPLUG_ENTRY_POINT_INDEX` | `0`: scan installed distributions on every run |
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


_COMMON = {"as_json_local"}


def _param_rows(
    cmd: click.Command, ctx: click.Context, common: bool = False
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for param in cmd.get_params(ctx):
        if isinstance(param, click.Argument):
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        is_help = bool(set(getattr(param, "opts", ())) & set(ctx.help_option_names))
        if not common and (is_help or param.name in _COMMON):
            continue
        names, help_text = record
        rows.append((names, help_text))
    return rows


def _arguments(cmd: click.Command) -> list[str]:
    return [
        p.make_metavar(click.Context(cmd)) if hasattr(p, "make_metavar") else str(p.name)
        for p in cmd.params
        if isinstance(p, click.Argument)
    ]


def _root_context() -> click.Context:
    return click.Context(root, info_name="virtplug", **root.context_settings)


def command_help(name: str, cmd: click.Command) -> str:
    """The Markdown section for one command."""
    ctx = click.Context(cmd, info_name=name, parent=_root_context())
    doc = inspect.cleandoc(cmd.help or "")
    paragraphs = [p for p in doc.split("\n\n") if p.strip()]
    body: list[str] = []
    for para in paragraphs:
        lines = para.splitlines()
        if lines and lines[0].strip() == "\b":
            body.append("```text\n" + "\n".join(line.strip() for line in lines[1:]) + "\n```")
        else:
            body.append(" ".join(line.strip() for line in lines))
    usage = " ".join(["virtplug", name, *cmd.collect_usage_pieces(ctx)])
    out = [f"### `{name}`", "", *(p + "\n" for p in body), "```text", usage, "```", ""]
    examples = getattr(cmd, "examples", ())
    if examples:
        out += ["Examples:", "", "```sh", *examples, "```", ""]
    rows = _param_rows(cmd, ctx)
    if rows:
        out += ["| Option | Description |", "|---|---|"]
        out += [f"| `{names}` | {_escape(help_text)} |" for names, help_text in rows]
        out.append("")
    return "\n".join(out)


def render() -> str:
    """The whole CLI reference page."""
    ctx = _root_context()
    parts = [_HEADER, "## Global options", "", "| Option | Description |", "|---|---|"]
    for names, help_text in _param_rows(root, ctx, common=True):
        parts.append(f"| `{names}` | {_escape(help_text)} |")
    parts.append("")
    commands = list(iter_commands())
    for section in SECTIONS:
        members = [(n, c) for n, c in commands if getattr(c, "section", None) == section]
        if not members:
            continue
        parts += [f"## {section}", ""]
        for name, cmd in members:
            parts.append(command_help(name, cmd))
    return "\n".join(parts).rstrip("\n") + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
