"""Fixtures for the Docker driver tests: a real engine, prefixed names, strict cleanup."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import docker
import docker.errors
import pytest

import virtplug
from virtplug_docker import testimage
from virtplug_docker.conformance import DOMAIN_XML

PREFIX = "vptest-"
IMAGE = testimage.DEFAULT_TAG


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "unit" not in item.keywords:
            item.add_marker(pytest.mark.docker)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "unit: pure unit test (no engine)")


def _api() -> docker.APIClient:
    return docker.APIClient(version="auto", **docker.utils.kwargs_from_env())


def sweep(api: docker.APIClient) -> list[str]:
    """Remove everything carrying the test prefix; return what was found."""
    found: list[str] = []
    for c in api.containers(all=True, filters={"name": PREFIX}):
        name = c["Names"][0].lstrip("/")
        if name.startswith(PREFIX):
            found.append(f"container {name}")
            with contextlib.suppress(docker.errors.APIError):
                api.remove_container(c["Id"], force=True, v=True)
    for n in api.networks():
        if n["Name"].startswith(PREFIX):
            found.append(f"network {n['Name']}")
            with contextlib.suppress(docker.errors.APIError):
                for cid in api.inspect_network(n["Id"]).get("Containers") or {}:
                    api.disconnect_container_from_network(cid, n["Id"], force=True)
                api.remove_network(n["Id"])
    live = {c["Id"] for c in api.containers(all=True)}
    for v in api.volumes().get("Volumes") or ():
        labels = v.get("Labels") or {}
        mine = (
            v["Name"].startswith(PREFIX)
            or str(labels.get("virtplug.name", "")).startswith(PREFIX)
            or str(labels.get("virtplug.pool", "")).startswith(PREFIX)
            or (
                labels.get("virtplug.record") == "domain"
                and labels.get("virtplug.container") not in live
            )
        )
        if mine:
            found.append(f"volume {v['Name']}")
            with contextlib.suppress(docker.errors.APIError):
                api.remove_volume(v["Name"], force=True)
    for img in api.images(filters={"label": ["virtplug.snapshot.domain"]}):
        config = str((img.get("Labels") or {}).get("virtplug.snapshot.config", ""))
        if f'"name":"{PREFIX}' in config:
            found.append(f"snapshot image {img['Id'][:19]}")
            for tag in img.get("RepoTags") or [img["Id"]]:
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_image(tag, force=True)
    for img in api.images():
        for tag in img.get("RepoTags") or ():
            if tag.startswith(PREFIX) or "/" + PREFIX in tag:
                found.append(f"image {tag}")
                with contextlib.suppress(docker.errors.APIError):
                    api.remove_image(tag, force=True)
    return found


@pytest.fixture(scope="session")
def api() -> Iterator[docker.APIClient]:
    """The engine's low-level client; the engine must answer (no skip)."""
    client = _api()
    client.ping()
    testimage.ensure(client)
    sweep(client)
    yield client
    left = sweep(client)
    assert not left, f"tests left engine objects behind: {left}"


@pytest.fixture
def conn(api: docker.APIClient) -> Iterator[virtplug.Connection]:
    c = virtplug.open("docker:///")
    yield c
    c.close()


@pytest.fixture
def name(api: docker.APIClient) -> Iterator[Callable[[], str]]:
    """A factory of unique prefixed names; everything prefixed is removed afterwards."""

    def make() -> str:
        return PREFIX + uuid.uuid4().hex[:10]

    yield make
    sweep(api)


@pytest.fixture
def domain_xml() -> Callable[..., str]:
    def make(name: str, **extra: Any) -> str:
        return DOMAIN_XML.format(name=name)

    return make
