"""The container suite's table (``[tool.container-tests]``) is validated, its sections are
optional, and the facts it records keep one figure once, with its budget."""

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomlkit

from container_tests.expectations import ConfigError, load_expectations
from container_tests.facts import Facts
from deployment.summary import figure_row

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_table() -> Iterator[None]:
    load_expectations.cache_clear()
    yield
    load_expectations.cache_clear()


def table_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit=None) -> Path:
    """This project's table, edited by ``edit``, in a file named by CONTAINER_TESTS_CONFIG."""
    document = tomlkit.parse((ROOT / "pyproject.toml").read_text())
    if edit:
        edit(document["tool"]["container-tests"])
    path = tmp_path / "table.toml"
    path.write_text(tomlkit.dumps(document))
    monkeypatch.setenv("CONTAINER_TESTS_CONFIG", str(path))
    return path


def test_this_projects_table_validates_with_both_sections() -> None:
    expect = load_expectations()
    assert expect.configured("deployment")
    assert expect.configured("service")
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["container-tests"]
    assert expect.port == table["port"]
    assert expect.service.fuzz_examples == table["service"]["fuzz-examples"]


def test_a_misspelt_key_fails_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table_file(tmp_path, monkeypatch, lambda t: t.add("max-image-mbs", 5))
    with pytest.raises(ConfigError, match=r"max-image-mbs: Extra inputs are not permitted"):
        load_expectations()


def test_a_misspelt_key_of_a_section_fails_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table_file(tmp_path, monkeypatch, lambda t: t["service"].add("fuzz-exampels", 5))
    with pytest.raises(ConfigError, match=r"service\.fuzz-exampels"):
        load_expectations()


def test_a_wrong_type_fails_naming_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table_file(tmp_path, monkeypatch, lambda t: t.update({"port": "eight thousand"}))
    with pytest.raises(ConfigError, match=r"port: Input should be a valid integer"):
        load_expectations()


def test_a_missing_required_key_fails_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table_file(tmp_path, monkeypatch, lambda t: t.pop("uid"))
    with pytest.raises(ConfigError, match=r"uid: Field required"):
        load_expectations()


def test_sections_are_optional_and_keys_left_out_take_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def edit(table) -> None:
        for key in ("service", "deployment", "workdir", "stop-budget-s"):
            table.pop(key)

    table_file(tmp_path, monkeypatch, edit)
    expect = load_expectations()
    assert not expect.configured("service")
    assert not expect.configured("deployment")
    assert expect.workdir == "/app"
    assert expect.stop_budget_s == 10


def test_a_file_without_the_table_fails_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "other.toml").write_text("[tool.other]\nx = 1\n")
    monkeypatch.setenv("CONTAINER_TESTS_CONFIG", str(tmp_path / "other.toml"))
    with pytest.raises(ConfigError, match=r"other\.toml: no readable \[tool.container-tests\]"):
        load_expectations()


def test_a_figure_is_recorded_once() -> None:
    facts = Facts()
    facts.figure("image_mb", 95.3, "MB", budget=98)
    with pytest.raises(ValueError, match="already recorded"):
        facts.figure("image_mb", 95.4, "MB", budget=98)


def test_facts_keep_each_figure_with_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINER_FACTS", str(tmp_path / "facts.json"))
    facts = Facts(not_configured={"service": ["t::a"]})
    facts.figure("startup_s", 0.7, "s", budget=10, detail="median of 3")
    facts.append("fault_matrix", {"case": "boom", "status": 502})
    written = json.loads(facts.write().read_text())
    assert written["figures"]["startup_s"] == {
        "value": 0.7, "unit": "s", "budget": 10, "detail": "median of 3"
    }  # fmt: skip
    assert written["details"]["fault_matrix"] == [{"case": "boom", "status": 502}]
    assert written["not_configured"] == {"service": ["t::a"]}


def test_the_report_shows_a_figure_beside_its_budget() -> None:
    within = figure_row("image_mb", {"value": 95.3, "unit": "MB", "budget": 98, "detail": ""})
    over = figure_row("image_mb", {"value": 99.0, "unit": "MB", "budget": 98, "detail": ""})
    assert within == ("image_mb", "95.3 MB   (budget 98 MB: within)")
    assert over == ("image_mb", "99.0 MB   (budget 98 MB: OVER)")
    unmeasured = figure_row("reproducible_image_id", {"value": None, "budget": None})
    assert unmeasured[1] == "not measured on this engine"


def test_the_facts_of_two_workers_merge_into_one_record() -> None:
    image, service = Facts(), Facts()
    image.figure("image_mb", 95.3, "MB", budget=98)
    service.figure("drain_s", 0.4, "s", budget=10)
    service.append("fault_matrix", {"case": "boom"})
    image.append("fault_matrix", {"case": "slow"})
    merged = Facts()
    merged.merge(image.to_dict())
    merged.merge(service.to_dict())
    assert set(merged.figures) == {"image_mb", "drain_s"}
    assert merged.details["fault_matrix"] == [{"case": "slow"}, {"case": "boom"}]
    with pytest.raises(ValueError, match="already recorded"):
        merged.merge(image.to_dict())  # the same figure measured by two workers
