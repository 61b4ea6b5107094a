"""Deliberately broken variants of the reference test driver.

Each variant subclasses :class:`virtplug_test.TestDriver`, breaks one promise
of the contract, and names the checks of the suite that must catch it
(:data:`VARIANTS`). ``tests/test_broken.py`` registers each under its own URI
scheme in-process (:func:`virtplug.testing.registered_driver`), runs the whole
suite against it and asserts the run fails in exactly those checks.
"""

from __future__ import annotations

import pathlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from virtplug import hookimpl, unsupported
from virtplug import xml as codec
from virtplug.errors import (
    NoDomainError,
    OperationFailedError,
    OperationInvalidError,
    UnsupportedError,
)
from virtplug.models import (
    DomainConfig,
    DomainEventDetail,
    DomainEventType,
    DomainRef,
    DomainState,
    Event,
    EventKind,
    NetworkEventType,
    NodeDocument,
)
from virtplug.records import evolve, record
from virtplug_test import TestConnection, TestDriver
from virtplug_test.conformance import profile as test_profile

__all__ = ["VARIANTS", "Variant", "profile_for"]


def profile_for(
    scheme: str, *, memory: bool = True, **overrides: Any
) -> Callable[[pathlib.Path], Mapping[str, Any]]:
    """The test driver's profile, served under *scheme* (in memory unless *memory* is False)."""

    def profile(workdir: pathlib.Path) -> Mapping[str, Any]:
        data = dict(test_profile(workdir))
        # the suite's own tests run the drivers on an in-memory state (no fsync per change)
        uri = data["uri"].replace("test://", f"{scheme}://", 1)
        if memory:
            uri = uri.split("?", 1)[0]
            state = pathlib.Path(uri.split("://", 1)[1])
            state.parent.mkdir(parents=True, exist_ok=True)
            if not state.exists():
                state.write_text(codec.format_node(NodeDocument()), encoding="utf-8")
        data["uri"] = uri
        data.update(overrides)
        return data

    return profile


class WrongErrorClass(TestDriver):
    """Unknown domain names raise OPERATION_FAILED instead of NO_DOMAIN."""

    @hookimpl
    def virtplug_domain_lookup_by_name(self, conn: TestConnection, name: str) -> DomainRef:
        """Lookup, with the wrong error class."""
        try:
            return super().virtplug_domain_lookup_by_name(conn, name)
        except NoDomainError as exc:
            raise OperationFailedError(str(exc)) from exc


class IllegalTransition(TestDriver):
    """Starting a running domain silently succeeds."""

    @hookimpl
    def virtplug_domain_start(self, conn: TestConnection, name: str) -> None:
        """Start, accepting an already running domain."""
        if conn.live().domain_state(name)[0] == DomainState.RUNNING:
            return
        super().virtplug_domain_start(conn, name)


class SideEffectOnReject(TestDriver):
    """Refusing to start a running domain still turns its autostart on."""

    @hookimpl
    def virtplug_domain_start(self, conn: TestConnection, name: str) -> None:
        """Start; a refusal leaves a side effect behind."""
        if conn.live().domain_state(name)[0] == DomainState.RUNNING:
            conn.live().domain_set_autostart(conn, name, True)
            raise OperationInvalidError("domain is already running")
        super().virtplug_domain_start(conn, name)


class LeaksObjects(TestDriver):
    """Creating a transient domain also defines a helper domain it never removes."""

    @hookimpl
    def virtplug_domain_create(self, conn: TestConnection, config: DomainConfig) -> DomainRef:
        """Create, leaking ``<name>-helper``."""
        ref = super().virtplug_domain_create(conn, config)
        helper = evolve(config, name=config.name + "-helper", uuid=None)
        import uuid as _uuid

        helper = evolve(helper, uuid=str(_uuid.uuid4()))
        conn.live().domain_define(conn, helper)
        return ref


class ClaimsButRaisesNoSupport(TestDriver):
    """Claims domain.suspend (implemented) but raises NO_SUPPORT."""

    @hookimpl
    def virtplug_domain_suspend(self, conn: TestConnection, name: str) -> None:
        """Suspend: not really."""
        raise UnsupportedError("suspend is not available on this host")


