"""The per-connection state of the Docker driver and its engine helpers."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

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
    :ivar macs: network -> MAC address set by virtplug on a live-attached interface
        (engines before API 1.44 cannot set it themselves).
    """

    id: str
    uuid: str
    persistent: bool
    pending: DomainConfig | None = None
    record: bool = False
    macs: dict[str, str] = dataclasses.field(default_factory=dict)


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
    name_locks: dict[str, threading.Lock] = dataclasses.field(default_factory=dict)
    _pool: concurrent.futures.ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., _T], *args: Any) -> concurrent.futures.Future[_T]:
        """Run an engine query in the connection's small worker pool (off the critical path)."""
        with self.lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=4, thread_name_prefix="virtplug-docker"
                )
            pool = self._pool
        return pool.submit(fn, *args)

    def shutdown_pool(self) -> None:
        """Stop the worker pool (at close)."""
        with self.lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False)

    def name_lock(self, name: str) -> threading.Lock:
        """A lock serialising define / create / undefine of one domain name."""
        with self.lock:
            return self.name_locks.setdefault(name, threading.Lock())

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
        api: Any = self.api  # the SDK's request helpers are private, hence untyped here
        kwargs: dict[str, Any] = {"params": params or {}}
        if timeout is not None:
            kwargs["timeout"] = timeout
        url = api._url(path, target)
        if data is not None:
            res = api._post_json(url, data=data, **kwargs)
        else:
            res = api._post(url, **kwargs)
        api._raise_for_status(res)
        return cast(requests.Response, res)

    def inspect_image(self, reference: str) -> dict[str, Any]:
        """``GET /images/NAME/json`` (typed wrapper: the stub leaves it untyped)."""
        api: Any = self.api
        return cast(dict[str, Any], api.inspect_image(reference))

    @property
    def api_version(self) -> str:
        """The negotiated engine API version, e.g. ``1.41``."""
        return str(self.api.api_version)

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
