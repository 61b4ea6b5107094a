"""Turn a virtplug URI into a Docker SDK low-level client.

``docker:///``
    the local engine: ``DOCKER_HOST`` (and ``DOCKER_TLS_VERIFY`` /
    ``DOCKER_CERT_PATH``) when set, else ``/var/run/docker.sock``.
``docker+unix:///PATH``
    the engine's unix socket at *PATH*.
``docker+tcp://HOST:PORT/?tlsca=..&tlscert=..&tlskey=..``
    TCP, with TLS when any TLS parameter (or ``tls=1``) is given; the server
    certificate is verified against ``tlsca`` unless ``tlsverify=0``.
``docker+ssh://USER@HOST[:PORT]/?keyfile=..&known_hosts=..&no_verify=1``
    the engine behind ``ssh USER@HOST docker system dial-stdio`` (the system
    ``ssh`` client; libvirt's ``keyfile`` / ``known_hosts`` / ``no_verify``
    parameters).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from typing import Any

import docker
import docker.tls
from docker.utils import kwargs_from_env

from virtplug.errors import InvalidArgError
from virtplug.uri import URI

__all__ = ["DEFAULT_TIMEOUT", "make_client"]

#: Seconds an engine call may take before it is an OPERATION_TIMEOUT.
DEFAULT_TIMEOUT = 120

_MIN_API = "1.41"


def _timeout(uri: URI) -> int:
    text = uri.param("timeout")
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        value = int(text)
    except ValueError as exc:
        raise InvalidArgError(f"invalid timeout {text!r} in {uri.text}") from exc
    if value <= 0:
        raise InvalidArgError(f"timeout must be positive in {uri.text}")
    return value


def make_client(uri: URI) -> docker.APIClient:
    """Build (but do not yet contact) the engine client for *uri*.

    :raises InvalidArgError: unknown transport, bad parameters.
    :raises docker.errors.DockerException: the SDK refused the settings (translated by the caller).
    """
    timeout = _timeout(uri)
    transport = uri.transport
    if transport is None:
        if uri.host or uri.path not in ("", "/"):
            raise InvalidArgError(
                f"invalid URI {uri.text!r}: use docker:/// for the local engine, "
                f"docker+unix:///PATH, docker+tcp://HOST:PORT/ or docker+ssh://USER@HOST/"
            )
        kwargs: dict[str, Any] = dict(kwargs_from_env())
        kwargs.setdefault("base_url", "unix:///var/run/docker.sock")
        return docker.APIClient(version="auto", timeout=timeout, **kwargs)
    if transport == "unix":
        if uri.host:
            raise InvalidArgError(f"invalid URI {uri.text!r}: docker+unix takes no host")
        if uri.path in ("", "/"):
            raise InvalidArgError(f"invalid URI {uri.text!r}: docker+unix:///PATH needs a path")
        return docker.APIClient(base_url=f"unix://{uri.path}", version="auto", timeout=timeout)
    if transport == "tcp":
        if not uri.host:
            raise InvalidArgError(f"invalid URI {uri.text!r}: docker+tcp needs HOST:PORT")
        ca, cert, key = uri.param("tlsca"), uri.param("tlscert"), uri.param("tlskey")
        use_tls = bool(ca or cert or key) or uri.flag("tls")
        verify = uri.param("tlsverify", "1") not in ("0", "no", "false", "off")
        port = uri.port or (2376 if use_tls else 2375)
        tls: docker.tls.TLSConfig | bool = False
        if use_tls:
            if bool(cert) != bool(key):
                raise InvalidArgError(f"invalid URI {uri.text!r}: tlscert and tlskey go together")
            for label, path in (("tlsca", ca), ("tlscert", cert), ("tlskey", key)):
                if path and not os.path.isfile(path):
                    raise InvalidArgError(f"invalid URI {uri.text!r}: {label} {path!r} not found")
            if verify and not ca:
                raise InvalidArgError(
                    f"invalid URI {uri.text!r}: TLS verification needs tlsca=PATH "
                    f"(or tlsverify=0 to opt out)"
                )
            tls = docker.tls.TLSConfig(
                client_cert=(cert, key) if cert and key else None,
                ca_cert=ca if verify else None,
                verify=ca if verify else False,
            )
        scheme = "https" if use_tls else "http"
        client = _unversioned(f"{scheme}://{uri.host}:{port}", timeout, tls)
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA (its
        # issue #3829): the URI's tlsca must win, so the environment is not consulted.
        client.trust_env = False
        setattr(client, "_version", client.version(api_version=False)["ApiVersion"])  # noqa: B010
        return client
    if transport == "ssh":
        if not uri.host:
            raise InvalidArgError(f"invalid URI {uri.text!r}: docker+ssh needs USER@HOST")
        return _ssh_client(uri, timeout)
    raise InvalidArgError(
        f"invalid URI {uri.text!r}: unknown transport {transport!r} (unix, tcp or ssh)"
    )


def _unversioned(base_url: str, timeout: int, tls: Any) -> docker.APIClient:
    return docker.APIClient(base_url=base_url, version=_MIN_API, timeout=timeout, tls=tls)


# -- ssh ------------------------------------------------------------------------


def _ssh_options(uri: URI) -> list[str]:
    opts = ["-o", "BatchMode=yes"]
    keyfile = uri.param("keyfile")
    if keyfile:
        if not os.path.isfile(keyfile):
            raise InvalidArgError(f"invalid URI {uri.text!r}: keyfile {keyfile!r} not found")
        opts += ["-i", keyfile, "-o", "IdentitiesOnly=yes"]
    known = uri.param("known_hosts")
    if known:
        opts += ["-o", f"UserKnownHostsFile={known}"]
    if uri.flag("no_verify"):
        opts += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
    else:
        opts += ["-o", "StrictHostKeyChecking=yes"]
    return opts


def _adapter(base_url: str, timeout: int, options: list[str]) -> Any:
    # Imported here: docker's ssh transport needs paramiko (the docker[ssh] extra).
    from docker.transport.sshconn import (
        SSHConnection,
        SSHConnectionPool,
        SSHHTTPAdapter,
        SSHSocket,
    )

    class _Socket(SSHSocket):
        """docker-py's shell-out ssh socket, with extra ``ssh`` options."""

        def connect(self, **kwargs: Any) -> None:  # type: ignore[override]
            args = ["ssh", *options]
            if self.user:
                args += ["-l", self.user]
            if self.port:
                args += ["-p", self.port]
            args += ["--", self.host, "docker system dial-stdio"]
            env = dict(os.environ)
            env.pop("LD_LIBRARY_PATH", None)
            env.pop("SSL_CERT_FILE", None)
            self.proc = subprocess.Popen(
                args,
                env=env,
                stdout=subprocess.PIPE,
                stdin=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )

        def close(self) -> None:
            # docker-py writes to ssh's stdin on close; after a hijacked stream (exec) the
            # remote side has often gone already: a broken pipe there is not an error.
            try:
                super().close()
            except OSError:
                if self.proc is not None:
                    with contextlib.suppress(OSError, AttributeError):
                        self.proc.stdin.close()  # type: ignore[union-attr]
                    self.proc.terminate()

    class _Connection(SSHConnection):
        def connect(self) -> None:
            sock = _Socket(str(self.ssh_host))
            sock.settimeout(self.timeout)
            sock.connect()
            self.sock = sock

    class _Pool(SSHConnectionPool):
        def _new_conn(self) -> Any:
            timeout: Any = self.timeout
            return _Connection(self.ssh_transport, timeout, self.ssh_host)

    class _Adapter(SSHHTTPAdapter):
        def get_connection(self, url: Any, proxies: Any = None) -> Any:
            return _Pool(
                ssh_client=None,
                timeout=self.timeout,
                maxsize=self.max_pool_size,
                host=self.ssh_host,
            )

        def get_connection_with_tls_context(
            self, request: Any, verify: Any, proxies: Any = None, cert: Any = None
        ) -> Any:
            return self.get_connection(request.url, proxies)

    return _Adapter(base_url, timeout=timeout, shell_out=True)


def _ssh_client(uri: URI, timeout: int) -> docker.APIClient:
    user = f"{uri.user}@" if uri.user else ""
    port = f":{uri.port}" if uri.port else ""
    base_url = f"ssh://{user}{uri.host}{port}"
    options = _ssh_options(uri)
    client = docker.APIClient(
        base_url=base_url, version=_MIN_API, timeout=timeout, use_ssh_client=True
    )
    adapter = _adapter(base_url, timeout, options)
    setattr(client, "_custom_adapter", adapter)  # noqa: B010
    client.mount("http+docker://ssh", adapter)
    setattr(client, "_version", client.version(api_version=False)["ApiVersion"])  # noqa: B010
    return client
