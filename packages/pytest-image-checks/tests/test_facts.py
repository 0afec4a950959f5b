"""The facts record keeps each figure once, with its budget, and merges xdist workers' records."""

import json
from pathlib import Path

import pytest

from image_checks.facts import FACTS_FILE, Facts, read_facts


def test_a_figure_is_recorded_once() -> None:
    facts = Facts()
    facts.figure("image_mb", 95.3, "MB", budget=98)
    with pytest.raises(ValueError, match="already recorded"):
        facts.figure("image_mb", 95.4, "MB", budget=98)


def test_facts_keep_each_figure_with_its_budget(tmp_path: Path) -> None:
    facts = Facts(not_configured={"build": ["t::a"]})
    facts.figure("startup_s", 0.7, "s", budget=10, detail="median of 3")
    facts.append("rows", {"case": "boom", "status": 502})
    path = facts.write(tmp_path)
    assert path == tmp_path / FACTS_FILE
    written = json.loads(path.read_text())
    assert written["figures"]["startup_s"] == {
        "value": 0.7, "unit": "s", "budget": 10, "detail": "median of 3"
    }  # fmt: skip
    assert written["details"]["rows"] == [{"case": "boom", "status": 502}]
    assert read_facts(path)["not_configured"] == {"build": ["t::a"]}
    assert read_facts(tmp_path / "none.json") == {
        "figures": {},
        "details": {},
        "not_configured": {},
    }


def test_the_facts_of_two_workers_merge_into_one_record() -> None:
    one, other = Facts(), Facts()
    one.figure("image_mb", 95.3, "MB", budget=98)
    other.figure("drain_s", 0.4, "s", budget=10)
    other.append("rows", {"case": "boom"})
    one.append("rows", {"case": "slow"})
    merged = Facts()
    merged.merge(one.to_dict())
    merged.merge(other.to_dict())
    assert set(merged.figures) == {"image_mb", "drain_s"}
    assert merged.details["rows"] == [{"case": "slow"}, {"case": "boom"}]
    with pytest.raises(ValueError, match="already recorded"):
        merged.merge(one.to_dict())  # the same figure measured by two workers
