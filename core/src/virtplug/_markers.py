"""The pluggy markers and the unsupported-operation declaration."""

from __future__ import annotations

import pluggy

from virtplug.records import record

__all__ = ["PROJECT", "Unsupported", "hookimpl", "hookspec", "unsupported"]

PROJECT = "virtplug"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@record
class Unsupported:
    """A driver's declaration that it does not support one operation.

    Assign it to the hook's name in the driver class::

        class DockerDriver:
            virtplug_domain_snapshot_revert = virtplug.unsupported(
                "Docker cannot restore a container's memory state"
            )

    :ivar reason: why the backend cannot do it, shown to users in errors,
        ``conn.capabilities()`` and the conformance certificate.
    """

    reason: str

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("virtplug.unsupported() needs a non-empty reason")


def unsupported(reason: str) -> Unsupported:
    """Declare the operation this attribute names as unsupported, for *reason*."""
    return Unsupported(reason)
