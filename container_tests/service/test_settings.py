"""This service's settings: ENV picks the profile, a bad ENV stops it cleanly, and the files
that deploy it set only what it reads."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import docker
import pytest
from testcontainers.core.labels import create_labels
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import ExecWaitStrategy, LogMessageWaitStrategy

from image_checks.containers import ServiceContainer, started
from image_checks.deployment_files import k8s_bytes
from image_checks.table import Table

PUBLIC_API = "https://collectionapi.metmuseum.org"


# Listens where the public API would, logs each connection and whether its TLS ClientHello names
# the public API's host (SNI). Runs as root in its own container, to bind port 443.
TLS_LISTENER = """
import socket
server = socket.create_server(("", 443))
print("listening", flush=True)
while True:
    connection, _ = server.accept()
    hello = connection.recv(4096)
    print("connection sni=" + str(PUBLIC_HOST.encode() in hello), flush=True)
    connection.close()
"""


@pytest.mark.image_checks_not_on(
    "podman",
    reason="Podman's CNI networks serve no names on an internal network (DNS is switched off "
    "there), so no alias can answer for the public API's host",
)
def test_env_prod_calls_the_public_upstream(image: str, image_table: Table) -> None:
    # On an internal network (no way out) a listener answers to the public API's host name;
    # the app with ENV=prod and nothing else set must connect there, naming that host in TLS.
    host = PUBLIC_API.removeprefix("https://")
    code = f"PUBLIC_HOST = {host!r}\n{TLS_LISTENER}"
    network = Network(docker_network_kw={"internal": True})
    listener = (
        ServiceContainer(image, entrypoint=["python", "-c", code], user="0:0")
        .with_network(network)
        .with_network_aliases(host)
        .waiting_for(LogMessageWaitStrategy("listening").with_startup_timeout(20))
    )
    app = (
        ServiceContainer(image)
        .with_env("ENV", "prod")
        .with_network(network)  # internal: no published port, so ready by its own healthcheck
        .waiting_for(
            ExecWaitStrategy(list(image_table.healthcheck_command or ())).with_startup_timeout(20)
        )
    )
    request = (
        "import urllib.request, urllib.error\n"
        "try:\n"
        "    urllib.request.urlopen('http://127.0.0.1:8000/api/search?title=x', timeout=30)\n"
        "except urllib.error.HTTPError as answer:\n"
        "    print(answer.code)\n"
    )
    with network, listener, app:
        status = app.python(request)[1]
        with contextlib.suppress(TimeoutError, RuntimeError):  # the assertion below names it
            LogMessageWaitStrategy("connection sni=").with_startup_timeout(5).wait_until_ready(
                listener
            )
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


@pytest.fixture(scope="module")
def settings_the_app_reads(service: ServiceContainer) -> set[str]:
    """Environment variables the image's own settings class reads."""
    probe = (
        "import json; from app.settings import Settings; "
        "print(json.dumps(list(Settings.model_fields)))"
    )
    code, output = service.python(probe)
    assert code == 0, output
    return {name.upper() for name in json.loads(output)}


@pytest.mark.image_checks_section("deployment")
def test_the_image_serves_as_the_manifest_runs_it(
    image: str,
    app_container: dict[str, Any],
    manifests: dict[str, dict[str, Any]],
    image_table: Table,
) -> None:
    context = app_container["securityContext"]
    env = dict(manifests["ConfigMap"]["data"])
    with started(
        image,
        image_table,
        env=env,
        user=f"{context['runAsUser']}:{context['runAsGroup']}",
        read_only=context["readOnlyRootFilesystem"],
        cap_drop=context["capabilities"]["drop"],
        security_opt=["no-new-privileges"] if not context["allowPrivilegeEscalation"] else [],
        mem_limit=k8s_bytes(app_container["resources"]["limits"]["memory"]),
    ) as container:
        # Serving under these settings is what the start-up wait proved; what remains is that
        # the process took the ConfigMap: the settings it resolves, read in the container.
        code, resolved = container.python(
            "import json; from app.settings import get_settings; s = get_settings(); "
            "print(json.dumps({'ENV': s.env, 'MET_API_URL': str(s.met_api_url).rstrip('/'), "
            "'UPSTREAM_TIMEOUT': s.upstream_timeout, 'UPSTREAM_CONNECT_TIMEOUT': "
            "s.upstream_connect_timeout, 'LOG_LEVEL': s.log_level}))"
        )
        docs = container.get("/docs")  # static assets and templates under a read-only root
    assert code == 0, resolved
    wanted = {key: str(value) for key, value in env.items()}
    got = {key: str(value) for key, value in json.loads(resolved).items() if key in wanted}
    got = {k: v.removesuffix(".0") if k.startswith("UPSTREAM") else v for k, v in got.items()}
    assert got == wanted, f"under the manifest the app resolved {got}, the ConfigMap sets {wanted}"
    assert docs.status_code == 200, f"/docs answers {docs.status_code} under the manifest"


@pytest.mark.image_checks_section("deployment")
def test_k8s_grace_period_exceeds_the_drain_time(
    pod: dict[str, Any], service: ServiceContainer
) -> None:
    # What `python -m app` hands the server, read by running its main() with uvicorn's Server
    # replaced: the drain time in the config the server gets, not a constant beside it.
    probe = (
        "import app.__main__ as entry\n"
        "class Server:\n"
        "    def __init__(self, config):\n"
        "        self.drain, self.started = config.timeout_graceful_shutdown, True\n"
        "    def run(self):\n"
        "        print(self.drain)\n"
        "entry.uvicorn.Server = Server\n"
        "entry.main()\n"
    )
    code, output = service.python(probe)
    assert code == 0, output
    drain = float(output.splitlines()[-1])
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > drain, (
        f"terminationGracePeriodSeconds {grace} must exceed the app's drain time {drain} s"
    )


@pytest.mark.image_checks_section("deployment")
def test_configmap_sets_only_variables_the_app_reads(
    manifests: dict[str, dict[str, Any]], settings_the_app_reads: set[str]
) -> None:
    unknown = sorted(set(manifests["ConfigMap"]["data"]) - settings_the_app_reads)
    assert not unknown, (
        f"the ConfigMap sets {unknown}, which the image's settings do not read "
        f"({sorted(settings_the_app_reads)})"
    )
    assert manifests["ConfigMap"]["data"]["ENV"] == "prod", "the cluster must run the prod profile"


@pytest.mark.image_checks_section("deployment")
def test_compose_sets_only_variables_the_app_reads(
    compose_app: dict[str, Any], settings_the_app_reads: set[str]
) -> None:
    unknown = sorted(set(compose_app["environment"]) - settings_the_app_reads)
    assert not unknown, f"compose sets {unknown}, which the image's settings do not read"
