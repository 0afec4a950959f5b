"""What the engine receives as build context: only what the build needs (.dockerignore).

Every ``context-excluded`` pattern gets a planted file, at the context's top and inside its
first allowed folder, made for the check and removed after it, so the check does not depend on
what the context happens to hold.
"""

from __future__ import annotations

import fnmatch
import io
import os
import re
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_checks import engine
from image_checks.table import Table

pytestmark = [pytest.mark.image_checks_section("build"), engine.needs_buildkit]
CONTEXT_LISTER = "FROM scratch\nCOPY . /\n"


def sentinel_name(pattern: str) -> str:
    """A name ``pattern`` (a glob) matches: ``*.pem`` gives ``pytest-sentinel.pem``."""
    name = re.sub(r"\[([^]!])[^]]*\]", r"\1", pattern)  # a class: its first character
    name = name.replace("*", "pytest-sentinel").replace("?", "x")
    assert fnmatch.fnmatch(name, pattern), f"no sentinel name for {pattern!r}"
    return name


def sentinel_paths(table: Table, context: Path) -> list[str]:
    """Where the sentinels go: every pattern at the top, and inside the first allowed folder
    (as a folder of that name holding a file, so no real file of the context is replaced)."""
    assert table.build is not None
    folders = sorted(n for n in table.build.context_allowed if (context / n).is_dir())
    names = [sentinel_name(p) for p in table.build.context_excluded]
    inner = [f"{folders[0]}/{name}/pytest-sentinel" for name in names] if folders else []
    return [*names, *inner]


@pytest.fixture(scope="module")
def sentinels(image_table: Table) -> Iterator[list[str]]:
    """Plants the sentinels that do not exist yet; removes exactly what it made."""
    context = image_table.context_path()
    made: list[Path] = []
    dirs: list[Path] = []
    for relative in sentinel_paths(image_table, context):
        path = context / relative
        if any((context / p).is_file() for p in Path(relative).parents) or path.exists():
            continue
        for parent in reversed(Path(relative).parents[:-1]):
            if not (context / parent).exists():
                (context / parent).mkdir()
                dirs.append(context / parent)
        path.write_text("sentinel: must never reach the build context\n")
        made.append(path)
    yield [str(p.relative_to(context)) for p in made]
    for path in made:
        path.unlink(missing_ok=True)
    for directory in reversed(dirs):
        directory.rmdir()


@pytest.fixture(scope="module")
def context_paths(docker_cli: str, image_table: Table, sentinels: list[str]) -> set[str]:
    """Every path of the build context, as BuildKit sends it (built to a tar, no image)."""
    assert image_table.build is not None
    context = image_table.context_path()
    result = subprocess.run(
        [docker_cli, "build", "-q", "-f", "-", "-o", "type=tar,dest=-", "."],
        cwd=context,
        input=CONTEXT_LISTER.encode(),
        capture_output=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        check=False,
    )
    assert result.returncode == 0, f"listing the build context failed: {result.stderr.decode()}"
    with tarfile.open(fileobj=io.BytesIO(result.stdout)) as archive:
        return {m.name.removeprefix("./").rstrip("/") for m in archive.getmembers()} - {"", "."}


def test_context_holds_only_the_allowed_top_level_entries(
    context_paths: set[str], image_table: Table
) -> None:
    assert image_table.build is not None
    allowed = image_table.build.context_allowed
    extra = sorted({path.split("/")[0] for path in context_paths} - allowed)
    assert not extra, (
        f"the build context holds {extra}; .dockerignore must allow only {sorted(allowed)}"
    )


def test_context_holds_what_the_build_needs(context_paths: set[str], image_table: Table) -> None:
    assert image_table.build is not None
    allowed = image_table.build.context_allowed
    missing = sorted(allowed - {p.split("/")[0] for p in context_paths})
    assert not missing, f"the build context lacks {missing}: .dockerignore excludes too much"
    absent = [p for p in image_table.build.context_required if p not in context_paths]
    assert not absent, f"the build context lacks {absent} (build.context-required)"


def test_context_holds_no_excluded_path(
    context_paths: set[str], image_table: Table, sentinels: list[str]
) -> None:
    assert image_table.build is not None
    patterns = image_table.build.context_excluded
    leaked = sorted(
        path
        for path in context_paths
        if any(fnmatch.fnmatch(part, pattern) for part in path.split("/") for pattern in patterns)
    )
    assert not leaked, (
        f"excluded paths reach the Docker daemon: {leaked[:20]}; add them to .dockerignore "
        f"(planted for this check: {len(sentinels)} files)"
    )
