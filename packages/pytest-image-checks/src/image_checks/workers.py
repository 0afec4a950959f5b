"""The checks under pytest-xdist (``-n 2``); without it every function here is a no-op.

The generic checks are one unit of work (``ScopeScheduling``), so they run whole on one worker
and share its session fixtures (one export of the image, one running container); so is each
node id prefix of the ini option ``image_checks_scopes`` (a team's own slow layer); other test
modules are spread one by one. The workers share
one image: the first to need it builds it under a file lock in a folder the controller made,
the others take its tag, and the controller removes it when every worker is done. What a worker
measured (its facts) and noted (sections not configured, no engine) travels back to the
controller in ``workeroutput``; the controller writes the facts once and prints the notes.
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

SHARED_ENV = "IMAGE_CHECKS_SHARED"  # the controller's folder, inherited by its workers
OUTPUT_KEY = "image_checks"
SCOPES_INI = "image_checks_scopes"


def scope_of(nodeid: str, checks: str, prefixes: list[str], relative: tuple[str, ...] = ()) -> str:
    """The unit of work of ``nodeid``: the generic checks, a prefix, or its module.

    The generic checks are the node ids holding ``checks`` wherever the package is installed,
    or starting with one of ``relative`` (their folder as pytest names it when it lies outside
    the rootdir: relative to the argument that collected it, ``checks/`` for ``--pyargs
    image_checks``); else the longest matching prefix of ``prefixes``; else the test's module.
    """
    path = nodeid.split("::", 1)[0]
    if checks in path or any(path.startswith(prefix) for prefix in relative):
        return checks
    return next((p for p in sorted(prefixes, key=len, reverse=True) if nodeid.startswith(p)), path)


def scheduler(config: pytest.Config, log: object, checks: str, relative: tuple[str, ...]) -> object:
    """An xdist scheduler that runs each unit of work (``scope_of``) whole on one worker."""
    from xdist.scheduler import LoadScopeScheduling  # xdist is there: it calls this hook

    prefixes = list(config.getini(SCOPES_INI))

    class ScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid, checks, prefixes, relative)

    return ScopeScheduling(config, log)


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist workers."""
    return not is_worker(config) and getattr(config.option, "dist", "no") != "no"


def make_shared_folder() -> None:
    """Makes the folder the workers share (the controller, before it starts them)."""
    os.environ.setdefault(SHARED_ENV, tempfile.mkdtemp(prefix="image-checks-"))


def shared_folder() -> Path | None:
    """The folder the workers share, or None outside xdist."""
    folder = os.environ.get(SHARED_ENV)
    return Path(folder) if folder and os.environ.get("PYTEST_XDIST_WORKER") else None


def send(config: pytest.Config, key: str, value: object) -> None:
    """Sends ``value`` (JSON-able) to the controller with this worker's results."""
    config.workeroutput.setdefault(OUTPUT_KEY, {})[key] = json.dumps(value)  # type: ignore[attr-defined]


def received(node: object) -> dict[str, Any]:
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
