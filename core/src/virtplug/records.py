"""Frozen value records: the part of ``attrs`` that virtplug's models use, at no import cost.

Every model in :mod:`virtplug.models` is a *record*: a slotted, immutable class
with an ``__init__`` taking its fields in declaration order, value equality,
hashing, a readable ``repr``, pickling and ``__match_args__``. Declare one the
way you would declare an ``attrs.frozen`` class::

    from virtplug.records import field, record

    @record
    class Mount:
        source: str
        target: str
        readonly: bool = False
        options: tuple[str, ...] = field(default=(), eq=False)

and change one with :func:`evolve`, which builds a new record::

    rw = evolve(mount, readonly=False)

Why not ``attrs`` itself: importing attrs and letting it generate the methods of
forty classes costs about 40 ms, a quarter of a short CLI run. A record builds
one small ``__init__`` per class and shares every other method. Type checkers
understand records through :func:`typing.dataclass_transform`.
"""

from __future__ import annotations

from collections.abc import Callable  # at run time: typing.get_type_hints() of a record needs it
from operator import attrgetter
from types import CodeType, FunctionType
from typing import Any, TypeVar, dataclass_transform

__all__ = [
    "NOTHING",
    "Field",
    "FrozenInstanceError",
    "asdict",
    "evolve",
    "field",
    "fields",
    "has",
    "record",
]

_T = TypeVar("_T")


