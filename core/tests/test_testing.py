"""virtplug.testing: opening a driver class registered in-process."""

from __future__ import annotations

import pytest

import virtplug
from virtplug import hookimpl
from virtplug.errors import DriverNotFoundError, InvalidArgError
from virtplug.testing import registered_driver


class MiniDriver:
    """Just enough driver to open a connection."""

    @hookimpl
    def virtplug_connection_open(self, uri: object, auth: object, readonly: bool) -> dict[str, str]:
        """Open."""
        return {"uri": str(uri)}

    @hookimpl
    def virtplug_domain_define(self, conn: object, config: object) -> None:
        """Define (never called here)."""


def test_registered_driver_opens_and_lists() -> None:
    with registered_driver("mini-reg", MiniDriver, distribution="mini", version="9.9") as entry:
        assert entry.name == "mini-reg"
        assert any(e.name == "mini-reg" for e in virtplug.installed_drivers())
        with virtplug.open("mini-reg:///") as conn:
            assert conn.driver == "mini-reg"
            assert conn.driver_version == "9.9"
            assert conn.supports("domain.define")
    assert all(e.name != "mini-reg" for e in virtplug.installed_drivers())
    with pytest.raises(DriverNotFoundError):
        virtplug.open("mini-reg:///")


def test_register_driver_rejects_bad_names() -> None:
    with pytest.raises(InvalidArgError), registered_driver("Bad_Name", MiniDriver):
        pass
    with pytest.raises(InvalidArgError), registered_driver("x", object()):  # type: ignore[arg-type]
        pass
