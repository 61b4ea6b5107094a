"""virtplug.records: the frozen value classes every model is built on."""

from __future__ import annotations

import copy
import pickle
import weakref

import pytest

from virtplug import models, records
from virtplug.records import FrozenInstanceError, evolve, field, record


@record
class Mount:
    """A test record with every kind of field."""

    source: str
    target: str = "/"
    options: tuple[str, ...] = ()
    seen: list[str] = field(factory=list, eq=False)
    secret: str = field(default="", repr=False)

    @property
    def is_root(self) -> bool:
        return self.target == "/"

    def me(self) -> type:
        return __class__  # type: ignore[name-defined]


@record
class Empty:
    """A record without fields."""


@record
class Outer:
    name: str
    mounts: tuple[Mount, ...] = ()
    labels: dict[str, Mount] = field(factory=dict)


def test_init_positional_keyword_and_defaults() -> None:
    m = Mount("/src")
    assert (m.source, m.target, m.options, m.seen, m.secret) == ("/src", "/", (), [], "")
    assert Mount("/a", "/b", ("ro",)) == Mount(source="/a", target="/b", options=("ro",))
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'source'"):
        Mount()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        Mount("/a", bogus=1)  # type: ignore[call-arg]


def test_factory_runs_per_instance_unless_given() -> None:
    a, b = Mount("/a"), Mount("/a")
    assert a.seen == [] and a.seen is not b.seen
    given = ["x"]
    assert Mount("/a", seen=given).seen is given


def test_equality_and_hash_follow_eq_fields_only() -> None:
    a = Mount("/a", seen=["one"])
    b = Mount("/a", seen=["two"])
    assert a == b and hash(a) == hash(b)
    assert a != Mount("/a", target="/mnt")
    assert Mount("/a") != Outer("/a")
    assert (Mount("/a") == "/a") is False
    assert len({Mount("/a"), Mount("/a"), Mount("/b")}) == 2
    assert Empty() == Empty() and hash(Empty()) == hash(Empty())


def test_repr_hides_repr_false_fields() -> None:
    text = repr(Mount("/a", secret="hunter2"))
    assert text == "Mount(source='/a', target='/', options=(), seen=[])"
    assert "hunter2" not in text
    assert repr(Empty()) == "Empty()"


def test_frozen() -> None:
    m = Mount("/a")
    with pytest.raises(FrozenInstanceError, match="source"):
        m.source = "/b"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del m.target  # type: ignore[misc]
    with pytest.raises(AttributeError):
        m.other = 1  # type: ignore[attr-defined]
    assert m.source == "/a"
    assert not hasattr(m, "__dict__")


def test_evolve_builds_a_new_record_through_init() -> None:
    m = Mount("/a", options=("ro",))
    n = evolve(m, target="/mnt")
    assert n == Mount("/a", "/mnt", ("ro",)) and m.target == "/"
    with pytest.raises(TypeError, match="unexpected keyword argument 'nope'"):
        evolve(m, nope=1)
    with pytest.raises(TypeError, match="needs a record"):
        evolve(object())
    assert models.evolve is evolve


def test_fields_has_asdict() -> None:
    names = [f.name for f in records.fields(Mount)]
    assert names == ["source", "target", "options", "seen", "secret"]
    seen = records.fields(Mount)[3]
    assert seen.factory is list and seen.eq is False and seen.has_default
    assert records.fields(Mount)[0].default is records.NOTHING
    assert records.fields(Mount)[0].type == "str"
    assert records.has(Mount) and not records.has(int) and not records.has(Mount("/a"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        records.fields(int)
    outer = Outer("o", (Mount("/a", options=("ro",)),), {"k": Mount("/b")})
    assert records.asdict(outer) == {
        "name": "o",
        "mounts": [{"source": "/a", "target": "/", "options": ["ro"], "seen": [], "secret": ""}],
        "labels": {"k": {"source": "/b", "target": "/", "options": [], "seen": [], "secret": ""}},
    }
    with pytest.raises(TypeError):
        records.asdict({"not": "a record"})


def test_pickle_copy_weakref_match() -> None:
    m = Mount("/a", options=("ro",), seen=["x"], secret="s")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(m, protocol))
        assert back == m and back.seen == ["x"] and back.secret == "s"
    deep = copy.deepcopy(m)
    assert deep == m and deep.seen is not m.seen
    assert copy.copy(m) == m
    assert weakref.ref(m)() is m
    match m:
        case Mount(source, target):
            assert (source, target) == ("/a", "/")
        case _:
            pytest.fail("match_args")


def test_methods_properties_and_class_cell_survive_rebuild() -> None:
    assert Mount("/a").is_root and not Mount("/a", "/b").is_root
    assert Mount("/a").me() is Mount
    assert Mount.__doc__ == "A test record with every kind of field."
    assert Mount.__qualname__ == "Mount" and Mount.__init__.__qualname__ == "Mount.__init__"


def test_declaration_errors() -> None:
    with pytest.raises(TypeError, match="without a default follows"):

        @record
        class Bad:
            a: int = 1
            b: int

    with pytest.raises(TypeError, match="may not have base classes"):

        @record
        class Child(Mount):  # type: ignore[misc]
            extra: int = 0

    with pytest.raises(TypeError, match="not both"):
        field(default=1, factory=list)


def test_classvar_annotations_are_not_fields() -> None:
    from typing import ClassVar

    @record
    class WithClassVar:
        kind: ClassVar[str] = "k"
        value: int = 0

    assert [f.name for f in records.fields(WithClassVar)] == ["value"]
    assert WithClassVar.kind == "k"


def test_models_are_records_with_the_documented_semantics() -> None:
    config = models.DomainConfig(name="a", unknown=("x",))
    assert records.has(models.DomainConfig)
    assert config == models.DomainConfig(name="a")  # unknown is eq=False
    assert config.os == models.OSConfig() and config.os is not models.DomainConfig("b").os
    event = models.Event(models.EventKind.DOMAIN, "a", "", 0)
    assert event.timestamp > 0
    assert "password" not in repr(models.Credentials(username="u", password="p"))


def test_post_init_runs_after_the_fields_are_set() -> None:
    @record
    class Port:
        number: int
        proto: str = "tcp"

        def __post_init__(self) -> None:
            if not 0 < self.number < 65536:
                raise ValueError(f"bad port {self.number}")

    assert Port(80).proto == "tcp"
    with pytest.raises(ValueError, match="bad port 0"):
        Port(0)
    with pytest.raises(ValueError, match="bad port 70000"):
        evolve(Port(80), number=70000)


def test_type_hints_of_models_resolve() -> None:
    """typing.get_type_hints() works on every model (drivers use it to load stored models)."""
    import typing

    for name in dir(models):
        cls = getattr(models, name)
        if isinstance(cls, type) and records.has(cls):
            hints = typing.get_type_hints(cls)
            assert {f.name for f in records.fields(cls)} <= set(hints), name
