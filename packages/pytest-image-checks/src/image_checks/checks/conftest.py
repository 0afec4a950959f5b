"""Fixtures of the generic checks: the rebuild without cache, started in the background."""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from docker.errors import DockerException

from image_checks import engine
from image_checks.builds import ColdRebuild
from image_checks.table import Table


@pytest.fixture(autouse=True)
def _rebuild_in_background(request: pytest.FixtureRequest, image_table: Table) -> None:
    """Starts ``cold_rebuild`` with the first check that uses the image, when there is a build
    context and a check of the session uses the rebuild (the checks of the context need no
    image, and must run when it does not build; an engine that cannot build runs none)."""
    if (
        "image" in request.fixturenames
        and image_table.configured("build")
        and any("cold_rebuild" in getattr(i, "fixturenames", ()) for i in request.session.items)
    ):
        request.getfixturevalue("cold_rebuild")


@pytest.fixture(scope="session")
def cold_rebuild(
    docker_client: docker.DockerClient, image: str, image_table: Table
) -> Iterator[ColdRebuild]:
    """Starts rebuilding the build context without cache with the first check that uses the
    image: it overlaps the checks that wait on containers. The build checks wait for it before
    their own build: no two builds at once."""
    tag = f"image-checks:rebuild-{uuid.uuid4().hex[:8]}"
    with tempfile.NamedTemporaryFile(prefix="cold-rebuild-", suffix=".log") as log:
        process = engine.start_build(image_table, tag, Path(log.name), no_cache=True)
        yield ColdRebuild(tag, process, Path(log.name))
        if process.poll() is None:  # the session ended first
            os.killpg(process.pid, signal.SIGTERM)  # the build and its docker client
            process.wait()
    with contextlib.suppress(DockerException):  # not built, or already removed
        docker_client.images.remove(tag, force=True)
