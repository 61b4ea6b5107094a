"""Fixtures for the suite's own tests: run the suite in-process against registered drivers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from broken import profile_for

from virtplug.testing import registered_driver
from virtplug_conformance.profiles import registered_profile
from virtplug_test import TestDriver


@pytest.fixture
def register() -> Iterator[Callable[..., str]]:
    """register(scheme, cls, **profile_overrides) -> the scheme; undone after the test."""
    with ExitStack() as stack:

        def add(scheme: str, cls: type[Any] = TestDriver, **overrides: Any) -> str:
            stack.enter_context(registered_driver(scheme, cls, distribution=f"{scheme}-dist"))
            stack.enter_context(registered_profile(scheme, profile_for(scheme, **overrides)))
            return scheme

        yield add
