"""libvirt's ``test:///default`` state, as virtplug models.

The names, UUIDs and sizes are those of libvirt's test driver default
configuration, with the domain in virtplug's container form (``type='test'``,
``<os><type>exe</type>``).
"""

from __future__ import annotations

from virtplug.models import (
    DHCPRange,
    DomainConfig,
    DomainState,
    FilesystemConfig,
    IPConfig,
    NetworkConfig,
    NodeDocument,
    NodeDomain,
    NodeInfo,
    NodeNetwork,
    NodePool,
    OSConfig,
    PoolConfig,
)

__all__ = ["DEFAULT_NODE", "GIB", "default_document"]

GIB = 1024**3

#: libvirt's test-driver node: i686, 3 GiB, 16 CPUs at 1400 MHz, 2 nodes x 2 sockets
#: x 2 cores x 2 threads.
DEFAULT_NODE = NodeInfo(
    model="i686",
    memory_kib=3 * 1024 * 1024,
    cpus=16,
    mhz=1400,
    nodes=2,
    sockets=2,
    cores=2,
    threads=2,
)


def default_document() -> NodeDocument:
    """Return a fresh copy of the ``test:///default`` state."""
    domain = DomainConfig(
        name="test",
        uuid="6695eb01-f6a4-8304-79aa-97f2502e193f",
        type="test",
        memory_kib=8 * 1024 * 1024,
        current_memory_kib=2 * 1024 * 1024,
        vcpus=2,
        os=OSConfig(type="exe", init="/sbin/init"),
        filesystems=(FilesystemConfig(type="template", source="busybox", target="/"),),
    )
    network = NetworkConfig(
        name="default",
        uuid="dd8fe884-6c02-601e-7551-cca97df1c5df",
        bridge="virbr0",
        forward="nat",
        ips=(
            IPConfig(
                address="192.168.122.1",
                prefix=24,
                dhcp=(DHCPRange(start="192.168.122.2", end="192.168.122.254"),),
            ),
        ),
    )
    pool = PoolConfig(
        name="default-pool",
        uuid="dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566",
        type="dir",
        target="/default-pool",
        capacity=100 * GIB,
        allocation=0,
        available=100 * GIB,
    )
    return NodeDocument(
        domains=(NodeDomain(config=domain, state=DomainState.RUNNING, persistent=True),),
        networks=(NodeNetwork(config=network, active=True, persistent=True),),
        pools=(NodePool(config=pool, active=True, persistent=True),),
        node=DEFAULT_NODE,
    )
