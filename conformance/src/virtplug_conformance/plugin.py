"""The pytest plugin: ``pytest -p virtplug_conformance --virtplug-uri URI``.

Inert unless ``--virtplug-uri`` or ``--virtplug-all`` is given. Then it:

- resolves the targets (the given URIs, or every installed driver) and their
  profiles, and collects the suite (``virtplug_conformance.suite``) when no
  test path was given;
- parametrises every check by target (``[test]``, ``[docker]``, ...);
- refuses to start when a target holds objects named with the ``vpc-`` prefix
  (leftovers of an earlier run) unless ``--virtplug-force-clean`` (which removes
  only those);
- records every check's outcome and the operations it covers, and at the end
  writes one certificate per target (``--virtplug-certificate``, ``{driver}``
  in the path is replaced) and the support matrix (``--virtplug-matrix``).
"""

from __future__ import annotations

import datetime
import pathlib
import shutil
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from typing import Any

import attrs
import pytest

import virtplug
from virtplug.errors import VirtError
from virtplug_conformance import certificate as cert
from virtplug_conformance import matrix as matrix_mod
from virtplug_conformance._deadline import WATCHDOG, ConformanceFailure
from virtplug_conformance.harness import LEFTOVER_PREFIX, Case, Harness, new_prefix
from virtplug_conformance.outcomes import Record, compute_operations, totals
from virtplug_conformance.profiles import Target, resolve_targets
from virtplug_conformance.registry import (
    COVERS_EACH_MARK,
    COVERS_MARK,
    coverage_by_operation,
    load_suite,
    missing_coverage,
)

__all__ = ["CAPABILITY_MARK", "LEAK_MARK", "RUN_KEY", "Run"]

#: Marker of a capability-declaration check: ``(argname)`` naming the op parameter.
CAPABILITY_MARK = "virtplug_capability"
#: Marker of the final leak check (run last for each target).
LEAK_MARK = "virtplug_leak_check"
#: Marker of the profile check.
PROFILE_MARK = "virtplug_profile_check"

SUITE_DIR = pathlib.Path(__file__).resolve().parent / "suite"
#: In the work directory: the watchdog's thread dump, and the check running now.
WATCHDOG_FILE = "watchdog-traceback.txt"
PROGRESS_FILE = "running-check.txt"


@attrs.define
class Run:
    """The state of one conformance run inside a pytest session."""

    targets: list[Target]
    prefix: str
    force_clean: bool
    certificate: str | None
    matrix: str | None
    workdir: pathlib.Path
    harnesses: dict[str, Harness] = attrs.field(factory=dict)
    open_errors: dict[str, str] = attrs.field(factory=dict)
    preflight: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    records: dict[str, Record] = attrs.field(factory=dict)
    certificates: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    certificate_paths: dict[str, pathlib.Path] = attrs.field(factory=dict)
    started: float = attrs.field(factory=time.time)
    capabilities: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    backend: dict[str, dict[str, Any]] = attrs.field(factory=dict)
    timing: dict[str, list[float]] = attrs.field(factory=dict)
    refused: bool = False
    own_workdir: bool = False
    settle: float = 0.1

    def harness(self, target: Target) -> Harness:
        """The harness of *target* (created on first use)."""
        if target.label in self.open_errors:
            raise ConformanceFailure(self.open_errors[target.label], operation="connection.open")
        h = self.harnesses.get(target.label)
        if h is None:
            h = self.harnesses[target.label] = Harness(target, self.prefix, settle=self.settle)
        return h


