"""The per-connection manager: capability map, markers, and the core's wrappers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from conftest import MiniDriver

import virtplug
from virtplug import errors, hookimpl, hookspecs, unsupported
from virtplug.errors import ErrorCode
from virtplug.models import DomainConfig, DomainState


def _cfg(name: str = "web", **kw: Any) -> DomainConfig:
    kw.setdefault("type", "test")
    return DomainConfig(name=name, **kw)


def test_capability_map_classifies_every_operation(mini: virtplug.Connection) -> None:
    caps = mini.capabilities()
    assert set(caps) == set(hookspecs.OPERATIONS) and len(caps) == 76
    assert caps["domain.start"].status == "implemented" and caps["domain.start"].supported
    snap = caps["domain.snapshot_create"]
    assert (snap.status, snap.reason) == ("unsupported", "mini cannot snapshot")
    assert caps["network.define"].status == "undeclared"
    assert "domain.start" in caps.with_status("implemented")
    assert caps.to_dict()["domain.snapshot_create"] == {
        "status": "unsupported",
        "reason": "mini cannot snapshot",
    }
    assert "implemented" in repr(caps)


def test_supports(mini: virtplug.Connection) -> None:
    assert mini.supports("domain.start")
    assert not mini.supports("domain.snapshot_create")
    assert not mini.supports("network.start")
    with pytest.raises(errors.InvalidArgError):
        mini.supports("domain.fly")


def test_unsupported_call_names_driver_operation_reason(mini: virtplug.Connection) -> None:
    dom = mini.define_domain(_cfg())
    with pytest.raises(errors.UnsupportedError) as info:
        dom.create_snapshot()
    err = info.value
    assert err.code == ErrorCode.NO_SUPPORT
    assert (
        err.message == "driver 'mini' does not support domain.snapshot_create: mini cannot snapshot"
    )
    assert err.details["status"] == "unsupported"


def test_undeclared_call_is_no_support_and_flagged(mini: virtplug.Connection) -> None:
    with pytest.raises(errors.UnsupportedError) as info:
        mini.list_networks()
    assert info.value.details["status"] == "undeclared"
    assert "undeclared" in info.value.message


def test_define_assigns_uuid_and_checks_type(mini: virtplug.Connection) -> None:
    dom = mini.define_domain(_cfg())
    assert len(dom.uuid) == 36 and dom.name == "web"
    with pytest.raises(errors.ConfigUnsupportedError) as info:
        mini.define_domain(_cfg("other", type="lxc"))
    assert "domain type 'lxc'" in info.value.message
    assert [d.name for d in mini.list_domains()] == ["web"]


def test_readonly_refuses_mutations_before_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    orig = MiniDriver.virtplug_domain_start

    def spy(self: MiniDriver, conn: Any, name: str) -> None:
        called.append(name)
        orig(self, conn, name)

    class Spy(MiniDriver):
        virtplug_domain_start = hookimpl(spy)

    rw = virtplug.open_driver(Spy, "mini:///")
    rw.define_domain(_cfg())
    ro = virtplug.open_driver(Spy, "mini:///", readonly=True)
    assert ro.readonly
    ro._d.state = rw._d.state  # share the backend, as two connections to one engine would
    dom = ro.lookup_domain("web")
    with pytest.raises(errors.OperationDeniedError) as info:
        dom.start()
    assert info.value.message == "read only access prevents domain.start"
    assert info.value.code == ErrorCode.OPERATION_DENIED
    assert called == []
    assert dom.state == DomainState.SHUTOFF  # reads still allowed
    with pytest.raises(errors.OperationDeniedError):
        ro.define_domain(_cfg("x"))
    rw.close()
    ro.close()


def test_non_virt_errors_are_normalised(mini: virtplug.Connection) -> None:
    mini.define_domain(_cfg("boom"))
    with pytest.raises(errors.InternalError) as info:
        mini.lookup_domain("boom").info()
    err = info.value
    assert err.code == ErrorCode.INTERNAL_ERROR
    assert "driver 'mini' failed in domain.info: KeyError" in err.message
    assert isinstance(err.__cause__, KeyError)


def test_virt_errors_pass_through(mini: virtplug.Connection) -> None:
    with pytest.raises(errors.NoDomainError) as info:
        mini.lookup_domain("ghost")
    assert info.value.code == 42


def test_closed_connection(mini: virtplug.Connection) -> None:
    mini.close()
    mini.close()  # twice is harmless
    assert mini.closed and not mini.is_alive()
    with pytest.raises(errors.InvalidConnectionError):
        mini.list_domains()


def test_lookup_argument_validation(mini: virtplug.Connection) -> None:
    for kwargs in ({}, {"name": "a", "uuid": "b"}):
        with pytest.raises(errors.InvalidArgError):
            mini.lookup_domain(**kwargs)
    with pytest.raises(errors.InvalidArgError):
        mini.lookup_domain(uuid="not-a-uuid")
    with pytest.raises(errors.InvalidArgError):
        mini.lookup_domain(id=0)
    with pytest.raises(errors.InvalidArgError):
        mini.lookup_domain("../etc")


def test_hookimpl_with_unknown_argument_is_a_load_error() -> None:
    class Bad(MiniDriver):
        @hookimpl
        def virtplug_domain_destroy(self, conn: Any, nme: str) -> None:
            """Misspelled argument."""

    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open_driver(Bad, "bad:///")
    assert "does not fit the hook contract" in info.value.message
    assert "virtplug_domain_destroy" in info.value.message


def test_misspelled_hook_is_a_load_error() -> None:
    class Typo(MiniDriver):
        @hookimpl
        def virtplug_domain_strat(self, conn: Any, name: str) -> None:
            """Misspelled hook."""

    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open_driver(Typo, "typo:///")
    assert "virtplug_domain_strat" in info.value.message


def test_hookimpl_without_the_hook_prefix_is_a_load_error() -> None:
    class Unprefixed(MiniDriver):
        @hookimpl
        def domain_start(self, conn: Any, name: str) -> None:
            """A hook implementation whose name lacks virtplug_."""

    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open_driver(Unprefixed, "unprefixed:///")
    assert "domain_start" in info.value.message


def test_hookimpl_set_on_the_instance_is_seen() -> None:
    class Late(MiniDriver):
        def __init__(self) -> None:
            super().__init__()

            @hookimpl
            def not_a_hook(conn: Any) -> None:
                """Marked, on the instance, under a name no hookspec has."""

            self.not_a_hook = not_a_hook

    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open_driver(Late, "late:///")
    assert "not_a_hook" in info.value.message


def test_unsupported_marker_for_unknown_hook_is_a_load_error() -> None:
    class Typo(MiniDriver):
        virtplug_domain_fly = unsupported("cannot fly")

    with pytest.raises(errors.DriverLoadError) as info:
        virtplug.open_driver(Typo, "typo:///")
    assert "'virtplug_domain_fly'" in info.value.message


def test_unsupported_needs_a_reason() -> None:
    with pytest.raises(ValueError):
        unsupported("  ")


def test_driver_without_open_cannot_connect() -> None:
    class Nothing:
        pass

    with pytest.raises(errors.UnsupportedError):
        virtplug.open_driver(Nothing, "none:///")


def test_tracing(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("VIRTPLUG_TRACE", "1")
    with caplog.at_level(logging.DEBUG, logger="virtplug.trace"):
        conn = virtplug.open_driver(MiniDriver, "mini:///")
        conn.define_domain(_cfg())
        with pytest.raises(errors.NoDomainError):
            conn.lookup_domain("ghost")
        conn.close()
    text = caplog.text
    assert "virtplug_domain_define(config=DomainConfig(name='web'" in text
    assert "virtplug_domain_lookup_by_name(name='ghost') raised NoDomainError" in text


def test_middleware_plain_hooks_refused() -> None:
    from virtplug._manager import _check_middleware

    class Plain:
        @hookimpl
        def virtplug_domain_start(self, conn: Any, name: str) -> None:
            """Not a wrapper."""

    with pytest.raises(errors.DriverLoadError) as info:
        _check_middleware("audit", Plain())
    assert "only add hookwrappers" in info.value.message

    class Wrapper:
        @hookimpl(wrapper=True)
        def virtplug_domain_start(self, conn: Any, name: str) -> Any:
            """A wrapper is fine."""
            return (yield)

    _check_middleware("audit", Wrapper())


def test_fast_path_only_without_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = virtplug.open_driver(MiniDriver, "mini:///")
    assert "domain.info" in plain._d._fast
    assert "domain.snapshot_create" not in plain._d._fast  # unsupported: never fast
    monkeypatch.setenv("VIRTPLUG_TRACE", "1")
    traced = virtplug.open_driver(MiniDriver, "mini:///")
    assert traced._d._fast == {}  # the tracer is a wrapper: pluggy runs the chain


def test_opt_in_argument_subset_goes_through_pluggy() -> None:
    class Subset(MiniDriver):
        @hookimpl
        def virtplug_connection_hostname(self) -> str:
            """Takes none of the hook's arguments."""
            return "h1"

    conn = virtplug.open_driver(Subset, "mini:///")
    assert "connection.hostname" not in conn._d._fast
    assert conn.hostname() == "h1"
