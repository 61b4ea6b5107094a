"""Connection and node hooks, URIs, the default state, authentication."""

from __future__ import annotations

import pathlib
import socket
from collections.abc import Callable

import pytest
from vt_helpers import domain_xml, expect

import virtplug
from virtplug import DomainState, ErrorCode
from virtplug import xml as codec
from virtplug.errors import InvalidConnectionError
from virtplug.models import Credentials, NodeDocument, NodeInfo
from virtplug.uri import parse_uri
from virtplug_test import DOMAIN_TYPES, TestDriver

E = ErrorCode


def test_open_default_and_identity(conn: virtplug.Connection) -> None:
    assert conn.driver == "test"
    assert conn.type() == "TEST"
    assert conn.version() == "0.1.0"
    assert conn.hostname() == socket.gethostname()
    assert conn.is_alive()
    conn.close()
    assert not conn.is_alive()
    conn.close()  # closing twice is harmless


def test_host_capabilities(conn: virtplug.Connection) -> None:
    caps = conn.host_capabilities()
    assert caps.domain_types == ("test", "docker", "lxc") == DOMAIN_TYPES
    assert caps.os_types == ("exe",)
    assert caps.arch == "i686"
    assert '<domain type="docker"/>' in conn.host_capabilities_xml()


def test_node_info_defaults(conn: virtplug.Connection) -> None:
    assert conn.node_info() == NodeInfo(
        model="i686",
        memory_kib=3 * 1024 * 1024,
        cpus=16,
        mhz=1400,
        nodes=2,
        sockets=2,
        cores=2,
        threads=2,
    )


def test_default_state(conn: virtplug.Connection) -> None:
    assert [d.name for d in conn.list_domains()] == ["test"]
    assert [n.name for n in conn.list_networks()] == ["default"]
    assert [p.name for p in conn.list_pools()] == ["default-pool"]
    dom = conn.lookup_domain("test")
    assert dom.state == DomainState.RUNNING and dom.is_persistent()
    assert dom.id == 1


def test_default_state_shared_and_reset_after_last_close(
    opener: Callable[..., virtplug.Connection],
) -> None:
    first = opener()
    second = opener()
    first.lookup_domain("test").destroy()
    assert second.lookup_domain("test").state == DomainState.SHUTOFF
    first.close()
    assert second.lookup_domain("test").state == DomainState.SHUTOFF
    second.close()
    third = opener()
    assert third.lookup_domain("test").state == DomainState.RUNNING


@pytest.mark.parametrize(
    "uri",
    [
        "test://host/default",
        "test+ssh:///default",
        "test:///default?persist=1",
        "test:///default?bogus=1",
        "test:///",
        "test:///tmp/x.xml?persist=maybe",
    ],
)
def test_bad_uris(uri: str) -> None:
    expect(E.INVALID_ARG, None, lambda: virtplug.open(uri))


def test_missing_state_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "missing.xml"
    err = expect(E.NO_CONNECT, None, lambda: virtplug.open(f"test://{path}"))
    assert str(path) in err.message


def test_malformed_state_file(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bad.xml"
    path.write_text("<node><domain>")
    expect(E.XML_ERROR, None, lambda: virtplug.open(f"test://{path}"))


def test_closed_connection_hooks_refuse() -> None:
    driver = TestDriver()
    handle = driver.virtplug_connection_open(parse_uri("test:///default"), None, False)
    driver.virtplug_connection_close(handle)
    driver.virtplug_connection_close(handle)
    assert driver.virtplug_connection_is_alive(handle) is False
    for hook in (
        driver.virtplug_connection_type,
        driver.virtplug_connection_version,
        driver.virtplug_connection_hostname,
        driver.virtplug_connection_capabilities,
        driver.virtplug_node_info,
        driver.virtplug_node_free_memory,
    ):
        with pytest.raises(InvalidConnectionError):
            hook(handle)
    with pytest.raises(InvalidConnectionError):
        driver.virtplug_connection_watch_events(handle, lambda e: None)


def test_node_document_facts(tmp_path: pathlib.Path) -> None:
    node = NodeInfo(model="x86_64", memory_kib=1024 * 1024, cpus=4)
    path = tmp_path / "node.xml"
    path.write_text(codec.format_node(NodeDocument(node=node)))
    with virtplug.open(f"test://{path}") as conn:
        assert conn.node_info() == node
        assert conn.node_free_memory() == 1024**3
        assert conn.host_capabilities().arch == "x86_64"
        expect(E.INVALID_ARG, None, lambda: conn.define_domain(domain_xml("a", vcpus=5)))


# ---------------------------------------------------------------------------
# authentication
# ---------------------------------------------------------------------------


@pytest.fixture
def auth_uri(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "auth.xml"
    doc = NodeDocument(users=(Credentials("alice", "s3cret"), Credentials("bob", "hunter2")))
    path.write_text(codec.format_node(doc))
    return f"test://{path}"


def test_auth_success(auth_uri: str) -> None:
    seen: list[str] = []

    def callback(uri: str) -> Credentials:
        seen.append(uri)
        return Credentials("bob", "hunter2")

    with virtplug.open(auth_uri, auth=callback) as conn:
        assert conn.list_domains() == []
    assert seen == [auth_uri]
    with virtplug.open(auth_uri, auth=("alice", "s3cret")) as conn:
        assert conn.is_alive()


def test_auth_required(auth_uri: str) -> None:
    expect(E.AUTH_FAILED, "authentication required", lambda: virtplug.open(auth_uri))


def test_auth_wrong_password(auth_uri: str) -> None:
    expect(
        E.AUTH_FAILED,
        "authentication failed for user 'alice'",
        lambda: virtplug.open(auth_uri, auth=("alice", "wrong")),
    )
    expect(E.AUTH_FAILED, None, lambda: virtplug.open(auth_uri, auth=("mallory", "s3cret")))


def test_auth_cancelled(auth_uri: str) -> None:
    expect(
        E.AUTH_CANCELLED,
        "authentication cancelled",
        lambda: virtplug.open(auth_uri, auth=lambda uri: None),
    )


def test_no_users_needs_no_auth(empty_conn: virtplug.Connection) -> None:
    assert empty_conn.is_alive()


def test_auth_callback_returning_garbage(auth_uri: str) -> None:
    expect(E.AUTH_FAILED, None, lambda: virtplug.open(auth_uri, auth=lambda uri: "alice"))  # type: ignore[arg-type,return-value]
