"""Fixtures of this service's layer: its table section, the stand-in upstream, the app wired
to it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testcontainers.core.network import Network

from container_tests.containers import ServiceContainer, private_network, running_service
from container_tests.expectations import Expectations, Service
from container_tests.service.upstream import running_stand_in, upstream_env


@pytest.fixture(scope="session")
def service_expect(expect: Expectations) -> Service:
    """``[tool.container-tests.service]`` (the layer is deselected when it is absent)."""
    assert expect.service is not None, "the service layer runs only when its section is set"
    return expect.service


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
    image: str, network: Network, stand_in: ServiceContainer, service_expect: Service
) -> Iterator[ServiceContainer]:
    """The app wired by MET_API_URL to the stand-in, with the fault tests' short timeout."""
    env = upstream_env(service_expect)
    with running_service(image, env=env, network=network) as (container, _):
        yield container
