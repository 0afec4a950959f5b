"""This repository's image suite: the generic checks of pytest-image-checks, driven by
``[tool.image-checks]`` in pyproject.toml, and this service's own checks (``service/``).

Running this folder (``pytest container_tests``, or ``pytest`` through testpaths) adds the
generic checks to the run, as any team that uses the plugin would; every test here and there
is marked ``container``. The plugin builds the image from this checkout through the table's
build command (``deployment/build-image.sh``), or takes ``--image``/``IMAGE_CHECKS_IMAGE``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import image_checks
from image_checks.plugin import is_check

HERE = Path(__file__).parent


def _runs_this_folder(config: pytest.Config) -> bool:
    """Whether an argument names this folder whole (or a folder holding it)."""
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if "::" not in arg and path.is_dir() and HERE.is_relative_to(path):
            return True
    return False


def pytest_configure(config: pytest.Config) -> None:
    """Adds the generic checks when this folder runs whole."""
    if _runs_this_folder(config):
        image_checks.include_checks(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks this folder's tests and the generic checks as container tests."""
    for item in items:
        if is_check(item) or Path(item.path).is_relative_to(HERE):
            item.add_marker(pytest.mark.container)
