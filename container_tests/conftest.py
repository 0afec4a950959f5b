"""Fixtures of the image-verification suite: the engine, the image under test, its files.

The image is built once per session from this checkout through a BuildKit-capable docker CLI
(``deployment/app-build.sh --build-only``), or taken from ``APP_IMAGE`` when the gate already
built it. Without a Docker engine the suite fails with one line; set
``CONTAINER_TESTS_ALLOW_SKIP=1`` (ignored when ``CI`` is set) to skip it instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException, ImageNotFound
from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID, create_labels
from testcontainers.core.network import Network

from container_tests.containers import (
    ServiceContainer,
    private_network,
    running_service,
    running_stand_in,
    upstream_env,
)
from container_tests.expectations import ROOT, Expectations, load_expectations
from container_tests.facts import FACTS
from container_tests.filesystem import ImageFilesystem, LayerReport, analyze_layers


def _engine_problem() -> str | None:
    """Returns why no Docker engine can be used, or None when one answers."""
    try:
        docker.from_env().ping()
    except DockerException as exc:
        return f"no Docker engine reachable ({exc.__class__.__name__}: {exc})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test here as a container test and fails fast without an engine."""
    ours = [item for item in items if Path(item.path).is_relative_to(Path(__file__).parent)]
    for item in ours:
        item.add_marker(pytest.mark.container)
    if not ours or (problem := _engine_problem()) is None:
        return
    if os.environ.get("CONTAINER_TESTS_ALLOW_SKIP") == "1" and not os.environ.get("CI"):
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=problem))
        return
    pytest.exit(
        f"container_tests: {problem}; start dockerd (or set CONTAINER_TESTS_ALLOW_SKIP=1)",
        returncode=3,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[object]:
    """Attaches the logs of the test's running containers to its failure report."""
    report = yield
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            container = value[0] if isinstance(value, tuple) and value else value
            if isinstance(container, ServiceContainer):
                with contextlib.suppress(DockerException):
                    report.sections.append((f"logs of {name}", container.logs_text()[-5000:]))
    return report


@pytest.fixture(scope="session")
def expect() -> Expectations:
    return load_expectations()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


def _remove_leftovers(docker_client: docker.DockerClient) -> None:
    """Removes every container and network this session made that is still there."""
    selector = {"label": f"{LABEL_SESSION_ID}={SESSION_ID}"}
    for container in docker_client.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for network in docker_client.networks.list(filters=selector):
        network.remove()


@pytest.fixture(scope="session", autouse=True)
def _session_cleanup(docker_client: docker.DockerClient) -> Iterator[None]:
    """Removes what a failed test left behind, and writes the facts the gate reports."""
    yield
    _remove_leftovers(docker_client)
    if path := os.environ.get("CONTAINER_FACTS"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(FACTS, indent=2) + "\n")


@pytest.fixture(scope="session")
def docker_cli() -> str:
    """A docker CLI that builds with BuildKit (docker-py cannot)."""
    found = subprocess.run(
        [ROOT / "deployment" / "docker-client.sh"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.fail(found.stderr.strip(), pytrace=False)
    return found.stdout.strip()


@pytest.fixture(scope="session")
def image(docker_client: docker.DockerClient) -> Iterator[str]:
    """The tag of the image under test: ``APP_IMAGE``, or a fresh build of this checkout."""
    if tag := os.environ.get("APP_IMAGE"):
        try:
            docker_client.images.get(tag)
        except ImageNotFound:
            pytest.fail(f"APP_IMAGE={tag} does not exist in the local engine", pytrace=False)
        yield tag
        return
    tag = f"modern-ml-microservices-app:pytest-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [ROOT / "deployment" / "app-build.sh", "--build-only"],
        env={**os.environ, "IMAGE_TAG": tag},
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:  # nothing here can pass without the image: stop the session
        pytest.exit(
            f"building the image failed (exit {build.returncode}):\n{build.stdout[-3000:]}"
            f"\n{build.stderr[-5000:]}",
            returncode=1,
        )
    yield tag
    _remove_leftovers(docker_client)  # a leftover container would keep the image alive
    docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def image_attrs(docker_client: docker.DockerClient, image: str) -> dict:
    """``docker image inspect`` of the image under test."""
    return docker_client.images.get(image).attrs


@pytest.fixture(scope="session")
def image_files(docker_client: docker.DockerClient, image: str) -> ImageFilesystem:
    """Every path of the image's filesystem, with contents (from ``docker export``)."""
    return ImageFilesystem.export(docker_client, image, labels=create_labels(image, None))


@pytest.fixture(scope="session")
def layer_report(docker_client: docker.DockerClient, image: str) -> LayerReport:
    """Every layer of the image with its files, and the bytes wasted across layers."""
    report = analyze_layers(docker_client, image)
    FACTS["layers"] = [
        {"size_mb": round(layer.size / 1e6, 2), "created_by": layer.created_by[:120]}
        for layer in report.layers
    ]
    FACTS["wasted_bytes"] = report.wasted_bytes
    return report


@pytest.fixture(scope="module")
def service(image: str) -> Iterator[ServiceContainer]:
    """The image running with its defaults, shared by the tests of one module."""
    with running_service(image) as (container, _):
        yield container


@pytest.fixture(scope="session")
def network() -> Iterator[Network]:
    """A private Docker network for the app and its stand-in upstream."""
    with private_network() as net:
        yield net


@pytest.fixture(scope="session")
def stand_in(image: str, network: Network) -> Iterator[ServiceContainer]:
    """The stand-in collection API (container_tests/stand_in/met_stub.py) on ``network``."""
    with running_stand_in(image, network) as container:
        yield container


@pytest.fixture(scope="module")
def upstream_service(
    image: str, network: Network, stand_in: ServiceContainer, expect: Expectations
) -> Iterator[ServiceContainer]:
    """The app wired by MET_API_URL to the stand-in, with the fault tests' short timeout."""
    with running_service(image, env=upstream_env(expect), network=network) as (container, _):
        yield container
