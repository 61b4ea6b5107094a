"""Meta-tests: the test driver implements every hookspec, with docs, and nothing else."""

from __future__ import annotations

import inspect

import virtplug
from virtplug import hookspecs
from virtplug._markers import PROJECT, Unsupported
from virtplug_test import TestDriver


def test_every_hookspec_is_implemented(conn: virtplug.Connection) -> None:
    caps = conn.capabilities()
    assert set(caps) == set(hookspecs.OPERATIONS)
    not_implemented = {op: cap.status for op, cap in caps.items() if cap.status != "implemented"}
    assert not_implemented == {}, "the reference driver must implement every hook"
    assert len(caps.with_status("implemented")) == len(hookspecs.OPERATIONS)
    for op in hookspecs.OPERATIONS:
        assert conn.supports(op), op


def test_no_unsupported_markers_and_no_stray_hooks() -> None:
    known = set(hookspecs.__all__)
    for attr in dir(TestDriver):
        value = getattr(TestDriver, attr)
        assert not isinstance(value, Unsupported), f"{attr} is declared unsupported"
        if attr.startswith("virtplug_"):
            assert attr in known, f"{attr} is not a hookspec"


def test_hookimpls_are_documented_and_fit_their_specs() -> None:
    for op in hookspecs.OPERATIONS:
        name = hookspecs.hook_name(op)
        impl = getattr(TestDriver, name)
        assert getattr(impl, PROJECT + "_impl", None) is not None, f"{name} lacks @hookimpl"
        assert inspect.getdoc(impl), f"{name} has no docstring"
        spec_params = list(inspect.signature(getattr(hookspecs, name)).parameters)
        impl_params = list(inspect.signature(impl).parameters)[1:]  # drop self
        assert impl_params == spec_params, f"{name}: {impl_params} != {spec_params}"


def test_driver_is_registered_under_its_scheme() -> None:
    entries = {entry.name: entry for entry in virtplug.installed_drivers()}
    assert entries["test"].target == "virtplug_test:TestDriver"
    assert entries["test"].distribution == "virtplug-test"


def _dummy(param: str) -> object:
    return {
        "active": None,
        "persistent": None,
        "inactive": False,
        "autostart": True,
        "timeout": None,
        "argv": ("true",),
        "id": 1,
        "kib": 1024,
        "count": 1,
        "emit": lambda event: None,
    }.get(param, "x")


def test_every_hook_refuses_a_closed_connection() -> None:
    from virtplug.errors import InvalidConnectionError
    from virtplug.uri import parse_uri

    driver = TestDriver()
    handle = driver.virtplug_connection_open(parse_uri("test:///default"), None, False)
    driver.virtplug_connection_close(handle)
    checked = 0
    for op in hookspecs.OPERATIONS:
        if op in ("connection.open", "connection.close", "connection.is_alive"):
            continue
        name = hookspecs.hook_name(op)
        params = list(inspect.signature(getattr(hookspecs, name)).parameters)[1:]
        kwargs = {p: _dummy(p) for p in params}
        try:
            getattr(driver, name)(handle, **kwargs)
        except InvalidConnectionError:
            checked += 1
        else:  # pragma: no cover - the failure message names the hook
            raise AssertionError(f"{name} accepted a closed connection")
    assert checked == len(hookspecs.OPERATIONS) - 3
