"""The virtplug error table: one code enum and one exception class per code.

Codes equal libvirt's ``virErrorNumber`` wherever the meaning is shared, so a
management application that already switches on libvirt error codes can switch
on ``VirtError.code`` unchanged.

Drivers raise these classes (``raise NoDomainError(...) from exc``); the core's
error-normalisation wrapper turns anything else that escapes a driver into
:class:`InternalError`, so no backend exception ever reaches a user.
"""

from __future__ import annotations

import enum
from typing import Any, ClassVar

__all__ = [
    "ArgumentUnsupportedError",
    "AuthCancelledError",
    "AuthFailedError",
    "ConfigUnsupportedError",
    "DriverLoadError",
    "DriverNotFoundError",
    "ErrorCode",
    "InternalError",
    "InvalidArgError",
    "InvalidConnectionError",
    "NetworkExistsError",
    "NoConnectError",
    "NoDomainError",
    "NoDomainSnapshotError",
    "NoNetworkError",
    "NoStoragePoolError",
    "NoStorageVolError",
    "OperationDeniedError",
    "OperationFailedError",
    "OperationInvalidError",
    "OperationTimeoutError",
    "ResourceBusyError",
    "StorageVolExistsError",
    "SystemError_",
    "UnsupportedError",
    "VirtError",
    "XMLError",
    "error_for_code",
]


class ErrorCode(enum.IntEnum):
    """Error codes; values equal libvirt's ``virErrorNumber`` where shared."""

    INTERNAL_ERROR = 1
    NO_SUPPORT = 3
    NO_CONNECT = 5
    INVALID_CONN = 6
    INVALID_ARG = 8
    OPERATION_FAILED = 9
    XML_ERROR = 27
    OPERATION_DENIED = 29
    NETWORK_EXIST = 37
    SYSTEM_ERROR = 38
    NO_DOMAIN = 42
    NO_NETWORK = 43
    AUTH_FAILED = 45
    NO_STORAGE_POOL = 49
    NO_STORAGE_VOL = 50
    OPERATION_INVALID = 55
    CONFIG_UNSUPPORTED = 67
    OPERATION_TIMEOUT = 68
    NO_DOMAIN_SNAPSHOT = 72
    ARGUMENT_UNSUPPORTED = 74
    AUTH_CANCELLED = 79
    RESOURCE_BUSY = 87
    STORAGE_VOL_EXIST = 90


class VirtError(Exception):
    """Base class of every virtplug error.

    :ivar code: the :class:`ErrorCode` of this error.
    :ivar message: the human-readable message (also ``str(err)``).
    :ivar details: optional structured context (driver, operation, line, ...).
    """

    code: ClassVar[ErrorCode] = ErrorCode.INTERNAL_ERROR

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code.name}, message={self.message!r})"


class InternalError(VirtError):
    """A bug or an unexpected backend failure (INTERNAL_ERROR)."""

    code = ErrorCode.INTERNAL_ERROR


class UnsupportedError(VirtError):
    """The driver does not support the operation (NO_SUPPORT)."""

    code = ErrorCode.NO_SUPPORT


class NoConnectError(VirtError):
    """No driver could open the URI, or the backend is unreachable (NO_CONNECT)."""

    code = ErrorCode.NO_CONNECT


class DriverNotFoundError(NoConnectError):
    """No installed driver serves the URI scheme (NO_CONNECT)."""


class DriverLoadError(NoConnectError):
    """An installed driver failed to import or register (NO_CONNECT)."""


class InvalidConnectionError(VirtError):
    """The connection is closed or otherwise unusable (INVALID_CONN)."""

    code = ErrorCode.INVALID_CONN


class InvalidArgError(VirtError):
    """An argument is invalid: bad URI, bad name, negative size, ... (INVALID_ARG)."""

    code = ErrorCode.INVALID_ARG


class OperationFailedError(VirtError):
    """The operation was valid but failed (OPERATION_FAILED)."""

    code = ErrorCode.OPERATION_FAILED


