"""Starting the image under test with testcontainers.

Ports are always published on 127.0.0.1 (never 0.0.0.0) on a random host port; readiness is
an HTTP probe of the table's health path (or, for an image that serves no HTTP, the container
running). Every container and network is labelled with the session id so that the
session's finalizer can remove whatever a failed test left behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from typing import NoReturn

import httpx
import pytest
from docker.errors import DockerException
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import HttpWaitStrategy

from image_checks.table import Table

# The logs of every container this module started and stopped during the current test, kept
# as each stops, so that a failing test's report carries them (conftest.py clears and reads it).
STOPPED_LOGS: list[tuple[str, str]] = []


@contextmanager
def logs_kept(container: ServiceContainer, name: str) -> Iterator[None]:
    """Keeps the container's logs in ``STOPPED_LOGS`` before it is stopped."""
    try:
        yield
    finally:
        with suppress(Exception):
            STOPPED_LOGS.append((name, container.logs_text()[-5000:]))


# Lists (canonical name, version) of every distribution the venv's interpreter can see.
INSTALLED_PROBE = (
    "import importlib.metadata as m, json, re; "
    "print(json.dumps(sorted({(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(), d.version) "
    "for d in m.distributions()})))"
)


class ServiceContainer(DockerContainer):
    """A container whose ports are published on 127.0.0.1 only, with an HTTP helper."""

    service_port: int | None = None  # the port ``url`` reaches
    interpreter: str = "python"  # what ``python`` runs: the table's venv's, else PATH's

    def with_loopback_port(self, port: int) -> ServiceContainer:
        """Publishes ``port`` on a random host port bound to 127.0.0.1."""
        self.ports[f"{port}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
        self.service_port = port
        return self

    def get_container_host_ip(self) -> str:
        """127.0.0.1: every port is published there, whatever testcontainers would guess."""
        return "127.0.0.1"

    def url(self, path: str = "/") -> str:
        """The published URL of ``path`` on the service port."""
        assert self.service_port is not None, "the table names no port ([tool.image-checks])"
        return f"http://127.0.0.1:{self.get_exposed_port(self.service_port)}{path}"

    def get(self, path: str, **params: str) -> httpx.Response:
        """GETs ``path`` on the service through its published port."""
        return httpx.get(self.url(path), params=params, timeout=15)

    def python(self, code: str) -> tuple[int, str]:
        """Runs ``python -c code`` inside the container as its user: exit code and output.

        An image without ``python`` on its PATH gives the engine's exit code (126 or 127) and
        its message, for the check to show.
        """
        result = self.exec([self.interpreter, "-c", code])
        return result.exit_code, result.output.decode(errors="replace").strip()

    def distributions(self) -> set[tuple[str, str]]:
        """(canonical name, version) of every distribution ``python`` sees in the container.

        Fails the test using it when Python does not run there.
        """
        code, output = self.python(INSTALLED_PROBE)
        if code != 0:
            pytest.fail(f"python does not run in the image (exit {code}): {output[-500:]}",
                        pytrace=False)  # fmt: skip
        return {(name, version) for name, version in json.loads(output)}

    def logs_text(self) -> str:
        """Everything the container wrote to stdout and stderr."""
        out, err = self.get_logs()
        return (out + err).decode(errors="replace")


def private_network() -> Network:
    """A user-defined bridge network for app <-> stand-in traffic (labelled with the session)."""
    return Network()


@contextmanager
def running_service(
    image: str,
    table: Table,
    env: dict[str, str] | None = None,
    network: Network | None = None,
    startup_timeout_s: float | None = None,
    any_answer: bool = False,
    poll_s: float = 0.05,
    **docker_kwargs: object,
) -> Iterator[tuple[ServiceContainer, float]]:
    """Starts the image, waits for its health path to answer 200 and yields it with the wait.

    With ``any_answer``, any HTTP answer on the health path will do (the server is up; whether
    the path answers 200 is for a check to say). The wait gives up after ``startup_timeout_s``
    (default: the start-up budget); the health path is asked every ``poll_s`` seconds, which
    is also how precise the wait is (the benchmark asks more often). Without
    ``[tool.image-checks.http]`` the container is only started.

    Yields:
        The started container and the seconds from ``docker start`` to the first 200.
    """
    container = ServiceContainer(image, **docker_kwargs).with_envs(**(env or {}))
    if table.python is not None:
        container.interpreter = f"/{table.venv_path()}/bin/python"
    if table.port is not None:
        container.with_loopback_port(table.port)
    if table.http is not None and table.port is not None:
        strategy = HttpWaitStrategy(table.port, table.http.health_path).for_status_code(200)
        if any_answer:
            strategy.for_status_code_matching(lambda _: True)
        container.waiting_for(
            strategy.with_startup_timeout(
                # A wait, not a budget: long enough for an emulated platform too.
                int(startup_timeout_s or table.http.startup_budget_s * table.emulation.time_factor)
            ).with_poll_interval(poll_s)
        )
    if network is not None:
        container.with_network(network)
    started = time.perf_counter()
    with container, logs_kept(container, f"{image} {' '.join(env or {})}".strip()):
        seconds = time.perf_counter() - started
        _published_on_loopback_only(container)
        yield container, seconds


class HarnessError(RuntimeError):
    """The harness itself went wrong (never a verdict on the image)."""


def _published_on_loopback_only(container: ServiceContainer) -> None:
    """Guards the harness: test traffic stays on 127.0.0.1 (raises if a port is published wider)."""
    container.reload()
    ports = container.get_wrapped_container().attrs["NetworkSettings"]["Ports"] or {}
    wider = [b for bindings in ports.values() for b in bindings or [] if b["HostIp"] != "127.0.0.1"]
    if wider:
        raise HarnessError(f"a test container is published beyond 127.0.0.1: {wider}")


class NotStarted:
    """Stands in for a container of the image that did not start or never became ready.

    Whatever a test does with it fails that test, in its own body, saying why: the start is
    part of what the test checks, so it is the test's failure, never a fixture's error.
    """

    def __init__(self, problem: str) -> None:
        """Keeps why the container did not start."""
        self.problem = problem

    def __getattr__(self, name: str) -> NoReturn:
        """Fails the test that uses the container."""
        pytest.fail(f"the container of the image did not start: {self.problem}", pytrace=False)


@contextmanager
def started(image: str, table: Table, **kwargs: object) -> Iterator[ServiceContainer | NotStarted]:
    """``running_service``'s container, or a ``NotStarted`` when the image does not start.

    Only starting is caught; what the caller does with the container raises as it would.
    """
    with ExitStack() as stack:
        try:
            container, _ = stack.enter_context(running_service(image, table, **kwargs))
        except HarnessError:
            raise
        except (DockerException, RuntimeError, TimeoutError, OSError) as exc:
            yield NotStarted(f"{type(exc).__name__}: {str(exc)[:1500]}")
            return
        yield container
