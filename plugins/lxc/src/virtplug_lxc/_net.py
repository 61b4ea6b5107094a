"""Linux bridges, veth pairs and NAT rules for the LXC driver (netlink via pyroute2).

Every failure surfaces as :class:`NetError` carrying the errno text; the driver
turns it into a virtplug error.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import shutil
import subprocess
from collections.abc import Iterator

from pyroute2 import IPRoute, NetNS
from pyroute2.netlink.exceptions import NetlinkError

__all__ = [
    "BRIDGE_PREFIX",
    "VETH_PREFIX",
    "NetError",
    "add_nat",
    "bridge_exists",
    "bridge_up",
    "create_bridge",
    "delete_link",
    "has_nat",
    "link_names",
    "make_veth",
    "name_for",
    "nat_owner",
    "remove_nat",
    "setup_guest_link",
]

#: Prefix of bridges the driver names itself.
BRIDGE_PREFIX = "vpbr"
#: Prefix of host-side veth ends the driver creates for live-attached NICs.
VETH_PREFIX = "vpv"


class NetError(Exception):
    """A netlink or firewall operation failed."""


@contextlib.contextmanager
def _ipr() -> Iterator[IPRoute]:
    ipr = IPRoute()
    try:
        yield ipr
    except NetlinkError as exc:
        raise NetError(f"netlink: {exc.args[1] if len(exc.args) > 1 else exc}") from exc
    finally:
        ipr.close()


def name_for(prefix: str, *parts: str) -> str:
    """A stable interface name (<= 15 chars) derived from *parts*."""
    digest = hashlib.sha1("\0".join(parts).encode()).hexdigest()
    return (prefix + digest)[:15]


def link_names() -> set[str]:
    """Names of every link in the host network namespace."""
    with _ipr() as ipr:
        return {str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()}


def bridge_exists(name: str) -> bool:
    """True when a link called *name* exists."""
    with _ipr() as ipr:
        return bool(ipr.link_lookup(ifname=name))


def bridge_up(name: str) -> bool:
    """True when the bridge exists and is administratively up."""
    with _ipr() as ipr:
        idx = ipr.link_lookup(ifname=name)
        if not idx:
            return False
        link = ipr.get_links(idx[0])[0]
        return bool(link["flags"] & 1)


def create_bridge(name: str, address: str | None, prefix: int | None, mtu: int | None) -> None:
    """Create bridge *name*, give it *address*/*prefix* and bring it up.

    :raises NetError: the bridge exists already or netlink refused.
    """
    with _ipr() as ipr:
        if ipr.link_lookup(ifname=name):
            raise NetError(f"interface '{name}' already exists on the host")
        ipr.link("add", ifname=name, kind="bridge")
        try:
            idx = ipr.link_lookup(ifname=name)[0]
            if mtu:
                ipr.link("set", index=idx, mtu=mtu)
            if address is not None and prefix is not None:
                ipr.addr("add", index=idx, address=address, prefixlen=prefix)
            ipr.link("set", index=idx, state="up")
        except NetlinkError:
            with contextlib.suppress(NetlinkError):
                ipr.link("del", ifname=name)
            raise


def delete_link(name: str) -> bool:
    """Delete link *name* when it exists; True when something was deleted."""
    with _ipr() as ipr:
        idx = ipr.link_lookup(ifname=name)
        if not idx:
            return False
        ipr.link("del", index=idx[0])
        return True


def make_veth(host: str, peer: str, bridge: str | None, mac: str | None) -> None:
    """Create a veth pair *host* / *peer*, the host end enslaved to *bridge* and up.

    :raises NetError: a name is taken, the bridge is missing, or netlink refused.
    """
    with _ipr() as ipr:
        br_idx = None
        if bridge is not None:
            found = ipr.link_lookup(ifname=bridge)
            if not found:
                raise NetError(f"bridge '{bridge}' does not exist")
            br_idx = found[0]
        peer_spec: dict[str, str] = {"ifname": peer}
        if mac:
            peer_spec["address"] = mac
        ipr.link("add", ifname=host, kind="veth", peer=peer_spec)
        try:
            idx = ipr.link_lookup(ifname=host)[0]
            if br_idx is not None:
                ipr.link("set", index=idx, master=br_idx)
            ipr.link("set", index=idx, state="up")
        except NetlinkError:
            with contextlib.suppress(NetlinkError):
                ipr.link("del", ifname=host)
            raise


def setup_guest_link(pid: int, name: str, ips: tuple[tuple[str, int], ...]) -> None:
    """Bring *name* up inside the network namespace of *pid* and add *ips*."""
    try:
        ns = NetNS(f"/proc/{pid}/ns/net")
    except (OSError, NetlinkError) as exc:
        raise NetError(f"cannot enter the network namespace of pid {pid}: {exc}") from exc
    try:
        idx = ns.link_lookup(ifname=name)
        if not idx:
            raise NetError(f"interface '{name}' is not in the container")
        for address, prefix in ips:
            ns.addr("add", index=idx[0], address=address, prefixlen=prefix)
        ns.link("set", index=idx[0], state="up")
    except NetlinkError as exc:
        raise NetError(
            f"netlink (in container): {exc.args[1] if len(exc.args) > 1 else exc}"
        ) from exc
    finally:
        ns.close()


def guest_links(pid: int) -> list[tuple[str, str]]:
    """(name, MAC) of every link inside the network namespace of *pid*."""
    try:
        ns = NetNS(f"/proc/{pid}/ns/net")
    except (OSError, NetlinkError) as exc:
        raise NetError(f"cannot enter the network namespace of pid {pid}: {exc}") from exc
    try:
        return [
            (str(link.get_attr("IFLA_IFNAME")), str(link.get_attr("IFLA_ADDRESS")))
            for link in ns.get_links()
        ]
    finally:
        ns.close()


def delete_guest_link(pid: int, name: str) -> None:
    """Delete link *name* inside the network namespace of *pid* (a veth takes its peer along)."""
    try:
        ns = NetNS(f"/proc/{pid}/ns/net")
    except (OSError, NetlinkError) as exc:
        raise NetError(f"cannot enter the network namespace of pid {pid}: {exc}") from exc
    try:
        idx = ns.link_lookup(ifname=name)
        if not idx:
            raise NetError(f"interface '{name}' is not in the container")
        ns.link("del", index=idx[0])
    except NetlinkError as exc:
        raise NetError(
            f"netlink (in container): {exc.args[1] if len(exc.args) > 1 else exc}"
        ) from exc
    finally:
        ns.close()


# -- NAT ----------------------------------------------------------------------


def nat_owner(lxcpath: str) -> str:
    """The short tag naming an lxcpath in NAT rule comments."""
    return hashlib.sha1(lxcpath.encode()).hexdigest()[:10]


def _nat_rule(network: str, subnet: str) -> list[str]:
    return [
        "POSTROUTING",
        "-s",
        subnet,
        "!",
        "-d",
        subnet,
        "-j",
        "MASQUERADE",
        "-m",
        "comment",
        "--comment",
        f"virtplug-lxc:{network}",
    ]


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("iptables")
    if exe is None:
        raise NetError("iptables is not installed: NAT forwarding needs it")
    return subprocess.run(
        [exe, "-w", "-t", "nat", *args], capture_output=True, text=True, check=False
    )


def subnet_of(address: str, prefix: int) -> str:
    """The network (``10.251.3.0/24``) containing *address*/*prefix*."""
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def has_nat(network: str, subnet: str) -> bool:
    """True when the MASQUERADE rule for *network* is installed."""
    return _iptables("-C", *_nat_rule(network, subnet)).returncode == 0


def add_nat(network: str, subnet: str) -> None:
    """Install a MASQUERADE rule for traffic leaving *subnet* and enable IPv4 forwarding."""
    if has_nat(network, subnet):
        return
    proc = _iptables("-A", *_nat_rule(network, subnet))
    if proc.returncode != 0:
        raise NetError(f"iptables refused the NAT rule: {proc.stderr.strip()}")
    try:
        with open("/proc/sys/net/ipv4/ip_forward", "r+", encoding="ascii") as fh:
            if fh.read().strip() != "1":
                fh.seek(0)
                fh.write("1\n")
    except OSError as exc:
        raise NetError(f"cannot enable IPv4 forwarding: {exc}") from exc


def remove_nat(network: str, subnet: str) -> None:
    """Remove the MASQUERADE rule for *network* (every copy of it)."""
    while has_nat(network, subnet):
        proc = _iptables("-D", *_nat_rule(network, subnet))
        if proc.returncode != 0:
            raise NetError(f"iptables could not remove the NAT rule: {proc.stderr.strip()}")
