"""The command set the test driver simulates inside a running domain.

A test-driver domain has no processes; ``exec`` answers a small, documented set
of commands from the domain's configuration so scripts and the conformance
suite can rehearse ``dom.exec(argv)``:

==========================  ===================================================
``true`` / ``false``        exit 0 / exit 1
``echo [-n] ARGS...``       the arguments joined by spaces (``-n``: no newline)
``hostname``                the domain's name
``pwd``                     ``<initdir>`` or ``/``
``env``                     ``PATH``, ``HOSTNAME``, ``HOME``, then ``<initenv>``
``cat FILE...``             ``/etc/hostname``, ``/etc/os-release``; others: exit 1
``id [-u|-g|-n]``           ``uid=0(root) gid=0(root) groups=0(root)``
``uname [-s|-n|-m|-a]``     ``Linux``, the name, ``x86_64``
``sleep N``                 waits N seconds (``OperationTimeoutError`` past the
                            timeout, without waiting longer than it)
``sh -c SCRIPT``            ``exit N``, or one simple command of this table
==========================  ===================================================

A program may be named by its absolute path (``/bin/echo``). Anything else
exits 127 with ``sh: NAME: not found`` on stderr, as a shell would.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from virtplug.errors import OperationTimeoutError
from virtplug.models import DomainConfig, ExecResult

__all__ = ["COMMANDS", "run"]

_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_OS_RELEASE = 'NAME="virtplug test"\nID=virtplug-test\nPRETTY_NAME="virtplug test driver guest"\n'

_Handler = Callable[[DomainConfig, Sequence[str], float | None], ExecResult]


def _ok(text: str) -> ExecResult:
    return ExecResult(0, text.encode(), b"")


def _fail(code: int, err: str) -> ExecResult:
    return ExecResult(code, b"", err.encode())


def _true(_cfg: DomainConfig, _args: Sequence[str], _t: float | None) -> ExecResult:
    return ExecResult(0)


def _false(_cfg: DomainConfig, _args: Sequence[str], _t: float | None) -> ExecResult:
    return ExecResult(1)


def _echo(_cfg: DomainConfig, args: Sequence[str], _t: float | None) -> ExecResult:
    newline = True
    if args and args[0] == "-n":
        newline, args = False, args[1:]
    return _ok(" ".join(args) + ("\n" if newline else ""))


def _hostname(cfg: DomainConfig, _args: Sequence[str], _t: float | None) -> ExecResult:
    return _ok(cfg.name + "\n")


def _pwd(cfg: DomainConfig, _args: Sequence[str], _t: float | None) -> ExecResult:
    return _ok((cfg.os.initdir or "/") + "\n")


def _env_pairs(cfg: DomainConfig) -> list[tuple[str, str]]:
    pairs = [("PATH", _PATH), ("HOSTNAME", cfg.name), ("HOME", "/root")]
    names = {k for k, _ in cfg.os.initenv}
    pairs = [(k, v) for k, v in pairs if k not in names]
    return pairs + list(cfg.os.initenv)


def _env(cfg: DomainConfig, _args: Sequence[str], _t: float | None) -> ExecResult:
    return _ok("".join(f"{k}={v}\n" for k, v in _env_pairs(cfg)))


def _cat(cfg: DomainConfig, args: Sequence[str], _t: float | None) -> ExecResult:
    files = {"/etc/hostname": cfg.name + "\n", "/etc/os-release": _OS_RELEASE}
    out: list[str] = []
    err: list[str] = []
    for path in args:
        if path in files:
            out.append(files[path])
        else:
            err.append(f"cat: {path}: No such file or directory\n")
    return ExecResult(1 if err else 0, "".join(out).encode(), "".join(err).encode())


def _id(_cfg: DomainConfig, args: Sequence[str], _t: float | None) -> ExecResult:
    if args in (["-u"], ["-g"]):
        return _ok("0\n")
    if args in (["-un"], ["-n", "-u"], ["-u", "-n"]):
        return _ok("root\n")
    if args:
        return _fail(1, f"id: unsupported arguments: {' '.join(args)}\n")
    return _ok("uid=0(root) gid=0(root) groups=0(root)\n")


def _uname(cfg: DomainConfig, args: Sequence[str], _t: float | None) -> ExecResult:
    arch = cfg.os.arch or "x86_64"
    table = {"-s": "Linux", "-n": cfg.name, "-m": arch}
    if not args:
        return _ok("Linux\n")
    if args == ["-a"]:
        return _ok(f"Linux {cfg.name} 6.1.0-virtplug-test #1 SMP {arch} GNU/Linux\n")
    parts: list[str] = []
    for arg in args:
        if arg not in table:
            return _fail(1, f"uname: invalid option -- '{arg.lstrip('-')}'\n")
        parts.append(table[arg])
    return _ok(" ".join(parts) + "\n")


def _sleep(_cfg: DomainConfig, args: Sequence[str], timeout: float | None) -> ExecResult:
    try:
        (seconds,) = (float(a) for a in args)
    except ValueError:
        return _fail(1, "sleep: invalid time interval\n")
    if seconds < 0:
        return _fail(1, "sleep: invalid time interval\n")
    if timeout is not None and seconds > timeout:
        time.sleep(max(timeout, 0.0))
        raise OperationTimeoutError(
            f"command 'sleep {args[0]}' did not finish within {timeout} seconds"
        )
    time.sleep(seconds)
    return ExecResult(0)


def _sh(cfg: DomainConfig, args: Sequence[str], timeout: float | None) -> ExecResult:
    if len(args) < 2 or args[0] != "-c":
        return _fail(2, "sh: only 'sh -c SCRIPT' is simulated\n")
    try:
        import shlex

        words = shlex.split(args[1])
    except ValueError as exc:
        return _fail(2, f"sh: syntax error: {exc}\n")
    if not words:
        return ExecResult(0)
    if words[0] == "exit":
        if len(words) == 1:
            return ExecResult(0)
        try:
            return ExecResult(int(words[1]) & 0xFF)
        except ValueError:
            return _fail(2, f"sh: exit: Illegal number: {words[1]}\n")
    return run(cfg, words, timeout)


#: The simulated programs, by name.
COMMANDS: dict[str, _Handler] = {
    "true": _true,
    "false": _false,
    "echo": _echo,
    "hostname": _hostname,
    "pwd": _pwd,
    "env": _env,
    "cat": _cat,
    "id": _id,
    "uname": _uname,
    "sleep": _sleep,
    "sh": _sh,
}

_BIN_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/")


def run(config: DomainConfig, argv: Sequence[str], timeout: float | None) -> ExecResult:
    """Simulate *argv* in a domain configured by *config*.

    :param config: the domain's live configuration (name, ``<initenv>``, ``<initdir>``).
    :param argv: program and arguments.
    :param timeout: seconds the caller waits at most (``None``: no limit).
    :returns: the exit code, stdout and stderr the command would produce.
    :raises OperationTimeoutError: ``sleep`` longer than *timeout*.
    """
    program = argv[0]
    name = program
    for prefix in _BIN_DIRS:
        if program.startswith(prefix):
            name = program[len(prefix) :]
            break
    handler = COMMANDS.get(name)
    if handler is None:
        return _fail(127, f"sh: {program}: not found\n")
    return handler(config, list(argv[1:]), timeout)
