"""Dynamic shell completion of object names (domains, networks, pools, operations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from click.shell_completion import CompletionItem

    from virtplug.api import Connection

__all__ = ["domains", "networks", "operations", "pools"]


def _names(ctx: click.Context, lister: Callable[[Connection], list[str]]) -> list[str]:
    import virtplug

    params = ctx.find_root().params
    try:
        with virtplug.open(params.get("uri"), readonly=True) as conn:
            return lister(conn)
    except Exception:  # completion must never fail loudly
        return []


def _items(names: list[str], incomplete: str) -> list[CompletionItem]:
    # Imported here: every command module imports this one, completion is rare.
    from click.shell_completion import CompletionItem

    return [CompletionItem(n) for n in sorted(names) if n.startswith(incomplete)]


def domains(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Domain names on the connection the command line names."""
    return _items(_names(ctx, lambda c: [d.name for d in c.list_domains()]), incomplete)


def networks(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Network names."""
    return _items(_names(ctx, lambda c: [n.name for n in c.list_networks()]), incomplete)


def pools(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Storage pool names."""
    return _items(_names(ctx, lambda c: [p.name for p in c.list_pools()]), incomplete)


def operations(_ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[Any]:
    """Operation names from the hook contract (``domain.start``, ...)."""
    from virtplug.hookspecs import OPERATIONS

    return _items(list(OPERATIONS), incomplete)
