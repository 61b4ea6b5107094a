"""Registry login / logout, pull and push: the documented calls beyond the hook contract.

Credentials come from the argument, else from the connection's auth callback
(``virtplug.open("docker:///", auth=...)``). They are kept per connection (never
written to ``~/.docker/config.json``) and used for pulls through the ``images``
pool and for :func:`push`.

Example::

    import virtplug, virtplug_docker

    with virtplug.open("docker:///", auth=("alice", "secret")) as conn:
        virtplug_docker.registry_login(conn, "127.0.0.1:5000")
        virtplug_docker.push(conn, "127.0.0.1:5000/team/app:1")
        conn.lookup_pool("images").create_volume(
            "<volume><name>127.0.0.1:5000/team/app:1</name></volume>")
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import docker.errors

from virtplug.errors import (
    AuthCancelledError,
    AuthFailedError,
    InvalidArgError,
    NoStorageVolError,
    OperationFailedError,
)
from virtplug.models import Credentials
from virtplug_docker._errors import explanation, translate

if TYPE_CHECKING:
    from virtplug.api import Connection
    from virtplug_docker._state import DockerConnection

__all__ = ["pull", "push", "registry_login", "registry_logout", "registry_of"]

_AUTH_MARKERS = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "denied",
    "401",
)


def _state(conn: Connection | DockerConnection) -> DockerConnection:
    from virtplug_docker._state import DockerConnection

    if isinstance(conn, DockerConnection):
        return conn
    state = getattr(getattr(conn, "_d", None), "state", None)
    if not isinstance(state, DockerConnection):
        raise InvalidArgError("not a connection opened with the Docker driver")
    return state


def registry_of(reference: str) -> str:
    """The registry host of an image reference (``docker.io`` when it names none)."""
    first, sep, _rest = reference.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _split(reference: str) -> tuple[str, str]:
    name, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return reference, "latest"
    return name, tag


def _credentials(state: DockerConnection, registry: str) -> Credentials:
    if state.auth is None:
        raise AuthFailedError(
            f"registry {registry} needs credentials: pass them or open the connection with auth="
        )
    creds = state.auth(f"{state.uri.text}#registry={registry}")
    if creds is None:
        raise AuthCancelledError(f"credentials for registry {registry} were not given")
    return creds


def registry_login(
    conn: Connection | DockerConnection,
    registry: str,
    credentials: Credentials | tuple[str, str] | None = None,
) -> None:
    """Log in to *registry* through the engine (``POST /auth``).

    :param conn: a ``docker`` connection.
    :param registry: ``HOST[:PORT]``.
    :param credentials: user and password; ``None``: ask the connection's auth callback.
    :raises AuthFailedError: the registry refused the credentials.
    :raises AuthCancelledError: the auth callback returned ``None``.
    """
    state = _state(conn)
    if isinstance(credentials, tuple):
        credentials = Credentials(*credentials)
    creds = credentials or _credentials(state, registry)
    try:
        state.api.login(creds.username, password=creds.password, registry=registry, reauth=True)
    except docker.errors.APIError as exc:
        text = explanation(exc)
        if exc.status_code in (401, 403) or any(m in text.lower() for m in _AUTH_MARKERS):
            raise AuthFailedError(f"registry {registry} refused the credentials: {text}") from exc
        raise translate(exc, kind="engine", name=registry, uri=state.uri.text) from exc
    except Exception as exc:
        raise translate(exc, kind="engine", name=registry, uri=state.uri.text) from exc
    state.registries[registry] = {
        "username": creds.username,
        "password": creds.password,
        "serveraddress": registry,
    }


def registry_logout(conn: Connection | DockerConnection, registry: str) -> None:
    """Forget the credentials of *registry* for this connection (absent is fine)."""
    state = _state(conn)
    state.registries.pop(registry, None)
    auths = getattr(state.api, "_auth_configs", None)
    if auths is not None:
        with contextlib.suppress(AttributeError):
            auths.auths.pop(registry, None)


def _auth_config(state: DockerConnection, reference: str) -> dict[str, str] | None:
    return state.registries.get(registry_of(reference))


def _consume(stream: Any, reference: str, what: str) -> None:
    for msg in stream:
        if not isinstance(msg, dict):
            continue
        error = msg.get("error") or (msg.get("errorDetail") or {}).get("message")
        if error:
            text = str(error)
            if any(m in text.lower() for m in _AUTH_MARKERS):
                raise AuthFailedError(f"{what} of {reference} refused: {text}")
            raise OperationFailedError(f"{what} of {reference} failed: {text}")


def pull(conn: Connection | DockerConnection, reference: str) -> None:
    """Pull *reference* with this connection's credentials for its registry.

    :raises AuthFailedError: the registry refused the credentials (or wanted some).
    :raises NoStorageVolError: the registry has no such image.
    """
    state = _state(conn)
    repo, tag = _split(reference)
    try:
        stream = state.api.pull(
            repo, tag=tag, stream=True, decode=True, auth_config=_auth_config(state, reference)
        )
        _consume(stream, reference, "pull")
    except (AuthFailedError, OperationFailedError):
        raise
    except docker.errors.APIError as exc:
        text = explanation(exc)
        low = text.lower()
        if any(m in low for m in _AUTH_MARKERS):
            raise AuthFailedError(f"pull of {reference} refused: {text}") from exc
        if exc.status_code == 404 or "not found" in low or "manifest unknown" in low:
            raise NoStorageVolError(f"no image {reference} in its registry: {text}") from exc
        raise translate(exc, kind="image", name=reference, uri=state.uri.text) from exc
    except Exception as exc:
        raise translate(exc, kind="image", name=reference, uri=state.uri.text) from exc


def push(conn: Connection | DockerConnection, reference: str) -> None:
    """Push the local image *reference* with this connection's credentials.

    :raises AuthFailedError: the registry refused the credentials (or wanted some).
    :raises NoStorageVolError: no such local image.
    """
    state = _state(conn)
    repo, tag = _split(reference)
    try:
        stream = state.api.push(
            repo, tag=tag, stream=True, decode=True, auth_config=_auth_config(state, reference)
        )
        _consume(stream, reference, "push")
    except (AuthFailedError, OperationFailedError):
        raise
    except docker.errors.NotFound as exc:
        raise NoStorageVolError(f"no local image {reference}") from exc
    except Exception as exc:
        raise translate(exc, kind="image", name=reference, uri=state.uri.text) from exc