RUN_KEY = pytest.StashKey[Run]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--virtplug-*`` options."""
    group = parser.getgroup("virtplug-conformance", "virtplug driver conformance")
    group.addoption(
        "--virtplug-uri",
        action="append",
        default=[],
        metavar="URI",
        help="certify the driver of URI (repeatable); its profile is used with this URI",
    )
    group.addoption(
        "--virtplug-driver",
        action="append",
        default=[],
        metavar="NAME",
        help="certify installed driver NAME at the URI its profile names (repeatable)",
    )
    group.addoption(
        "--virtplug-all",
        action="store_true",
        help="certify every installed driver at the URI its profile names",
    )
    group.addoption(
        "--virtplug-certificate",
        metavar="FILE",
        help="write the JSON certificate(s) here ('{driver}' is replaced by the driver name)",
    )
    group.addoption(
        "--virtplug-matrix", metavar="FILE", help="write the support matrix (.md/.html)"
    )
    group.addoption(
        "--virtplug-timeout",
        type=float,
        metavar="S",
        help="seconds each driver call may take (default: the profile's, else 30)",
    )
    group.addoption(
        "--virtplug-force-clean",
        action="store_true",
        help="remove objects named 'vpc-...' left by an earlier run instead of refusing to start",
    )
    group.addoption(
        "--virtplug-workdir", metavar="DIR", help="work directory (default: a fresh temp dir)"
    )
    group.addoption(
        "--virtplug-watchdog",
        type=float,
        metavar="S",
        help="seconds without any driver call starting or ending after which a frozen "
        "process dumps its threads and exits (default: twice the longest timeout + 30)",
    )
    group.addoption(
        "--virtplug-settle",
        type=float,
        default=0.1,
        metavar="S",
        help="seconds the event checks wait for late backend events (default 0.1)",
    )


def _active(config: pytest.Config) -> bool:
    return bool(
        config.getoption("virtplug_uri")
        or config.getoption("virtplug_driver")
        or config.getoption("virtplug_all")
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers; when active, resolve the targets and collect the suite."""
    for _mark, text in (
        (COVERS_MARK, "virtplug_covers(positive, negative): operations a check covers"),
        (COVERS_EACH_MARK, "virtplug_covers_each(argname, polarity): one op per item"),
        (CAPABILITY_MARK, "virtplug_capability(argname): checks an operation's declaration"),
        (LEAK_MARK, "virtplug_leak_check: the final leak check (runs last)"),
        (PROFILE_MARK, "virtplug_profile_check: the driver has a valid profile"),
    ):
        config.addinivalue_line("markers", text)
    if not _active(config):
        return
    load_suite()
    workdir_opt = config.getoption("virtplug_workdir")
    workdir = (
        pathlib.Path(workdir_opt)
        if workdir_opt
        else pathlib.Path(tempfile.mkdtemp(prefix="virtplug-conformance-"))
    )
    targets = resolve_targets(
        config.getoption("virtplug_uri"),
        workdir,
        timeout=config.getoption("virtplug_timeout"),
        drivers=config.getoption("virtplug_driver"),
    )
    run = Run(
        targets=targets,
        prefix=new_prefix(),
        force_clean=bool(config.getoption("virtplug_force_clean")),
        certificate=config.getoption("virtplug_certificate"),
        matrix=config.getoption("virtplug_matrix"),
        workdir=workdir,
        settle=float(config.getoption("virtplug_settle")),
        own_workdir=not workdir_opt,
    )
    config.stash[RUN_KEY] = run
    longest = max((t.timeout for t in targets), default=30.0)
    watchdog = config.getoption("virtplug_watchdog")
    WATCHDOG.arm(workdir / WATCHDOG_FILE, float(watchdog) if watchdog else 2 * longest + 30.0)
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args[:] = [str(SUITE_DIR)]


