"""The Docker driver: every virtplug hook mapped to the Docker engine API."""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
import platform
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import docker
import docker.errors

from virtplug import hookimpl
from virtplug.errors import (
    ArgumentUnsupportedError,
    InvalidArgError,
    NoConnectError,
    NoDomainError,
    OperationFailedError,
    OperationInvalidError,
    OperationTimeoutError,
    UnsupportedError,
    VirtError,
)
from virtplug.models import (
    AuthCallback,
    DeviceConfig,
    DomainConfig,
    DomainInfo,
    DomainRef,
    DomainState,
    DomainStats,
    Event,
    ExecResult,
    FilesystemConfig,
    HostCapabilities,
    InterfaceConfig,
    NetworkConfig,
    NetworkInfo,
    NetworkRef,
    NodeInfo,
    PoolConfig,
    PoolInfo,
    PoolRef,
    SnapshotConfig,
    SnapshotInfo,
    VolumeConfig,
    VolumeInfo,
    VolumeRef,
)
from virtplug.records import evolve
from virtplug.uri import URI
from virtplug_docker import _domains as doms
from virtplug_docker import _events, _networks, _snapshots, _storage
from virtplug_docker._codec import LABEL_PERSISTENT
from virtplug_docker._connect import make_client
from virtplug_docker._errors import explanation, not_found, status_of, translate
from virtplug_docker._state import DockerConnection, Facts

__all__ = ["DockerDriver"]

_ACTIVE = ("running", "paused", "restarting")
_NOT_RUNNING = "domain is not running"


def _conflict_text(exc: BaseException) -> str:
    return explanation(exc).lower()


