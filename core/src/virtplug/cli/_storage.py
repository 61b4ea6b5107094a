"""Storage pool and volume commands (virsh's "pool-*" and "vol-*")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from virtplug.cli import _complete
from virtplug.cli._app import State, command, pass_state, read_input
from virtplug.cli._output import keyvalue, pretty_capacity, table, yes_no

if TYPE_CHECKING:
    from virtplug.api import StoragePool, StorageVolume

__all__: list[str] = []

_O = TypeVar("_O")

POOL = "Storage Pools"
VOL = "Storage Volumes"

_pool_arg = click.argument("pool", metavar="POOL", shell_complete=_complete.pools)
_pool_opt = click.option(
    "--pool",
    default=None,
    metavar="POOL",
    shell_complete=_complete.pools,
    help="The pool holding the volume (else VOL is taken as a key or path).",
)

_POOL_STATES = {0: "inactive", 1: "building", 2: "running", 3: "degraded", 4: "inaccessible"}


def _pool(state: State, ident: str) -> StoragePool:
    from virtplug.cli._app import _looks_like_uuid
    from virtplug.errors import NoStoragePoolError

    conn = state.conn()
    if _looks_like_uuid(ident):
        try:
            return conn.lookup_pool(uuid=ident)
        except NoStoragePoolError:
            pass
    return conn.lookup_pool(ident)


def _volume(state: State, ident: str, pool: str | None) -> StorageVolume:
    from virtplug.errors import InvalidArgError, NoStorageVolError

    if pool is not None:
        return _pool(state, pool).lookup_volume(ident)
    conn = state.conn()
    try:
        return conn.lookup_volume(ident)
    except (NoStorageVolError, InvalidArgError):
        pass
    try:
        return conn.lookup_volume(path=ident)
    except (NoStorageVolError, InvalidArgError) as exc:
        raise NoStorageVolError(
            f"failed to get vol '{ident}', specifying --pool might help"
        ) from exc


def _rows(make: Callable[[_O], dict[str, Any]], objects: Iterable[_O]) -> list[dict[str, Any]]:
    """One row per object, skipping objects removed since the listing (another client)."""
    from virtplug.errors import NoStoragePoolError, NoStorageVolError

    out = []
    for obj in objects:
        try:
            out.append(make(obj))
        except (NoStoragePoolError, NoStorageVolError):
            continue
    return out


def _done(state: State, name: str, result: str, text: str) -> None:
    state.emit({"pool": name, "result": result}, text)


def _pool_row(pool: StoragePool) -> dict[str, Any]:
    info = pool.info()
    return {
        "name": pool.name,
        "uuid": pool.uuid,
        "state": _POOL_STATES.get(int(info.state), "unknown"),
        "active": int(info.state) == 2,
        "persistent": info.persistent,
        "autostart": info.autostart,
        "capacity": info.capacity,
        "allocation": info.allocation,
        "available": info.available,
    }


# ---------------------------------------------------------------------------
# Pools
# ---------------------------------------------------------------------------


@command("pool-list", POOL, examples=["virtplug pool-list --all --details"])
@click.option("--all", "all_", is_flag=True, help="List active and inactive pools.")
@click.option("--inactive", is_flag=True, help="List inactive pools only.")
@click.option("--details", is_flag=True, help="Add persistence and sizes.")
@click.option("--name", "names_only", is_flag=True, help="Print only the names.")
@pass_state
def pool_list(state: State, all_: bool, inactive: bool, details: bool, names_only: bool) -> None:
    """List storage pools (active ones unless --all or --inactive)."""
    active: bool | None = None if all_ else (not inactive)
    rows = sorted(_rows(_pool_row, state.conn().list_pools(active=active)), key=lambda r: r["name"])
    if names_only:
        text = "\n".join(r["name"] for r in rows)
    elif details:
        text = table(
            ["Name", "State", "Autostart", "Persistent", "Capacity", "Allocation", "Available"],
            [
                [
                    r["name"],
                    r["state"],
                    yes_no(r["autostart"]),
                    yes_no(r["persistent"]),
                    pretty_capacity(r["capacity"]) if r["active"] else "-",
                    pretty_capacity(r["allocation"]) if r["active"] else "-",
                    pretty_capacity(r["available"]) if r["active"] else "-",
                ]
                for r in rows
            ],
        )
    else:
        text = table(
            ["Name", "State", "Autostart"],
            [
                [r["name"], "active" if r["active"] else "inactive", yes_no(r["autostart"])]
                for r in rows
            ],
        )
    state.emit(rows, text)


@command("pool-define", POOL)
@click.argument("file", metavar="FILE")
@pass_state
def pool_define(state: State, file: str) -> None:
    """Define a persistent, inactive pool from an XML FILE ("-": stdin)."""
    pool = state.conn().define_pool(read_input(file))
    _done(state, pool.name, "defined", f"Pool {pool.name} defined from {file}")


@command("pool-create", POOL)
@click.argument("file", metavar="FILE")
@pass_state
def pool_create(state: State, file: str) -> None:
    """Create and start a transient pool from an XML FILE."""
    pool = state.conn().create_pool(read_input(file))
    _done(state, pool.name, "created", f"Pool {pool.name} created from {file}")


@command("pool-build", POOL)
@_pool_arg
@pass_state
def pool_build(state: State, pool: str) -> None:
    """Create a pool's underlying storage, such as its directory."""
    obj = _pool(state, pool)
    obj.build()
    _done(state, obj.name, "built", f"Pool {obj.name} built")


