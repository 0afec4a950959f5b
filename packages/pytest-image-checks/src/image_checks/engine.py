"""The Docker engine and the BuildKit client the checks use, and the builds they start."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException

from image_checks.table import Table

OLDEST_BUILDX_FREE_CLIENT = 23  # older clients build with BuildKit when DOCKER_BUILDKIT=1

# What an engine's API lacks: a check marked with it is listed by name with the reason, as
# "not on this engine", instead of failing on the missing feature.
needs_buildkit = pytest.mark.image_checks_not_on(
    "podman",
    reason="it builds with BuildKit (buildx, or DOCKER_BUILDKIT=1 before Docker 23), and "
    "Podman's Docker API serves no BuildKit session (Podman builds with Buildah)",
)
runs_healthchecks = pytest.mark.image_checks_not_on(
    "podman",
    reason="Podman runs HEALTHCHECKs from systemd timers (none here), and its Docker API (4.3) "
    "leaves Config.Healthcheck out of image inspect",
)


def engine_problem() -> str | None:
    """Why no Docker engine can be used, or None when one answers ``/_ping``.

    A unix socket is tried with a plain socket first: docker-py and httpx both leave the socket
    of a failed connection open (a ResourceWarning, an error under ``filterwarnings = error``).
    """
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(5)
                probe.connect(host.removeprefix("unix://"))
        except OSError as exc:
            return f"no Docker engine reachable at {host} ({exc.__class__.__name__}: {exc})"
    try:
        with contextlib.closing(docker.from_env()) as client:
            client.ping()
    except DockerException as exc:
        return f"no Docker engine reachable at {host} ({exc.__class__.__name__}: {exc})"
    return None


ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64"}  # the kernel's names, OCI's names


def engine_facts(client: docker.DockerClient) -> dict[str, str]:
    """Which engine answers: name (Docker or Podman), version, API, image store, platform.

    The platform (``linux/amd64``) is what the engine runs without emulation.
    """
    version = client.version()
    names = [part.get("Name", "") for part in version.get("Components") or []]
    info = client.info()
    status = " ".join(str(pair) for pair in info.get("DriverStatus") or [])
    architecture = info.get("Architecture", "unknown")
    return {
        "name": "Podman" if "Podman Engine" in names else "Docker",
        "version": version.get("Version", "unknown"),
        "api": version.get("ApiVersion", "unknown"),
        "image_store": "containerd"
        if "io.containerd.snapshotter" in status
        else info.get("Driver", "unknown"),
        "platform": f"{info.get('OSType') or 'linux'}/"
        f"{ARCHITECTURES.get(architecture, architecture)}",
    }


def image_platform(attrs: dict) -> str:
    """``os/architecture`` of an image, from ``docker image inspect``."""
    return f"{attrs.get('Os') or 'linux'}/{attrs.get('Architecture') or 'unknown'}"


def current_engine() -> dict[str, str]:
    """``engine_facts`` of the engine ``DOCKER_HOST`` names."""
    with contextlib.closing(docker.from_env()) as client:
        return engine_facts(client)


def buildkit_cli(preferred: str | None = None) -> str:
    """A docker CLI that builds with BuildKit: with the buildx plugin, or older than 23.

    Raises:
        LookupError: no such client is installed.
    """
    for candidate in (preferred, "docker", "/usr/bin/docker"):
        path = shutil.which(candidate) if candidate else None
        if path is None:
            continue
        if _runs([path, "buildx", "version"]):
            return path
        version = subprocess.run(
            [path, "version", "--format", "{{.Client.Version}}"],
            capture_output=True, text=True, check=False,
        ).stdout.split(".")[0]  # fmt: skip
        if version.isdigit() and int(version) < OLDEST_BUILDX_FREE_CLIENT:
            return path
    raise LookupError(
        "no docker client that builds with BuildKit was found: install the buildx plugin "
        "(or Debian's docker.io), or name one with DOCKER=path"
    )


def _runs(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


def build_command(table: Table, tag: str, context: Path, cli: str) -> list[str]:
    """The table's ``build.command`` for ``tag`` and ``context``, or a plain BuildKit build."""
    assert table.build is not None, "needs [tool.image-checks.build]"
    fields = {"tag": tag, "context": str(context), "dockerfile": table.build.dockerfile}
    if table.build.command:
        return [part.format(**fields) for part in table.build.command]
    return [cli, "build", "-t", tag, "-f", str(context / table.build.dockerfile), str(context)]


def _invocation(
    table: Table, tag: str, context: Path | None, no_cache: bool
) -> tuple[list[str], Path, dict[str, str]]:
    """The command, folder and environment of one build."""
    context = context or table.context_path()
    command = build_command(table, tag, context, buildkit_cli(table.environment.docker))
    if no_cache and not (table.build and table.build.command):
        command.insert(2, "--no-cache")
    env = {**os.environ, "DOCKER_BUILDKIT": "1", **({"NO_CACHE": "1"} if no_cache else {})}
    return command, context, env


def build(
    table: Table,
    tag: str,
    *,
    context: Path | None = None,
    no_cache: bool = False,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Builds ``context`` (default: the table's build context) as ``tag`` and waits for it."""
    command, folder, environ = _invocation(table, tag, context, no_cache)
    return subprocess.run(
        command, cwd=folder, env={**environ, **(env or {})},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def start_build(
    table: Table, tag: str, log: Path, *, no_cache: bool = False
) -> subprocess.Popen[bytes]:
    """Starts the same build as ``build`` in the background, its output going to ``log``."""
    command, folder, environ = _invocation(table, tag, None, no_cache)
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=folder, env=environ,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def failure(result: subprocess.CompletedProcess[str]) -> str:
    """What a failed build printed last, for a test's message."""
    return (
        f"building the image failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-5000:]}"
    )
