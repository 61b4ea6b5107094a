"""Helpers that start throwaway backends for the tests: dockerd, sshd, a registry, certificates."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import docker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(
    check,
    timeout: float,
    what: str,
    proc: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail}")
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.25)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up within {timeout} s:\n{tail}")


def stop(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- certificates ------------------------------------------------------------------


def make_certs(directory: Path, cn: str = "virtplug-test-ca") -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 and a client certificate (files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)

    def key() -> ec.EllipticCurvePrivateKey:
        return ec.generate_private_key(ec.SECP256R1())

    def write_key(k: ec.EllipticCurvePrivateKey, path: Path) -> None:
        path.write_bytes(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)

    ca_key = key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(name: str, server: bool) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        k = key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(k.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
                ),
                critical=False,
            )
        return builder.sign(ca_key, hashes.SHA256()), k

    paths = {
        "ca": directory / "ca.pem",
        "server_cert": directory / "server-cert.pem",
        "server_key": directory / "server-key.pem",
        "client_cert": directory / "cert.pem",
        "client_key": directory / "key.pem",
    }
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    scert, skey = leaf("127.0.0.1", True)
    ccert, ckey = leaf("virtplug-client", False)
    paths["server_cert"].write_bytes(scert.public_bytes(serialization.Encoding.PEM))
    write_key(skey, paths["server_key"])
    paths["client_cert"].write_bytes(ccert.public_bytes(serialization.Encoding.PEM))
    write_key(ckey, paths["client_key"])
    return paths


# -- a second dockerd -----------------------------------------------------------------


@contextlib.contextmanager
def dockerd(
    root: Path,
    hosts: list[str],
    extra: list[str] | None = None,
    client: docker.APIClient | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """A throwaway dockerd with its own data-root, exec-root, pidfile, -H; no bridge/iptables."""
    root.mkdir(parents=True, exist_ok=True)
    log = root / "dockerd.log"
    args = [
        "dockerd",
        "--data-root",
        str(root / "data"),
        "--exec-root",
        str(root / "exec"),
        "--pidfile",
        str(root / "dockerd.pid"),
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
        "--ip-masq=false",
        "--userland-proxy=false",
        *[a for h in hosts for a in ("-H", h)],
        *(extra or []),
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if client is not None:
            wait_until(client.ping, 60, "test dockerd", proc, log)
        yield proc
    finally:
        stop(proc)
        subprocess.run(["umount", "-R", str(root / "exec")], capture_output=True, check=False)
        subprocess.run(["umount", "-R", str(root / "data")], capture_output=True, check=False)


# -- sshd ----------------------------------------------------------------------------------


@contextlib.contextmanager
def sshd(root: Path) -> Iterator[dict[str, object]]:
    """sshd on 127.0.0.1:<free port> accepting one generated key for the current user."""
    root.mkdir(parents=True, exist_ok=True)
    os.makedirs("/run/sshd", exist_ok=True)
    hostkey = root / "host_ed25519"
    userkey = root / "id_ed25519"
    for k in (hostkey, userkey):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(k)], check=True)
    (root / "authorized_keys").write_text((root / "id_ed25519.pub").read_text())
    port = free_port()
    known = root / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {(root / 'host_ed25519.pub').read_text()}")
    log = root / "sshd.log"
    args = [
        "/usr/sbin/sshd",
        "-D",
        "-e",
        "-f",
        "/dev/null",
        "-o",
        f"ListenAddress=127.0.0.1:{port}",
        "-o",
        f"HostKey={hostkey}",
        "-o",
        f"AuthorizedKeysFile={root / 'authorized_keys'}",
        "-o",
        "StrictModes=no",
        "-o",
        "PasswordAuthentication=no",
        "-o",
        "PermitRootLogin=prohibit-password",
        "-o",
        f"PidFile={root / 'sshd.pid'}",
        "-o",
        "UsePAM=no",
    ]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True)

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    try:
        wait_until(listening, 20, "test sshd", proc, log)
        yield {
            "port": port,
            "key": userkey,
            "known_hosts": known,
            "user": os.environ.get("USER") or "root",
        }
    finally:
        stop(proc)


# -- registry --------------------------------------------------------------------------------


@contextlib.contextmanager
def registry(root: Path, user: str, password: str) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1:<free port> with bcrypt htpasswd auth."""
    root.mkdir(parents=True, exist_ok=True)
    htpasswd = root / "htpasswd"
    out = subprocess.run(
        ["htpasswd", "-Bbn", user, password], check=True, capture_output=True, text=True
    )
    htpasswd.write_text(out.stdout)
    port = free_port()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        "  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
        f"auth:\n  htpasswd:\n    realm: virtplug-test\n    path: {htpasswd}\n"
    )
    log = root / "registry.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)],
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def answers() -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        return False

    try:
        wait_until(answers, 30, "test registry", proc, log)
        yield f"127.0.0.1:{port}"
    finally:
        stop(proc)