def _run(config: pytest.Config) -> Run | None:
    return config.stash.get(RUN_KEY, None)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Disarm the watchdog."""
    if _run(config) is not None:
        WATCHDOG.disarm()


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    """Note the check now running (what the CLI names when the watchdog fires)."""
    path = WATCHDOG.path
    if path is not None:
        path.with_name(PROGRESS_FILE).write_text(nodeid + "\n", encoding="utf-8")


def pytest_ignore_collect(collection_path: pathlib.Path, config: pytest.Config) -> bool | None:
    """Never collect the suite when the plugin is inactive."""
    if _active(config):
        return None
    try:
        collection_path.resolve().relative_to(SUITE_DIR)
    except ValueError:
        return None
    return True


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    """Say which drivers were found and at which URI each runs."""
    run = _run(config)
    if run is None:
        return None
    lines = [
        f"virtplug-conformance {cert.suite_version()}, run prefix {run.prefix}, "
        f"work directory {run.workdir} (a frozen process dumps its threads to "
        f"{WATCHDOG_FILE} there after {WATCHDOG.seconds:g} s)"
    ]
    if not run.targets:
        lines.append("no virtplug drivers found")
    for t in run.targets:
        dist = f"{t.entry.distribution} {t.entry.version}" if t.entry else "not installed"
        state = "profile ok" if t.problem is None else f"NOT CERTIFIABLE: {t.problem}"
        lines.append(f"driver {t.label}: {dist}, {t.uri}: {state}")
    return lines


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every suite check that uses ``target`` by the run's targets.

    Only the suite's own modules: another project's ``target`` fixture is left alone
    (this plugin is loaded in every pytest session of an environment that has it).
    """
    if "target" not in metafunc.fixturenames:
        return
    if not metafunc.module.__name__.startswith(f"{__package__}.suite."):
        return
    run = _run(metafunc.config)
    targets = run.targets if run else []
    metafunc.parametrize("target", targets, ids=[t.id for t in targets], scope="session")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group items by target; the leak check runs last for each target."""
    run = _run(config)
    if run is None:
        return
    order = {t.label: i for i, t in enumerate(run.targets)}

    def key(pair: tuple[int, pytest.Item]) -> tuple[int, int, int, int]:
        index, item = pair
        target = _target_of(item)
        t_index = order.get(target.label, -1) if target else -1
        first = 0 if item.get_closest_marker(PROFILE_MARK) else 1
        last = 1 if item.get_closest_marker(LEAK_MARK) else 0
        return (t_index, last, first, index)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]
    for item in items:  # JUnit XML <properties>: which driver, which operations
        found = _target_of(item)
        if found is None:
            continue
        rec = _new_record(item, found)
        item.user_properties.append(("virtplug.driver", found.label))
        if rec.positive:
            item.user_properties.append(("virtplug.positive", " ".join(rec.positive)))
        if rec.negative:
            item.user_properties.append(("virtplug.negative", " ".join(rec.negative)))
        if rec.capability:
            item.user_properties.append(("virtplug.capability", rec.capability))


def _target_of(item: pytest.Item) -> Target | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    value = callspec.params.get("target")
    return value if isinstance(value, Target) else None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Preflight: open each target and refuse to start on prefixed leftovers."""
    run = _run(session.config)
    if run is None or session.config.option.collectonly:
        return
    refusals = []
    for target in run.targets:
        if target.problem is not None:
            continue
        try:
            harness = run.harness(target)
            found = harness.leftovers(LEFTOVER_PREFIX)
        except (VirtError, ConformanceFailure) as exc:
            run.open_errors[target.label] = (
                f"cannot open {target.uri}: {getattr(exc, 'message', exc)}"
            )
            continue
        entry: dict[str, Any] = {"outcome": "passed", "reason": None}
        if found:
            listing = ", ".join(f"{k} {n}" for k, n in found)
            if run.force_clean:
                removed = harness.clean(LEFTOVER_PREFIX)
                entry["reason"] = f"--force-clean removed: {', '.join(removed)}"
            else:
                refusals.append(
                    f"{target.label} ({target.uri}) holds objects left by an earlier "
                    f"conformance run: {listing}"
                )
        run.preflight[target.label] = entry
        try:
            caps = harness.conn.capabilities()
            run.capabilities[target.label] = caps.to_dict()
            run.backend[target.label] = _backend_facts(harness)
        except (VirtError, ConformanceFailure) as exc:
            run.open_errors[target.label] = f"cannot query {target.uri}: {exc}"
    if refusals:
        run.refused = True
        pytest.exit(
            "virtplug-conformance refuses to start: "
            + "; ".join(refusals)
            + ". Remove them, or rerun with --force-clean (removes only 'vpc-' objects).",
            returncode=3,
        )


def _backend_facts(harness: Harness) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    reads: list[tuple[str, str, Callable[[], str]]] = [
        ("type", "connection.type", harness.conn.type),
        ("version", "connection.version", harness.conn.version),
    ]
    for key, op, get in reads:
        if harness.supports(op):
            try:
                facts[key] = get()
            except (VirtError, ConformanceFailure):
                facts[key] = None
    return facts


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Target:
    """The driver under test (parametrised by :func:`pytest_generate_tests`)."""
    value: Target = request.param
    return value


@pytest.fixture(scope="session")
def harness(target: Target, request: pytest.FixtureRequest) -> Harness:
    """The target's harness; skips checks of a target that cannot be certified."""
    run = _run(request.config)
    if run is None:
        pytest.skip("virtplug-conformance is not active (give --virtplug-uri or --virtplug-all)")
    if target.problem is not None:
        pytest.skip(f"not certifiable: {target.problem}")
    if target.label in run.open_errors:
        pytest.fail(run.open_errors[target.label], pytrace=False)
    return run.harness(target)


@pytest.fixture
def vp(harness: Harness) -> Iterator[Case]:
    """One check's case: fresh names, objects in a state, LIFO cleanup at the end."""
    case = Case(harness)
    try:
        yield case
    finally:
        case.finish()


@pytest.fixture(scope="module")
def vp_module(harness: Harness) -> Iterator[Case]:
    """A case shared by the checks of one module (objects they all use)."""
    case = Case(harness)
    try:
        yield case
    finally:
        case.finish()


# -- recording -------------------------------------------------------------------------


