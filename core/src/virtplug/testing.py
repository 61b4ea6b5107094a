"""Testing aids: open a driver class without installing it.

Tests (the conformance suite's broken drivers, a third party's unit tests)
register a driver class under a URI scheme for the life of the process, then
open it with :func:`virtplug.open` exactly as an installed driver::

    from virtplug.testing import registered_driver

    with registered_driver("broken", BrokenDriver):
        with virtplug.open("broken:///default") as conn:
            ...

A registered driver appears in :func:`virtplug.installed_drivers` and shadows
an installed driver of the same name while registered.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from virtplug._loader import DriverEntry, register_driver, unregister_driver

__all__ = ["register_driver", "registered_driver", "unregister_driver"]


@contextmanager
def registered_driver(
    name: str,
    cls: type[Any],
    *,
    distribution: str | None = None,
    version: str | None = None,
) -> Iterator[DriverEntry]:
    """Register *cls* as the driver for scheme *name* for the ``with`` block."""
    entry = register_driver(name, cls, distribution=distribution, version=version)
    try:
        yield entry
    finally:
        unregister_driver(name)