class XMLError(VirtError):
    """The XML document is malformed, hostile or does not fit the schema (XML_ERROR).

    ``details['line']`` carries the line number when known.
    """

    code = ErrorCode.XML_ERROR


class OperationDeniedError(VirtError):
    """The connection may not do this, e.g. it is read-only (OPERATION_DENIED)."""

    code = ErrorCode.OPERATION_DENIED


class NetworkExistsError(VirtError):
    """A network with this name or UUID already exists (NETWORK_EXIST)."""

    code = ErrorCode.NETWORK_EXIST


class SystemError_(VirtError):  # noqa: N801, N818 - avoid shadowing the builtin
    """An operating-system call failed (SYSTEM_ERROR)."""

    code = ErrorCode.SYSTEM_ERROR


class NoDomainError(VirtError):
    """No domain matches the name, UUID or id (NO_DOMAIN)."""

    code = ErrorCode.NO_DOMAIN


class NoNetworkError(VirtError):
    """No network matches (NO_NETWORK)."""

    code = ErrorCode.NO_NETWORK


class AuthFailedError(VirtError):
    """Authentication failed (AUTH_FAILED)."""

    code = ErrorCode.AUTH_FAILED


class NoStoragePoolError(VirtError):
    """No storage pool matches (NO_STORAGE_POOL)."""

    code = ErrorCode.NO_STORAGE_POOL


class NoStorageVolError(VirtError):
    """No storage volume matches (NO_STORAGE_VOL)."""

    code = ErrorCode.NO_STORAGE_VOL


class OperationInvalidError(VirtError):
    """The operation is not valid in the object's current state (OPERATION_INVALID)."""

    code = ErrorCode.OPERATION_INVALID


class ConfigUnsupportedError(VirtError):
    """The configuration asks for something the driver cannot do (CONFIG_UNSUPPORTED)."""

    code = ErrorCode.CONFIG_UNSUPPORTED


class OperationTimeoutError(VirtError):
    """The operation did not finish in time (OPERATION_TIMEOUT)."""

    code = ErrorCode.OPERATION_TIMEOUT


class NoDomainSnapshotError(VirtError):
    """No snapshot with that name (NO_DOMAIN_SNAPSHOT)."""

    code = ErrorCode.NO_DOMAIN_SNAPSHOT


class ArgumentUnsupportedError(VirtError):
    """An argument value is valid in general but not for this driver (ARGUMENT_UNSUPPORTED)."""

    code = ErrorCode.ARGUMENT_UNSUPPORTED


class AuthCancelledError(VirtError):
    """The auth callback declined to give credentials (AUTH_CANCELLED)."""

    code = ErrorCode.AUTH_CANCELLED


class ResourceBusyError(VirtError):
    """The object is in use (RESOURCE_BUSY)."""

    code = ErrorCode.RESOURCE_BUSY


class StorageVolExistsError(VirtError):
    """A volume with that name already exists in the pool (STORAGE_VOL_EXIST)."""

    code = ErrorCode.STORAGE_VOL_EXIST


_BY_CODE: dict[ErrorCode, type[VirtError]] = {
    cls.code: cls
    for cls in (
        InternalError,
        UnsupportedError,
        NoConnectError,
        InvalidConnectionError,
        InvalidArgError,
        OperationFailedError,
        XMLError,
        OperationDeniedError,
        NetworkExistsError,
        SystemError_,
        NoDomainError,
        NoNetworkError,
        AuthFailedError,
        NoStoragePoolError,
        NoStorageVolError,
        OperationInvalidError,
        ConfigUnsupportedError,
        OperationTimeoutError,
        NoDomainSnapshotError,
        ArgumentUnsupportedError,
        AuthCancelledError,
        ResourceBusyError,
        StorageVolExistsError,
    )
}


def error_for_code(code: ErrorCode | int) -> type[VirtError]:
    """Return the exception class for *code* (the class table is one-to-one)."""
    return _BY_CODE[ErrorCode(code)]
