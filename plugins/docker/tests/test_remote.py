"""TLS, unix socket, ssh, registry access and engine death, against daemons the tests start."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import docker.tls
import pytest
from _backends import dockerd, free_port, make_certs, registry, sshd
from conftest import IMAGE, PREFIX

import virtplug
import virtplug_docker
from virtplug.errors import (
    AuthCancelledError,
    AuthFailedError,
    ErrorCode,
    InvalidArgError,
    NoConnectError,
    OperationTimeoutError,
    VirtError,
)
from virtplug_docker.conformance import DOMAIN_XML


def _uri(port: int, **params: str) -> str:
    return f"docker+tcp://127.0.0.1:{port}/?" + urllib.parse.urlencode(params)


@pytest.fixture(scope="module")
def shortdir() -> Iterator[Path]:
    # short paths: containerd's sockets live under the exec-root (108-byte limit)
    with tempfile.TemporaryDirectory(prefix="vpd-", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture(scope="module")
def tls_engine(shortdir: Path, api: docker.APIClient) -> Iterator[dict[str, object]]:
    certs = make_certs(shortdir / "certs")
    port = free_port()
    tls = docker.tls.TLSConfig(
        client_cert=(str(certs["client_cert"]), str(certs["client_key"])),
        ca_cert=str(certs["ca"]),
        verify=str(certs["ca"]),
    )
    client = docker.APIClient(base_url=f"https://127.0.0.1:{port}", tls=tls, version="1.41")
    client.trust_env = False  # REQUESTS_CA_BUNDLE would override the test CA
    extra = [
        "--tlsverify",
        f"--tlscacert={certs['ca']}",
        f"--tlscert={certs['server_cert']}",
        f"--tlskey={certs['server_key']}",
    ]
    with dockerd(shortdir / "tls", [f"tcp://127.0.0.1:{port}"], extra, client=client):
        yield {"port": port, **certs}


def test_tls_verified(tls_engine: dict[str, object]) -> None:
    t = tls_engine
    uri = _uri(
        int(t["port"]),
        tlsca=str(t["ca"]),
        tlscert=str(t["client_cert"]),
        tlskey=str(t["client_key"]),
    )
    with virtplug.open(uri) as conn:
        assert conn.type() == "Docker"
        assert conn.is_alive()
        assert conn.list_domains() == []
        assert "virtplug/busybox:latest".replace("/", "%2F") not in [
            v.name for v in conn.lookup_pool("images").list_volumes()
        ]  # a different engine than docker:///


def test_tls_wrong_ca_is_refused(tls_engine: dict[str, object], tmp_path: Path) -> None:
    other = make_certs(tmp_path / "other", cn="someone-else")
    t = tls_engine
    uri = _uri(
        int(t["port"]),
        tlsca=str(other["ca"]),
        tlscert=str(t["client_cert"]),
        tlskey=str(t["client_key"]),
    )
    with pytest.raises(NoConnectError) as err:
        virtplug.open(uri)
    assert uri in str(err.value) or "127.0.0.1" in str(err.value)


def test_tls_without_client_cert_is_refused(tls_engine: dict[str, object]) -> None:
    t = tls_engine
    with pytest.raises(NoConnectError):
        virtplug.open(_uri(int(t["port"]), tlsca=str(t["ca"])))


def test_tls_verify_opt_out(tls_engine: dict[str, object]) -> None:
    t = tls_engine
    uri = _uri(
        int(t["port"]), tlscert=str(t["client_cert"]), tlskey=str(t["client_key"]), tlsverify="0"
    )
    with virtplug.open(uri) as conn:
        assert conn.is_alive()


def test_tls_needs_ca_when_verifying(tls_engine: dict[str, object]) -> None:
    t = tls_engine
    with pytest.raises(InvalidArgError, match="tlsca"):
        virtplug.open(
            _uri(int(t["port"]), tlscert=str(t["client_cert"]), tlskey=str(t["client_key"]))
        )


def test_unreachable_engine_names_the_uri() -> None:
    uri = f"docker+tcp://127.0.0.1:{free_port()}/"
    with pytest.raises(NoConnectError) as err:
        virtplug.open(uri)
    assert uri in str(err.value)
    with pytest.raises(NoConnectError) as err2:
        virtplug.open("docker+unix:///tmp/vptest-no-such.sock")
    assert "docker+unix:///tmp/vptest-no-such.sock" in str(err2.value)


def test_bad_uris() -> None:
    for uri in (
        "docker://somehost/",
        "docker:///some/path",
        "docker+unix:///",
        "docker+ftp://x/",
        "docker+tcp:///",
    ):
        with pytest.raises(InvalidArgError):
            virtplug.open(uri)


def test_unix_socket_and_engine_death(shortdir: Path, api: docker.APIClient) -> None:
    sock = shortdir / "u.sock"
    client = docker.APIClient(base_url=f"unix://{sock}", version="1.41")
    with dockerd(shortdir / "unix", [f"unix://{sock}"], client=client) as proc:
        uri = f"docker+unix://{sock}?timeout=3"
        conn = virtplug.open(uri)
        assert conn.is_alive()
        assert conn.list_domains() == []
        # the engine hangs mid-operation: the call times out, naming the engine
        proc.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(OperationTimeoutError) as hung:
                conn.list_domains()
            assert str(sock) in str(hung.value)
            assert conn.is_alive() is False
        finally:
            proc.kill()  # then it dies
            proc.wait(30)
        with pytest.raises(NoConnectError) as err:
            conn.list_domains()
        assert uri in str(err.value)
        with pytest.raises(NoConnectError):
            conn.lookup_domain("anything")
        assert conn.is_alive() is False
        conn.close()


def test_ssh(api: docker.APIClient, tmp_path: Path) -> None:
    with sshd(tmp_path / "ssh") as s:
        base = f"docker+ssh://{s['user']}@127.0.0.1:{s['port']}/"
        uri = (
            base
            + "?"
            + urllib.parse.urlencode(
                {"keyfile": str(s["key"]), "known_hosts": str(s["known_hosts"])}
            )
        )
        with virtplug.open(uri) as conn, virtplug.open("docker:///") as local:
            assert conn.is_alive()
            assert conn.version() == local.version()  # the same engine, through ssh
            assert [d.name for d in conn.list_domains()] == [d.name for d in local.list_domains()]
            n = PREFIX + "ssh"
            try:
                dom = conn.define_domain(DOMAIN_XML.format(name=n))
                dom.start()
                assert dom.exec(["/bin/echo", "over ssh"]).stdout == b"over ssh\n"
                dom.destroy()
                dom.undefine()
            finally:
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_container(n, force=True)
        # the wrong key is refused
        other = tmp_path / "other"
        import subprocess

        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True
        )
        bad = (
            base
            + "?"
            + urllib.parse.urlencode({"keyfile": str(other), "known_hosts": str(s["known_hosts"])})
        )
        with pytest.raises(NoConnectError):
            virtplug.open(bad)


@pytest.fixture(scope="module")
def reg(api: docker.APIClient) -> Iterator[str]:
    with (
        tempfile.TemporaryDirectory(prefix="vpreg-") as d,
        registry(Path(d), "alice", "s3cret") as r,
    ):
        yield r


def test_registry_push_pull_with_and_without_credentials(
    reg: str, api: docker.APIClient, conn: virtplug.Connection
) -> None:
    ref = f"{reg}/{PREFIX}img/busybox:1"
    api.tag(IMAGE, f"{reg}/{PREFIX}img/busybox", "1")
    try:
        with pytest.raises(AuthFailedError):
            virtplug_docker.push(conn, ref)  # no credentials
        with pytest.raises(AuthFailedError):
            virtplug_docker.registry_login(conn, reg, ("alice", "wrong"))
        virtplug_docker.registry_login(conn, reg, ("alice", "s3cret"))
        virtplug_docker.push(conn, ref)
        api.remove_image(ref)
        images = conn.lookup_pool("images")
        vol_name = ref.replace("/", "%2F")
        vol = images.create_volume(
            f"<volume><name>{vol_name}</name><capacity>0</capacity></volume>"
        )
        assert vol.name == vol_name
        assert api.inspect_image(ref)["Id"] == api.inspect_image(IMAGE)["Id"]
        vol.delete()
        virtplug_docker.registry_logout(conn, reg)
        with pytest.raises(VirtError) as err:
            images.create_volume(f"<volume><name>{vol_name}</name><capacity>0</capacity></volume>")
        assert err.value.code == ErrorCode.AUTH_FAILED
    finally:
        with contextlib.suppress(docker.errors.APIError):
            api.remove_image(ref)


def test_registry_login_through_auth_callback(reg: str) -> None:
    asked: list[str] = []

    def good(uri: str) -> virtplug.models.Credentials:
        asked.append(uri)
        return virtplug.models.Credentials("alice", "s3cret")

    with virtplug.open("docker:///", auth=good) as conn:
        virtplug_docker.registry_login(conn, reg)
        assert asked and reg in asked[0]
    with (
        virtplug.open("docker:///", auth=("alice", "nope")) as conn,
        pytest.raises(AuthFailedError),
    ):
        virtplug_docker.registry_login(conn, reg)
    with (
        virtplug.open("docker:///", auth=lambda _uri: None) as conn,
        pytest.raises(AuthCancelledError),
    ):
        virtplug_docker.registry_login(conn, reg)
