"""The per-connection state of the Docker driver and its engine helpers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import docker
import requests
from virtplug.models import AuthCallback, DomainConfig
from virtplug.uri import URI

from virtplug_docker._errors import Kind, translating

__all__ = ["DockerConnection", "Facts"]

_T = TypeVar("_T")


@dataclasses.dataclass
class Facts:
    """What the connection knows about one domain's container (labels are immutable).

    :ivar id: the container id.
    :ivar uuid: the domain UUID.
    :ivar persistent: defined (True) or transient (False), after overrides.
    :ivar pending: a definition given while running, applied when it next stops.
    :ivar record: an override record volume exists for this container.
    """

    id: str
    uuid: str
    persistent: bool
    pending: DomainConfig | None = None
    record: bool = False


@dataclasses.dataclass
class DockerConnection:
    """Everything one virtplug connection to a Docker engine holds.

    :ivar uri: the parsed connection URI.
    :ivar api: the Docker SDK's low-level client.
    :ivar info: the engine's ``/info`` answer at open time (CPUs, memory, names).
    :ivar local: True when the engine runs on this host (unix socket).
    :ivar auth: the connection's auth callback (registry credentials).
    :ivar registries: registry -> auth config given by :func:`virtplug_docker.registry_login`.
    """

    uri: URI
    api: docker.APIClient
    info: dict[str, Any]
    local: bool
    auth: AuthCallback | None = None
    registries: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    facts: dict[str, Facts] = dataclasses.field(default_factory=dict)
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock)
    watchers: list[Callable[[], None]] = dataclasses.field(default_factory=list)
    closed: bool = False

    # -- engine calls -----------------------------------------------------------

    def guard(self, kind: Kind, name: str) -> Any:
        """``with conn.guard("domain", name):`` translates every engine error."""
        return translating(kind, name, self.uri.text)

    def post(
        self,
        path: str,
        target: str,
        *,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
        data: Any = None,
    ) -> requests.Response:
        """POST to ``path`` (formatted with *target*); raise APIError for >= 400.

        Returns the response so callers can see 304 (the engine's "nothing to do").
        """
        api = self.api
        kwargs: dict[str, Any] = {"params": params or {}}
        if timeout is not None:
            kwargs["timeout"] = timeout
        url = api._url(path, target)
        if data is not None:
            res = api._post_json(url, data=data, **kwargs)
        else:
            res = api._post(url, **kwargs)
        api._raise_for_status(res)
        return res  # type: ignore[no-any-return]

    @property
    def host_mem_kib(self) -> int:
        """Total host memory in KiB (from ``/info``)."""
        return int(self.info.get("MemTotal", 0)) // 1024

    @property
    def host_cpus(self) -> int:
        """Logical CPUs of the engine host (from ``/info``)."""
        return int(self.info.get("NCPU", 1)) or 1

    def forget(self, name: str) -> None:
        """Drop cached facts about the domain *name*."""
        with self.lock:
            self.facts.pop(name, None)

    def remember(self, name: str, facts: Facts) -> None:
        """Cache facts about the domain *name*."""
        with self.lock:
            self.facts[name] = facts

    def cached(self, name: str) -> Facts | None:
        """Cached facts about the domain *name*, if any."""
        with self.lock:
            return self.facts.get(name)

    def target(self, name: str) -> str:
        """The container id when known (immune to renames and id-prefix matches), else *name*."""
        facts = self.cached(name)
        return facts.id if facts is not None else name


def iter_lines(stream: Iterator[Any]) -> Iterator[dict[str, Any]]:
    """Yield decoded JSON progress messages of a pull / push stream."""
    for item in stream:
        if isinstance(item, dict):
            yield item
