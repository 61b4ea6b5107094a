"""State-machine tables: (state, action) -> the new state or the exact error code.

Taken from DESIGN.md ("Semantics") and the hookspec docstrings. A cell whose
expectation is an :class:`~virtplug.ErrorCode` is a negative check (and the
rejected call must leave the object unchanged); any other cell is positive.
"""

from __future__ import annotations

from virtplug import ErrorCode
from virtplug.records import record

__all__ = ["DOMAIN_CELLS", "NETWORK_CELLS", "POOL_CELLS", "VOLUME_CELLS", "Cell"]

INV = ErrorCode.OPERATION_INVALID
FAILED = ErrorCode.OPERATION_FAILED


@record
class Cell:
    """One cell: from *state*, *action* (exercising *op*) gives *expect*."""

    kind: str
    state: str
    action: str
    op: str
    expect: str | ErrorCode

    @property
    def polarity(self) -> str:
        """``negative`` for an expected error, else ``positive``."""
        return "negative" if isinstance(self.expect, ErrorCode) else "positive"

    def __str__(self) -> str:
        want = self.expect.name if isinstance(self.expect, ErrorCode) else self.expect
        return f"{self.state}-{self.action}-{want}"


def _table(
    kind: str, rows: dict[str, dict[str, str | ErrorCode]], ops: dict[str, str]
) -> list[Cell]:
    return [
        Cell(kind, state, action, ops[action], expect)
        for state, row in rows.items()
        for action, expect in row.items()
    ]


_DOMAIN_OPS = {
    "start": "domain.start",
    "shutdown": "domain.shutdown",
    "destroy": "domain.destroy",
    "reboot": "domain.reboot",
    "suspend": "domain.suspend",
    "resume": "domain.resume",
    "undefine": "domain.undefine",
    "define": "domain.define",
    "define_same_uuid": "domain.define",
    "define_other_uuid": "domain.define",
    "create": "domain.create",
    "create_same_name": "domain.create",
    "set_autostart": "domain.set_autostart",
}

NO_DOMAIN = ErrorCode.NO_DOMAIN

DOMAIN_CELLS = _table(
    "domain",
    {
        "absent": {
            "start": NO_DOMAIN,
            "shutdown": NO_DOMAIN,
            "destroy": NO_DOMAIN,
            "reboot": NO_DOMAIN,
            "suspend": NO_DOMAIN,
            "resume": NO_DOMAIN,
            "undefine": NO_DOMAIN,
            "set_autostart": NO_DOMAIN,
            "define": "shutoff",
            "create": "transient",
        },
        "shutoff": {
            "start": "running",
            "shutdown": INV,
            "destroy": INV,
            "reboot": INV,
            "suspend": INV,
            "resume": INV,
            "undefine": "gone",
            "define_same_uuid": "shutoff",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "shutoff",
        },
        "running": {
            "start": INV,
            "shutdown": "shutoff",
            "destroy": "shutoff",
            "reboot": "running",
            "suspend": "paused",
            "resume": INV,
            "undefine": "transient",
            "define_same_uuid": "running",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "running",
        },
        "paused": {
            "start": INV,
            "shutdown": "shutoff",
            "destroy": "shutoff",
            "reboot": "running",
            "suspend": "paused",
            "resume": "running",
            "undefine": "transient-paused",
            "define_same_uuid": "paused",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "paused",
        },
        "transient": {
            "start": INV,
            "shutdown": "gone",
            "destroy": "gone",
            "reboot": "transient",
            "suspend": "transient-paused",
            "resume": INV,
            "undefine": INV,
            "define_same_uuid": "running",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": INV,
        },
        "transient-paused": {
            "start": INV,
            "shutdown": "gone",
            "destroy": "gone",
            "reboot": "transient",
            "suspend": "transient-paused",
            "resume": "transient",
            "undefine": INV,
            "define_same_uuid": "paused",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": INV,
        },
    },
    _DOMAIN_OPS,
)

_NET_OPS = {
    "start": "network.start",
    "stop": "network.stop",
    "undefine": "network.undefine",
    "define": "network.define",
    "define_same_uuid": "network.define",
    "define_other_uuid": "network.define",
    "create": "network.create",
    "create_same_name": "network.create",
    "set_autostart": "network.set_autostart",
}
NO_NETWORK = ErrorCode.NO_NETWORK

NETWORK_CELLS = _table(
    "network",
    {
        "absent": {
            "start": NO_NETWORK,
            "stop": NO_NETWORK,
            "undefine": NO_NETWORK,
            "set_autostart": NO_NETWORK,
            "define": "inactive",
            "create": "transient",
        },
        "inactive": {
            "start": "active",
            "stop": INV,
            "undefine": "gone",
            "define_same_uuid": "inactive",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "inactive",
        },
        "active": {
            "start": INV,
            "stop": "inactive",
            "undefine": "transient",
            "define_same_uuid": "active",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "active",
        },
        "transient": {
            "start": INV,
            "stop": "gone",
            "undefine": INV,
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": INV,
        },
    },
    _NET_OPS,
)

_POOL_OPS = {
    "build": "pool.build",
    "start": "pool.start",
    "stop": "pool.stop",
    "delete": "pool.delete",
    "undefine": "pool.undefine",
    "refresh": "pool.refresh",
    "define": "pool.define",
    "define_same_uuid": "pool.define",
    "define_other_uuid": "pool.define",
    "create": "pool.create",
    "create_same_name": "pool.create",
    "set_autostart": "pool.set_autostart",
}
NO_POOL = ErrorCode.NO_STORAGE_POOL

POOL_CELLS = _table(
    "pool",
    {
        "absent": {
            "build": NO_POOL,
            "start": NO_POOL,
            "stop": NO_POOL,
            "delete": NO_POOL,
            "undefine": NO_POOL,
            "refresh": NO_POOL,
            "set_autostart": NO_POOL,
            "define": "inactive",
            "create": "transient",
        },
        "inactive": {
            "build": "inactive",
            "start": "active",
            "stop": INV,
            "delete": "inactive",
            "undefine": "gone",
            "refresh": INV,
            "define_same_uuid": "inactive",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "inactive",
        },
        "active": {
            "build": INV,
            "start": INV,
            "stop": "inactive",
            "delete": INV,
            "undefine": INV,
            "refresh": "active",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": "active",
        },
        "transient": {
            "build": INV,
            "start": INV,
            "stop": "gone",
            "delete": INV,
            "undefine": INV,
            "refresh": "transient",
            "define_other_uuid": FAILED,
            "create_same_name": FAILED,
            "set_autostart": INV,
        },
    },
    _POOL_OPS,
)

_VOL_OPS = {
    "create": "volume.create",
    "create_same_name": "volume.create",
    "clone": "volume.clone",
    "clone_onto_existing": "volume.clone",
    "delete": "volume.delete",
}
NO_VOL = ErrorCode.NO_STORAGE_VOL

VOLUME_CELLS = _table(
    "volume",
    {
        "absent": {"create": "present", "clone": NO_VOL, "delete": NO_VOL},
        "present": {
            "create_same_name": ErrorCode.STORAGE_VOL_EXIST,
            "clone": "present",
            "clone_onto_existing": ErrorCode.STORAGE_VOL_EXIST,
            "delete": "gone",
        },
        "inactive-pool": {
            "create": INV,
        },
    },
    _VOL_OPS,
)
