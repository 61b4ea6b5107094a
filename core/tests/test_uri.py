"""Connection URI parsing."""

from __future__ import annotations

import pytest

from virtplug.errors import InvalidArgError
from virtplug.uri import default_uri, parse_uri


def test_local_uri() -> None:
    uri = parse_uri("test:///default")
    assert (uri.driver, uri.transport, uri.host, uri.port, uri.path) == (
        "test",
        None,
        None,
        None,
        "/default",
    )
    assert uri.is_local and uri.scheme == "test" and str(uri) == "test:///default"


def test_remote_uri_with_params() -> None:
    uri = parse_uri("docker+tcp://admin@127.0.0.1:2376/?tlsca=/ca.pem&tlsverify=1&x=a&x=b")
    assert uri.driver == "docker" and uri.transport == "tcp" and uri.scheme == "docker+tcp"
    assert uri.user == "admin" and uri.host == "127.0.0.1" and uri.port == 2376
    assert uri.path == "/" and uri.param("tlsca") == "/ca.pem"
    assert uri.flag("tlsverify") and not uri.flag("missing")
    assert uri.param("x") == "b" and uri.param("nope", "d") == "d"


def test_empty_path_is_root() -> None:
    assert parse_uri("docker://").path == "/"


def test_scheme_is_case_insensitive() -> None:
    assert parse_uri("TEST:///default").driver == "test"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "default",
        "test:/default",
        "1test:///x",
        "te st:///x",
        "test:///a/../etc",
        "docker+tcp://host:99999/",
        "test:///x\n",
        "a" * 5000 + ":///",
    ],
)
def test_bad_uris(bad: str) -> None:
    with pytest.raises(InvalidArgError) as info:
        parse_uri(bad)
    assert info.value.code == 8
    assert "URI" in info.value.message


def test_default_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIRTPLUG_DEFAULT_URI", raising=False)
    assert default_uri() is None
    monkeypatch.setenv("VIRTPLUG_DEFAULT_URI", " test:///default ")
    assert default_uri() == "test:///default"
