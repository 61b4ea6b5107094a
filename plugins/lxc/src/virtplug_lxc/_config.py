"""Translate a :class:`~virtplug.models.DomainConfig` into LXC configuration items."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path

import lxc

from virtplug.errors import ConfigUnsupportedError, OperationFailedError
from virtplug.models import DomainConfig, FilesystemConfig, InterfaceConfig
from virtplug_lxc._host import cgroup_layout
from virtplug_lxc._state import LOG_FILE, raw_set

__all__ = ["TEMPLATE_DIR", "apply_config", "base_items", "check_config", "mount_entry"]

TEMPLATE_DIR = Path("/usr/share/lxc/templates")

#: Items a rootfs that did not come from a template needs to boot (what the
#: busybox template writes, minus the template-specific binds).
_BASE_ITEMS = (
    ("lxc.autodev", "1"),
    ("lxc.tty.max", "1"),
    ("lxc.pty.max", "16"),
    ("lxc.cap.drop", "sys_module mac_admin mac_override sys_time"),
    ("lxc.mount.auto", "cgroup:mixed proc:mixed sys:ro"),
)

_CGROUP_KEYS = (
    "lxc.cgroup.memory.limit_in_bytes",
    "lxc.cgroup.cpu.cfs_quota_us",
    "lxc.cgroup.cpu.cfs_period_us",
    "lxc.cgroup2.memory.max",
    "lxc.cgroup2.cpu.max",
)

#: Resolves a volume (pool, name) to its host path.
VolumeResolver = Callable[[str, str], str]
#: Resolves a virtplug network name to its bridge.
NetworkResolver = Callable[[str], str]


def base_items() -> tuple[tuple[str, str], ...]:
    """LXC items written for a rootfs given as a directory (``filesystem type='mount'``)."""
    return _BASE_ITEMS


def check_config(config: DomainConfig) -> None:
    """Refuse what LXC cannot do, before anything touches the filesystem.

    :raises ConfigUnsupportedError: foreign domain type, non-exe OS, unknown
        root filesystem type, a missing template, a non-numeric init user.
    """
    if config.type != "lxc":
        raise ConfigUnsupportedError(
            f"domain type '{config.type}' is not supported by driver 'lxc' (it accepts: lxc)"
        )
    if config.os.type != "exe":
        raise ConfigUnsupportedError(
            f"os type '{config.os.type}' is not supported by LXC (containers run 'exe')"
        )
    host_arch = platform.machine()
    if config.os.arch and config.os.arch not in (
        host_arch,
        "amd64" if host_arch == "x86_64" else "",
    ):
        raise ConfigUnsupportedError(
            f"architecture '{config.os.arch}' is not supported: "
            f"LXC runs {host_arch} containers here"
        )
    roots = [fs for fs in config.filesystems if fs.is_root]
    if len(roots) > 1:
        raise ConfigUnsupportedError("only one <filesystem> may have target dir='/'")
    root = roots[0] if roots else None
    if root is None:
        raise ConfigUnsupportedError(
            "an LXC domain needs a root filesystem: <filesystem type='template'> with "
            "<source name='busybox'/> or <filesystem type='mount'> with <source dir=.../>, "
            "and <target dir='/'/>"
        )
    if root.type == "template":
        template_path(root.source)
    elif root.type in ("mount", "bind"):
        if not root.source.startswith("/"):
            raise ConfigUnsupportedError(
                f"root filesystem source dir '{root.source}' must be an absolute path"
            )
    elif root.type == "file":
        if not root.source.startswith("/"):
            raise ConfigUnsupportedError(
                f"root filesystem source file '{root.source}' must be an absolute path"
            )
    else:
        raise ConfigUnsupportedError(
            f"root filesystem type '{root.type}' is not supported by LXC "
            f"(use template, mount or file)"
        )
    for fs in config.filesystems:
        if fs.is_root:
            continue
        if not fs.target.startswith("/"):
            raise ConfigUnsupportedError(f"filesystem target '{fs.target}' must be absolute")
        if fs.type not in ("mount", "bind", "volume", "file"):
            raise ConfigUnsupportedError(
                f"filesystem type '{fs.type}' cannot be mounted into an LXC container "
                f"(use mount, bind, file or volume)"
            )
    for iface in config.interfaces:
        if iface.type not in ("network", "bridge", "ethernet"):
            raise ConfigUnsupportedError(
                f"interface type '{iface.type}' is not supported by LXC "
                f"(use network, bridge or ethernet)"
            )
        if iface.type in ("network", "bridge") and not iface.source:
            raise ConfigUnsupportedError(f"interface type '{iface.type}' needs a source")
    if config.os.inituser is not None and not config.os.inituser.isdigit():
        raise ConfigUnsupportedError(
            f"inituser '{config.os.inituser}' must be a numeric uid for LXC "
            f"(lxc.init.uid takes a number)"
        )


def template_path(name: str) -> Path:
    """The template script for *name*.

    :raises ConfigUnsupportedError: no such template installed.
    """
    if not name or "/" in name or name.startswith(".") or not name.replace("-", "").isalnum():
        raise ConfigUnsupportedError(f"invalid LXC template name '{name}'")
    path = TEMPLATE_DIR / f"lxc-{name}"
    if not path.is_file():
        raise ConfigUnsupportedError(
            f"LXC template '{name}' is not installed (no {path}); try 'busybox'"
        )
    return path


def mount_entry(fs: FilesystemConfig, resolve_volume: VolumeResolver) -> str:
    """The ``lxc.mount.entry`` line for a non-root filesystem."""
    if fs.type == "volume":
        if not fs.pool:
            raise ConfigUnsupportedError(
                f"filesystem type='volume' for '{fs.target}' needs a source pool"
            )
        source = resolve_volume(fs.pool, fs.source)
    else:
        source = fs.source
    kind = "file" if Path(source).is_file() else "dir"
    opts = f"bind,create={kind}" + (",ro" if fs.readonly else "")
    target = fs.target.lstrip("/")
    return f"{_escape(source)} {_escape(target)} none {opts} 0 0"


def _escape(path: str) -> str:
    return path.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011")


def init_argv(config: DomainConfig) -> tuple[str, ...] | None:
    """The init program and its arguments, or ``None`` for LXC's default (``/sbin/init``)."""
    if not config.os.init:
        return None
    return (config.os.init, *config.os.initargs)


