"""The driver has a valid conformance profile (else it cannot be certified)."""

from __future__ import annotations

import pytest

from virtplug_conformance.profiles import Target


@pytest.mark.virtplug_profile_check
def test_profile(target: Target) -> None:
    """A driver without a (valid) profile is reported as not certifiable."""
    if target.problem is not None:
        pytest.fail(f"not certifiable: {target.problem}", pytrace=False)
    assert target.profile is not None
