"""Output helpers: virsh-shaped tables and key/value blocks, JSON, sizes and states."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "STATE_NAMES",
    "emit",
    "keyvalue",
    "pretty_capacity",
    "reason_name",
    "state_name",
    "table",
    "yes_no",
]

#: virsh's words for ``virDomainState`` values.
STATE_NAMES = {
    0: "no state",
    1: "running",
    2: "idle",
    3: "paused",
    4: "in shutdown",
    5: "shut off",
    6: "crashed",
    7: "pmsuspended",
}


def state_name(state: int) -> str:
    """Return virsh's word for a domain state (``shut off``, ``running``, ...)."""
    return STATE_NAMES.get(int(state), "unknown")


def reason_name(state: int, reason: int) -> str:
    """Return virsh's word for a state reason (``booted``, ``destroyed``, ...)."""
    from virtplug import models

    enums: dict[int, Any] = {
        0: models.NoStateReason,
        1: models.RunningReason,
        3: models.PausedReason,
        4: models.ShutdownReason,
        5: models.ShutoffReason,
        6: models.CrashedReason,
    }
    enum_cls = enums.get(int(state))
    if enum_cls is None:
        return "unknown"
    try:
        return str(enum_cls(int(reason)).name).lower().replace("_", " ")
    except ValueError:
        return "unknown"


def yes_no(value: bool) -> str:
    """``yes`` or ``no``."""
    return "yes" if value else "no"


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def pretty_capacity(size: int) -> str:
    """A byte count as virsh prints it: ``100.00 GiB``, ``0.00 B``."""
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.2f} {_UNITS[unit]}"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A virsh table: a leading space, columns three spaces apart, a dashed rule."""
    body = [[str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return (" " + "   ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True))).rstrip()

    out = [line(headers), "-" * (sum(widths) + 3 * len(widths))]
    out.extend(line(row) for row in body)
    return "\n".join(out)


def keyvalue(pairs: Sequence[tuple[str, object]], width: int = 16) -> str:
    """Format virsh's ``Label:   value`` block with values in one column."""
    width = max(width, *(len(k) + 2 for k, _ in pairs)) if pairs else width
    return "\n".join(f"{k + ':':<{width}}{v}".rstrip() for k, v in pairs)


def emit(as_json: bool, data: object, text: str | None) -> None:
    """Print *data* as JSON, or *text* followed by virsh's blank line."""
    if as_json:
        import json  # only --json output needs it

        sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=_default) + "\n")
        return
    if text is None:
        return
    sys.stdout.write(text + ("\n" if text else "") + "\n")


def _default(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
