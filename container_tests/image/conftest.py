"""Fixtures of the generic layer: the rebuild without cache, started in the background."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException

from container_tests.builds import FLAVOUR_LABEL, ColdRebuild
from container_tests.expectations import ROOT


@pytest.fixture(autouse=True)
def _rebuild_in_background(request: pytest.FixtureRequest) -> None:
    """Starts ``cold_rebuild`` with the first check that uses the image (the checks of the
    build context need none, and must run when the image does not build)."""
    if "image" in request.fixturenames:
        request.getfixturevalue("cold_rebuild")


@pytest.fixture(scope="session")
def cold_rebuild(docker_client: docker.DockerClient, image_attrs: dict) -> Iterator[ColdRebuild]:
    """Starts rebuilding this checkout without cache, on the image's base flavour, with the
    layer's first check that uses the image: its 10 s overlap the checks that wait on
    containers. The build checks wait for it before their own build: no two builds at once."""
    labels = image_attrs["Config"].get("Labels") or {}
    flavour = labels.get(FLAVOUR_LABEL) or os.environ.get("BASE_FLAVOUR")
    tag = f"modern-ml-microservices-app:rebuild-{uuid.uuid4().hex[:8]}"
    with tempfile.NamedTemporaryFile(prefix="cold-rebuild-", suffix=".log") as log:
        process = None
        if flavour:
            process = subprocess.Popen(
                [ROOT / "deployment" / "build-image.sh", tag],
                env={**os.environ, "NO_CACHE": "1", "BASE_FLAVOUR": flavour},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        yield ColdRebuild(tag, process, Path(log.name))
        if process is not None and process.poll() is None:  # the session ended first
            os.killpg(process.pid, signal.SIGTERM)  # the script and its docker build client
            process.wait()
    with contextlib.suppress(DockerException):  # not built, or already removed
        docker_client.images.remove(tag, force=True)
