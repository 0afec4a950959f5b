"""Runtime behaviour: health status, settings from the environment, end to end upstream."""

from __future__ import annotations

import time

import docker
from testcontainers.core.labels import create_labels

from container_tests.containers import ServiceContainer, running_service

PUBLIC_API = "https://collectionapi.metmuseum.org"


def test_container_becomes_healthy(image: str) -> None:
    # The image's own HEALTHCHECK command, polled every second instead of every 10 s.
    with running_service(image, healthcheck={"interval": 1_000_000_000}) as (container, _):
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            container.reload()
            status = container.get_wrapped_container().attrs["State"]["Health"]["Status"]
            if status in {"healthy", "unhealthy"}:
                break
            time.sleep(0.5)
        assert status == "healthy", (
            f"container health is {status!r}: the HEALTHCHECK command failed"
            f"\n{container.logs_text()[-2000:]}"
        )


def test_env_prod_selects_the_public_upstream(image: str) -> None:
    with running_service(image, env={"ENV": "prod"}) as (container, _):
        logs = container.logs_text()
    assert f"env=prod upstream={PUBLIC_API}" in logs, (
        f"ENV=prod was not honoured; start-up said:\n{logs[-2000:]}"
    )


def test_unknown_env_stops_the_container_with_a_clear_message(
    docker_client: docker.DockerClient, image: str
) -> None:
    container = docker_client.containers.run(
        image, environment={"ENV": "staging"}, detach=True, labels=create_labels(image, None)
    )
    try:
        exit_code = container.wait(timeout=30)["StatusCode"]
        logs = container.logs().decode()
    finally:
        container.remove(force=True)
    assert exit_code == 2, f"expected exit code 2 for a bad ENV, got {exit_code}: {logs}"
    assert "ENV='staging' is not a known environment" in logs, logs
    assert "Traceback" not in logs, f"a settings error must not print a traceback:\n{logs}"


def test_search_answers_end_to_end_through_the_stand_in(
    upstream_service: ServiceContainer,
) -> None:
    response = upstream_service.get("/api/search", title="sunflowers")
    assert response.status_code == 200, response.text
    assert response.json().endswith("DT1502_cropped2.jpg"), response.text
