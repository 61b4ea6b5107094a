"""virtplug's reference test driver: an in-memory, strict mock hypervisor.

Installed as the ``test`` entry point of the ``virtplug.drivers`` group::

    import virtplug

    with virtplug.open("test:///default") as conn:
        conn.lookup_domain("test").destroy()

See ``docs/drivers/test.md`` for the URIs, the default state, the ``<node>``
state file and its persistence, and the simulated ``exec`` command set.
"""

from __future__ import annotations

from virtplug_test.driver import DOMAIN_TYPES, TestConnection, TestDriver

__version__ = "0.1.0"

__all__ = ["DOMAIN_TYPES", "TestConnection", "TestDriver", "__version__"]