class _Nothing:
    """The sentinel type of :data:`NOTHING`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NOTHING"

    def __reduce__(self) -> str:
        return "NOTHING"


#: Marks a field without a default.
NOTHING: Any = _Nothing()


class FrozenInstanceError(AttributeError):
    """Raised when code assigns to, or deletes, a field of a record."""


class Field:
    """One field of a record, as :func:`fields` reports it.

    :ivar name: the attribute name (also the ``__init__`` parameter).
    :ivar type: the annotation, as written (a string under postponed evaluation).
    :ivar default: the default value, or :data:`NOTHING`.
    :ivar factory: a callable making the default, or ``None``.
    :ivar eq: whether the field takes part in equality and hashing.
    :ivar repr: whether the field appears in ``repr()``.
    """

    __slots__ = ("default", "eq", "factory", "name", "repr", "type")

    def __init__(
        self,
        name: str,
        type: Any = None,
        *,
        default: Any = NOTHING,
        factory: Callable[[], Any] | None = None,
        eq: bool = True,
        repr: bool = True,
    ) -> None:
        if default is not NOTHING and factory is not None:
            raise TypeError("a field takes a default or a factory, not both")
        self.name = name
        self.type = type
        self.default = default
        self.factory = factory
        self.eq = eq
        self.repr = repr

    @property
    def has_default(self) -> bool:
        """True when the field may be left out of ``__init__``."""
        return self.default is not NOTHING or self.factory is not None

    def __repr__(self) -> str:
        return (
            f"Field(name={self.name!r}, type={self.type!r}, default={self.default!r}, "
            f"factory={self.factory!r}, eq={self.eq!r}, repr={self.repr!r})"
        )


def field(
    *,
    default: Any = NOTHING,
    factory: Callable[[], Any] | None = None,
    eq: bool = True,
    repr: bool = True,
) -> Any:
    """Declare a field with options, as the right-hand side of an annotated attribute.

    :param default: the default value (must be immutable; use *factory* otherwise).
    :param factory: called with no arguments to make the default, per instance.
    :param eq: include the field in equality and hashing.
    :param repr: include the field in ``repr()``.
    :raises TypeError: both *default* and *factory* are given.
    """
    return Field("", default=default, factory=factory, eq=eq, repr=repr)


class _Record:
    """Methods every record shares (the class-specific ``__init__`` is generated)."""

    __slots__ = ("__weakref__",)
    __record_fields__: tuple[Field, ...] = ()
    # Set per class to plain callables taking the instance (not bound methods).
    __record_values__: Callable[[Any], tuple[Any, ...]]
    __record_key__: Callable[[Any], tuple[Any, ...]]

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r} of a frozen record")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r} of a frozen record")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self.__class__.__record_key__
        return key(self) == key(other)

    def __ne__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self.__class__.__record_key__
        return key(self) != key(other)

    def __hash__(self) -> int:
        return hash((self.__class__.__qualname__, self.__class__.__record_key__(self)))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__ if f.repr
        )
        return f"{self.__class__.__qualname__}({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, self.__class__.__record_values__(self))


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _is_classvar(annotation: Any) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def record(cls: type[_T]) -> type[_T]:
    """Make *cls* a frozen, slotted record of its annotated attributes.

    The class is rebuilt with ``__slots__`` (as ``attrs`` does), so use the
    returned class. A ``__post_init__(self)`` method, if the class has one, runs
    at the end of ``__init__`` (to validate; it cannot assign fields). Fields
    keep declaration order; one without a default may not follow one with a
    default. The class may only derive from ``object``.

    :raises TypeError: a non-default field follows a defaulted one, the class has
        bases, or a field gives both a default and a factory.
    """
    if cls.__bases__ != (object,):
        raise TypeError(f"record {cls.__qualname__} may not have base classes")
    namespace = dict(cls.__dict__)
    namespace.pop("__dict__", None)
    namespace.pop("__weakref__", None)
    annotations: dict[str, Any] = namespace.get("__annotations__", {})
    declared: list[Field] = []
    for name, annotation in annotations.items():
        if _is_classvar(annotation):
            continue
        value = namespace.pop(name, NOTHING)
        if isinstance(value, Field):
            spec = Field(
                name,
                annotation,
                default=value.default,
                factory=value.factory,
                eq=value.eq,
                repr=value.repr,
            )
        else:
            spec = Field(name, annotation, default=value)
        if declared and declared[-1].has_default and not spec.has_default:
            raise TypeError(
                f"record {cls.__qualname__}: field {name!r} without a default "
                f"follows a field with one"
            )
        declared.append(spec)
    names = [f.name for f in declared]
    namespace["__slots__"] = tuple(names)
    namespace["__match_args__"] = tuple(names)
    namespace["__record_fields__"] = tuple(declared)
    new = type(cls.__name__, (_Record,), namespace)
    new.__qualname__ = cls.__qualname__
    new.__record_values__ = _getter(names)  # type: ignore[attr-defined]
    new.__record_key__ = _getter([f.name for f in declared if f.eq])  # type: ignore[attr-defined]
    new.__init__ = _make_init(new, declared)  # type: ignore[misc]
    _rebind_class_cells(namespace, cls, new)
    return new


_NEVER = object()
_templates: dict[tuple[int, bool], CodeType] = {}


def _template(count: int, post_init: bool) -> CodeType:
    # The __init__ of every record with *count* fields is the same bytecode with
    # different parameter names, so it is compiled once per field count and
    # renamed per class (CodeType.replace), which costs microseconds where a
    # compile per class would cost a tenth of a millisecond.
    code = _templates.get((count, post_init))
    if code is None:
        params = ", ".join(["self"] + [f"_{i}" for i in range(count)])
        body = [f"  _s{i}(self, _{i} if _{i} is not _F{i} else _f{i}())" for i in range(count)]
        if post_init:
            body.append("  self.__post_init__()")
        source = f"def __init__({params}):\n" + ("\n".join(body) or "  pass") + "\n"
        code = compile(source, "<virtplug.records>", "exec").co_consts[0]
        _templates[count, post_init] = code
    return code


def _make_init(cls: type[Any], declared: list[Field]) -> Callable[..., None]:
    # Each field is stored through its slot's descriptor (the record's own
    # __setattr__ refuses assignment); a factory runs when its argument was left
    # out, which the NOTHING default marks.
    scope: dict[str, Any] = {}
    defaults: list[Any] = []
    for i, spec in enumerate(declared):
        scope[f"_s{i}"] = cls.__dict__[spec.name].__set__
        if spec.factory is not None:
            scope[f"_F{i}"] = NOTHING
            scope[f"_f{i}"] = spec.factory
            defaults.append(NOTHING)
        else:
            scope[f"_F{i}"] = _NEVER
            if spec.default is not NOTHING:
                defaults.append(spec.default)
    code = _template(len(declared), hasattr(cls, "__post_init__")).replace(
        co_varnames=("self", *(spec.name for spec in declared)),
        co_name="__init__",
        co_qualname=f"{cls.__qualname__}.__init__",
    )
    init: Callable[..., None] = FunctionType(code, scope, "__init__", tuple(defaults) or None)
    init.__module__ = cls.__module__
    return init


def _rebind_class_cells(namespace: dict[str, Any], old: type[Any], new: type[Any]) -> None:
    # Methods using zero-argument super() or __class__ close over the original class.
    for value in namespace.values():
        func = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        for cell in getattr(func, "__closure__", None) or ():
            try:
                if cell.cell_contents is old:
                    cell.cell_contents = new
            except ValueError:  # empty cell
                continue


def has(cls: type[Any]) -> bool:
    """True when *cls* is a record class."""
    return isinstance(cls, type) and issubclass(cls, _Record) and cls is not _Record


def fields(cls: type[Any]) -> tuple[Field, ...]:
    """The fields of record class *cls*, in declaration order.

    :raises TypeError: *cls* is not a record class.
    """
    if not has(cls):
        raise TypeError(f"{cls!r} is not a record class")
    result: tuple[Field, ...] = cls.__record_fields__
    return result


def evolve(inst: _T, **changes: Any) -> _T:
    """Return a copy of record *inst* with *changes* applied (through ``__init__``).

    :raises TypeError: *inst* is not a record, or a change names no field.
    """
    cls = inst.__class__
    if not has(cls):
        raise TypeError(f"evolve() needs a record, not {cls.__name__}")
    names: tuple[str, ...] = cls.__match_args__  # type: ignore[attr-defined]
    values = dict(zip(names, cls.__record_values__(inst), strict=True))  # type: ignore[attr-defined]
    values.update(changes)
    return cls(**values)


def asdict(inst: Any) -> dict[str, Any]:
    """*inst*'s fields as a dict, recursing into records, tuples, lists and dicts.

    Tuples and lists become lists (JSON-shaped); enum members are kept.

    :raises TypeError: *inst* is not a record.
    """
    if not has(inst.__class__):
        raise TypeError(f"asdict() needs a record, not {inst.__class__.__name__}")
    return {spec.name: _plain(getattr(inst, spec.name)) for spec in inst.__record_fields__}


def _plain(value: Any) -> Any:
    if has(value.__class__):
        return asdict(value)
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value
