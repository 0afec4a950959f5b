"""Fixtures of the release checks: the release record, cosign, what the image checks recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from image_checks.facts import FACTS_FILE, Facts, read_facts
from image_checks.registry import (
    Release,
    ReleaseError,
    ReleaseIndex,
    cosign_program,
    load_index,
    load_release,
)
from image_checks.release import or_fail
from image_checks.table import Table


@pytest.fixture(scope="session")
def release(image_table: Table) -> Release:
    """The release record (``--release FILE``), validated."""
    path = image_table.environment.release
    what = "no release record: the release checks verify one named by --release FILE"
    return or_fail(load_release, _named(path, f"{what} (IMAGE_CHECKS_RELEASE)"))


@pytest.fixture(scope="session")
def release_index(image_table: Table) -> ReleaseIndex:
    """The record of the multi-platform index (``--release-index FILE``), validated."""
    path = image_table.environment.release_index
    what = "no index record: the index checks verify one named by --release-index FILE"
    return or_fail(load_index, _named(path, f"{what} (IMAGE_CHECKS_RELEASE_INDEX)"))


def _named(path: Path | None, missing: str) -> Path:
    if path is None:
        pytest.fail(missing, pytrace=False)
    return path


@pytest.fixture(scope="session")
def cosign(image_table: Table) -> str:
    """The cosign program (``COSIGN``, else ``cosign`` on PATH)."""
    try:
        return cosign_program(image_table.environment.cosign)
    except ReleaseError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def checked_sbom(image_reports: Path) -> dict[str, Any]:
    """What the image checks recorded of the SBOM they checked against the image."""
    record = read_facts(image_reports / FACTS_FILE)
    sbom = record["details"].get("sbom")
    if not sbom:
        pytest.fail(
            f"{image_reports / FACTS_FILE} records no SBOM: run the image checks first, with the "
            "same --image-reports (the release must be the image they checked)",
            pytrace=False,
        )
    return sbom


@pytest.fixture
def verdict(facts: Facts, request: pytest.FixtureRequest) -> Callable[[bool, str], bool]:
    """Records a release check's verdict for the report: ``verdict(ok, said)``, then assert."""

    def record(ok: bool, said: str) -> bool:
        facts.append(
            "release",
            {"check": request.node.name, "verdict": "verified" if ok else "FAILED", "said": said},
        )
        return ok

    return record