def init_command(config: DomainConfig) -> str | None:
    """The ``lxc.init.cmd`` value, or ``None`` when it cannot be written faithfully.

    liblxc splits ``lxc.init.cmd`` on blanks and knows no quoting, so an argument
    holding whitespace cannot be expressed there; the driver then passes the
    exact argv to ``container.start(cmd=...)`` (it always does) and leaves the
    item unset (``lxc-start`` outside virtplug would run ``/sbin/init``).
    """
    argv = init_argv(config)
    if argv is None or any(not a or any(ch.isspace() for ch in a) for a in argv):
        return None
    return " ".join(argv)


def _set(c: lxc.Container, key: str, value: str) -> None:
    if not raw_set(c, key, value):
        raise OperationFailedError(f"liblxc refused the configuration item {key} = {value!r}")


def _clear(c: lxc.Container, key: str) -> None:
    try:
        if c.get_config_item(key):
            c.clear_config_item(key)
    except (KeyError, ValueError):
        return


def apply_config(
    c: lxc.Container,
    config: DomainConfig,
    old: DomainConfig | None,
    *,
    cdir: Path,
    autostart: bool,
    resolve_volume: VolumeResolver,
    resolve_network: NetworkResolver,
) -> None:
    """Write *config* into the container's LXC configuration (in memory; caller saves).

    Items virtplug owns are cleared and rewritten; anything a template wrote is
    kept, except the mount entries an older definition (*old*) generated.
    """
    _set(c, "lxc.uts.name", config.name)
    _set(c, "lxc.log.file", str(cdir / LOG_FILE))
    _set(c, "lxc.log.level", "WARN")
    root = config.root
    if root is not None and root.type in ("mount", "bind", "file"):
        # liblxc autodetects a directory; an image file needs the loop backend.
        _set(c, "lxc.rootfs.path", f"loop:{root.source}" if root.type == "file" else root.source)
        _set(c, "lxc.rootfs.managed", "0")
    # init, environment, cwd, uid
    _clear(c, "lxc.init.cmd")
    cmd = init_command(config)
    if cmd is not None:
        _set(c, "lxc.init.cmd", cmd)
    _clear(c, "lxc.environment")
    for key, value in config.os.initenv:
        _set(c, "lxc.environment", f"{key}={value}")
    _clear(c, "lxc.init.cwd")
    if config.os.initdir:
        _set(c, "lxc.init.cwd", config.os.initdir)
    _clear(c, "lxc.init.uid")
    if config.os.inituser is not None:
        _set(c, "lxc.init.uid", config.os.inituser)
    # cgroup limits
    for key in _CGROUP_KEYS:
        _clear(c, key)
    layout = cgroup_layout()
    for key, value in layout.memory_limit_items(config.effective_memory_kib):
        _set(c, key, value)
    for key, value in layout.cpu_limit_items(config.vcpus):
        _set(c, key, value)
    # network
    write_network(c, config.interfaces, resolve_network)
    # mounts
    old_entries = set()
    if old is not None:
        for fs in old.filesystems:
            if not fs.is_root:
                try:
                    old_entries.add(mount_entry(fs, resolve_volume))
                except Exception:  # a vanished volume: its entry is matched by source below
                    continue
    current = c.get_config_item("lxc.mount.entry") or []
    if isinstance(current, str):
        current = [current]
    kept = [e for e in current if e not in old_entries]
    new = [mount_entry(fs, resolve_volume) for fs in config.filesystems if not fs.is_root]
    _clear(c, "lxc.mount.entry")
    for entry in [*kept, *[e for e in new if e not in kept]]:
        _set(c, "lxc.mount.entry", entry)
    _set(c, "lxc.start.auto", "1" if autostart else "0")


def write_network(
    c: lxc.Container,
    interfaces: tuple[InterfaceConfig, ...],
    resolve_network: NetworkResolver,
) -> None:
    """Rewrite ``lxc.net.*``: one veth per interface (named eth0, eth1, ...), or none."""
    c.clear_config_item("lxc.net")
    if not interfaces:
        _set(c, "lxc.net.0.type", "empty")
        return
    for i, iface in enumerate(interfaces):
        p = f"lxc.net.{i}"
        _set(c, f"{p}.type", "veth")
        if iface.type == "network":
            _set(c, f"{p}.link", resolve_network(str(iface.source)))
        elif iface.type == "bridge":
            _set(c, f"{p}.link", str(iface.source))
        _set(c, f"{p}.flags", "up")
        _set(c, f"{p}.name", f"eth{i}")
        if iface.mac:
            _set(c, f"{p}.hwaddr", iface.mac)
        if iface.target:
            _set(c, f"{p}.veth.pair", iface.target)
        for address, prefix in iface.ips:
            family = "ipv6" if ":" in address else "ipv4"
            _set(c, f"{p}.{family}.address", f"{address}/{prefix}")
