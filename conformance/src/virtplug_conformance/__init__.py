"""virtplug-conformance: certify any installed virtplug driver.

A pytest plugin (``pytest -p virtplug_conformance --virtplug-uri URI``) and a
CLI (``virtplug-conformance``) that run every hookspec against a driver,
through its conformance profile, and write JUnit XML, a JSON certificate and a
support matrix. See ``docs/conformance.md``.
"""

from __future__ import annotations

from virtplug_conformance._deadline import ConformanceFailure, DriverHung
from virtplug_conformance.harness import LEFTOVER_PREFIX, MANDATORY
from virtplug_conformance.profiles import register_profile, registered_profile
from virtplug_conformance.registry import covers, covers_each

__version__ = "0.1.0"

__all__ = [
    "LEFTOVER_PREFIX",
    "MANDATORY",
    "ConformanceFailure",
    "DriverHung",
    "__version__",
    "covers",
    "covers_each",
    "register_profile",
    "registered_profile",
]