class DockerDriver:
    """virtplug driver for the Docker engine (URI scheme ``docker``).

    Domains are containers, networks are Docker networks, storage pools are
    Docker volume namespaces (plus the built-in ``volumes`` and ``images``
    pools). See ``docs/drivers/docker.md`` for the full mapping.
    """

    # -- declared unsupported ------------------------------------------------------

    # -- connection ------------------------------------------------------------------

    @hookimpl
    def virtplug_connection_open(
        self, uri: URI, auth: AuthCallback | None, readonly: bool
    ) -> DockerConnection:
        """Open the engine the URI names and read its ``/info`` (one round trip)."""
        try:
            api = make_client(uri)
            info = api.info()
        except VirtError:
            raise
        except Exception as exc:
            err = translate(exc, kind="engine", name=uri.text, uri=uri.text)
            if isinstance(err, NoConnectError):
                raise err from exc
            raise NoConnectError(
                f"cannot open Docker engine at {uri.text}: {explanation(exc)}", uri=uri.text
            ) from exc
        local = uri.transport in (None, "unix") and str(api.base_url).startswith("http+docker://")
        return DockerConnection(uri=uri, api=api, info=info, local=local, auth=auth)

    @hookimpl
    def virtplug_connection_close(self, conn: DockerConnection) -> None:
        """Stop event watchers and close the engine client (twice is harmless)."""
        if conn.closed:
            return
        conn.closed = True
        conn.shutdown_pool()
        for stop in list(conn.watchers):
            with contextlib.suppress(Exception):
                stop()
        with contextlib.suppress(Exception):
            conn.api.close()

    @hookimpl
    def virtplug_connection_is_alive(self, conn: DockerConnection) -> bool:
        """Ping the engine; any failure is ``False``."""
        if conn.closed:
            return False
        try:
            return bool(conn.api.ping())
        except Exception:
            return False

    @hookimpl
    def virtplug_connection_type(self, conn: DockerConnection) -> str:
        """``Docker``."""
        return "Docker"

    @hookimpl
    def virtplug_connection_version(self, conn: DockerConnection) -> str:
        """The engine's version (asked again: the engine may have been upgraded)."""
        with conn.guard("engine", "version"):
            return str(conn.api.version(api_version=False)["Version"])

    @hookimpl
    def virtplug_connection_hostname(self, conn: DockerConnection) -> str:
        """The engine host's name (``/info`` Name)."""
        return str(conn.info.get("Name") or platform.node())

    @hookimpl
    def virtplug_connection_capabilities(self, conn: DockerConnection) -> HostCapabilities:
        """Architecture, ``docker`` domains, ``exe`` OS type, engine features."""
        info = conn.info
        features = [
            f"storage-driver:{info.get('Driver', 'unknown')}",
            f"cgroups-v{info.get('CgroupVersion', '1')}",
            f"cgroup-driver:{info.get('CgroupDriver', 'unknown')}",
        ]
        if info.get("MemoryLimit"):
            features.append("memory-limit")
        return HostCapabilities(
            arch=_arch(str(info.get("Architecture") or platform.machine())),
            domain_types=("docker",),
            os_types=("exe",),
            features=tuple(features),
        )

    @hookimpl
    def virtplug_connection_watch_events(
        self, conn: DockerConnection, emit: Callable[[Event], None]
    ) -> Callable[[], None]:
        """Follow the engine's event stream in a thread; returns the function that stops it."""
        with conn.guard("engine", "events"):
            stop = _events.watch(conn, emit)
        conn.watchers.append(stop)
        return stop

    # -- node ----------------------------------------------------------------------------

    @hookimpl
    def virtplug_node_info(self, conn: DockerConnection) -> NodeInfo:
        """CPUs and memory of the engine host (``/info``)."""
        info = conn.info
        cpus = conn.host_cpus
        mhz = 0
        model = _arch(str(info.get("Architecture") or platform.machine()))
        if conn.local:
            model, mhz = _local_cpu(model)
        return NodeInfo(model=model, memory_kib=conn.host_mem_kib, cpus=cpus, mhz=mhz, cores=cpus)

    @hookimpl
    def virtplug_node_free_memory(self, conn: DockerConnection) -> int:
        """Free memory of the engine host (``MemAvailable``; local engines only)."""
        if not conn.local:
            raise UnsupportedError(
                "the Docker engine API does not report free memory; "
                "only local engines (docker:///, docker+unix) can answer"
            )
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        raise OperationFailedError("MemAvailable missing from /proc/meminfo")

    # -- domains: listing and lookup ------------------------------------------------------

    @hookimpl
    def virtplug_domain_list(
        self, conn: DockerConnection, active: bool | None, persistent: bool | None
    ) -> Sequence[DomainRef]:
        """One engine round trip (``GET /containers/json?all=1``), no per-container inspect.

        Refs carry no id: the list answer has no PIDs (``Domain.id`` asks the engine).
        A ``persistent`` filter adds one call for override records.
        """
        with conn.guard("engine", "containers"):
            rows = conn.api.containers(all=True)
            overrides: dict[str, bool] = {}
            if persistent is not None:
                overrides = _storage.domain_overrides(conn)
        refs = []
        for row in rows:
            names = row.get("Names") or []
            if not names:
                continue
            name = str(names[0]).lstrip("/")
            labels = row.get("Labels") or {}
            cid = str(row["Id"])
            is_active = row.get("State") in _ACTIVE
            is_persistent = overrides.get(cid, labels.get(LABEL_PERSISTENT, "1") != "0")
            if labels.get(LABEL_PERSISTENT) == "0" and not is_active and cid not in overrides:
                continue  # a transient container on its way out (auto-remove)
            if active is not None and is_active != active:
                continue
            if persistent is not None and is_persistent != persistent:
                continue
            refs.append(DomainRef(name=name, uuid=doms.uuid_of(labels, cid)))
        refs.sort(key=lambda r: r.name)
        return refs

    def _inspect(
        self, conn: DockerConnection, name: str, *, full: bool = True
    ) -> tuple[Facts, dict[str, Any]]:
        """Inspect the domain's container; *full* also reads its override record."""
        with conn.guard("domain", name):
            found = doms.load_facts(conn, name, record=full)
        if found is None:
            raise not_found("domain", name)
        return found

    @staticmethod
    def _ref(name: str, facts: Facts, attrs_: dict[str, Any]) -> DomainRef:
        st = attrs_.get("State") or {}
        pid = int(st.get("Pid") or 0)
        running = st.get("Status") in _ACTIVE
        return DomainRef(name=name, uuid=facts.uuid, id=pid if running and pid > 0 else None)

    @hookimpl
    def virtplug_domain_lookup_by_name(self, conn: DockerConnection, name: str) -> DomainRef:
        """Inspect the container (one call) and check its exact name."""
        facts, attrs_ = self._inspect(conn, name, full=False)
        return self._ref(name, facts, attrs_)

    @hookimpl
    def virtplug_domain_lookup_by_uuid(self, conn: DockerConnection, uuid: str) -> DomainRef:
        """Find the container labelled (or derived) with *uuid*."""
        with conn.guard("domain", uuid):
            rows = conn.api.containers(all=True)
        for row in rows:
            labels = row.get("Labels") or {}
            if doms.uuid_of(labels, str(row["Id"])) == uuid:
                name = str((row.get("Names") or ["/"])[0]).lstrip("/")
                if labels.get(LABEL_PERSISTENT) == "0" and row.get("State") not in _ACTIVE:
                    continue
                return self.virtplug_domain_lookup_by_name(conn, name)
        raise NoDomainError(f"Domain not found: no domain with matching uuid '{uuid}'")

    @hookimpl
    def virtplug_domain_lookup_by_id(self, conn: DockerConnection, id: int) -> DomainRef:
        """Map an init PID to its container (``/proc/PID/cgroup`` locally, else a scan)."""
        missing = NoDomainError(f"Domain not found: no domain with matching id {id}")
        candidates: list[str] = []
        if conn.local:
            cid = _container_of_pid(id)
            if cid is None:
                raise missing
            candidates = [cid]
        else:
            with conn.guard("engine", "containers"):
                candidates = [str(r["Id"]) for r in conn.api.containers()]
        for cid in candidates:
            try:
                attrs_ = conn.api.inspect_container(cid)
            except docker.errors.NotFound:
                continue
            except Exception as exc:
                raise translate(exc, kind="domain", name=str(id), uri=conn.uri.text) from exc
            if int((attrs_.get("State") or {}).get("Pid") or 0) == id:
                name = str(attrs_["Name"]).lstrip("/")
                facts = doms.facts_from_inspect(conn, attrs_)
                return self._ref(name, facts, attrs_)
        raise missing

    # -- domains: define / create / undefine ------------------------------------------------

    def _check_uuid_free(
        self,
        conn: DockerConnection,
        config: DomainConfig,
        owners: concurrent.futures.Future[list[dict[str, Any]]],
        created: str | None = None,
    ) -> None:
        """Raise OPERATION_FAILED when another name holds the UUID (removing *created*)."""
        try:
            rows = owners.result()
        except Exception as exc:
            raise translate(exc, kind="domain", name=config.name, uri=conn.uri.text) from exc
        for row in rows:
            other = str((row.get("Names") or ["/"])[0]).lstrip("/")
            if other != config.name:
                if created is not None:
                    with conn.guard("domain", config.name):
                        doms.remove_quietly(conn, created)
                raise OperationFailedError(
                    f"domain '{other}' already exists with uuid {config.uuid}"
                )

    @hookimpl
    def virtplug_domain_define(self, conn: DockerConnection, config: DomainConfig) -> DomainRef:
        """``containers.create`` (persistent: no auto-remove); an existing name updates it.

        The UUID-uniqueness query runs concurrently with the create (off the critical path).
        """
        assert config.uuid is not None
        name = config.name
        with conn.name_lock(name):
            owners = conn.submit(doms.find_uuid_owners, conn, config.uuid)
            for _attempt in range(3):
                try:
                    cid = doms.create_container(conn, config, persistent=True)
                except docker.errors.APIError as exc:
                    if status_of(exc) != 409:
                        raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
                    self._check_uuid_free(conn, config, owners)
                    ref = self._redefine(conn, config)
                    if ref is not None:
                        return ref
                    continue  # the name's holder vanished meanwhile: create again
                except VirtError:
                    raise
                except Exception as exc:
                    raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
                self._check_uuid_free(conn, config, owners, created=cid)
                conn.remember(name, Facts(id=cid, uuid=config.uuid, persistent=True))
                return DomainRef(name=name, uuid=config.uuid)
        raise OperationFailedError(f"domain '{name}' is being created and removed concurrently")

    def _holder(self, conn: DockerConnection, name: str) -> tuple[Facts, dict[str, Any]] | None:
        """The container holding *name* after a 409 (waits briefly for it to appear).

        The engine reserves a name before the container it is creating can be inspected.
        """
        deadline = time.monotonic() + 5
        while True:
            with conn.guard("domain", name):
                found = doms.load_facts(conn, name)
            if found is not None or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def _redefine(self, conn: DockerConnection, config: DomainConfig) -> DomainRef | None:
        name = config.name
        found = self._holder(conn, name)
        if found is None:
            return None
        facts, attrs_ = found
        if facts.uuid != config.uuid:
            raise OperationFailedError(f"domain '{name}' already exists with uuid {facts.uuid}")
        running = (attrs_.get("State") or {}).get("Status") in _ACTIVE
        with conn.guard("domain", name):
            if running:
                # Labels are immutable: the new definition waits in the override record and
                # replaces the container when it next stops through virtplug.
                doms.write_record(conn, facts, persistent=True, pending=config)
                return self._ref(name, facts, attrs_)
            if doms.stored_config(conn, attrs_) == config and facts.persistent:
                return DomainRef(name=name, uuid=facts.uuid)
            policy = ((attrs_.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")
            doms.remove_quietly(conn, facts.id)
            if facts.record:
                doms.remove_record(conn, facts)
            cid = doms.create_container(
                conn, config, persistent=True, autostart=policy == doms.AUTOSTART_POLICY
            )
        conn.remember(name, Facts(id=cid, uuid=facts.uuid, persistent=True))
        return DomainRef(name=name, uuid=facts.uuid)

    @hookimpl
    def virtplug_domain_create(self, conn: DockerConnection, config: DomainConfig) -> DomainRef:
        """``containers.create`` with auto-remove, then ``start``; the running domain."""
        assert config.uuid is not None
        name = config.name
        with conn.name_lock(name):
            owners = conn.submit(doms.find_uuid_owners, conn, config.uuid)
            cid = self._create_transient(conn, config)
            self._check_uuid_free(conn, config, owners, created=cid)
        try:
            with conn.guard("domain", name):
                conn.post("/containers/{0}/start", cid)
        except VirtError:
            with conn.guard("domain", name):
                doms.remove_quietly(conn, cid)
            raise
        conn.remember(name, Facts(id=cid, uuid=config.uuid, persistent=False))
        facts, attrs_ = self._inspect(conn, name)
        return self._ref(name, facts, attrs_)

    def _create_transient(self, conn: DockerConnection, config: DomainConfig) -> str:
        name = config.name
        try:
            return doms.create_container(conn, config, persistent=False)
        except docker.errors.APIError as exc:
            if status_of(exc) == 409:
                found = self._holder(conn, name)
                uuid = found[0].uuid if found else "unknown"
                raise OperationFailedError(
                    f"domain '{name}' already exists with uuid {uuid}"
                ) from exc
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        except VirtError:
            raise
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc

    @hookimpl
    def virtplug_domain_undefine(self, conn: DockerConnection, name: str) -> None:
        """``remove`` (one call); a running persistent domain becomes transient instead."""
        facts = conn.cached(name)
        if facts is None:
            facts, _attrs = self._inspect(conn, name)
        try:
            conn.api.remove_container(facts.id)
        except docker.errors.NotFound as exc:
            conn.forget(name)
            found = doms.load_facts(conn, name)
            if found is None:
                raise not_found("domain", name) from exc
            return self.virtplug_domain_undefine(conn, name)
        except docker.errors.APIError as exc:
            if status_of(exc) != 409:
                raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
            facts, _attrs = self._inspect(conn, name)
            if not facts.persistent:
                raise OperationInvalidError("cannot undefine transient domain") from exc
            with conn.guard("domain", name):
                doms.write_record(conn, facts, persistent=False, pending=None)
            return None
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        conn.forget(name)
        if facts.record:
            with conn.guard("domain", name):
                doms.remove_record(conn, facts)
        return None

    # -- domains: lifecycle ------------------------------------------------------------------

    def _post_state(
        self,
        conn: DockerConnection,
        name: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> int:
        """POST a lifecycle call by cached id (or name); retry by name when the id is stale."""
        target = conn.target(name)
        try:
            return conn.post(path, target, params=params, timeout=timeout).status_code
        except docker.errors.NotFound as exc:
            if target != name:
                conn.forget(name)
                return self._post_state(conn, name, path, params=params, timeout=timeout)
            raise not_found("domain", name) from exc

    @hookimpl
    def virtplug_domain_start(self, conn: DockerConnection, name: str) -> None:
        """``start`` (one call): 304 from the engine means already running."""
        try:
            code = self._post_state(conn, name, "/containers/{0}/start")
        except VirtError:
            raise
        except docker.errors.APIError as exc:
            if "paused" in _conflict_text(exc):
                raise OperationInvalidError("domain is already running") from exc
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        if code == 304:
            raise OperationInvalidError("domain is already running")
        facts = conn.cached(name)
        if facts is not None and facts.macs:
            with conn.guard("domain", name):
                for network, mac in facts.macs.items():
                    self._apply_mac(conn, facts, network, mac)

    @hookimpl
    def virtplug_domain_shutdown(
        self, conn: DockerConnection, name: str, timeout: float | None
    ) -> None:
        """``stop`` with the grace period (SIGTERM, then SIGKILL); transient ones are removed."""
        grace = 10 if timeout is None else max(0, math.ceil(timeout))
        try:
            code = self._post_state(
                conn,
                name,
                "/containers/{0}/stop",
                params={"t": grace},
                timeout=float(conn.api.timeout) + grace,
            )
        except VirtError:
            raise
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        if code == 304:
            raise OperationInvalidError(_NOT_RUNNING)
        self._after_stop(conn, name)

    @hookimpl
    def virtplug_domain_destroy(self, conn: DockerConnection, name: str) -> None:
        """``kill`` (SIGKILL; the engine returns once it stopped); transient ones are removed."""
        try:
            self._post_state(conn, name, "/containers/{0}/kill")
        except VirtError:
            raise
        except docker.errors.APIError as exc:
            text = _conflict_text(exc)
            if "is paused" in text:
                # Older engines refuse to kill a frozen container: thaw it first.
                with conn.guard("domain", name):
                    conn.post("/containers/{0}/unpause", conn.target(name))
                return self.virtplug_domain_destroy(conn, name)
            if status_of(exc) == 409 and "not running" in text:
                raise OperationInvalidError(_NOT_RUNNING) from exc
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        self._after_stop(conn, name)
        return None

    def _after_stop(self, conn: DockerConnection, name: str) -> None:
        """Remove a stopped transient container; apply a pending definition."""
        facts = conn.cached(name)
        with conn.guard("domain", name):
            if facts is None:
                found = doms.load_facts(conn, name)
                if found is None:
                    return  # auto-removed already
                facts = found[0]
            if not facts.persistent:
                doms.remove_quietly(conn, facts.id)
                if facts.record:
                    doms.remove_record(conn, facts)
                conn.forget(name)
                return
            if facts.pending is not None:
                pending = facts.pending
                doms.remove_quietly(conn, facts.id)
                doms.remove_record(conn, facts)
                cid = doms.create_container(conn, pending, persistent=True)
                conn.remember(name, Facts(id=cid, uuid=facts.uuid, persistent=True))

    @hookimpl
    def virtplug_domain_reboot(self, conn: DockerConnection, name: str) -> None:
        """``restart`` of a running container (the engine would also start a stopped one)."""
        _facts, attrs_ = self._inspect(conn, name, full=False)
        if (attrs_.get("State") or {}).get("Status") not in _ACTIVE:
            raise OperationInvalidError(_NOT_RUNNING)
        with conn.guard("domain", name):
            conn.post(
                "/containers/{0}/restart",
                attrs_["Id"],
                params={"t": 10},
                timeout=float(conn.api.timeout) + 10,
            )

    @hookimpl
    def virtplug_domain_suspend(self, conn: DockerConnection, name: str) -> None:
        """``pause`` (cgroup freezer); already paused is a no-op."""
        try:
            self._post_state(conn, name, "/containers/{0}/pause")
        except VirtError:
            raise
        except docker.errors.APIError as exc:
            text = _conflict_text(exc)
            if "already paused" in text:
                return
            if "not running" in text:
                raise OperationInvalidError(_NOT_RUNNING) from exc
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc

    @hookimpl
    def virtplug_domain_resume(self, conn: DockerConnection, name: str) -> None:
        """``unpause``; 'not paused' becomes 'domain is not running' / 'domain is not paused'."""
        try:
            self._post_state(conn, name, "/containers/{0}/unpause")
        except VirtError:
            raise
        except docker.errors.APIError as exc:
            if "not paused" not in _conflict_text(exc):
                raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
            _facts, attrs_ = self._inspect(conn, name, full=False)
            if (attrs_.get("State") or {}).get("Status") not in _ACTIVE:
                raise OperationInvalidError(_NOT_RUNNING) from exc
            raise OperationInvalidError("domain is not paused") from exc
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc

    # -- domains: facts ----------------------------------------------------------------------

    @hookimpl
    def virtplug_domain_state(self, conn: DockerConnection, name: str) -> tuple[DomainState, int]:
        """State and reason from ``inspect``."""
        _facts, attrs_ = self._inspect(conn, name, full=False)
        state, reason = doms.state_of(attrs_)
        return state, int(reason)

    @hookimpl
    def virtplug_domain_info(self, conn: DockerConnection, name: str) -> DomainInfo:
        """``inspect`` (+ one-shot ``stats`` for CPU time while running)."""
        facts, attrs_ = self._inspect(conn, name)
        state, reason = doms.state_of(attrs_)
        config = doms.live_config(conn, attrs_)
        cpu = 0
        if state in (DomainState.RUNNING, DomainState.PAUSED):
            with conn.guard("domain", name):
                stats = conn.api.stats(facts.id, stream=False, one_shot=True)
            cpu = int(
                ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage") or 0
            )
        return DomainInfo(
            state=state,
            max_memory_kib=config.memory_kib,
            memory_kib=config.effective_memory_kib,
            vcpus=config.vcpus,
            cpu_time_ns=cpu,
            persistent=facts.persistent,
            state_reason=int(reason),
        )

    @hookimpl
    def virtplug_domain_xml(
        self, conn: DockerConnection, name: str, inactive: bool
    ) -> DomainConfig:
        """The stored configuration (labels) overlaid with live limits and networks."""
        facts, attrs_ = self._inspect(conn, name)
        if inactive and facts.pending is not None:
            return facts.pending
        return doms.live_config(conn, attrs_, facts.macs)

    @hookimpl
    def virtplug_domain_set_memory(self, conn: DockerConnection, name: str, kib: int) -> None:
        """``container.update(mem_limit)`` (live, and kept by the engine across restarts)."""
        facts, attrs_ = self._inspect(conn, name, full=False)
        config = doms.stored_config(conn, attrs_)
        if kib <= 0 or kib > config.memory_kib:
            raise InvalidArgError(
                f"cannot set memory higher than max memory ({kib} > {config.memory_kib} KiB)"
            )
        if kib < 6 * 1024:
            raise InvalidArgError(f"Docker needs at least 6144 KiB of memory, not {kib}")
        with conn.guard("domain", name):
            conn.api.update_container(facts.id, mem_limit=kib * 1024, memswap_limit=-1)

    @hookimpl
    def virtplug_domain_set_vcpus(self, conn: DockerConnection, name: str, count: int) -> None:
        """``container.update(NanoCpus)``; at most the host's CPUs."""
        if count < 1 or count > conn.host_cpus:
            raise InvalidArgError(
                f"requested vcpus {count} is outside 1..{conn.host_cpus} (the host's CPUs)"
            )
        facts, _attrs = self._inspect(conn, name, full=False)
        with conn.guard("domain", name):
            conn.post("/containers/{0}/update", facts.id, data={"NanoCpus": int(count * 1e9)})

    @hookimpl
    def virtplug_domain_get_autostart(self, conn: DockerConnection, name: str) -> bool:
        """Autostart is restart policy ``always`` (started with the engine)."""
        _facts, attrs_ = self._inspect(conn, name, full=False)
        policy = ((attrs_.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")
        return bool(policy == doms.AUTOSTART_POLICY)

    @hookimpl
    def virtplug_domain_set_autostart(
        self, conn: DockerConnection, name: str, autostart: bool
    ) -> None:
        """``container.update(restart_policy=always|no)``; refused for transient domains."""
        facts, _attrs = self._inspect(conn, name)
        if not facts.persistent:
            raise OperationInvalidError("cannot set autostart for transient domain")
        policy: Any = {"Name": doms.AUTOSTART_POLICY if autostart else "no"}
        with conn.guard("domain", name):
            conn.api.update_container(facts.id, restart_policy=policy)

    # -- domains: devices --------------------------------------------------------------------

    @hookimpl
    def virtplug_domain_attach_device(
        self, conn: DockerConnection, name: str, device: DeviceConfig
    ) -> None:
        """Interfaces: ``network connect`` (live or not); mounts: only while shut off."""
        facts, attrs_ = self._inspect(conn, name)
        if isinstance(device, InterfaceConfig):
            self._attach_nic(conn, name, facts, attrs_, device)
            return
        if isinstance(device, FilesystemConfig):
            self._change_mounts(conn, name, facts, attrs_, add=device)
            return
        raise ArgumentUnsupportedError(
            f"Docker cannot attach a {type(device).__name__} to a container"
        )

    def _attach_nic(
        self,
        conn: DockerConnection,
        name: str,
        facts: Facts,
        attrs_: dict[str, Any],
        nic: InterfaceConfig,
    ) -> None:
        if nic.type != "network" or not nic.source:
            raise ArgumentUnsupportedError(
                f"Docker can only attach <interface type='network'>, not type '{nic.type}'"
            )
        native_mac = _api_at_least(conn, "1.44")
        if nic.mac and not native_mac and not conn.local:
            raise ArgumentUnsupportedError(
                f"this Docker engine (API {conn.api_version}) cannot set a MAC address "
                f"when connecting a network, and the engine is not local"
            )
        networks = ((attrs_.get("NetworkSettings") or {}).get("Networks")) or {}
        if nic.source in networks:
            raise OperationFailedError(
                f"domain '{name}' already has an interface on network '{nic.source}'"
            )
        ip = nic.ips[0][0] if nic.ips else None
        with conn.guard("network", nic.source):
            if "none" in networks:
                conn.api.disconnect_container_from_network(facts.id, "none")
            kwargs: dict[str, Any] = {"ipv4_address": ip}
            if nic.mac and native_mac:
                kwargs["mac_address"] = nic.mac
            try:
                conn.api.connect_container_to_network(facts.id, nic.source, **kwargs)
            except Exception:
                if "none" in networks:
                    conn.api.connect_container_to_network(facts.id, "none")
                raise
        if nic.mac and not native_mac:
            with conn.guard("domain", name):
                self._apply_mac(conn, facts, nic.source, nic.mac)
                macs = {**facts.macs, nic.source: nic.mac}
                doms.write_record(
                    conn, facts, persistent=facts.persistent, pending=facts.pending, macs=macs
                )

    def _apply_mac(self, conn: DockerConnection, facts: Facts, network: str, mac: str) -> None:
        attrs_ = conn.api.inspect_container(facts.id)
        st = attrs_.get("State") or {}
        if st.get("Status") not in _ACTIVE or not st.get("Pid"):
            return  # applied when it runs: the endpoint is created at start
        ep = ((attrs_.get("NetworkSettings") or {}).get("Networks") or {}).get(network) or {}
        current = ep.get("MacAddress")
        if current and current.lower() != mac.lower():
            doms.set_mac(int(st["Pid"]), current, mac)

    @hookimpl
    def virtplug_domain_detach_device(
        self, conn: DockerConnection, name: str, device: DeviceConfig
    ) -> None:
        """Interfaces: ``network disconnect`` (by MAC, else network); mounts: when shut off."""
        facts, attrs_ = self._inspect(conn, name)
        if isinstance(device, FilesystemConfig):
            self._change_mounts(conn, name, facts, attrs_, remove=device)
            return
        if not isinstance(device, InterfaceConfig):
            raise ArgumentUnsupportedError(
                f"Docker cannot detach a {type(device).__name__} from a container"
            )
        networks = ((attrs_.get("NetworkSettings") or {}).get("Networks")) or {}
        match = None
        for net, ep in networks.items():
            if net in ("none", "host"):
                continue
            mac = (facts.macs.get(net) or (ep or {}).get("MacAddress") or "").lower()
            if device.mac and mac == device.mac.lower():
                match = net
                break
            if not device.mac and device.source == net:
                match = net
                break
        if match is None:
            raise OperationFailedError("device not found: no matching interface")
        with conn.guard("network", match):
            conn.api.disconnect_container_from_network(facts.id, match)
            if match in facts.macs:
                macs = {k: v for k, v in facts.macs.items() if k != match}
                doms.write_record(
                    conn, facts, persistent=facts.persistent, pending=facts.pending, macs=macs
                )

    def _change_mounts(
        self,
        conn: DockerConnection,
        name: str,
        facts: Facts,
        attrs_: dict[str, Any],
        *,
        add: FilesystemConfig | None = None,
        remove: FilesystemConfig | None = None,
    ) -> None:
        if (attrs_.get("State") or {}).get("Status") in _ACTIVE:
            raise ArgumentUnsupportedError(
                "Docker cannot add or remove a mount on a running container "
                "(shut the domain off first)"
            )
        if not facts.persistent:
            raise OperationInvalidError("transient domain is not running")
        config = doms.live_config(conn, attrs_, facts.macs)
        fss = list(config.filesystems)
        if add is not None:
            if add.is_root:
                raise ArgumentUnsupportedError("cannot replace the root filesystem of a container")
            if any(f.target == add.target for f in fss):
                raise OperationFailedError(f"a filesystem is already mounted at {add.target}")
            fss.append(add)
        if remove is not None:
            kept = [f for f in fss if f.is_root or f.target != remove.target]
            if len(kept) == len(fss):
                raise OperationFailedError(f"device not found: no filesystem at {remove.target}")
            fss = kept
        new = evolve(config, filesystems=tuple(fss))
        policy = ((attrs_.get("HostConfig") or {}).get("RestartPolicy") or {}).get("Name")
        with conn.guard("domain", name):
            doms.remove_quietly(conn, facts.id)
            cid = doms.create_container(
                conn, new, persistent=True, autostart=policy == doms.AUTOSTART_POLICY
            )
        conn.remember(name, Facts(id=cid, uuid=facts.uuid, persistent=True))

    # -- domains: stats and exec ---------------------------------------------------------------

    @hookimpl
    def virtplug_domain_stats(self, conn: DockerConnection, name: str) -> DomainStats:
        """One-shot ``stats`` (``stream=False``): CPU time, memory use and limit, PIDs."""
        facts, attrs_ = self._inspect(conn, name, full=False)
        if (attrs_.get("State") or {}).get("Status") not in _ACTIVE:
            raise OperationInvalidError(_NOT_RUNNING)
        with conn.guard("domain", name):
            raw = conn.api.stats(facts.id, stream=False, one_shot=True)
        cpu = int(((raw.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage") or 0)
        mem = raw.get("memory_stats") or {}
        usage = int(mem.get("usage") or 0)
        details = mem.get("stats") or {}
        cache = int(details.get("total_inactive_file") or details.get("inactive_file") or 0)
        limit = int(mem.get("limit") or 0)
        host_limit = conn.host_mem_kib * 1024
        pids = (raw.get("pids_stats") or {}).get("current")
        extra = []
        for net, figures in (raw.get("networks") or {}).items():
            extra.append((f"net.{net}.rx_bytes", float(figures.get("rx_bytes", 0))))
            extra.append((f"net.{net}.tx_bytes", float(figures.get("tx_bytes", 0))))
        return DomainStats(
            cpu_time_ns=cpu,
            memory_used_kib=max(0, usage - cache) // 1024,
            memory_limit_kib=limit // 1024 if limit and limit < host_limit else None,
            pids=int(pids) if pids is not None else None,
            extra=tuple(extra),
        )

    @hookimpl
    def virtplug_domain_exec(
        self, conn: DockerConnection, name: str, argv: Sequence[str], timeout: float | None
    ) -> ExecResult:
        """``exec_create`` + ``exec_start(demux=True)`` + ``exec_inspect`` for the exit code."""
        api = conn.api
        try:
            exec_id = api.exec_create(conn.target(name), list(argv), stdout=True, stderr=True)["Id"]
        except docker.errors.NotFound as exc:
            if conn.cached(name) is not None:
                conn.forget(name)
                return self.virtplug_domain_exec(conn, name, argv, timeout)
            raise not_found("domain", name) from exc
        except docker.errors.APIError as exc:
            text = _conflict_text(exc)
            if "paused" in text:
                raise OperationInvalidError("domain is paused") from exc
            if "not running" in text:
                raise OperationInvalidError(_NOT_RUNNING) from exc
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        except Exception as exc:
            raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc

        def run() -> tuple[bytes | None, bytes | None]:
            out = api.exec_start(exec_id, demux=True)
            return out if isinstance(out, tuple) else (out, None)

        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        try:
            future = pool.submit(run)
            try:
                stdout, stderr = future.result(timeout=timeout)
            except concurrent.futures.TimeoutError as exc:
                raise OperationTimeoutError(
                    f"command {list(argv)!r} in domain '{name}' outran {timeout} s"
                ) from exc
            except Exception as exc:
                raise translate(exc, kind="domain", name=name, uri=conn.uri.text) from exc
        finally:
            pool.shutdown(wait=False)
        with conn.guard("domain", name):
            code = api.exec_inspect(exec_id).get("ExitCode")
        return ExecResult(
            exit_code=int(code) if code is not None else -1,
            stdout=stdout or b"",
            stderr=stderr or b"",
        )

    # -- domains: snapshots (committed images) --------------------------------------------

    @hookimpl
    def virtplug_domain_snapshot_create(
        self, conn: DockerConnection, name: str, snapshot: SnapshotConfig
    ) -> SnapshotInfo:
        """``commit`` the container (paused while running) to a labelled snapshot image."""
        facts, attrs_ = self._inspect(conn, name)
        with conn.guard("domain", name):
            return _snapshots.create(conn, name, facts, attrs_, snapshot)

    @hookimpl
    def virtplug_domain_snapshot_list(
        self, conn: DockerConnection, name: str
    ) -> Sequence[SnapshotInfo]:
        """Snapshot images labelled with the domain's UUID, oldest first."""
        facts, _attrs = self._inspect(conn, name, full=False)
        with conn.guard("domain", name):
            return _snapshots.list_snapshots(conn, name, facts)

    @hookimpl
    def virtplug_domain_snapshot_lookup(
        self, conn: DockerConnection, name: str, snapshot: str
    ) -> SnapshotInfo:
        """One snapshot by name."""
        facts, _attrs = self._inspect(conn, name, full=False)
        with conn.guard("domain", name):
            img = _snapshots.find(conn, name, facts, snapshot)
        return _snapshots._info(name, img)

    @hookimpl
    def virtplug_domain_snapshot_revert(
        self, conn: DockerConnection, name: str, snapshot: str
    ) -> None:
        """Recreate the container from the snapshot image and definition.

        Filesystem and configuration; started again when the snapshot was taken running.
        """
        facts, attrs_ = self._inspect(conn, name)
        with conn.guard("domain", name):
            _snapshots.find(conn, name, facts, snapshot)
            new = _snapshots.revert(conn, name, facts, attrs_, snapshot)
        conn.remember(name, new)

    @hookimpl
    def virtplug_domain_snapshot_delete(
        self, conn: DockerConnection, name: str, snapshot: str
    ) -> None:
        """Remove the snapshot image's tag."""
        facts, _attrs = self._inspect(conn, name, full=False)
        with conn.guard("domain", name):
            _snapshots.delete(conn, name, facts, snapshot)

    # -- networks --------------------------------------------------------------------------------

    @hookimpl
    def virtplug_network_list(
        self, conn: DockerConnection, active: bool | None, persistent: bool | None
    ) -> Sequence[NetworkRef]:
        """Docker networks (active) merged with virtplug's defined-network records."""
        return _networks.list_networks(conn, active, persistent)

    @hookimpl
    def virtplug_network_lookup_by_name(self, conn: DockerConnection, name: str) -> NetworkRef:
        """A Docker network or a defined-network record by exact name."""
        return _networks.lookup(conn, name).ref

    @hookimpl
    def virtplug_network_lookup_by_uuid(self, conn: DockerConnection, uuid: str) -> NetworkRef:
        """A network by label or derived UUID."""
        return _networks.lookup_uuid(conn, uuid)

    @hookimpl
    def virtplug_network_define(self, conn: DockerConnection, config: NetworkConfig) -> NetworkRef:
        """Store the definition in a record (Docker has no inactive networks)."""
        return _networks.define(conn, config)

    @hookimpl
    def virtplug_network_create(self, conn: DockerConnection, config: NetworkConfig) -> NetworkRef:
        """``networks.create`` (bridge driver), transient."""
        return _networks.create(conn, config)

    @hookimpl
    def virtplug_network_undefine(self, conn: DockerConnection, name: str) -> None:
        """Delete the record; an active network stays as a transient one."""
        _networks.undefine(conn, name)

    @hookimpl
    def virtplug_network_start(self, conn: DockerConnection, name: str) -> None:
        """``networks.create`` from the record."""
        _networks.start(conn, name)

    @hookimpl
    def virtplug_network_stop(self, conn: DockerConnection, name: str) -> None:
        """``network.remove`` (the record, when defined, keeps the definition)."""
        _networks.stop(conn, name)

    @hookimpl
    def virtplug_network_info(self, conn: DockerConnection, name: str) -> NetworkInfo:
        """Active, persistent, autostart and bridge."""
        return _networks.info(conn, name)

    @hookimpl
    def virtplug_network_xml(
        self, conn: DockerConnection, name: str, inactive: bool
    ) -> NetworkConfig:
        """The stored (or derived) network configuration."""
        return _networks.xml(conn, name, inactive)

    @hookimpl
    def virtplug_network_get_autostart(self, conn: DockerConnection, name: str) -> bool:
        """The record's autostart flag."""
        return _networks.get_autostart(conn, name)

    @hookimpl
    def virtplug_network_set_autostart(
        self, conn: DockerConnection, name: str, autostart: bool
    ) -> None:
        """Rewrite the record with the new flag; transient networks refuse."""
        _networks.set_autostart(conn, name, autostart)

    # -- storage pools -------------------------------------------------------------------------

    @hookimpl
    def virtplug_pool_list(
        self, conn: DockerConnection, active: bool | None, persistent: bool | None
    ) -> Sequence[PoolRef]:
        """The built-in ``volumes`` and ``images`` pools and virtplug-defined pools."""
        return _storage.list_pools(conn, active, persistent)

    @hookimpl
    def virtplug_pool_lookup_by_name(self, conn: DockerConnection, name: str) -> PoolRef:
        """A pool by name."""
        return _storage.lookup_pool(conn, name).ref

    @hookimpl
    def virtplug_pool_lookup_by_uuid(self, conn: DockerConnection, uuid: str) -> PoolRef:
        """A pool by UUID."""
        return _storage.lookup_pool_uuid(conn, uuid)

    @hookimpl
    def virtplug_pool_define(self, conn: DockerConnection, config: PoolConfig) -> PoolRef:
        """Record a pool (a label namespace of Docker volumes on one volume driver)."""
        return _storage.define_pool(conn, config, persistent=True)

    @hookimpl
    def virtplug_pool_create(self, conn: DockerConnection, config: PoolConfig) -> PoolRef:
        """Record a transient, active pool."""
        return _storage.define_pool(conn, config, persistent=False)

    @hookimpl
    def virtplug_pool_build(self, conn: DockerConnection, name: str) -> None:
        """Create the pool's target directory (local engines)."""
        _storage.build_pool(conn, name)

    @hookimpl
    def virtplug_pool_start(self, conn: DockerConnection, name: str) -> None:
        """Mark the pool active."""
        _storage.set_pool_active(conn, name, True)

    @hookimpl
    def virtplug_pool_stop(self, conn: DockerConnection, name: str) -> None:
        """Mark the pool inactive (a transient pool disappears)."""
        _storage.set_pool_active(conn, name, False)

    @hookimpl
    def virtplug_pool_delete(self, conn: DockerConnection, name: str) -> None:
        """Remove the pool's target directory; refused while it holds volumes."""
        _storage.delete_pool(conn, name)

    @hookimpl
    def virtplug_pool_undefine(self, conn: DockerConnection, name: str) -> None:
        """Remove an inactive pool's record."""
        _storage.undefine_pool(conn, name)

    @hookimpl
    def virtplug_pool_refresh(self, conn: DockerConnection, name: str) -> None:
        """Nothing to rescan (every listing asks the engine); checks the pool is active."""
        _storage.refresh_pool(conn, name)

    @hookimpl
    def virtplug_pool_info(self, conn: DockerConnection, name: str) -> PoolInfo:
        """State and the sizes of the engine's data root (local engines)."""
        return _storage.pool_info(conn, name)

    @hookimpl
    def virtplug_pool_xml(self, conn: DockerConnection, name: str, inactive: bool) -> PoolConfig:
        """The pool configuration with sizes."""
        return _storage.pool_xml(conn, name)

    @hookimpl
    def virtplug_pool_get_autostart(self, conn: DockerConnection, name: str) -> bool:
        """The record's autostart flag (built-in pools: always)."""
        return _storage.lookup_pool(conn, name).autostart

    @hookimpl
    def virtplug_pool_set_autostart(
        self, conn: DockerConnection, name: str, autostart: bool
    ) -> None:
        """Rewrite the record's autostart flag."""
        _storage.set_pool_autostart(conn, name, autostart)

    # -- storage volumes --------------------------------------------------------------------------

    @hookimpl
    def virtplug_volume_list(self, conn: DockerConnection, pool: str) -> Sequence[VolumeRef]:
        """Docker volumes of the pool (one ``volumes`` call), or images for ``images``."""
        return _storage.list_volumes(conn, pool)

    @hookimpl
    def virtplug_volume_lookup_by_name(
        self, conn: DockerConnection, pool: str, name: str
    ) -> VolumeRef:
        """A volume (or image) of the pool by name."""
        return _storage.lookup_volume(conn, pool, name).ref

    @hookimpl
    def virtplug_volume_lookup_by_key(self, conn: DockerConnection, key: str) -> VolumeRef:
        """A volume by Docker volume name, or an image by id."""
        return _storage.lookup_volume_key(conn, key)

    @hookimpl
    def virtplug_volume_lookup_by_path(self, conn: DockerConnection, path: str) -> VolumeRef:
        """A volume by mountpoint, or an image by id."""
        return _storage.lookup_volume_path(conn, path)

    @hookimpl
    def virtplug_volume_create(
        self, conn: DockerConnection, pool: str, config: VolumeConfig
    ) -> VolumeRef:
        """``volumes.create`` (labelled with the pool); in ``images``: pull the reference."""
        return _storage.create_volume(conn, pool, config)

    @hookimpl
    def virtplug_volume_clone(
        self, conn: DockerConnection, pool: str, name: str, new_name: str
    ) -> VolumeRef:
        """Images: ``tag``; volumes: create and copy the data (local engines)."""
        return _storage.clone_volume(conn, pool, name, new_name)

    @hookimpl
    def virtplug_volume_delete(self, conn: DockerConnection, pool: str, name: str) -> None:
        """``volume.remove`` / ``image.remove``; in use -> RESOURCE_BUSY."""
        _storage.delete_volume(conn, pool, name)

    @hookimpl
    def virtplug_volume_info(self, conn: DockerConnection, pool: str, name: str) -> VolumeInfo:
        """Type, capacity and allocation."""
        return _storage.volume_info(conn, pool, name)

    @hookimpl
    def virtplug_volume_xml(self, conn: DockerConnection, pool: str, name: str) -> VolumeConfig:
        """The volume configuration with key and path."""
        return _storage.volume_xml(conn, pool, name)

    @hookimpl
    def virtplug_volume_path(self, conn: DockerConnection, pool: str, name: str) -> str:
        """The volume's mountpoint (images: their id)."""
        return _storage.lookup_volume(conn, pool, name).ref.path


# -- helpers -----------------------------------------------------------------------------------


def _api_at_least(conn: DockerConnection, version: str) -> bool:
    have = tuple(int(p) for p in str(conn.api_version).split("."))
    want = tuple(int(p) for p in version.split("."))
    return have >= want


def _arch(value: str) -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(value, value)


def _local_cpu(default: str) -> tuple[str, int]:
    model, mhz = default, 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model == default:
                    model = value.strip()
                elif key == "cpu MHz" and not mhz:
                    mhz = int(float(value.strip() or 0))
    except OSError:
        pass
    return model, mhz


_CID = re.compile(r"([0-9a-f]{64})")


def _container_of_pid(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/cgroup", encoding="ascii", errors="replace") as fh:
            text = fh.read()
    except OSError:
        return None
    match = _CID.search(text)
    return match.group(1) if match else None
