"""One reading of pytest's JUnit XML, and the report that shows each figure beside its budget."""

from pathlib import Path

from image_checks import junit
from image_checks.report import figure_row, image_rows, junit_results

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="unit_tests.test_routes" name="test_ok" time="0.1"/>
  <testcase classname="lib.image_checks.checks.test_layers" name="test_cache" time="1">
    <failure message="AssertionError: the step ran again&#10;second line">trace</failure>
  </testcase>
  <testcase classname="image_checks.checks.test_http" name="test_port[8000]">
    <error message="fixture failed">trace</error>
  </testcase>
  <testcase classname="unit_tests.test_docs" name="test_later"><skipped message="later"/></testcase>
</testsuite></testsuites>
"""


def write(tmp_path: Path) -> Path:
    path = tmp_path / "tests.xml"
    path.write_text(REPORT, encoding="utf-8")
    return path


def test_every_case_with_its_outcome_and_why(tmp_path: Path) -> None:
    found = junit.cases(write(tmp_path))
    assert [(c.module, c.test, c.outcome, c.why) for c in found] == [
        ("test_routes", "test_ok", "passed", ""),
        ("test_layers", "test_cache", "failed", "AssertionError: the step ran again"),
        ("test_http", "test_port", "error", "fixture failed"),
        ("test_docs", "test_later", "skipped", "later"),
    ]
    assert [c.red for c in found] == [False, True, True, False]
    assert [c.suite for c in found] == ["unit_tests", "image_checks", "image_checks", "unit_tests"]


def test_no_report_means_no_cases(tmp_path: Path) -> None:
    assert junit.cases(tmp_path / "missing.xml") == []


def test_the_report_counts_per_suite_and_names_the_red(tmp_path: Path) -> None:
    results = junit_results(write(tmp_path), ("unit_tests", "image_checks"))
    assert results["unit_tests"] == {
        "tests": 2, "failures": 0, "errors": 0, "skipped": 1, "failed": []
    }  # fmt: skip
    assert results["image_checks"]["failed"] == [
        "lib.image_checks.checks.test_layers::test_cache",
        "image_checks.checks.test_http::test_port[8000]",
    ]


def test_the_report_shows_a_figure_beside_its_budget() -> None:
    within = figure_row("image_mb", {"value": 95.3, "unit": "MB", "budget": 98, "detail": ""})
    over = figure_row("image_mb", {"value": 99.0, "unit": "MB", "budget": 98, "detail": ""})
    assert within == ("image_mb", "95.3 MB   (budget 98 MB: within)")
    assert over == ("image_mb", "99.0 MB   (budget 98 MB: OVER)")
    unmeasured = figure_row("reproducible_image_id", {"value": None, "budget": None})
    assert unmeasured[1] == "not measured on this engine"


def test_the_report_names_the_engine_the_comparison_and_what_this_engine_lacks() -> None:
    report = {
        "image": "app:1", "id": "sha256:" + "a" * 64,
        "base": {"name": "base:1", "digest": "sha256:" + "b" * 64},
        "user": "65532", "ports": ["8000/tcp"], "healthcheck": None,
        "engine": {"name": "Docker", "version": "28.5.2", "api": "1.51",
                   "image_store": "containerd"},
        "details": {"reproducibility": {
            "compared": "image id and manifest digest and layer diff ids",
            "built": {"id": "sha256:" + "c" * 64, "manifest": "sha256:" + "c" * 64},
            "rebuilt": {"id": "sha256:" + "d" * 64, "manifest": None},
        }},
        "not_on_this_engine": {"test_cache": "no BuildKit"},
    }  # fmt: skip
    rows = dict(image_rows(report))
    assert rows["engine"] == "Docker 28.5.2 (API 1.51, containerd image store)"
    assert rows["reproducibility"] == (
        "compared image id and manifest digest and layer diff ids: built id cccccccccccc, "
        "manifest cccccccccccc; rebuilt id dddddddddddd"
    )
    assert rows["not on this engine"] == "test_cache: no BuildKit"
