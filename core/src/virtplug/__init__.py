"""virtplug: libvirt's driver architecture for containers.

One typed API (connections, domains, networks, storage pools and volumes) and
one XML format over drivers that are separate distributions found through the
``virtplug.drivers`` entry-point group::

    import virtplug

    with virtplug.open("test:///default") as conn:
        dom = conn.define_domain(xml)
        dom.start()

Drivers write ``from virtplug import hookimpl, unsupported``.
"""

from __future__ import annotations

from virtplug._loader import DriverEntry, installed_drivers
from virtplug._manager import EVENTS_BY_OPERATION, Capability, CapabilityMap
from virtplug._markers import Unsupported, hookimpl, unsupported
from virtplug.api import (
    Connection,
    Domain,
    Network,
    Snapshot,
    StoragePool,
    StorageVolume,
    open,
    open_driver,
)
from virtplug.errors import ErrorCode, VirtError
from virtplug.events import Subscription
from virtplug.models import (
    Credentials,
    DomainEventType,
    DomainState,
    Event,
    EventKind,
    NetworkEventType,
    PoolEventType,
    PoolState,
)

__version__ = "0.1.0"

__all__ = [
    "EVENTS_BY_OPERATION",
    "Capability",
    "CapabilityMap",
    "Connection",
    "Credentials",
    "Domain",
    "DomainEventType",
    "DomainState",
    "DriverEntry",
    "ErrorCode",
    "Event",
    "EventKind",
    "Network",
    "NetworkEventType",
    "PoolEventType",
    "PoolState",
    "Snapshot",
    "StoragePool",
    "StorageVolume",
    "Subscription",
    "Unsupported",
    "VirtError",
    "__version__",
    "hookimpl",
    "installed_drivers",
    "open",
    "open_driver",
    "unsupported",
]
