"""The running image serves its API on the EXPOSEd port.

(That the suite publishes ports on 127.0.0.1 only is the harness's own choice, enforced where it
starts containers, in containers.py, not a property of the image tested here.)"""

from __future__ import annotations

from container_tests.containers import ServiceContainer
from container_tests.expectations import Expectations


def test_docs_serves_the_swagger_ui(service: ServiceContainer) -> None:
    response = service.get("/docs")
    assert response.status_code == 200, f"/docs answered {response.status_code}"
    assert "swagger-ui" in response.text, "/docs does not serve the Swagger UI page"


def test_openapi_lists_the_api_and_health_paths(service: ServiceContainer) -> None:
    response = service.get("/openapi.json")
    assert response.status_code == 200, f"/openapi.json answered {response.status_code}"
    paths = set(response.json()["paths"])
    assert {"/api/search", "/health"} <= paths, f"/openapi.json lists {sorted(paths)}"


def test_health_answers_ok(service: ServiceContainer, expect: Expectations) -> None:
    response = service.get(expect.health_path)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_bad_input_answers_422_not_500(service: ServiceContainer) -> None:
    response = service.get("/api/search", title="   ")
    assert response.status_code == 422, response.text


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
