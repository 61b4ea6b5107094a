"""``virtplug-conformance``: certify drivers, verify certificates, build the support matrix.

::

    virtplug-conformance [--uri URI ...] [--junitxml FILE] [--certificate FILE]
                         [--matrix FILE] [--timeout S] [--force-clean] [-- PYTEST-ARGS]
    virtplug-conformance verify CERT.json [CERT.json ...]
    virtplug-conformance matrix CERT.json|DIR ... -o FILE(.md|.html)

Exit codes: 0 every selected driver passed; 1 a driver failed (or a
certificate is invalid); 2 usage error; 3 refused to start (leftovers from an
earlier run; see ``--force-clean``); 4 no driver found.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Any

import pytest

from virtplug_conformance import certificate as cert
from virtplug_conformance import matrix as matrix_mod

__all__ = ["main", "run"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_NO_DRIVERS = 4


class _Collector:
    """Receives the run's certificates from the plugin at the end of the session."""

    def __init__(self) -> None:
        self.certificates: dict[str, dict[str, Any]] = {}
        self.targets: list[str] = []

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Copy the certificates out of the finished run."""
        from virtplug_conformance.plugin import RUN_KEY

        run = config.stash.get(RUN_KEY, None)
        if run is not None:
            self.certificates = dict(run.certificates)
            self.targets = [t.label for t in run.targets]


def run(
    uris: Sequence[str] = (),
    *,
    drivers: Sequence[str] = (),
    junitxml: str | None = "virtplug-conformance-junit.xml",
    certificate: str | None = "virtplug-certificate-{driver}.json",
    matrix: str | None = None,
    timeout: float | None = None,
    force_clean: bool = False,
    workdir: str | None = None,
    pytest_args: Sequence[str] = (),
    quiet: bool = True,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run the suite in this process; return the pytest exit code and the certificates.

    *drivers* names drivers to certify at their profile's URI. With neither,
    every installed driver is certified at its profile's URI.
    """
    from virtplug_conformance.plugin import SUITE_DIR

    # xunit1: each <testcase> carries <properties> (driver, operations covered)
    args = [str(SUITE_DIR), "-p", "no:cacheprovider", "-o", "junit_family=xunit1"]
    if quiet:
        args.append("-q")
    for uri in uris:
        args += ["--virtplug-uri", uri]
    for name in drivers:
        args += ["--virtplug-driver", name]
    if not uris and not drivers:
        args.append("--virtplug-all")
    if junitxml:
        args += ["--junitxml", junitxml]
    if certificate:
        args += ["--virtplug-certificate", certificate]
    if matrix:
        args += ["--virtplug-matrix", matrix]
    if timeout is not None:
        args += ["--virtplug-timeout", str(timeout)]
    if force_clean:
        args.append("--virtplug-force-clean")
    if workdir:
        args += ["--virtplug-workdir", workdir]
    args += list(pytest_args)
    collector = _Collector()
    code = pytest.main(args, plugins=[collector])
    return int(code), collector.certificates


def _cmd_run(ns: argparse.Namespace, argv: Sequence[str]) -> int:
    """Run the suite in a child process, so that even a frozen process is diagnosed."""
    import virtplug

    if ns.in_process:
        return _run_here(ns)
    if not ns.uri and not ns.driver:
        found = virtplug.installed_drivers()
        if not found:
            print("virtplug-conformance: no virtplug drivers are installed", file=sys.stderr)
            return EXIT_NO_DRIVERS
        print(
            "virtplug-conformance: found drivers: "
            + ", ".join(f"{e.name} ({e.distribution} {e.version})" for e in found),
            flush=True,
        )
    own = not ns.workdir
    workdir = pathlib.Path(ns.workdir or tempfile.mkdtemp(prefix="virtplug-conformance-"))
    child = [sys.executable, "-m", "virtplug_conformance.cli", "--in-process"]
    child += [a for a in argv if a not in ("--in-process",)]
    if own:
        child += ["--workdir", str(workdir)]
    code = subprocess.run(child, check=False).returncode
    from virtplug_conformance.plugin import PROGRESS_FILE, WATCHDOG_FILE

    dump = workdir / WATCHDOG_FILE
    if dump.is_file() and dump.stat().st_size:
        return _report_frozen(ns, workdir, dump, workdir / PROGRESS_FILE)
    if own and code == EXIT_OK:
        shutil.rmtree(workdir, ignore_errors=True)
    return code


def _report_frozen(
    ns: argparse.Namespace, workdir: pathlib.Path, dump: pathlib.Path, progress: pathlib.Path
) -> int:
    """The watchdog fired: name the check, show where every thread was, write JUnit XML."""
    check = progress.read_text(encoding="utf-8").strip() if progress.is_file() else "unknown"
    threads = dump.read_text(encoding="utf-8", errors="replace")
    message = (
        f"the conformance run was aborted: the process stopped making progress in check "
        f"{check} (a driver call blocking while holding the GIL freezes every thread, so "
        f"the per-call deadline cannot fire). No certificate was written. Tracebacks of "
        f"all threads ({dump}):"
    )
    print(f"virtplug-conformance: FAILED: {message}\n{threads}", file=sys.stderr)
    if ns.junitxml:
        root = ET.Element("testsuites")
        suite = ET.SubElement(
            root, "testsuite", name="virtplug-conformance", tests="1", failures="1", errors="0"
        )
        classname, _, name = check.rpartition("::")
        case = ET.SubElement(suite, "testcase", classname=classname or "run", name=name or check)
        failure = ET.SubElement(case, "failure", message="hung driver: process frozen")
        failure.text = message + "\n" + threads
        ET.ElementTree(root).write(ns.junitxml, encoding="utf-8", xml_declaration=True)
    print(f"virtplug-conformance: work directory kept for inspection: {workdir}", file=sys.stderr)
    return EXIT_FAILED


