"""Shared fixtures for the core's unit tests: a minimal in-memory driver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

import virtplug
from virtplug import errors, hookimpl, unsupported
from virtplug.models import (
    DomainConfig,
    DomainInfo,
    DomainRef,
    DomainState,
    HostCapabilities,
)


class MiniDriver:
    """A tiny driver: a few domain hooks, one declared unsupported, the rest undeclared."""

    virtplug_domain_snapshot_create = unsupported("mini cannot snapshot")

    @hookimpl
    def virtplug_connection_open(self, uri: Any, auth: Any, readonly: bool) -> dict[str, Any]:
        """Open: the state is a dict of domains."""
        return {"domains": {}, "closed": False}

    @hookimpl
    def virtplug_connection_close(self, conn: dict[str, Any]) -> None:
        """Close."""
        conn["closed"] = True

    @hookimpl
    def virtplug_connection_capabilities(self, conn: dict[str, Any]) -> HostCapabilities:
        """Accept test domains only."""
        return HostCapabilities(arch="x86_64", domain_types=("test",))

    @hookimpl
    def virtplug_domain_define(self, conn: dict[str, Any], config: DomainConfig) -> DomainRef:
        """Define."""
        assert config.uuid is not None
        old = conn["domains"].get(config.name)
        if old is not None and old[0].uuid != config.uuid:
            raise errors.OperationFailedError(
                f"domain '{config.name}' already exists with uuid {old[0].uuid}"
            )
        state = old[1] if old else DomainState.SHUTOFF
        conn["domains"][config.name] = [config, state]
        return DomainRef(config.name, config.uuid)

    def _get(self, conn: dict[str, Any], name: str) -> list[Any]:
        try:
            return conn["domains"][name]  # type: ignore[no-any-return]
        except KeyError:
            raise errors.NoDomainError(f"no domain with matching name '{name}'") from None

    @hookimpl
    def virtplug_domain_lookup_by_name(self, conn: dict[str, Any], name: str) -> DomainRef:
        """Lookup."""
        cfg = self._get(conn, name)[0]
        return DomainRef(cfg.name, cfg.uuid)

    @hookimpl
    def virtplug_domain_list(
        self, conn: dict[str, Any], active: bool | None, persistent: bool | None
    ) -> Sequence[DomainRef]:
        """List."""
        return [DomainRef(c.name, c.uuid) for c, _ in conn["domains"].values()]

    @hookimpl
    def virtplug_domain_start(self, conn: dict[str, Any], name: str) -> None:
        """Start."""
        rec = self._get(conn, name)
        if rec[1] == DomainState.RUNNING:
            raise errors.OperationInvalidError("domain is already running")
        rec[1] = DomainState.RUNNING

    @hookimpl
    def virtplug_domain_suspend(self, conn: dict[str, Any], name: str) -> None:
        """Suspend (no-op when paused)."""
        rec = self._get(conn, name)
        if rec[1] == DomainState.SHUTOFF:
            raise errors.OperationInvalidError("domain is not running")
        rec[1] = DomainState.PAUSED

    @hookimpl
    def virtplug_domain_state(self, conn: dict[str, Any], name: str) -> tuple[DomainState, int]:
        """State."""
        return (self._get(conn, name)[1], 0)

    @hookimpl
    def virtplug_domain_info(self, conn: dict[str, Any], name: str) -> DomainInfo:
        """Info: deliberately buggy for a domain called 'boom'."""
        if name == "boom":
            raise KeyError("backend exploded")
        cfg, state = self._get(conn, name)
        return DomainInfo(state, cfg.memory_kib, cfg.effective_memory_kib, cfg.vcpus, 0)


MINI_XML = """<domain type='test'><name>{name}</name><memory>1024</memory>
<os><type>exe</type><init>/bin/sh</init></os></domain>"""


@pytest.fixture(params=["fast-path", "pluggy-chain"])
def mini(request: pytest.FixtureRequest) -> virtplug.Connection:
    """A connection to MiniDriver, once through the dispatcher's fast path and once
    through pluggy's full wrapper chain (as when middleware or tracing is loaded):
    both must behave identically."""
    conn = virtplug.open_driver(MiniDriver, "mini:///")
    assert conn._d._fast, "no fast path was built for a plain driver"
    if request.param == "pluggy-chain":
        conn._d._fast = {}
    yield conn
    conn.close()