@command("pool-start", POOL)
@_pool_arg
@pass_state
def pool_start(state: State, pool: str) -> None:
    """Start (activate) an inactive pool."""
    obj = _pool(state, pool)
    obj.start()
    _done(state, obj.name, "started", f"Pool {obj.name} started")


@command("pool-destroy", POOL)
@_pool_arg
@pass_state
def pool_destroy(state: State, pool: str) -> None:
    """Stop (deactivate) a pool; its data stays."""
    obj = _pool(state, pool)
    obj.stop()
    _done(state, obj.name, "destroyed", f"Pool {obj.name} destroyed")


@command("pool-delete", POOL)
@_pool_arg
@pass_state
def pool_delete(state: State, pool: str) -> None:
    """Delete an inactive pool's underlying storage."""
    obj = _pool(state, pool)
    obj.delete()
    _done(state, obj.name, "deleted", f"Pool {obj.name} deleted")


@command("pool-undefine", POOL)
@_pool_arg
@pass_state
def pool_undefine(state: State, pool: str) -> None:
    """Remove an inactive pool's definition."""
    obj = _pool(state, pool)
    obj.undefine()
    _done(state, obj.name, "undefined", f"Pool {obj.name} has been undefined")


@command("pool-refresh", POOL)
@_pool_arg
@pass_state
def pool_refresh(state: State, pool: str) -> None:
    """Rescan a pool's volumes and sizes."""
    obj = _pool(state, pool)
    obj.refresh()
    _done(state, obj.name, "refreshed", f"Pool {obj.name} refreshed")


@command("pool-info", POOL)
@_pool_arg
@pass_state
def pool_info(state: State, pool: str) -> None:
    """Print basic facts about a pool: state and sizes."""
    row = _pool_row(_pool(state, pool))
    pairs: list[tuple[str, object]] = [
        ("Name", row["name"]),
        ("UUID", row["uuid"]),
        ("State", row["state"]),
        ("Persistent", yes_no(row["persistent"])),
        ("Autostart", yes_no(row["autostart"])),
    ]
    if row["active"]:
        pairs += [
            ("Capacity", pretty_capacity(row["capacity"])),
            ("Allocation", pretty_capacity(row["allocation"])),
            ("Available", pretty_capacity(row["available"])),
        ]
    state.emit(row, keyvalue(pairs))


@command("pool-dumpxml", POOL)
@_pool_arg
@click.option("--inactive", is_flag=True, help="Show the persistent definition.")
@pass_state
def pool_dumpxml(state: State, pool: str, inactive: bool) -> None:
    """Print a pool's libvirt storage pool XML."""
    obj = _pool(state, pool)
    xml = obj.xml(inactive=inactive)
    state.emit({"pool": obj.name, "xml": xml}, xml.rstrip("\n"))


@command("pool-autostart", POOL)
@_pool_arg
@click.option("--disable", is_flag=True, help="Stop starting the pool with the backend.")
@pass_state
def pool_autostart(state: State, pool: str, disable: bool) -> None:
    """Mark a pool to start with its backend (or --disable)."""
    obj = _pool(state, pool)
    obj.autostart = not disable
    word = "unmarked" if disable else "marked"
    _done(
        state,
        obj.name,
        f"autostart {'disabled' if disable else 'enabled'}",
        f"Pool {obj.name} {word} as autostarted",
    )


