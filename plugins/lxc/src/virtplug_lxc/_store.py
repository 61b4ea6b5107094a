"""JSON files for what LXC's own configuration cannot hold.

The driver keeps, next to each container's LXC ``config`` file, a
``virtplug.json`` with the domain's full :class:`~virtplug.models.DomainConfig`
(so XML round-trips), its UUID, and its persistent / autostart flags.
Networks and storage pools live under ``<lxcpath>/.virtplug/``. Models are
written as plain JSON and read back by walking the records'
field types, so no XML is ever parsed or written by the driver.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import json
import os
import threading
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from virtplug import records

__all__ = ["dump_model", "load_model", "read_json", "write_json", "write_text"]

_T = TypeVar("_T")


def dump_model(obj: Any) -> Any:
    """Turn a model (and nested models, tuples, enums) into JSON-ready data."""
    if records.has(type(obj)):
        return {f.name: dump_model(getattr(obj, f.name)) for f in records.fields(type(obj))}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, tuple | list):
        return [dump_model(item) for item in obj]
    return obj


def _structure(value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _structure(value, arg)
            except (TypeError, ValueError, KeyError):
                continue
        raise ValueError(f"{value!r} fits none of {tp}")
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_structure(v, args[0]) for v in value)
        return tuple(_structure(v, a) for v, a in zip(value, args, strict=True))
    if origin is typing.Literal:
        return value
    if isinstance(tp, type) and records.has(tp):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object for {tp.__name__}")
        return load_model(tp, value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if tp is float and isinstance(value, int):
        return float(value)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise TypeError(f"expected {tp.__name__}, got {type(value).__name__}")
    return value


@functools.cache
def _fields(cls: type[Any]) -> tuple[tuple[str, Any], ...]:
    """(name, resolved type) of every field of *cls* (resolving hints is slow)."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in records.fields(cls))


def load_model(cls: type[_T], data: dict[str, Any]) -> _T:
    """Rebuild a model of class *cls* from :func:`dump_model` output.

    :raises ValueError: the data does not fit the model.
    """
    kwargs: dict[str, Any] = {}
    for field_name, hint in _fields(cls):  # type: ignore[arg-type]
        if field_name in data:
            kwargs[field_name] = _structure(data[field_name], hint)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad {cls.__name__} data: {exc}") from exc


def read_json(path: Path) -> Any:
    """Read a JSON file; ``None`` when it does not exist.

    :raises ValueError: the file is not valid JSON.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return json.loads(text)


def write_json(path: Path, data: Any) -> None:
    """Write *data* as JSON to *path* atomically."""
    write_text(path, json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write *text* to *path* atomically (temporary file + rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
