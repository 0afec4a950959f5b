"""The suite under pytest-xdist (``--numprocesses=2``, set in pyproject.toml).

Each layer is one unit of work (``LayerScheduling``), so it runs whole on one worker: the two
layers run side by side, and the service layer's timed fault checks never share the CPUs with
its own load burst; other test modules (the unit suite) are spread one by one. The workers share
one image: the first to need it builds it under a file lock in a folder the controller made,
the others take its tag, and the controller removes it when every worker is done. What a worker
measured (its facts) and noted (sections not configured, no engine) travels back to the
controller in ``workeroutput``; the controller writes the facts once and prints the notes.
With ``-n 0`` (one process) every function here is a no-op or says so.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import docker
import pytest
from docker.errors import DockerException
from xdist.scheduler import LoadScopeScheduling

LAYERS = ("container_tests/service/", "container_tests/")  # node id prefixes, most specific first
SHARED_ENV = "CONTAINER_TESTS_SHARED"  # the controller's folder, inherited by its workers
OUTPUT_KEY = "container_tests"


class LayerScheduling(LoadScopeScheduling):
    """Scopes: each layer of the container suite whole, every other test module on its own."""

    def _split_scope(self, nodeid: str) -> str:
        """The layer a test belongs to, or its module."""
        return (
            next((layer for layer in LAYERS if nodeid.startswith(layer)), None)
            or (nodeid.split("::", 1)[0])
        )


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist workers."""
    return not is_worker(config) and getattr(config.option, "dist", "no") != "no"


def make_shared_folder() -> None:
    """Makes the folder the workers share (the controller, before it starts them)."""
    os.environ.setdefault(SHARED_ENV, tempfile.mkdtemp(prefix="container-tests-"))


def shared_folder() -> Path | None:
    """The folder the workers share, or None outside xdist."""
    folder = os.environ.get(SHARED_ENV)
    return Path(folder) if folder and os.environ.get("PYTEST_XDIST_WORKER") else None


def send(config: pytest.Config, key: str, value: Any) -> None:
    """Sends ``value`` (JSON-able) to the controller with this worker's results."""
    config.workeroutput.setdefault(OUTPUT_KEY, {})[key] = json.dumps(value)  # type: ignore[attr-defined]


def received(node: Any) -> dict[str, Any]:
    """What a finished worker sent (``send``), by key."""
    sent = getattr(node, "workeroutput", {}).get(OUTPUT_KEY, {})
    return {key: json.loads(value) for key, value in sent.items()}


def remove_shared_image_and_folder() -> None:
    """Removes the image the workers built and the folder they shared (the controller)."""
    folder = os.environ.pop(SHARED_ENV, None)
    if folder is None:
        return
    tag_file = Path(folder) / "image-tag"
    if tag_file.exists():
        with contextlib.closing(docker.from_env()) as client, contextlib.suppress(DockerException):
            client.images.remove(tag_file.read_text().strip(), force=True)
    shutil.rmtree(folder, ignore_errors=True)
