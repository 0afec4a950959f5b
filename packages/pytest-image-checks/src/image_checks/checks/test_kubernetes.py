"""Kubernetes manifests and compose file agree with the image they deploy
(``[tool.image-checks.deployment]``).

A port, UID, probe path or limit changed on one side only fails here, and the message names
both sides.
"""

from __future__ import annotations

from typing import Any

import pytest
from docker.utils import parse_bytes

from image_checks.containers import ServiceContainer
from image_checks.deployment_files import k8s_bytes
from image_checks.table import Table

pytestmark = pytest.mark.image_checks_section("deployment")


def _image_uid(image_attrs: dict) -> int:
    user = (image_attrs["Config"].get("User") or "").split(":")[0]
    assert user.isdigit(), f"the image's USER is {user!r}, not a numeric UID to compare with"
    return int(user)


def _image_port(image_attrs: dict) -> int:
    exposed = list(image_attrs["Config"].get("ExposedPorts") or {})
    assert len(exposed) == 1, f"the image EXPOSEs {exposed}, not one port to compare with"
    return int(exposed[0].split("/")[0])


def test_k8s_container_port_is_the_exposed_port(
    app_container: dict[str, Any], image_attrs: dict
) -> None:
    ports = [p["containerPort"] for p in app_container["ports"]]
    assert ports == [_image_port(image_attrs)], (
        f"the Deployment containerPort {ports} != the image's EXPOSE {_image_port(image_attrs)}"
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
            f"the Deployment {where} runAsUser {context['runAsUser']} != the image's USER {uid}"
        )


@pytest.mark.image_checks_section("http")
def test_k8s_probes_use_the_health_path_the_image_answers(
    app_container: dict[str, Any], service: ServiceContainer, image_table: Table
) -> None:
    assert image_table.http is not None
    for probe in ("readinessProbe", "livenessProbe"):
        path = app_container[probe]["httpGet"]["path"]
        assert path == image_table.http.health_path, (
            f"the Deployment {probe} path {path} != the table's health path "
            f"{image_table.http.health_path}"
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


@pytest.mark.image_checks_section("http")
def test_k8s_memory_limit_is_the_one_the_suite_tests_under(
    app_container: dict[str, Any], image_table: Table
) -> None:
    assert image_table.http is not None
    limit, tested = app_container["resources"]["limits"]["memory"], image_table.http.memory_limit
    assert k8s_bytes(limit) == parse_bytes(tested), (
        f"the Deployment memory limit {limit} ({k8s_bytes(limit)} bytes) != the table's "
        f"memory-limit {tested} ({parse_bytes(tested)} bytes, as docker reads it)"
    )


def test_compose_publishes_the_exposed_port_on_loopback(
    compose_app: dict[str, Any], image_attrs: dict
) -> None:
    (mapping,) = compose_app["ports"]
    host_ip, _, container_port = str(mapping).rpartition(":")
    assert host_ip.startswith("127.0.0.1"), f"compose publishes beyond loopback: {mapping}"
    assert int(container_port) == _image_port(image_attrs), (
        f"compose maps to {container_port}, the image EXPOSEs {_image_port(image_attrs)}"
    )
