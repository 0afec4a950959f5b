"""This project's tables validate: ``[tool.image-checks]`` (pytest-image-checks) with every
section, and ``[tool.service-checks]`` (container_tests/settings.py)."""

import tomllib
from pathlib import Path

import pytest

from container_tests.settings import SettingsError, load_service
from image_checks.table import SECTIONS, load_table

ROOT = Path(__file__).resolve().parents[1]


def test_this_projects_image_table_configures_every_section() -> None:
    table = load_table(ROOT / "pyproject.toml")
    assert [s for s in SECTIONS if not table.configured(s)] == []
    assert table.context_path() == ROOT
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (table.version, table.license) == (project["version"], project["license"]), (
        "the table's version and license must be the project's"
    )
    names = {base.name for base in table.bases}
    assert names == {"public", "stand-in", "slim"}


def test_this_projects_service_table_validates() -> None:
    service = load_service(ROOT / "pyproject.toml")
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["service-checks"]
    assert service.fuzz_examples == table["fuzz-examples"]


def test_a_misspelt_service_key_fails_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.service-checks]\nfuzz-exampels = 5\n")
    with pytest.raises(SettingsError, match=r"fuzz-exampels: Extra inputs are not permitted"):
        load_service(path)


@pytest.mark.parametrize("key", ["load-seconds", "load-concurrency", "fuzz-examples"])
def test_a_service_check_of_nothing_is_refused(tmp_path: Path, key: str) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(f"[tool.service-checks]\n{key} = 0\n")
    with pytest.raises(SettingsError, match=rf"{key}: Input should be greater than 0"):
        load_service(path)
