"""Fixtures for the suite's own tests: run the suite in-process against registered drivers."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from typing import Any

import pytest

from virtplug import xml as codec
from virtplug.models import NodeDocument
from virtplug.testing import registered_driver
from virtplug_conformance.profiles import registered_profile
from virtplug_test import TestDriver
from virtplug_test.conformance import profile as test_profile


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


@pytest.fixture
def register() -> Iterator[Callable[..., str]]:
    """register(scheme, cls, **profile_overrides) -> the scheme; undone after the test."""
    with ExitStack() as stack:

        def add(scheme: str, cls: type[Any] = TestDriver, **overrides: Any) -> str:
            stack.enter_context(registered_driver(scheme, cls, distribution=f"{scheme}-dist"))
            stack.enter_context(registered_profile(scheme, profile_for(scheme, **overrides)))
            return scheme

        yield add
