"""What the daemon receives as build context: only what the build needs (.dockerignore)."""

from __future__ import annotations

import fnmatch
import io
import os
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from container_tests.expectations import ROOT, Expectations

# Files a careless checkout holds: each must be kept out by .dockerignore. They are made for
# the test (and removed after it) so the check does not depend on what the checkout has.
SENTINELS = (
    ".env.pytest-sentinel",
    "app/.env.pytest-sentinel",
    "app/__pycache__/pytest_sentinel.cpython-313.pyc",
    "data/pytest-sentinel.csv",
    "docs/pytest-sentinel.md",
    "app/.git-credentials",
    "app/credentials.json",
    "app/id_ed25519",
    "app/pytest-sentinel.pem",
)
CONTEXT_LISTER = "FROM scratch\nCOPY . /\n"


@pytest.fixture(scope="module")
def sentinels() -> Iterator[list[str]]:
    made: list[Path] = []
    dirs: list[Path] = []
    for relative in SENTINELS:
        path = ROOT / relative
        if path.exists():
            continue
        for parent in reversed(path.relative_to(ROOT).parents[:-1]):
            if not (ROOT / parent).exists():
                (ROOT / parent).mkdir()
                dirs.append(ROOT / parent)
        path.write_text("sentinel: must never reach the build context\n")
        made.append(path)
    yield [str(p.relative_to(ROOT)) for p in made]
    for path in made:
        path.unlink(missing_ok=True)
    for directory in reversed(dirs):
        directory.rmdir()


@pytest.fixture(scope="module")
def context_paths(docker_cli: str, sentinels: list[str]) -> set[str]:
    """Every path of the build context, as BuildKit sends it (built to a tar, no image)."""
    result = subprocess.run(
        [docker_cli, "build", "-q", "-f", "-", "-o", "type=tar,dest=-", "."],
        cwd=ROOT,
        input=CONTEXT_LISTER.encode(),
        capture_output=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        check=False,
    )
    assert result.returncode == 0, f"listing the build context failed: {result.stderr.decode()}"
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        return {m.name.removeprefix("./").rstrip("/") for m in archive.getmembers()} - {"", "."}


def test_context_holds_only_the_allowed_top_level_entries(
    context_paths: set[str], expect: Expectations
) -> None:
    top = {path.split("/")[0] for path in context_paths}
    extra = sorted(top - expect.context_allowed)
    assert not extra, (
        f"the build context holds {extra}; .dockerignore must allow only "
        f"{sorted(expect.context_allowed)}"
    )


def test_context_holds_what_the_build_needs(context_paths: set[str], expect: Expectations) -> None:
    missing = sorted(expect.context_allowed - {p.split("/")[0] for p in context_paths})
    assert not missing, f"the build context lacks {missing}: .dockerignore excludes too much"
    assert "app/main.py" in context_paths, "the app package is missing from the build context"


def test_context_holds_no_excluded_path(context_paths: set[str], expect: Expectations) -> None:
    leaked = sorted(
        path
        for path in context_paths
        if any(
            fnmatch.fnmatch(part, pattern)
            for part in path.split("/")
            for pattern in expect.context_excluded
        )
    )
    assert not leaked, (
        f"excluded paths reach the Docker daemon: {leaked[:20]}; add them to .dockerignore"
    )
