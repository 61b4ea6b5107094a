"""Unit tests of the error translation (mocked SDK exceptions; no engine)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import docker.errors
import pytest
import requests

from virtplug.errors import ErrorCode, VirtError
from virtplug_docker import _events
from virtplug_docker._errors import translate, translating

URI = "docker+tcp://engine.example:2376/"

pytestmark = pytest.mark.unit


def api_error(status: int, explanation: str, cls: type = docker.errors.APIError) -> Exception:
    response = mock.Mock(spec=requests.Response)
    response.status_code = status
    response.reason = "reason"
    response.url = "http://x/"
    err: Exception = cls("msg", response=response, explanation=explanation)
    return err


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("domain", ErrorCode.NO_DOMAIN),
        ("network", ErrorCode.NO_NETWORK),
        ("volume", ErrorCode.NO_STORAGE_VOL),
        ("image", ErrorCode.NO_STORAGE_VOL),
        ("pool", ErrorCode.NO_STORAGE_POOL),
    ],
)
def test_not_found_per_kind(kind: Any, code: ErrorCode) -> None:
    err = translate(
        api_error(404, "No such thing", docker.errors.NotFound), kind=kind, name="x", uri=URI
    )
    assert err.code == code
    assert "'x'" in err.message


def test_domain_not_found_message_is_libvirts() -> None:
    err = translate(
        api_error(404, "No such container: x", docker.errors.NotFound),
        kind="domain",
        name="x",
        uri=URI,
    )
    assert err.message == "Domain not found: no domain with matching name 'x'"


def test_missing_image_on_create_is_config_unsupported() -> None:
    err = translate(
        api_error(404, "No such image: a:b", docker.errors.ImageNotFound),
        kind="domain",
        name="x",
        uri=URI,
    )
    assert err.code == ErrorCode.CONFIG_UNSUPPORTED


@pytest.mark.parametrize(
    ("status", "text", "kind", "code"),
    [
        (409, "Container abc is not running", "domain", ErrorCode.OPERATION_INVALID),
        (
            409,
            "Container abc is paused, unpause the container before exec",
            "domain",
            ErrorCode.OPERATION_INVALID,
        ),
        (
            409,
            'Conflict. The container name "/x" is already in use by container "abc"',
            "domain",
            ErrorCode.OPERATION_FAILED,
        ),
        (409, "remove x: volume is in use - [abc]", "volume", ErrorCode.RESOURCE_BUSY),
        (304, "", "domain", ErrorCode.OPERATION_INVALID),
        (400, "invalid reference format", "domain", ErrorCode.INVALID_ARG),
        (401, "unauthorized: authentication required", "image", ErrorCode.AUTH_FAILED),
        (500, "Get https://r/v2/: no basic auth credentials", "image", ErrorCode.AUTH_FAILED),
        (
            403,
            "bridge is a pre-defined network and cannot be removed",
            "network",
            ErrorCode.OPERATION_INVALID,
        ),
        (500, "something broke", "domain", ErrorCode.OPERATION_FAILED),
    ],
)
def test_api_errors(status: int, text: str, kind: Any, code: ErrorCode) -> None:
    err = translate(api_error(status, text), kind=kind, name="x", uri=URI)
    assert err.code == code
    if status not in (304,):
        assert text.split(":")[0] in err.message


@pytest.mark.parametrize(
    "exc",
    [
        requests.exceptions.ConnectionError("Connection refused"),
        ConnectionRefusedError(111, "Connection refused"),
        BrokenPipeError(32, "Broken pipe"),
        docker.errors.DockerException("Error while fetching server API version"),
    ],
)
def test_unreachable_engine_names_the_uri(exc: Exception) -> None:
    err = translate(exc, kind="domain", name="x", uri=URI)
    assert err.code == ErrorCode.NO_CONNECT
    assert URI in err.message


@pytest.mark.parametrize(
    "exc", [requests.exceptions.ReadTimeout("read timed out"), TimeoutError("timed out")]
)
def test_timeouts(exc: Exception) -> None:
    assert translate(exc, kind="domain", name="x", uri=URI).code == ErrorCode.OPERATION_TIMEOUT


def test_translating_reraises_with_cause() -> None:
    original = api_error(404, "No such container", docker.errors.NotFound)
    with pytest.raises(VirtError) as info, translating("domain", "x", URI):
        raise original
    assert info.value.code == ErrorCode.NO_DOMAIN
    assert info.value.__cause__ is original


def test_translating_passes_virt_errors_through() -> None:
    from virtplug.errors import OperationInvalidError

    with pytest.raises(OperationInvalidError), translating("domain", "x", URI):
        raise OperationInvalidError("domain is not running")


def test_unknown_exception_is_operation_failed() -> None:
    err = translate(ValueError("odd"), kind="domain", name="x", uri=URI)
    assert err.code == ErrorCode.OPERATION_FAILED


@pytest.mark.parametrize(
    ("action", "attrs", "type_name", "detail"),
    [
        ("start", {}, "STARTED", 0),
        ("die", {"exitCode": "0"}, "STOPPED", 0),
        ("die", {"exitCode": "137"}, "STOPPED", 1),
        ("die", {"exitCode": "2"}, "STOPPED", 5),
        ("pause", {}, "SUSPENDED", 0),
        ("unpause", {}, "RESUMED", 0),
        ("create", {}, "DEFINED", 0),
        ("destroy", {}, "UNDEFINED", 0),
    ],
)
def test_engine_events(action: str, attrs: dict[str, str], type_name: str, detail: int) -> None:
    msg = {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": "abc", "Attributes": {"name": "web", **attrs}},
    }
    ev = _events.translate_event(msg)
    assert ev is not None
    assert (ev.name, ev.type_name, ev.detail, ev.source) == ("web", type_name, detail, "backend")


def test_transient_create_destroy_have_no_define_events() -> None:
    for action in ("create", "destroy"):
        msg = {
            "Type": "container",
            "Action": action,
            "Actor": {"ID": "abc", "Attributes": {"name": "t", "virtplug.persistent": "0"}},
        }
        assert _events.translate_event(msg) is None
    assert (
        _events.translate_event(
            {
                "Type": "container",
                "Action": "exec_start",
                "Actor": {"ID": "a", "Attributes": {"name": "t"}},
            }
        )
        is None
    )