def _check_name(item: pytest.Item) -> str:
    func = getattr(item, "function", None)
    if func is None:
        return item.name
    return f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"


def _new_record(item: pytest.Item, target: Target) -> Record:
    positive: list[str] = []
    negative: list[str] = []
    capability = None
    params = item.callspec.params  # type: ignore[attr-defined]
    for mark in item.iter_markers(COVERS_MARK):
        pos, neg = mark.args
        positive += sorted(pos)
        negative += sorted(neg)
    for mark in item.iter_markers(COVERS_EACH_MARK):
        argname, polarity = mark.args
        value = params[argname]
        op = getattr(value, "op", value)
        pol = getattr(value, "polarity", polarity)
        (positive if pol == "positive" else negative).append(op)
    cap_mark = item.get_closest_marker(CAPABILITY_MARK)
    if cap_mark is not None:
        capability = params[cap_mark.args[0]]
    nodeid = item.nodeid
    if "virtplug_conformance/suite/" in nodeid:  # the same in every checkout / install
        nodeid = nodeid.split("virtplug_conformance/suite/", 1)[1]
    return Record(
        target=target.label,
        nodeid=nodeid,
        check=_check_name(item),
        positive=tuple(dict.fromkeys(positive)),
        negative=tuple(dict.fromkeys(negative)),
        capability=capability,
    )


