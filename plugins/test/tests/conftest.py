"""Shared fixtures for the test driver's tests."""

from __future__ import annotations

import contextlib
import functools
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import virtplug
from virtplug import hookspecs
from virtplug import xml as codec
from virtplug.errors import InvalidConnectionError, VirtError
from virtplug.models import NodeDocument
from virtplug_test import TestDriver, _backend

# ---------------------------------------------------------------------------
# Hook outcome recorder: every hook must see a success and a refusal in a full run
# ---------------------------------------------------------------------------

#: operation -> outcomes seen ("ok", or the ErrorCode name of a VirtError)
OUTCOMES: dict[str, set[str]] = {op: set() for op in hookspecs.OPERATIONS}


#: hooks whose only failure mode is a closed connection
CLOSED_ONLY = frozenset(
    {"connection.type", "connection.version", "connection.hostname", "connection.watch_events"}
)


def _recording(op: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, **kwargs)
        except InvalidConnectionError:
            if op in CLOSED_ONLY:
                OUTCOMES[op].add("INVALID_CONN")
            raise  # elsewhere a closed handle proves nothing about the operation itself
        except VirtError as exc:
            OUTCOMES[op].add(exc.code.name)
            raise
        OUTCOMES[op].add("ok")
        return result

    return wrapper


for _op in hookspecs.OPERATIONS:
    _name = hookspecs.hook_name(_op)
    setattr(TestDriver, _name, _recording(_op, getattr(TestDriver, _name)))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """After a full, green run, fail when a hook lacks a positive or a negative case."""
    config = session.config
    option = config.option
    selected = (
        getattr(option, "keyword", "")
        or getattr(option, "markexpr", "")
        or getattr(option, "lf", False)
    )
    here = pathlib.Path(__file__).parent
    ran = {pathlib.Path(str(item.path)) for item in session.items}
    whole = set(here.glob("test_*.py")) <= ran
    if exitstatus != 0 or selected or not whole:
        return  # only a full, green run of this directory can judge coverage
    # connection.close never fails (closing twice is harmless) and is_alive answers False
    exempt_negative = {"connection.close", "connection.is_alive"}
    missing = {
        op: sorted(seen)
        for op, seen in OUTCOMES.items()
        if "ok" not in seen or (op not in exempt_negative and not seen - {"ok"})
    }
    if missing:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        lines = [f"  {op}: saw {seen or 'nothing'}" for op, seen in sorted(missing.items())]
        text = "hooks without both a positive and a negative case:\n" + "\n".join(lines)
        if reporter is not None:
            reporter.write_line(text, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _no_leaked_backends() -> Iterator[None]:
    """Every test starts and ends with no shared state in the process."""
    assert not _backend._registry, f"state left by an earlier test: {list(_backend._registry)}"
    yield
    leaked = list(_backend._registry)
    for backend in list(_backend._registry.values()):
        backend.refs = 1
        _backend.release(backend)
    assert not leaked, f"connections left open: {leaked}"


@pytest.fixture
def conn() -> Iterator[virtplug.Connection]:
    """A connection to a fresh ``test:///default``."""
    with virtplug.open("test:///default") as connection:
        yield connection


@pytest.fixture
def empty_conn(tmp_path: pathlib.Path) -> Iterator[virtplug.Connection]:
    """A connection to an empty, in-memory state loaded from a file."""
    path = tmp_path / "empty.xml"
    path.write_text(codec.format_node(NodeDocument()))
    with virtplug.open(f"test://{path}") as connection:
        yield connection


@pytest.fixture
def opener() -> Iterator[Callable[..., virtplug.Connection]]:
    """Open extra connections that are closed at teardown."""
    opened: list[virtplug.Connection] = []

    def open_(uri: str = "test:///default", **kwargs: object) -> virtplug.Connection:
        connection = virtplug.open(uri, **kwargs)  # type: ignore[arg-type]
        opened.append(connection)
        return connection

    yield open_
    for connection in opened:
        with contextlib.suppress(Exception):
            connection.close()
