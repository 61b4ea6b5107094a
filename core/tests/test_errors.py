"""The error table: libvirt's numbers, one class per code."""

from __future__ import annotations

import pytest

from virtplug import errors
from virtplug.errors import ErrorCode

# virErrorNumber values from libvirt's include/libvirt/virterror.h
LIBVIRT = {
    "INTERNAL_ERROR": 1,
    "NO_SUPPORT": 3,
    "NO_CONNECT": 5,
    "INVALID_CONN": 6,
    "INVALID_ARG": 8,
    "OPERATION_FAILED": 9,
    "XML_ERROR": 27,
    "OPERATION_DENIED": 29,
    "NETWORK_EXIST": 37,
    "SYSTEM_ERROR": 38,
    "NO_DOMAIN": 42,
    "NO_NETWORK": 43,
    "AUTH_FAILED": 45,
    "NO_STORAGE_POOL": 49,
    "NO_STORAGE_VOL": 50,
    "OPERATION_INVALID": 55,
    "CONFIG_UNSUPPORTED": 67,
    "OPERATION_TIMEOUT": 68,
    "NO_DOMAIN_SNAPSHOT": 72,
    "ARGUMENT_UNSUPPORTED": 74,
    "AUTH_CANCELLED": 79,
    "RESOURCE_BUSY": 87,
    "STORAGE_VOL_EXIST": 90,
}


def test_codes_equal_libvirt() -> None:
    assert {c.name: c.value for c in ErrorCode} == LIBVIRT


@pytest.mark.parametrize("code", list(ErrorCode))
def test_one_class_per_code(code: ErrorCode) -> None:
    cls = errors.error_for_code(code)
    assert cls.code is code
    err = cls("boom", driver="x")
    assert isinstance(err, errors.VirtError)
    assert err.code == code and err.message == "boom" and str(err) == "boom"
    assert err.details == {"driver": "x"}
    assert code.name in repr(err)


def test_classes_are_distinct() -> None:
    classes = [errors.error_for_code(c) for c in ErrorCode]
    assert len(set(classes)) == len(classes)


def test_driver_errors_are_no_connect() -> None:
    assert errors.DriverNotFoundError.code == ErrorCode.NO_CONNECT
    assert issubclass(errors.DriverLoadError, errors.NoConnectError)


def test_unknown_code_rejected() -> None:
    with pytest.raises(ValueError):
        errors.error_for_code(9999)


def test_all_exports_exist() -> None:
    for name in errors.__all__:
        assert hasattr(errors, name), name
