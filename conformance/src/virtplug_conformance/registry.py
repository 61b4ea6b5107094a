"""The coverage registry: which suite check exercises which operation, and how.

Every check of the suite declares the operations it covers and the polarity of
that coverage: ``positive`` (the operation does what the hookspec promises) or
``negative`` (misuse gets the exact error code, an invalid state is refused, a
filter excludes what it must). The meta-test compares the registry with
:data:`virtplug.hookspecs.OPERATIONS`: every operation needs at least one
positive and one negative check.

Two forms::

    @covers(positive=["domain.start"], negative=["domain.start"])
    def test_start(vp): ...

    @covers_each("op", ops=sorted(MUTATING), polarity="negative")
    def test_readonly_refuses(vp, op): ...   # one item per op; the item covers its op
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import pytest

from virtplug.hookspecs import OPERATIONS
from virtplug.records import record

__all__ = [
    "COVERS_EACH_MARK",
    "COVERS_MARK",
    "REGISTRY",
    "Coverage",
    "Polarity",
    "coverage_by_operation",
    "covers",
    "covers_cells",
    "covers_each",
    "missing_coverage",
]

Polarity = Literal["positive", "negative"]

#: pytest marker carrying ``(ops, polarity)`` pairs for a plain check.
COVERS_MARK = "virtplug_covers"
#: pytest marker carrying ``(argname, polarity)`` for a check parametrised by operation.
COVERS_EACH_MARK = "virtplug_covers_each"

_F = TypeVar("_F", bound=Callable[..., Any])


@record
class Coverage:
    """One registered check and what it covers.

    :ivar check: ``module.function`` of the check.
    :ivar positive: operations the check exercises on their success path.
    :ivar negative: operations the check exercises on an error path.
    """

    check: str
    positive: frozenset[str]
    negative: frozenset[str]


#: Every check, by ``module.function``.
REGISTRY: dict[str, Coverage] = {}

_KNOWN = frozenset(OPERATIONS)


def _validate(ops: Iterable[str], check: str) -> frozenset[str]:
    out = frozenset(ops)
    unknown = sorted(out - _KNOWN)
    if unknown:
        raise ValueError(f"{check} declares coverage of unknown operations: {unknown}")
    return out


def _check_name(func: Callable[..., Any]) -> str:
    module = func.__module__.rsplit(".", 1)[-1]
    return f"{module}.{func.__name__}"


def covers(*, positive: Iterable[str] = (), negative: Iterable[str] = ()) -> Callable[[_F], _F]:
    """Declare the operations a check covers (see the module docstring)."""

    def mark(func: _F) -> _F:
        check = _check_name(func)
        pos = _validate(positive, check)
        neg = _validate(negative, check)
        if not pos and not neg:
            raise ValueError(f"{check}: covers() needs at least one operation")
        REGISTRY[check] = Coverage(check, pos, neg)
        marked: _F = getattr(pytest.mark, COVERS_MARK)(pos, neg)(func)
        return marked

    return mark


def covers_each(argname: str, *, ops: Iterable[str], polarity: Polarity) -> Callable[[_F], _F]:
    """Parametrise a check by operation; each item covers its own operation."""
    op_list = sorted(ops)

    def mark(func: _F) -> _F:
        check = _check_name(func)
        chosen = _validate(op_list, check)
        REGISTRY[check] = Coverage(
            check,
            chosen if polarity == "positive" else frozenset(),
            chosen if polarity == "negative" else frozenset(),
        )
        func = getattr(pytest.mark, COVERS_EACH_MARK)(argname, polarity)(func)
        parametrized: _F = pytest.mark.parametrize(argname, op_list)(func)
        return parametrized

    return mark


def covers_cells(argname: str, cells: Sequence[Any]) -> Callable[[_F], _F]:
    """Parametrise a check by table cells (objects with ``op`` and ``polarity``)."""

    def mark(func: _F) -> _F:
        check = _check_name(func)
        pos = _validate((c.op for c in cells if c.polarity == "positive"), check)
        neg = _validate((c.op for c in cells if c.polarity == "negative"), check)
        REGISTRY[check] = Coverage(check, pos, neg)
        func = getattr(pytest.mark, COVERS_EACH_MARK)(argname, "cell")(func)
        parametrized: _F = pytest.mark.parametrize(
            argname, list(cells), ids=[str(c) for c in cells]
        )(func)
        return parametrized

    return mark


def coverage_by_operation(
    registry: Mapping[str, Coverage] | None = None,
) -> dict[str, dict[str, list[str]]]:
    """``{op: {"positive": [checks], "negative": [checks]}}`` for every hookspec operation."""
    reg = REGISTRY if registry is None else registry
    out: dict[str, dict[str, list[str]]] = {
        op: {"positive": [], "negative": []} for op in OPERATIONS
    }
    for cov in reg.values():
        for op in cov.positive:
            out[op]["positive"].append(cov.check)
        for op in cov.negative:
            out[op]["negative"].append(cov.check)
    for entry in out.values():
        entry["positive"].sort()
        entry["negative"].sort()
    return out


def missing_coverage(registry: Mapping[str, Coverage] | None = None) -> list[str]:
    """Human-readable gaps: ``"domain.reboot: no negative check"``; empty when complete."""
    gaps = []
    for op, entry in coverage_by_operation(registry).items():
        for polarity in ("positive", "negative"):
            if not entry[polarity]:
                gaps.append(f"{op}: no {polarity} check")
    return gaps


def load_suite() -> None:
    """Import every suite module so the registry is complete."""
    import importlib
    import pkgutil

    from virtplug_conformance import suite

    for info in pkgutil.iter_modules(suite.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"{suite.__name__}.{info.name}")
