"""The running image serves its health path, docs and schema on the EXPOSEd port, and its
HEALTHCHECK turns it healthy.

(That the suite publishes ports on 127.0.0.1 only is the harness's own choice, enforced where it
starts containers, in containers.py, not a property of the image tested here.)"""

from __future__ import annotations

import pytest
from testcontainers.core.wait_strategies import HealthcheckWaitStrategy

from container_tests.containers import ServiceContainer
from container_tests.expectations import Expectations


def test_docs_serves_the_swagger_ui(service: ServiceContainer, expect: Expectations) -> None:
    response = service.get(expect.docs_path)
    assert response.status_code == 200, f"{expect.docs_path} answered {response.status_code}"
    assert "swagger-ui" in response.text, f"{expect.docs_path} does not serve the Swagger UI"


def test_openapi_lists_the_health_path(service: ServiceContainer, expect: Expectations) -> None:
    response = service.get("/openapi.json")
    assert response.status_code == 200, f"/openapi.json answered {response.status_code}"
    paths = set(response.json()["paths"])
    assert expect.health_path in paths, f"/openapi.json lists {sorted(paths)}"


def test_health_answers_ok(service: ServiceContainer, expect: Expectations) -> None:
    response = service.get(expect.health_path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_service_listens_on_the_exposed_port_inside_the_container(
    service: ServiceContainer, expect: Expectations
) -> None:
    # /proc/net/tcp lists listening sockets (state 0A) with the port in hex.
    probe = (
        "import sys; rows = [l.split() for l in open('/proc/net/tcp').read().splitlines()[1:]]; "
        "ports = sorted({int(r[1].split(':')[1], 16) for r in rows if r[3] == '0A'}); "
        "print(ports)"
    )
    code, listening = service.python(probe)
    assert code == 0, listening
    assert listening == str([expect.port]), (
        f"inside the container the service listens on {listening}, "
        f"but the image EXPOSEs {expect.port}"
    )


def test_container_becomes_healthy(image: str) -> None:
    # The image's own HEALTHCHECK command, run every second instead of every 10 s.
    strategy = HealthcheckWaitStrategy().with_startup_timeout(30)
    with ServiceContainer(image, healthcheck={"interval": 1_000_000_000}) as container:
        try:
            strategy.wait_until_ready(container)
        except (RuntimeError, TimeoutError) as exc:
            pytest.fail(
                f"the container did not turn healthy ({exc}): the image has no HEALTHCHECK, or "
                f"its command failed\n{container.logs_text()[-2000:]}"
            )
