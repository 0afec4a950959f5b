"""Fixtures of this service's layer: its table section, the stand-in upstream, the app wired
to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testcontainers.core.network import Network

from container_tests.service.upstream import running_stand_in, upstream_env
from container_tests.settings import Service, SettingsError, load_service
from image_checks.containers import NotStarted, ServiceContainer, private_network, started
from image_checks.table import Table


@pytest.fixture(scope="session")
def service_expect() -> Service:
    """``[tool.service-checks]`` of pyproject.toml."""
    try:
        return load_service()
    except SettingsError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def network() -> Iterator[Network]:
    """A private Docker network for the app and its stand-in upstream."""
    with private_network() as net:
        yield net


@pytest.fixture(scope="session")
def stand_in(image: str, network: Network) -> Iterator[ServiceContainer]:
    """The stand-in collection API (stand_in/met_stub.py) on ``network``."""
    with running_stand_in(image, network) as container:
        yield container


@pytest.fixture(scope="module")
def upstream_service(
    image: str,
    image_table: Table,
    network: Network,
    stand_in: ServiceContainer,
    service_expect: Service,
) -> Iterator[ServiceContainer | NotStarted]:
    """The app wired by MET_API_URL to the stand-in, with the fault tests' short timeout."""
    env = upstream_env(service_expect)
    with started(image, image_table, env=env, network=network) as container:
        yield container
