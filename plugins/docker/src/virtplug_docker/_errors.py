"""Translation of Docker SDK / engine errors into virtplug errors.

Every hook runs its engine calls inside :func:`translating`; nothing from
``docker``, ``requests`` or ``urllib3`` ever escapes the driver.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Literal

import docker.errors
import requests.exceptions

from virtplug.errors import (
    AuthFailedError,
    ConfigUnsupportedError,
    InvalidArgError,
    NoConnectError,
    NoDomainError,
    NoNetworkError,
    NoStoragePoolError,
    NoStorageVolError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    ResourceBusyError,
    VirtError,
)

__all__ = ["Kind", "explanation", "not_found", "translate", "translating"]

#: The kind of object an engine call was about (chooses the NOT FOUND code).
Kind = Literal["domain", "network", "pool", "volume", "image", "engine"]


def explanation(exc: BaseException) -> str:
    """The engine's own message for *exc* (``explanation`` of an APIError), else ``str``."""
    if isinstance(exc, docker.errors.APIError) and exc.explanation:
        text: object = exc.explanation
        return text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return str(exc)


def status_of(exc: BaseException) -> int | None:
    """The HTTP status code of an engine error, or ``None``."""
    if isinstance(exc, docker.errors.APIError):
        code = exc.status_code
        return int(code) if code is not None else None
    return None


def not_found(kind: Kind, name: str) -> VirtError:
    """The libvirt-style NOT FOUND error for *kind* named *name*."""
    if kind == "domain":
        return NoDomainError(f"Domain not found: no domain with matching name '{name}'")
    if kind == "network":
        return NoNetworkError(f"Network not found: no network with matching name '{name}'")
    if kind == "pool":
        return NoStoragePoolError(
            f"Storage pool not found: no storage pool with matching name '{name}'"
        )
    if kind in ("volume", "image"):
        return NoStorageVolError(
            f"Storage volume not found: no storage vol with matching name '{name}'"
        )
    return OperationFailedError(f"not found: {name}")


_AUTH_MARKERS = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "incorrect username or password",
)

_STATE_CONFLICTS = (
    "is not running",
    "is paused",
    "already paused",
    "not paused",
    "is restarting",
    "cannot remove a running container",
    "stop the container before",
    "removal of container",
    "is already in progress",
)


def translate(exc: BaseException, *, kind: Kind, name: str, uri: str) -> VirtError:
    """Map one Docker SDK / engine / transport exception to a virtplug error.

    :param exc: what the SDK raised.
    :param kind: what the call was about (for NOT FOUND codes).
    :param name: the object's name (for messages).
    :param uri: the connection URI (for connection errors).
    """
    if isinstance(exc, VirtError):
        return exc
    if isinstance(exc, docker.errors.NotFound | docker.errors.ImageNotFound):
        if kind == "domain" and isinstance(exc, docker.errors.ImageNotFound):
            return ConfigUnsupportedError(f"image not found: {explanation(exc)}")
        return not_found(kind, name)
    if isinstance(exc, docker.errors.APIError):
        status = status_of(exc)
        text = explanation(exc)
        low = text.lower()
        if status == 304:
            return OperationInvalidError(f"{kind} '{name}': nothing to do ({text})")
        if status == 401 or any(marker in low for marker in _AUTH_MARKERS):
            return AuthFailedError(f"authentication failed: {text}")
        if status == 409:
            if "in use" in low and kind == "volume":
                return ResourceBusyError(f"volume '{name}' is in use: {text}")
            if any(marker in low for marker in _STATE_CONFLICTS):
                return OperationInvalidError(f"{kind} '{name}': {text}")
            return OperationFailedError(f"{kind} '{name}': {text}")
        if status == 400:
            return InvalidArgError(f"Docker engine refused the request for '{name}': {text}")
        if status == 403:
            return OperationInvalidError(f"{kind} '{name}': {text}")
        return OperationFailedError(f"Docker engine error for {kind} '{name}': {text}")
    if isinstance(exc, requests.exceptions.Timeout | socket.timeout | TimeoutError):
        return OperationTimeoutError(f"Docker engine at {uri} did not answer in time: {exc}")
    if isinstance(
        exc,
        requests.exceptions.ConnectionError
        | ConnectionError
        | OSError
        | docker.errors.DockerException,
    ):
        return NoConnectError(f"cannot reach the Docker engine at {uri}: {exc}", uri=uri)
    return OperationFailedError(f"Docker driver: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def translating(kind: Kind, name: str, uri: str) -> Iterator[None]:
    """Context manager: re-raise any non-virtplug exception as its translation."""
    try:
        yield
    except VirtError:
        raise
    except Exception as exc:
        raise translate(exc, kind=kind, name=name, uri=uri) from exc