def _run_here(ns: argparse.Namespace) -> int:
    code, certs = run(
        ns.uri,
        drivers=ns.driver,
        junitxml=ns.junitxml,
        certificate=ns.certificate,
        matrix=ns.matrix,
        timeout=ns.timeout,
        force_clean=ns.force_clean,
        workdir=ns.workdir,
        pytest_args=ns.pytest_args,
        quiet=not ns.verbose,
    )
    if code == EXIT_REFUSED:
        return EXIT_REFUSED
    if not certs:
        return EXIT_FAILED if code else EXIT_NO_DRIVERS
    if code == pytest.ExitCode.INTERRUPTED or code == pytest.ExitCode.INTERNAL_ERROR:
        return EXIT_FAILED
    return (
        EXIT_OK if code == 0 and all(d["result"]["passed"] for d in certs.values()) else EXIT_FAILED
    )


def _cmd_verify(ns: argparse.Namespace) -> int:
    status = EXIT_OK
    current = cert.suite_hash()
    for name in ns.certificates:
        path = pathlib.Path(name)
        try:
            doc = cert.load(path)
        except (OSError, ValueError) as exc:
            print(f"{path}: INVALID: {exc}")
            status = EXIT_FAILED
            continue
        problems = cert.verify(doc)
        if problems:
            status = EXIT_FAILED
            print(f"{path}: INVALID")
            for p in problems:
                print(f"  - {p}")
            continue
        d = doc["driver"]
        print(
            f"{path}: valid: driver {d['name']} ({d.get('distribution')} {d.get('version')}) "
            f"at {d['uri']}: {'PASSED' if doc['result']['passed'] else 'FAILED'}, "
            f"level {doc['result']['level']}"
        )
        same = doc["suite"].get("content_hash") == current
        print(
            f"  suite {doc['suite']['version']} "
            + ("(same source as the installed suite)" if same else "(a different suite source)")
        )
        missing = cert.operations_known_to_this_core(doc)
        if missing:
            print(f"  note: the installed core has operations it does not cover: {missing}")
    return status


def _certificate_files(inputs: Sequence[str]) -> list[pathlib.Path]:
    files: list[pathlib.Path] = []
    for name in inputs:
        path = pathlib.Path(name)
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    return files


def _cmd_matrix(ns: argparse.Namespace) -> int:
    docs = []
    status = EXIT_OK
    for path in _certificate_files(ns.certificates):
        try:
            doc = cert.load(path)
        except (OSError, ValueError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        problems = cert.verify(doc)
        if problems:
            print(f"{path}: skipped, invalid: {'; '.join(problems)}", file=sys.stderr)
            status = EXIT_FAILED
            continue
        docs.append(doc)
    out = pathlib.Path(ns.output)
    matrix_mod.write(docs, out)
    print(f"wrote {out} from {len(docs)} certificate(s)")
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="virtplug-conformance",
        description="Certify virtplug drivers (every installed driver when no --uri is given).",
    )
    parser.add_argument("--uri", action="append", default=[], help="driver URI (repeatable)")
    parser.add_argument(
        "--driver",
        action="append",
        default=[],
        help="driver name, certified at its profile's URI (repeatable)",
    )
    parser.add_argument(
        "--junitxml", default="virtplug-conformance-junit.xml", help="JUnit XML report file"
    )
    parser.add_argument(
        "--certificate",
        default="virtplug-certificate-{driver}.json",
        help="certificate file; '{driver}' is replaced by the driver name",
    )
    parser.add_argument("--matrix", help="also write the support matrix (.md or .html)")
    parser.add_argument("--timeout", type=float, help="seconds each driver call may take")
    parser.add_argument(
        "--force-clean",
        action="store_true",
        help="remove 'vpc-' objects left by an earlier run instead of refusing to start",
    )
    parser.add_argument("--workdir", help="work directory (default: a fresh temporary one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="pytest's verbose output")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``virtplug-conformance`` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "verify":
        p = argparse.ArgumentParser(prog="virtplug-conformance verify")
        p.add_argument("certificates", nargs="+", metavar="CERT.json")
        return _cmd_verify(p.parse_args(args[1:]))
    if args and args[0] == "matrix":
        p = argparse.ArgumentParser(prog="virtplug-conformance matrix")
        p.add_argument("certificates", nargs="+", metavar="CERT.json|DIR")
        p.add_argument("-o", "--output", required=True, help="FILE.md or FILE.html")
        return _cmd_matrix(p.parse_args(args[1:]))
    return _cmd_run(_parser().parse_args(args), args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