def _message(call: pytest.CallInfo[None]) -> tuple[str, str | None, bool]:
    """(message, operation at fault, is a conformance failure)."""
    if call.excinfo is None:
        return "", None, False
    exc = call.excinfo.value
    if isinstance(exc, pytest.skip.Exception):
        return str(exc.msg), None, False
    if isinstance(exc, ConformanceFailure):
        return str(exc), exc.operation, True
    if isinstance(exc, VirtError):
        op = exc.details.get("operation")
        return (
            f"unexpected {exc.code.name} from {op or 'the driver'}: {exc.message}",
            op if isinstance(op, str) else None,
            True,
        )
    if isinstance(exc, AssertionError):
        return str(exc) or "assertion failed", None, True
    return f"{type(exc).__name__}: {exc}", None, False


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Record each phase's outcome against the item's target and operations."""
    report = yield
    run = _run(item.config)
    target = _target_of(item)
    if run is None or target is None:
        return report
    span = run.timing.setdefault(target.label, [report.start, report.stop])
    span[0], span[1] = min(span[0], report.start), max(span[1], report.stop)
    rec = run.records.get(item.nodeid)
    if rec is None:
        rec = run.records[item.nodeid] = _new_record(item, target)
    message, at_fault, violation = _message(call)
    if report.when == "setup":
        if report.skipped:
            rec.outcome, rec.message = "skipped", message
        elif report.failed:
            rec.outcome, rec.message, rec.at_fault = "error", f"setup: {message}", at_fault
    elif report.when == "call":
        if report.skipped:
            rec.outcome, rec.message = "skipped", message
        elif report.failed:
            rec.outcome = "failed" if violation else "error"
            rec.message, rec.at_fault = message, at_fault
        else:
            rec.outcome = "passed"
    elif report.when == "teardown" and report.failed and rec.outcome in ("passed", "skipped"):
        rec.outcome = "failed" if violation else "error"
        rec.message, rec.at_fault = f"teardown: {message}", at_fault
    return report


# -- the end of the run ------------------------------------------------------------------


def _run_checks(run: Run, target: Target, records: list[Record]) -> dict[str, dict[str, Any]]:
    gaps = missing_coverage()
    checks: dict[str, dict[str, Any]] = {
        "profile": {
            "outcome": "passed" if target.problem is None else "failed",
            "reason": target.problem,
        },
        "connect": {
            "outcome": "failed" if target.label in run.open_errors else "passed",
            "reason": run.open_errors.get(target.label),
        },
        "preflight": run.preflight.get(
            target.label, {"outcome": "failed", "reason": "preflight did not run"}
        ),
        "coverage": {
            "outcome": "failed" if gaps else "passed",
            "reason": "; ".join(gaps) if gaps else None,
        },
    }
    leak = [r for r in records if r.check.endswith("test_no_prefixed_objects_left")]
    if not leak:
        checks["leak"] = {"outcome": "failed", "reason": "the leak check did not run"}
    else:
        ok = leak[0].outcome == "passed"
        checks["leak"] = {
            "outcome": "passed" if ok else "failed",
            "reason": leak[0].message or None,
        }
    hung = run.harnesses[target.label].deadline.hung if target.label in run.harnesses else []
    checks["deadlines"] = {
        "outcome": "failed" if hung else "passed",
        "reason": f"calls that never returned: {', '.join(hung)}" if hung else None,
    }
    return checks


def _certificate_path(template: str, target: Target, many: bool) -> pathlib.Path:
    if "{driver}" in template:
        return pathlib.Path(template.replace("{driver}", target.label))
    path = pathlib.Path(template)
    if many:
        return path.with_name(f"{path.stem}-{target.label}{path.suffix}")
    return path


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Compute outcomes, write certificates and the matrix, close the harnesses."""
    run = _run(session.config)
    if run is None or session.config.option.collectonly:
        return
    if run.refused:  # nothing ran: no certificate
        for opened in run.harnesses.values():
            opened.close()
        if run.own_workdir:
            shutil.rmtree(run.workdir, ignore_errors=True)
        return
    finished = time.time()
    coverage = coverage_by_operation()
    for target in run.targets:
        records = [r for r in run.records.values() if r.target == target.label]
        harness = run.harnesses.get(target.label)
        caps = run.capabilities.get(target.label)
        problem = target.problem or run.open_errors.get(target.label)
        operations = compute_operations(
            records,
            caps if problem is None else None,
            harness.violations if harness else None,
            problem=problem,
        )
        checks = _run_checks(run, target, records)
        span = run.timing.get(target.label, [run.started, finished])
        entry = target.entry
        doc = cert.build(
            driver={
                "name": target.driver,
                "distribution": entry.distribution if entry else None,
                "version": entry.version if entry else None,
                "uri": target.uri,
                "notes": target.profile.notes if target.profile else None,
            },
            backend=run.backend.get(target.label),
            operations=operations,
            checks=checks,
            totals=totals(operations, records),
            coverage=coverage,
            run={
                "started": _iso(span[0]),
                "finished": _iso(span[1]),
                "duration_s": round(span[1] - span[0], 3),
                "prefix": run.prefix,
                "timeout_s": target.timeout,
                "failures": [
                    {"check": r.nodeid, "outcome": r.outcome, "message": r.message[:500]}
                    for r in records
                    if r.outcome in ("failed", "error")
                ][:200],
            },
        )
        run.certificates[target.label] = doc
        if run.certificate:
            path = _certificate_path(run.certificate, target, len(run.targets) > 1)
            cert.write(doc, path)
            run.certificate_paths[target.label] = path
    for harness in run.harnesses.values():
        harness.close()
    if run.matrix and run.certificates:
        matrix_mod.write(list(run.certificates.values()), pathlib.Path(run.matrix))
    clean = all(d["checks"]["leak"]["outcome"] == "passed" for d in run.certificates.values())
    if run.own_workdir and clean:  # keep it for a post-mortem when something leaked
        shutil.rmtree(run.workdir, ignore_errors=True)
    failing = any(not d["result"]["passed"] for d in run.certificates.values())
    if (failing or not run.targets) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _iso(stamp: float) -> str:
    return datetime.datetime.fromtimestamp(stamp, datetime.UTC).isoformat(timespec="seconds")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print one line per driver: level, outcome counts, and the failing operations."""
    run = _run(config)
    if run is None or not run.certificates:
        if run is not None and not run.targets:
            terminalreporter.write_line("virtplug-conformance: no drivers found", red=True)
        return
    terminalreporter.section("virtplug conformance")
    for label, doc in run.certificates.items():
        t = doc["totals"]
        ok = doc["result"]["passed"]
        terminalreporter.write_line(
            f"{label}: {'PASSED' if ok else 'FAILED'} level={doc['result']['level']} "
            f"operations: {t['passed']} passed, {t['unsupported']} unsupported, "
            f"{t['failed']} failed, {t['error']} error, {t['undeclared']} undeclared "
            f"({doc['run']['duration_s']} s)",
            green=ok,
            red=not ok,
        )
        for op, entry in doc["operations"].items():
            if entry["outcome"] in ("failed", "error", "undeclared"):
                terminalreporter.write_line(f"    {op}: {entry['outcome']}: {entry['reason']}")
        for name, check in doc["checks"].items():
            if check["outcome"] != "passed":
                terminalreporter.write_line(f"    run check {name}: failed: {check['reason']}")
        if label in run.certificate_paths:
            terminalreporter.write_line(f"    certificate: {run.certificate_paths[label]}")
    if run.matrix:
        terminalreporter.write_line(f"support matrix: {run.matrix}")


def version_info() -> str:
    """``virtplug-conformance X (core Y)``."""
    return f"virtplug-conformance {cert.suite_version()} (virtplug {virtplug.__version__})"
