"""The stand-in upstream (``stand_in/met_stub.py``) and the settings that point the app at it.

The stand-in runs with the image's own Python on a private network and publishes no port; it
prints a line once it listens, which testcontainers waits for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import LogMessageWaitStrategy

from container_tests.settings import Service
from image_checks.containers import ServiceContainer, logs_kept

STAND_IN_SOURCE = Path(__file__).with_name("stand_in") / "met_stub.py"
STAND_IN_ALIAS = "met-stand-in"
STAND_IN_PORT = 8080
STAND_IN_READY = f"stand-in listening on {STAND_IN_PORT}"
ARRIVED = "delayed search arrived: {term}"  # what the stand-in prints as a delayed search comes


def arrivals(stand_in: ServiceContainer, term: str) -> int:
    """How many delayed searches for ``term`` have reached the stand-in so far."""
    return stand_in.logs_text().count(ARRIVED.format(term=term))


def upstream_env(service: Service, url: str | None = None) -> dict[str, str]:
    """Settings that point the app at the stand-in (or ``url``) with the tests' timeouts."""
    return {
        "MET_API_URL": url or f"http://{STAND_IN_ALIAS}:{STAND_IN_PORT}",
        "UPSTREAM_TIMEOUT": str(service.upstream_timeout_s),
        "UPSTREAM_CONNECT_TIMEOUT": str(service.upstream_connect_timeout_s),
    }


@contextmanager
def running_stand_in(image: str, network: Network) -> Iterator[ServiceContainer]:
    """Runs the stand-in upstream with the image's own Python on ``network``."""
    container = (
        ServiceContainer(image, entrypoint=["python", "-c", STAND_IN_SOURCE.read_text()])
        .with_network(network)
        .with_network_aliases(STAND_IN_ALIAS)
        .waiting_for(LogMessageWaitStrategy(STAND_IN_READY).with_startup_timeout(20))
    )
    with container, logs_kept(container, "stand-in upstream"):
        yield container
