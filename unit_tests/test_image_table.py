"""This project's tables validate: ``[tool.image-checks]`` (pytest-image-checks) with every
section, and ``[tool.service-checks]`` (container_tests/settings.py); and the image table's
policy is pinned, so that loosening it (a tool allowed, a path let through, a budget raised)
is a deliberate change of this file too, never a quiet edit of pyproject.toml."""

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


# The least the image table must forbid or exclude, the most it may allow, its budgets' ceilings.
FORBIDDEN_AT_LEAST = {"gcc", "cc", "g++", "make", "apt", "apt-get", "dpkg", "pip", "uv", "sh",
                      "bash", "dash", "busybox", "curl", "wget"}  # fmt: skip
EXCLUDED_AT_LEAST = {".git", ".env", ".env.*", "id_rsa*", "*.key", "*.pem", "credentials",
                     ".netrc", ".pypirc", ".docker/config.json", "uv"}  # fmt: skip
ALLOWED_AT_MOST = {"*/site-packages/certifi/cacert.pem", "usr/lib/ssl/cert.pem",
                   "etc/ssl/certs/*.pem"}  # fmt: skip
CEILINGS = {"max_image_mb": 103, "max_added_mb": 38, "max_added_layers": 4, "max_wasted_mb": 1.0,
            "stop_budget_s": 10}  # fmt: skip
BASE_CEILINGS = {("public", None): 103, ("stand-in", None): 98, ("slim", None): 78,
                 ("stand-in", "linux/arm64"): 112, ("public", "linux/arm64"): 117}  # fmt: skip
EMULATION_CEILINGS = {"time_factor": 12, "memory_factor": 2}


def test_the_image_tables_policy_is_not_loosened() -> None:
    table = load_table(ROOT / "pyproject.toml")
    assert table.user != 0
    dropped = sorted(FORBIDDEN_AT_LEAST - set(table.forbidden_tools))
    assert not dropped, f"forbidden-tools no longer lists {dropped}"
    dropped = sorted(EXCLUDED_AT_LEAST - set(table.image_excluded))
    assert not dropped, f"image-excluded no longer lists {dropped}"
    widened = sorted(set(table.image_excluded_allowed) - ALLOWED_AT_MOST)
    assert not widened, f"image-excluded-allowed lets through {widened}"
    assert table.workdir_allowed <= {"app", ".venv"}, f"workdir-allowed: {table.workdir_allowed}"
    assert table.build is not None
    assert table.build.context_allowed <= {"pyproject.toml", "uv.lock", "app"}, (
        f"context-allowed: {sorted(table.build.context_allowed)}"
    )
    raised = {k: getattr(table, k) for k, most in CEILINGS.items() if getattr(table, k) > most}
    raised |= {
        f"{b.name} ({b.platform or 'any platform'})": b.max_image_mb
        for b in table.bases
        if b.max_image_mb > BASE_CEILINGS[(b.name, b.platform)]
    }
    raised |= {
        k: getattr(table.emulation, k)
        for k, most in EMULATION_CEILINGS.items()
        if getattr(table.emulation, k) > most
    }
    assert not raised, (
        f"budgets raised above their ceilings {CEILINGS}, {BASE_CEILINGS}, "
        f"{EMULATION_CEILINGS}: {raised}"
    )
    assert table.http is not None
    assert table.http.startup_budget_s <= 10, f"startup-budget-s {table.http.startup_budget_s}"