class UndeclaredHook(TestDriver):
    """domain.reboot is neither implemented nor declared unsupported."""

    virtplug_domain_reboot = None  # type: ignore[assignment]


class MandatoryUnsupported(TestDriver):
    """Declares a mandatory operation (domain.destroy) unsupported."""

    virtplug_domain_destroy = unsupported("this backend cannot kill containers")  # type: ignore[assignment]


class DefineNotPersistent(TestDriver):
    """A defined domain disappears when it stops (as if define were create)."""

    def _forget(self, conn: TestConnection, name: str) -> None:
        backend = conn.live()
        try:
            ref = backend.domain_lookup(name)
        except NoDomainError:
            return
        if ref.id is None:
            backend.domain_undefine(conn, name)

    @hookimpl
    def virtplug_domain_destroy(self, conn: TestConnection, name: str) -> None:
        """Destroy, then forget the definition."""
        super().virtplug_domain_destroy(conn, name)
        self._forget(conn, name)

    @hookimpl
    def virtplug_domain_shutdown(
        self, conn: TestConnection, name: str, timeout: float | None
    ) -> None:
        """Shut down, then forget the definition."""
        super().virtplug_domain_shutdown(conn, name, timeout)
        self._forget(conn, name)


class XMLDropsField(TestDriver):
    """The domain XML loses ``<description>`` (and ``<title>``)."""

    @hookimpl
    def virtplug_domain_xml(self, conn: TestConnection, name: str, inactive: bool) -> DomainConfig:
        """XML without description and title."""
        config = super().virtplug_domain_xml(conn, name, inactive)
        return evolve(config, description=None, title=None)


class EventsWrongKind(TestDriver):
    """Its watcher also reports a shutdown as a network STOPPED named after the domain.

    (A mistranslated engine event: Docker reports a stopping container's network
    disconnect as a *network* event.) Reporting the domain's own STOPPED early, before
    the shutdown returns, is no defect: the core folds backend events about an object
    into the API events of the operation changing it. An event of another kind is
    about another object, so it reaches subscribers and the event check sees it.
    """

    def __init__(self) -> None:
        self._emits: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: TestConnection, emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Watch, remembering *emit*."""
        stop = super().virtplug_connection_watch_events(conn, emit)
        with self._lock:
            self._emits.append(emit)

        def unwatch() -> None:
            with self._lock:
                if emit in self._emits:
                    self._emits.remove(emit)
            stop()

        return unwatch

    @hookimpl
    def virtplug_domain_shutdown(
        self, conn: TestConnection, name: str, timeout: float | None
    ) -> None:
        """Shut down, announcing a network STOPPED (wrong kind) and the domain's STOPPED."""
        ref = conn.live().domain_lookup(name)
        with self._lock:
            emits = list(self._emits)
        for emit in emits:
            emit(Event(EventKind.NETWORK, name, ref.uuid, NetworkEventType.STOPPED, 0, "backend"))
            emit(
                Event(
                    EventKind.DOMAIN,
                    name,
                    ref.uuid,
                    DomainEventType.STOPPED,
                    DomainEventDetail.Stopped.SHUTDOWN,
                    source="backend",
                )
            )
        super().virtplug_domain_shutdown(conn, name, timeout)


