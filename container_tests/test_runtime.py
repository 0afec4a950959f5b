"""Runtime behaviour: health status, settings from the environment, end to end upstream."""

from __future__ import annotations

import time

import docker
from testcontainers.core.labels import create_labels
from testcontainers.core.network import Network

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


# Listens where the public API would, logs each connection and whether its TLS ClientHello names
# the public API's host (SNI). Runs as root in its own container, to bind port 443.
TLS_LISTENER = """
import socket
server = socket.create_server(("", 443))
while True:
    connection, _ = server.accept()
    hello = connection.recv(4096)
    print("connection sni=" + str(PUBLIC_HOST.encode() in hello), flush=True)
    connection.close()
"""


def test_env_prod_calls_the_public_upstream(image: str) -> None:
    # On an internal network (no way out) a listener answers to the public API's host name;
    # the app with ENV=prod and nothing else set must connect there, naming that host in TLS.
    host = PUBLIC_API.removeprefix("https://")
    code = f"PUBLIC_HOST = {host!r}\n{TLS_LISTENER}"
    network = Network(docker_network_kw={"internal": True})
    listener = (
        ServiceContainer(image, entrypoint=["python", "-c", code], user="0:0")
        .with_network(network)
        .with_network_aliases(host)
    )
    app = ServiceContainer(image).with_env("ENV", "prod").with_network(network)
    request = (
        "import time, urllib.request, urllib.error\n"
        "for _ in range(100):\n"
        "    try:\n"
        "        urllib.request.urlopen('http://127.0.0.1:8000/api/search?title=x', timeout=30)\n"
        "    except urllib.error.HTTPError as answer:\n"
        "        print(answer.code); break\n"
        "    except OSError:\n"
        "        time.sleep(0.1)\n"
    )
    with network, listener, app:
        status = app.python(request)[1]
        time.sleep(0.2)
        heard = listener.logs_text()
        logs = app.logs_text()
    assert "connection sni=True" in heard, (
        f"with ENV=prod the app did not connect to {host} (the listener heard {heard!r}; "
        f"the app answered {status!r}):\n{logs[-1500:]}"
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
