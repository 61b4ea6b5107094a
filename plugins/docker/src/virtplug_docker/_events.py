"""The engine's event stream turned into virtplug lifecycle events."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from virtplug.models import (
    DomainEventDetail,
    DomainEventType,
    Event,
    EventKind,
    NetworkEventType,
)
from virtplug_docker._codec import LABEL_PERSISTENT, LABEL_UUID, derived_uuid
from virtplug_docker._state import DockerConnection

__all__ = ["translate_event", "watch"]


def translate_event(msg: dict[str, Any]) -> Event | None:
    """One engine event message -> a virtplug event (``None`` when it has no counterpart)."""
    kind = msg.get("Type")
    action = str(msg.get("Action") or msg.get("status") or "")
    actor = msg.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    engine_id = str(actor.get("ID") or msg.get("id") or "")
    name = str(attributes.get("name") or "")
    if not name:
        return None
    if kind == "container":
        uuid = attributes.get(LABEL_UUID) or derived_uuid("container", engine_id)
        transient = attributes.get(LABEL_PERSISTENT) == "0"
        typ: int
        detail: int = 0
        if action == "start":
            typ, detail = DomainEventType.STARTED, DomainEventDetail.Started.BOOTED
        elif action == "die":
            code = str(attributes.get("exitCode", "0"))
            typ = DomainEventType.STOPPED
            if code in ("0", "143"):
                detail = DomainEventDetail.Stopped.SHUTDOWN
            elif code == "137":
                detail = DomainEventDetail.Stopped.DESTROYED
            else:
                detail = DomainEventDetail.Stopped.FAILED
        elif action == "pause":
            typ, detail = DomainEventType.SUSPENDED, DomainEventDetail.Suspended.PAUSED
        elif action == "unpause":
            typ, detail = DomainEventType.RESUMED, DomainEventDetail.Resumed.UNPAUSED
        elif action == "create" and not transient:
            typ, detail = DomainEventType.DEFINED, DomainEventDetail.Defined.ADDED
        elif action == "destroy" and not transient:
            typ, detail = DomainEventType.UNDEFINED, DomainEventDetail.Undefined.REMOVED
        else:
            return None
        return Event(EventKind.DOMAIN, name, str(uuid), int(typ), int(detail), source="backend")
    if kind == "network":
        if action == "create":
            ntyp = NetworkEventType.STARTED
        elif action == "destroy":
            ntyp = NetworkEventType.STOPPED
        else:
            return None
        uuid = attributes.get(LABEL_UUID) or derived_uuid("network", engine_id)
        return Event(EventKind.NETWORK, name, str(uuid), int(ntyp), 0, source="backend")
    return None


def watch(conn: DockerConnection, emit: Callable[[Event], None]) -> Callable[[], None]:
    """Start a thread following ``GET /events``; return the function that stops it."""
    stream = conn.api.events(decode=True, filters={"type": ["container", "network"]})
    # Network events carry no labels: remember each network's virtplug UUID by engine id.
    net_uuids: dict[str, str] = {}
    for net in conn.api.networks():
        uuid = (net.get("Labels") or {}).get(LABEL_UUID)
        if uuid:
            net_uuids[str(net["Id"])] = str(uuid)

    def network_uuid(msg: dict[str, Any]) -> None:
        actor = msg.setdefault("Actor", {})
        engine_id = str(actor.get("ID") or "")
        attributes = actor.setdefault("Attributes", {})
        if msg.get("Action") == "create":
            with contextlib.suppress(Exception):
                labels = conn.api.inspect_network(engine_id).get("Labels") or {}
                if labels.get(LABEL_UUID):
                    net_uuids[engine_id] = str(labels[LABEL_UUID])
        uuid = net_uuids.get(engine_id)
        if msg.get("Action") == "destroy":
            net_uuids.pop(engine_id, None)
        if uuid:
            attributes[LABEL_UUID] = uuid

    stopped = threading.Event()

    def run() -> None:
        try:
            for msg in stream:
                if stopped.is_set():
                    break
                if isinstance(msg, dict) and msg.get("Type") == "network":
                    network_uuid(msg)
                event = translate_event(msg) if isinstance(msg, dict) else None
                if event is not None:
                    emit(event)
        except Exception:
            pass

    thread = threading.Thread(target=run, name="virtplug-docker-events", daemon=True)
    thread.start()

    def stop() -> None:
        stopped.set()
        with contextlib.suppress(Exception):
            stream.close()
        thread.join(timeout=5)

    return stop
