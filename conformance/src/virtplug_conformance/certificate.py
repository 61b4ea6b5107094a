"""The JSON certificate: building, integrity digest, and ``verify``.

Schema ``virtplug-conformance-certificate`` version 1 (documented field by field
in ``docs/conformance.md``). The ``integrity`` field holds the SHA-256 of the
canonical JSON (sorted keys, compact separators, UTF-8) of the whole document
without ``integrity``: any edit to the certificate breaks it. It is a content
digest, not a signature: it proves the document is self-consistent and
unedited since it was written, not who wrote it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
from collections.abc import Mapping, Sequence
from typing import Any

from virtplug.hookspecs import OPERATIONS
from virtplug_conformance.harness import MANDATORY
from virtplug_conformance.outcomes import LEVELS, OUTCOMES, compute_level, run_passed

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "build",
    "canonical",
    "digest",
    "load",
    "suite_hash",
    "suite_version",
    "verify",
    "write",
]

SCHEMA = "virtplug-conformance-certificate"
SCHEMA_VERSION = 1


def suite_version() -> str:
    """The installed version of virtplug-conformance."""
    try:
        return importlib.metadata.version("virtplug-conformance")
    except importlib.metadata.PackageNotFoundError:  # running from a source tree
        from virtplug_conformance import __version__

        return __version__


def suite_hash() -> str:
    """``sha256:<hex>`` over the suite's Python source (relative path and bytes, sorted)."""
    root = pathlib.Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if "__pycache__" in rel:
            continue
        h.update(rel.encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()


def canonical(document: Mapping[str, Any]) -> bytes:
    """The canonical JSON bytes the integrity digest is computed over."""
    body = {k: v for k, v in document.items() if k != "integrity"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest(document: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of :func:`canonical`."""
    return "sha256:" + hashlib.sha256(canonical(document)).hexdigest()


def host_facts() -> dict[str, Any]:
    """Facts about the machine the suite ran on."""
    return {
        "os": platform.system(),
        "kernel": platform.release(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "cpus": os.cpu_count() or 0,
    }


def build(
    *,
    driver: Mapping[str, Any],
    operations: Mapping[str, Mapping[str, Any]],
    checks: Mapping[str, Mapping[str, Any]],
    totals: Mapping[str, Any],
    coverage: Mapping[str, Mapping[str, Sequence[str]]],
    run: Mapping[str, Any],
    backend: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Assemble a certificate and seal it with its integrity digest."""
    import virtplug

    level = compute_level(operations, checks)
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "suite": {
            "name": "virtplug-conformance",
            "version": suite_version(),
            "content_hash": suite_hash(),
        },
        "core": {"name": "virtplug", "version": virtplug.__version__},
        "driver": dict(driver),
        "backend": dict(backend or {}),
        "host": host_facts(),
        "run": dict(run),
        "operations": {op: dict(operations[op]) for op in operations},
        "checks": {name: dict(c) for name, c in checks.items()},
        "totals": dict(totals),
        "coverage": {
            "operations": len(coverage),
            "complete": all(c["positive"] and c["negative"] for c in coverage.values()),
            "by_operation": {
                op: {"positive": len(c["positive"]), "negative": len(c["negative"])}
                for op, c in coverage.items()
            },
        },
        "result": {"passed": run_passed(operations, checks), "level": level},
    }
    doc["integrity"] = {"algorithm": "sha256", "digest": digest(doc)}
    return doc


def write(document: Mapping[str, Any], path: pathlib.Path) -> None:
    """Write *document* as indented JSON (the digest does not depend on formatting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def load(path: pathlib.Path) -> dict[str, Any]:
    """Read a certificate file.

    :raises ValueError: not JSON, or not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a certificate is a JSON object")
    return data


_REQUIRED: dict[str, type | tuple[type, ...]] = {
    "schema": str,
    "schema_version": int,
    "suite": dict,
    "core": dict,
    "driver": dict,
    "backend": dict,
    "host": dict,
    "run": dict,
    "operations": dict,
    "checks": dict,
    "totals": dict,
    "coverage": dict,
    "result": dict,
    "integrity": dict,
}


def verify(document: Mapping[str, Any]) -> list[str]:
    """Re-check a certificate; return the problems found (empty: valid).

    Checks: schema name and version; required fields and their types; the
    integrity digest; every operation has a known outcome; the totals match
    the operations; the level and the pass flag match what the outcomes and
    run checks give; the coverage section is consistent.
    """
    problems: list[str] = []
    for key, typ in _REQUIRED.items():
        if key not in document:
            problems.append(f"missing field '{key}'")
        elif not isinstance(document[key], typ):
            problems.append(f"field '{key}' must be {getattr(typ, '__name__', typ)}")
    if problems:
        return problems
    if document["schema"] != SCHEMA:
        problems.append(f"schema is {document['schema']!r}, expected {SCHEMA!r}")
    if document["schema_version"] != SCHEMA_VERSION:
        problems.append(
            f"schema_version {document['schema_version']} is not supported "
            f"(this suite reads {SCHEMA_VERSION})"
        )
    integrity = document["integrity"]
    if integrity.get("algorithm") != "sha256":
        problems.append(f"unknown integrity algorithm {integrity.get('algorithm')!r}")
    elif integrity.get("digest") != digest(document):
        problems.append("integrity digest does not match the content (the certificate was edited)")
    for section, keys in (
        ("suite", ("name", "version", "content_hash")),
        ("core", ("version",)),
        ("driver", ("name", "distribution", "version", "uri")),
        ("result", ("passed", "level")),
    ):
        for key in keys:
            if key not in document[section]:
                problems.append(f"missing field '{section}.{key}'")
    operations: dict[str, Any] = document["operations"]
    for op, entry in operations.items():
        if not isinstance(entry, dict) or entry.get("outcome") not in OUTCOMES:
            problems.append(f"operation {op}: unknown outcome {entry!r:.80}")
    if problems:
        return problems
    counted = {k: 0 for k in OUTCOMES}
    for entry in operations.values():
        counted[entry["outcome"]] += 1
    tot = document["totals"]
    for key in OUTCOMES:
        if tot.get(key) != counted[key]:
            problems.append(f"totals.{key} is {tot.get(key)} but {counted[key]} operations say so")
    if tot.get("operations") != len(operations):
        problems.append(f"totals.operations is {tot.get('operations')}, not {len(operations)}")
    for op in MANDATORY:
        if op in operations and operations[op]["outcome"] == "unsupported":
            problems.append(f"mandatory operation {op} recorded as unsupported")
    checks = document["checks"]
    for name, check in checks.items():
        if not isinstance(check, dict) or check.get("outcome") not in ("passed", "failed"):
            problems.append(f"run check {name}: unknown outcome")
    if problems:
        return problems
    level = compute_level(operations, checks)
    if document["result"]["level"] not in LEVELS:
        problems.append(f"unknown level {document['result']['level']!r}")
    elif document["result"]["level"] != level:
        problems.append(f"level is {document['result']['level']!r} but the outcomes give {level!r}")
    if document["result"]["passed"] != run_passed(operations, checks):
        problems.append("result.passed does not match the outcomes and run checks")
    cov = document["coverage"]
    by_op = cov.get("by_operation", {})
    if not isinstance(by_op, dict) or set(by_op) != set(operations):
        problems.append("coverage.by_operation does not list the certificate's operations")
    else:
        complete = all(
            c.get("positive", 0) > 0 and c.get("negative", 0) > 0 for c in by_op.values()
        )
        if cov.get("complete") != complete:
            problems.append("coverage.complete does not match coverage.by_operation")
    return problems


def operations_known_to_this_core(document: Mapping[str, Any]) -> list[str]:
    """Operations of the installed core that the certificate does not mention."""
    ops = document.get("operations", {})
    return [op for op in OPERATIONS if op not in ops]