class DeafWatcher(TestDriver):
    """Its watcher starts but never reports anything (events missing)."""

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: TestConnection, emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Watch nothing."""
        return lambda: None


class HangsOnReboot(TestDriver):
    """domain.reboot never returns."""

    @hookimpl
    def virtplug_domain_reboot(self, conn: TestConnection, name: str) -> None:
        """Reboot: hangs."""
        time.sleep(3600)


class NameClashAccepted(TestDriver):
    """Defining a taken name with another UUID replaces the old domain."""

    @hookimpl
    def virtplug_domain_define(self, conn: TestConnection, config: DomainConfig) -> DomainRef:
        """Define, silently replacing a shut-off domain of the same name."""
        backend = conn.live()
        try:
            old = backend.domain_lookup(config.name)
        except NoDomainError:
            old = None
        if old is not None and old.uuid != config.uuid and old.id is None:
            backend.domain_undefine(conn, config.name)
        return super().virtplug_domain_define(conn, config)


@record
class Variant:
    """A broken driver and what the suite must say about it.

    :ivar scheme: the URI scheme it is registered under.
    :ivar cls: the driver class.
    :ivar checks: check names (``module.function``, optionally ``[param]`` text)
        that must be among the failures.
    :ivar operations: operation -> expected outcome in the certificate.
    :ivar run_checks: run-level checks that must fail.
    :ivar timeout: per-call deadline for the run.
    """

    scheme: str
    cls: type[Any]
    checks: tuple[str, ...]
    operations: dict[str, str]
    run_checks: tuple[str, ...] = ()
    timeout: float | None = None


VARIANTS: tuple[Variant, ...] = (
    Variant(
        "broken-errclass",
        WrongErrorClass,
        ("test_unknown.py::test_unknown_object[broken-errclass-domain.lookup_by_name]",),
        {"domain.lookup_by_name": "failed"},
    ),
    Variant(
        "broken-transition",
        IllegalTransition,
        (
            "test_states.py::test_domain_transition[broken-transition-running-start-OPERATION_INVALID]",
        ),
        {"domain.start": "failed"},
    ),
    Variant(
        "broken-sideeffect",
        SideEffectOnReject,
        (
            "test_states.py::test_domain_transition[broken-sideeffect-running-start-OPERATION_INVALID]",
        ),
        {"domain.start": "failed"},
    ),
    Variant(
        "broken-leak",
        LeaksObjects,
        ("test_zz_leaks.py::test_no_prefixed_objects_left[broken-leak]",),
        {},
        run_checks=("leak",),
    ),
    Variant(
        "broken-nosupport",
        ClaimsButRaisesNoSupport,
        ("test_states.py::test_domain_transition[broken-nosupport-running-suspend-paused]",),
        {"domain.suspend": "failed"},
    ),
    Variant(
        "broken-undeclared",
        UndeclaredHook,
        ("test_capabilities.py::test_declared_capability[broken-undeclared-domain.reboot]",),
        {"domain.reboot": "undeclared"},
    ),
    Variant(
        "broken-mandatory",
        MandatoryUnsupported,
        ("test_capabilities.py::test_declared_capability[broken-mandatory-domain.destroy]",),
        {"domain.destroy": "failed"},
    ),
    Variant(
        "broken-persist",
        DefineNotPersistent,
        (
            "test_domain.py::test_define_is_persistent[broken-persist]",
            "test_states.py::test_domain_transition[broken-persist-running-destroy-shutoff]",
        ),
        {"domain.define": "failed", "domain.destroy": "failed"},
    ),
    Variant(
        "broken-xml",
        XMLDropsField,
        ("test_domain.py::test_xml_round_trip[broken-xml]",),
        {"domain.xml": "failed"},
    ),
    Variant(
        "broken-events",
        EventsWrongKind,
        ("test_events.py::test_events_of_operation[broken-events-domain.shutdown]",),
        {"domain.shutdown": "failed"},
    ),
    Variant(
        "broken-deafwatch",
        DeafWatcher,
        ("test_connection.py::test_watch_events_sees_other_connections[broken-deafwatch]",),
        {"connection.watch_events": "failed"},
        timeout=2.0,
    ),
    Variant(
        "broken-hang",
        HangsOnReboot,
        ("test_states.py::test_domain_transition[broken-hang-running-reboot-running]",),
        {"domain.reboot": "failed"},
        run_checks=("deadlines",),
        timeout=1.0,
    ),
    Variant(
        "broken-clash",
        NameClashAccepted,
        (
            "test_states.py::test_domain_transition[broken-clash-shutoff-define_other_uuid-OPERATION_FAILED]",
        ),
        {"domain.define": "failed"},
    ),
)
