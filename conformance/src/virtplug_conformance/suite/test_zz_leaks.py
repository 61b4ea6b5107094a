"""The final leak check: nothing carrying the run prefix is left behind."""

from __future__ import annotations

import pytest

from virtplug_conformance._deadline import ConformanceFailure
from virtplug_conformance.harness import Harness


@pytest.mark.virtplug_leak_check
def test_no_prefixed_objects_left(harness: Harness) -> None:
    """Runs last for each target: lists every domain, network, pool and volume."""
    left = harness.leftovers(harness.prefix)
    if left:
        listing = ", ".join(f"{kind} {name}" for kind, name in left)
        # remove them so the next run can start, but fail this one
        try:
            harness.clean(harness.prefix)
        except Exception as exc:  # cleaning is best effort; the failure is the leak
            listing += f" (and removing them failed: {exc})"
        raise ConformanceFailure(
            f"leak check: objects with the run prefix {harness.prefix!r} remain after "
            f"teardown: {listing}"
        )
