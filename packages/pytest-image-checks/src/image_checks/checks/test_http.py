"""The running image serves its health path (and docs) on the port it EXPOSEs, and its
HEALTHCHECK turns it healthy.

(That the harness publishes ports on 127.0.0.1 only is its own choice, enforced where it starts
containers, in containers.py, not a property of the image checked here.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from testcontainers.core.wait_strategies import HealthcheckWaitStrategy

from image_checks import engine
from image_checks.containers import ServiceContainer
from image_checks.plugin import Platform
from image_checks.table import Table

http = pytest.mark.image_checks_section("http")
pytestmark = pytest.mark.image_checks_runs  # each check starts the image
docs = pytest.mark.image_checks_section("docs")
LISTENING = "0A"  # the TCP state of a listening socket in /proc/net/tcp


@http
@docs
def test_docs_serves_the_swagger_ui(service: ServiceContainer, image_table: Table) -> None:
    assert image_table.docs is not None
    path = image_table.docs.path
    response = service.get(path)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    assert "swagger-ui" in response.text, f"{path} does not serve the Swagger UI"


@http
@docs
def test_openapi_lists_the_health_path(service: ServiceContainer, image_table: Table) -> None:
    assert image_table.docs is not None
    assert image_table.http is not None
    response = service.get(image_table.docs.openapi_path)
    assert response.status_code == 200, (
        f"{image_table.docs.openapi_path} answered {response.status_code}"
    )
    paths = set(response.json().get("paths", {}))
    assert image_table.http.health_path in paths, (
        f"{image_table.docs.openapi_path} lists {sorted(paths)}, not the health path"
    )


@http
def test_health_answers_ok(service: ServiceContainer, image_table: Table) -> None:
    assert image_table.http is not None
    response = service.get(image_table.http.health_path)
    assert response.status_code == 200, (
        f"{image_table.http.health_path} answered {response.status_code}"
    )
    if image_table.http.health_body is not None:
        assert response.json() == image_table.http.health_body, (
            f"{image_table.http.health_path} answered {response.text[:200]!r}, the table's "
            f"health-body is {image_table.http.health_body}"
        )


def listening_ports(tcp_table: str) -> list[int]:
    """The listening ports of a ``/proc/net/tcp`` (or ``tcp6``) text."""
    rows = [line.split() for line in tcp_table.splitlines()[1:] if line.strip()]
    return sorted({int(row[1].rsplit(":", 1)[1], 16) for row in rows if row[3] == LISTENING})


@http
def test_service_listens_on_the_exposed_port_inside_the_container(
    image: str, image_table: Table, image_platform: Platform
) -> None:
    # A container of its own, waited on until its process listens at all (not on the port: a
    # server on another port would never be ready), read through its main process from the host.
    assert image_table.http is not None
    container = ServiceContainer(image)
    with container:
        deadline = time.monotonic() + image_platform.time(image_table.http.startup_budget_s)
        ports: list[int] = []
        while not ports and time.monotonic() < deadline:
            container.reload()
            state = container.get_wrapped_container().attrs["State"]
            if not state["Running"]:
                pytest.fail(f"the container exited ({state['ExitCode']}) before it listened:\n"
                            f"{container.logs_text()[-1500:]}", pytrace=False)  # fmt: skip
            net = Path(f"/proc/{state['Pid']}/net")
            try:
                tables = [(net / name).read_text() for name in ("tcp", "tcp6")]
            except OSError as exc:
                pytest.fail(f"cannot read the container's sockets through {net} ({exc}): the "
                            "engine does not run on this host", pytrace=False)  # fmt: skip
            ports = sorted({port for table in tables for port in listening_ports(table)})
            time.sleep(0.05)
    assert ports == [image_table.port], (
        f"inside the container the service listens on {ports or 'nothing'} within "
        f"{image_platform.time(image_table.http.startup_budget_s)} s, but the image must "
        "EXPOSE and serve "
        f"{image_table.port} only"
    )


@engine.runs_healthchecks
def test_container_becomes_healthy(
    image: str, image_attrs: dict, image_table: Table, image_platform: Platform
) -> None:
    # The image's own HEALTHCHECK command, run every second from the start instead of at its
    # interval (a start period of 1 ms: engines since Docker 25 probe only every
    # --start-interval, 5 s by default, during it), with retries for 10 s; under
    # emulation its timeout scales as the table says (the command is the image's, unchanged).
    check = image_attrs["Config"].get("Healthcheck") or {}
    if not check.get("Test"):
        pytest.fail("the image has no HEALTHCHECK, so no engine can tell it is healthy",
                    pytrace=False)  # fmt: skip
    budget_s = int(image_platform.time(30))
    strategy = HealthcheckWaitStrategy().with_startup_timeout(budget_s)
    retries = int(image_platform.time(10))
    timing = {"interval": 1_000_000_000, "start_period": 1_000_000, "retries": retries}
    if image_platform.emulated and check.get("Timeout"):
        timing["timeout"] = int(image_platform.time(check["Timeout"]))
    container = ServiceContainer(image, healthcheck=timing)
    if image_table.port is not None:
        container.with_loopback_port(image_table.port)
    with container:
        try:
            strategy.wait_until_ready(container)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(
                f"the container did not turn healthy ({exc}): its HEALTHCHECK command failed\n"
                f"{container.logs_text()[-2000:]}"
            )
