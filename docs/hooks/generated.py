"""Generated documentation: the CLI reference, the error table and the operation table.

These pages (or marked sections of them) are generated from the code, committed,
and checked: the docs build fails when a committed page is stale, and so does
``core/tests/test_cli_docs.py``.

- ``python docs/hooks/generated.py --write`` regenerates them;
- ``python docs/hooks/generated.py --check`` exits 1 when one is stale;
- as an mkdocs hook (``hooks:`` in mkdocs.yml), ``on_pre_build`` runs the check.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent.parent

BEGIN = "<!-- BEGIN GENERATED: {name} (docs/hooks/generated.py; do not edit) -->"
END = "<!-- END GENERATED: {name} -->"


def cli_reference() -> str:
    """The whole CLI reference page."""
    from virtplug.cli._reference import render

    return render()


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


def error_table() -> str:
    """One row per error code: value, name, exception class, meaning."""
    from virtplug import errors

    rows = ["| Code | `ErrorCode` | Exception | Meaning |", "|---:|---|---|---|"]
    for code in sorted(errors.ErrorCode, key=int):
        cls = errors.error_for_code(code)
        names = [f"`{cls.__name__}`"]
        names += [
            f"`{sub.__name__}`" for sub in cls.__subclasses__() if sub.__module__ == errors.__name__
        ]
        meaning = _first_line(cls).replace("|", "\\|")
        rows.append(f"| {int(code)} | `{code.name}` | {', '.join(names)} | {meaning} |")
    return "\n".join(rows)


def operation_table() -> str:
    """One row per hook: operation name, hook name, mutating, events it emits."""
    from virtplug import hookspecs
    from virtplug._manager import EVENTS_BY_OPERATION

    rows = [
        "| Operation | Hook | Mutating | Events (kind, type, detail) |",
        "|---|---|:-:|---|",
    ]
    for op in hookspecs.OPERATIONS:
        hook = hookspecs.hook_name(op)
        events = ", ".join(f"{k} {t} {d}" for k, t, d in EVENTS_BY_OPERATION.get(op, ()))
        mutating = "yes" if op in hookspecs.MUTATING else ""
        rows.append(f"| `{op}` | [`{hook}`](#virtplug.hookspecs.{hook}) | {mutating} | {events} |")
    return "\n".join(rows)


#: page -> (section name or None for the whole page, generator)
GENERATED: dict[str, tuple[str | None, Callable[[], str]]] = {
    "reference/cli.md": (None, cli_reference),
    "concepts/errors.md": ("errors", error_table),
    "reference/hooks.md": ("operations", operation_table),
}


def expected(page: str, current: str) -> str:
    """The content *page* should have, given its *current* text."""
    section, gen = GENERATED[page]
    if section is None:
        return gen()
    begin, end = BEGIN.format(name=section), END.format(name=section)
    head, sep, rest = current.partition(begin)
    if not sep:
        raise ValueError(f"docs/{page} lacks the marker {begin!r}")
    _old, sep2, tail = rest.partition(end)
    if not sep2:
        raise ValueError(f"docs/{page} lacks the marker {end!r}")
    return f"{head}{begin}\n{gen()}\n{end}{tail}"


def stale(docs: Path = DOCS) -> list[str]:
    """Pages whose committed content differs from what the code generates."""
    out = []
    for page in GENERATED:
        path = docs / page
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        try:
            want = expected(page, current)
        except ValueError:
            out.append(page)
            continue
        if current != want:
            out.append(page)
    return out


def write(docs: Path = DOCS) -> list[str]:
    """Regenerate every generated page; return those that changed."""
    changed = []
    for page in GENERATED:
        path = docs / page
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        want = expected(page, current)
        if want != current:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(want, encoding="utf-8")
            changed.append(page)
    return changed


class _KnownGriffeNoise(logging.Filter):
    """Drop griffe's warning about ``:raises: nothing: ...`` fields in hookspecs.py.

    Two hooks (connection.close, connection.is_alive) document that they never raise
    with ``:raises: nothing: ...``; griffe expects an exception name there. The text
    renders fine; only this exact warning is dropped, every other one still fails
    the strict build.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "exception directive from ':raises: nothing" not in record.getMessage()


def on_startup(**_kwargs: Any) -> None:
    """Mkdocs hook: install the narrow griffe warning filter."""
    for name in ("mkdocs.plugins.griffe", "griffe"):
        logging.getLogger(name).addFilter(_KnownGriffeNoise())


def on_pre_build(config: Any, **_kwargs: Any) -> None:
    """Mkdocs hook: fail the build when a generated page is stale."""
    from mkdocs.exceptions import PluginError

    bad = stale(Path(config["docs_dir"]))
    if bad:
        raise PluginError(
            "generated docs are stale: "
            + ", ".join(f"docs/{p}" for p in bad)
            + " (run: python docs/hooks/generated.py --write)"
        )


def main(argv: list[str]) -> int:
    """``--write`` regenerates; ``--check`` (default) reports stale pages."""
    if "--write" in argv:
        for page in write():
            print(f"wrote docs/{page}")
        return 0
    bad = stale()
    for page in bad:
        print(f"stale: docs/{page}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
