"""Shared fixtures for the test driver's tests."""

from __future__ import annotations

import contextlib
import pathlib
from collections.abc import Callable, Iterator

import pytest
import virtplug
from virtplug import xml as codec
from virtplug.models import NodeDocument
from virtplug_test import _backend


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