# ---------------------------------------------------------------------------
# Volumes
# ---------------------------------------------------------------------------


def _vol_row(vol: StorageVolume) -> dict[str, Any]:
    info = vol.info()
    return {
        "pool": vol.pool,
        "name": vol.name,
        "key": vol.key,
        "path": vol.path,
        "type": info.type,
        "capacity": info.capacity,
        "allocation": info.allocation,
    }


@command("vol-list", VOL)
@_pool_arg
@click.option("--details", is_flag=True, help="Add type and sizes.")
@pass_state
def vol_list(state: State, pool: str, details: bool) -> None:
    """List the volumes of a pool."""
    rows = sorted(_rows(_vol_row, _pool(state, pool).list_volumes()), key=lambda r: r["name"])
    if details:
        text = table(
            ["Name", "Path", "Type", "Capacity", "Allocation"],
            [
                [
                    r["name"],
                    r["path"],
                    r["type"],
                    pretty_capacity(r["capacity"]),
                    pretty_capacity(r["allocation"]),
                ]
                for r in rows
            ],
        )
    else:
        text = table(["Name", "Path"], [[r["name"], r["path"]] for r in rows])
    state.emit(rows, text)


@command("vol-create", VOL, examples=["virtplug vol-create images vol.xml"])
@_pool_arg
@click.argument("file", metavar="FILE")
@pass_state
def vol_create(state: State, pool: str, file: str) -> None:
    """Create a volume in POOL from a <volume> XML FILE."""
    vol = _pool(state, pool).create_volume(read_input(file))
    state.emit(
        {"pool": vol.pool, "volume": vol.name, "result": "created"},
        f"Vol {vol.name} created from {file}",
    )


@command("vol-clone", VOL)
@click.argument("vol", metavar="VOL")
@click.argument("new_name", metavar="NEWNAME")
@_pool_opt
@pass_state
def vol_clone(state: State, vol: str, new_name: str, pool: str | None) -> None:
    """Copy a volume to a new volume NEWNAME in the same pool."""
    src = _volume(state, vol, pool)
    new = src.clone(new_name)
    state.emit(
        {"pool": new.pool, "volume": new.name, "source": src.name, "result": "cloned"},
        f"Vol {new.name} cloned from {src.name}",
    )


@command("vol-delete", VOL)
@click.argument("vol", metavar="VOL")
@_pool_opt
@pass_state
def vol_delete(state: State, vol: str, pool: str | None) -> None:
    """Delete a volume and its content (VOL: name with --pool, or key, or path)."""
    obj = _volume(state, vol, pool)
    obj.delete()
    state.emit(
        {"pool": obj.pool, "volume": obj.name, "result": "deleted"}, f"Vol {obj.name} deleted"
    )


@command(
    "vol-info",
    VOL,
    examples=[
        "virtplug vol-info data.img --pool images",
        "virtplug vol-info /var/lib/virtplug/images/data.img",
    ],
)
@click.argument("vol", metavar="VOL")
@_pool_opt
@pass_state
def vol_info(state: State, vol: str, pool: str | None) -> None:
    """Print a volume's type and sizes."""
    row = _vol_row(_volume(state, vol, pool))
    pairs: list[tuple[str, object]] = [
        ("Name", row["name"]),
        ("Type", row["type"]),
        ("Capacity", pretty_capacity(row["capacity"])),
        ("Allocation", pretty_capacity(row["allocation"])),
    ]
    state.emit(row, keyvalue(pairs))


@command("vol-dumpxml", VOL)
@click.argument("vol", metavar="VOL")
@_pool_opt
@pass_state
def vol_dumpxml(state: State, vol: str, pool: str | None) -> None:
    """Print a volume's libvirt <volume> XML."""
    obj = _volume(state, vol, pool)
    xml = obj.xml()
    state.emit({"pool": obj.pool, "volume": obj.name, "xml": xml}, xml.rstrip("\n"))


@command("vol-path", VOL)
@click.argument("vol", metavar="VOL")
@_pool_opt
@pass_state
def vol_path(state: State, vol: str, pool: str | None) -> None:
    """Print a volume's host path."""
    obj = _volume(state, vol, pool)
    path = obj.path
    state.emit({"pool": obj.pool, "volume": obj.name, "path": path}, path)
