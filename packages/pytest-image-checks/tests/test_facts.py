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
    facts = Facts(not_configured={"build": ["t::a"]}, not_on_this_engine={"t_b": "no BuildKit"})
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
    assert read_facts(path)["not_on_this_engine"] == {"t_b": "no BuildKit"}
    assert read_facts(tmp_path / "none.json") == {
        "figures": {},
        "details": {},
        "not_configured": {},
        "not_on_this_engine": {},
    }


def test_records_travel_as_user_properties_and_merge_into_one_record() -> None:
    one, other = Facts(), Facts()
    one.figure("image_mb", 95.3, "MB", budget=98)
    other.figure("drain_s", 0.4, "s", budget=10)
    other.append("rows", {"case": "boom"})
    one.append("rows", {"case": "slow"})
    sent = one.drain() + other.drain()
    assert [name for name, _ in sent] == [
        "image-checks:figure:image_mb", "image-checks:row:rows",
        "image-checks:figure:drain_s", "image-checks:row:rows",
    ]  # fmt: skip
    assert one.drain() == []  # sent once
    merged = Facts()
    for name, value in sent:
        merged.receive(name, value)
    assert set(merged.figures) == {"image_mb", "drain_s"}
    assert merged.figures["image_mb"].budget == 98
    assert merged.details["rows"] == [{"case": "slow"}, {"case": "boom"}]
    assert merged.pending == []
    with pytest.raises(ValueError, match="already recorded"):
        merged.receive(*sent[0])  # the same figure measured by two workers


def test_a_run_writes_the_record_from_the_reports_with_or_without_xdist(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_measures="""
        def test_one(facts):
            facts.figure("size_mb", 5.0, "MB", budget=6)

        def test_two(facts):
            facts.append("rows", {"n": 2})
        """
    )
    for extra in ([], ["-n", "2"]):
        reports = pytester.path / f"reports{len(extra)}"
        junit = pytester.path / f"junit{len(extra)}.xml"
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", "--image-reports", str(reports), f"--junitxml={junit}",
            "--image-table", str(pytester.path / "none.toml"), *extra,
        )  # fmt: skip
        result.assert_outcomes(passed=2)
        record = read_facts(reports / FACTS_FILE)
        assert record["figures"]["size_mb"]["budget"] == 6
        assert record["details"]["rows"] == [{"n": 2}]
        assert "image-checks:figure:size_mb" in junit.read_text()
