"""Connection URIs: ``driver[+transport]://[user@][host][:port]/path[?params]``."""

from __future__ import annotations

import os
import re
import urllib.parse

from virtplug.errors import InvalidArgError
from virtplug.records import record

__all__ = ["DEFAULT_URI_ENV", "URI", "default_uri", "parse_uri"]

DEFAULT_URI_ENV = "VIRTPLUG_DEFAULT_URI"

_SCHEME_RE = re.compile(r"^[a-z][a-z0-9-]*(\+[a-z][a-z0-9-]*)?$")


@record
class URI:
    """A parsed connection URI.

    :ivar text: the URI as given.
    :ivar driver: the driver name (the scheme before ``+``), e.g. ``docker``.
    :ivar transport: the part after ``+`` (``tcp``, ``ssh``, ``unix``) or ``None``.
    :ivar user: ``user@`` part or ``None``.
    :ivar host: host name or ``None`` for local URIs.
    :ivar port: port number or ``None``.
    :ivar path: the path (``/`` at least).
    :ivar params: query parameters, in order.
    """

    text: str
    driver: str
    transport: str | None
    user: str | None
    host: str | None
    port: int | None
    path: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def scheme(self) -> str:
        """The full scheme, e.g. ``docker+tcp``."""
        return self.driver + (f"+{self.transport}" if self.transport else "")

    @property
    def is_local(self) -> bool:
        """True when the URI names no host."""
        return not self.host

    def param(self, name: str, default: str | None = None) -> str | None:
        """Return the last value of query parameter *name*, or *default*."""
        value = default
        for key, val in self.params:
            if key == name:
                value = val
        return value

    def flag(self, name: str) -> bool:
        """True when query parameter *name* is set to a true value (1, yes, true, on)."""
        value = self.param(name)
        return value is not None and value.lower() in {"1", "yes", "true", "on"}

    def __str__(self) -> str:
        return self.text


def parse_uri(text: str) -> URI:
    """Parse *text* into a :class:`URI`.

    :raises InvalidArgError: when *text* is not a well-formed virtplug URI.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgError("invalid connection URI: empty")
    if len(text) > 4096:
        raise InvalidArgError("invalid connection URI: longer than 4096 characters")
    if any(ord(ch) < 0x20 for ch in text):
        raise InvalidArgError(f"invalid connection URI {text!r}: control characters")
    scheme, sep, _ = text.partition("://")
    if not sep:
        raise InvalidArgError(
            f"invalid connection URI {text!r}: expected driver[+transport]://[host]/path"
        )
    scheme = scheme.lower()
    if not _SCHEME_RE.match(scheme):
        raise InvalidArgError(f"invalid connection URI {text!r}: bad scheme {scheme!r}")
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidArgError(f"invalid connection URI {text!r}: {exc}") from exc
    driver, _, transport = scheme.partition("+")
    params = tuple(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    path = urllib.parse.unquote(parts.path) or "/"
    if ".." in path.split("/"):
        raise InvalidArgError(f"invalid connection URI {text!r}: '..' in path")
    return URI(
        text=text,
        driver=driver,
        transport=transport or None,
        user=urllib.parse.unquote(parts.username) if parts.username else None,
        host=parts.hostname or None,
        port=port,
        path=path,
        params=params,
    )


def default_uri() -> str | None:
    """Return ``$VIRTPLUG_DEFAULT_URI`` or ``None``."""
    value = os.environ.get(DEFAULT_URI_ENV, "").strip()
    return value or None
