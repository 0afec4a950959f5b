"""Kubernetes manifests and compose.yaml agree with the image they deploy.

A port, UID, probe path, limit or variable changed on one side only fails here, and the
message names both sides.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from docker.utils import parse_bytes

from container_tests.containers import ServiceContainer, running_service
from container_tests.expectations import ROOT, Expectations

K8S = ROOT / "deployment" / "k8s"
COMPOSE = ROOT / "compose.yaml"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# Kubernetes quantity suffixes (apimachinery resource.Quantity): binary and decimal.
K8S_SUFFIXES = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1,
}  # fmt: skip


def k8s_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity in bytes: ``256Mi`` is 268435456, ``256M`` 256000000."""
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", quantity.strip())
    if match is None or match.group(2) not in K8S_SUFFIXES:
        raise ValueError(f"not a Kubernetes memory quantity: {quantity!r}")
    return int(float(match.group(1)) * K8S_SUFFIXES[match.group(2)])


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    """Every Kubernetes object of deployment/k8s, by kind."""
    return {doc["kind"]: doc for path in sorted(K8S.glob("*.yaml")) for doc in _documents(path)}


@pytest.fixture(scope="module")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return manifests["Deployment"]["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def app_container(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod["containers"]
    return container


@pytest.fixture(scope="module")
def compose_app() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]["app"]


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


def _image_uid(image_attrs: dict) -> int:
    return int(image_attrs["Config"]["User"].split(":")[0])


def _image_port(image_attrs: dict) -> int:
    (exposed,) = image_attrs["Config"]["ExposedPorts"]
    return int(exposed.split("/")[0])


def test_k8s_container_port_is_the_exposed_port(
    app_container: dict[str, Any], image_attrs: dict
) -> None:
    ports = [p["containerPort"] for p in app_container["ports"]]
    assert ports == [_image_port(image_attrs)], (
        f"deployment.yaml containerPort {ports} != the image's EXPOSE {_image_port(image_attrs)}"
    )


def test_k8s_runs_as_the_image_user(
    pod: dict[str, Any], app_container: dict[str, Any], image_attrs: dict
) -> None:
    uid = _image_uid(image_attrs)
    for where, context in (
        ("pod", pod["securityContext"]),
        ("container", app_container["securityContext"]),
    ):
        assert context["runAsNonRoot"] is True, f"{where} securityContext lacks runAsNonRoot"
        assert context["runAsUser"] == uid, (
            f"deployment.yaml {where} runAsUser {context['runAsUser']} != the image's USER {uid}"
        )


def test_k8s_probes_use_the_health_path_the_image_answers(
    app_container: dict[str, Any], service: ServiceContainer, expect: Expectations
) -> None:
    for probe in ("readinessProbe", "livenessProbe"):
        path = app_container[probe]["httpGet"]["path"]
        assert path == expect.health_path, (
            f"deployment.yaml {probe} path {path} != the suite's health path {expect.health_path}"
        )
        response = service.get(path)
        assert response.status_code == 200, f"{probe} path {path} answers {response.status_code}"


def test_k8s_security_context_is_hardened(
    app_container: dict[str, Any], pod: dict[str, Any]
) -> None:
    context = app_container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"


def test_the_image_serves_as_the_manifest_runs_it(
    image: str,
    app_container: dict[str, Any],
    manifests: dict[str, dict[str, Any]],
    expect: Expectations,
) -> None:
    context = app_container["securityContext"]
    env = dict(manifests["ConfigMap"]["data"])
    with running_service(
        image,
        env=env,
        user=f"{context['runAsUser']}:{context['runAsGroup']}",
        read_only=context["readOnlyRootFilesystem"],
        cap_drop=context["capabilities"]["drop"],
        security_opt=["no-new-privileges"] if not context["allowPrivilegeEscalation"] else [],
        mem_limit=k8s_bytes(app_container["resources"]["limits"]["memory"]),
    ) as (container, _):
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


def test_k8s_memory_limit_is_the_one_the_suite_tests_under(
    app_container: dict[str, Any], expect: Expectations
) -> None:
    limit = app_container["resources"]["limits"]["memory"]
    assert k8s_bytes(limit) == parse_bytes(expect.memory_limit), (
        f"deployment.yaml memory limit {limit} ({k8s_bytes(limit)} bytes) != the suite's "
        f"memory-limit {expect.memory_limit} ({parse_bytes(expect.memory_limit)} bytes, as "
        "docker reads it)"
    )


def test_k8s_grace_period_exceeds_the_drain_time(
    pod: dict[str, Any], service: ServiceContainer
) -> None:
    # What `python -m app` hands the server, read by running its main() with uvicorn.run
    # replaced: the drain time the server actually gets, not a constant beside it.
    probe = (
        "import app.__main__ as entry; seen = {}; "
        "entry.uvicorn.run = lambda target, **kw: seen.update(kw); entry.main(); "
        "print(seen['timeout_graceful_shutdown'])"
    )
    code, output = service.python(probe)
    assert code == 0, output
    drain = float(output.splitlines()[-1])
    grace = pod["terminationGracePeriodSeconds"]
    assert grace > drain, (
        f"terminationGracePeriodSeconds {grace} must exceed the app's drain time {drain} s"
    )


def test_configmap_sets_only_variables_the_app_reads(
    manifests: dict[str, dict[str, Any]], settings_the_app_reads: set[str]
) -> None:
    unknown = sorted(set(manifests["ConfigMap"]["data"]) - settings_the_app_reads)
    assert not unknown, (
        f"configmap.yaml sets {unknown}, which the image's settings do not read "
        f"({sorted(settings_the_app_reads)})"
    )
    assert manifests["ConfigMap"]["data"]["ENV"] == "prod", "the cluster must run the prod profile"


def test_compose_publishes_the_exposed_port_on_loopback(
    compose_app: dict[str, Any], image_attrs: dict
) -> None:
    (mapping,) = compose_app["ports"]
    host_ip, _, container_port = str(mapping).rpartition(":")
    assert host_ip.startswith("127.0.0.1"), f"compose.yaml publishes beyond loopback: {mapping}"
    assert int(container_port) == _image_port(image_attrs), (
        f"compose.yaml maps to {container_port}, the image EXPOSEs {_image_port(image_attrs)}"
    )


def test_compose_sets_only_variables_the_app_reads(
    compose_app: dict[str, Any], settings_the_app_reads: set[str]
) -> None:
    unknown = sorted(set(compose_app["environment"]) - settings_the_app_reads)
    assert not unknown, f"compose.yaml sets {unknown}, which the image's settings do not read"
