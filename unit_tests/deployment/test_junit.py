"""One reading of pytest's JUnit XML serves the report, the mutation check and the verdict."""

from pathlib import Path

from deployment import junit, mutation_check, summary

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="unit_tests.test_routes" name="test_ok" time="0.1"/>
  <testcase classname="container_tests.image.test_layers" name="test_cache" time="1">
    <failure message="AssertionError: uv sync ran again&#10;second line">trace</failure>
  </testcase>
  <testcase classname="container_tests.service.test_upstream_faults" name="test_fault[slow]">
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
        ("test_layers", "test_cache", "failed", "AssertionError: uv sync ran again"),
        ("test_upstream_faults", "test_fault", "error", "fixture failed"),
        ("test_docs", "test_later", "skipped", "later"),
    ]
    assert [c.red for c in found] == [False, True, True, False]


def test_no_report_means_no_cases(tmp_path: Path) -> None:
    assert junit.cases(tmp_path / "missing.xml") == []


def test_the_report_counts_per_suite_and_names_the_red(tmp_path: Path) -> None:
    results = summary.junit_results(write(tmp_path))
    assert results["unit_tests"] == {
        "tests": 2, "failures": 0, "errors": 0, "skipped": 1, "failed": []
    }  # fmt: skip
    assert results["container_tests"]["tests"] == 2
    assert results["container_tests"]["failed"] == [
        "container_tests.image.test_layers::test_cache",
        "container_tests.service.test_upstream_faults::test_fault[slow]",
    ]


def test_the_mutation_check_sees_the_red_tests_by_name(tmp_path: Path) -> None:
    assert mutation_check.failed_tests(write(tmp_path)) == {"test_cache", "test_fault"}
