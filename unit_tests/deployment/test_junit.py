"""The gate's report counts each suite, and the mutation check tells a failed assertion from an
error, from the one reading of pytest's JUnit XML (image_checks.junit)."""

from pathlib import Path

import pytest

from deployment import summary
from image_checks import junit
from image_checks.report import junit_results

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest">
  <testcase classname="unit_tests.test_routes" name="test_ok" time="0.1"/>
  <testcase classname="packages.pytest-image-checks.src.image_checks.checks.test_layers"
            name="test_cache" time="1">
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


def test_the_gate_counts_the_unit_suite_the_checks_and_the_service_layer(tmp_path: Path) -> None:
    results = junit_results(write(tmp_path), summary.SUITES)
    assert results["unit_tests"] == {
        "tests": 2, "failures": 0, "errors": 0, "skipped": 1, "failed": []
    }  # fmt: skip
    assert results["image_checks"]["failed"] == [
        "packages.pytest-image-checks.src.image_checks.checks.test_layers::test_cache"
    ]
    assert results["container_tests"]["failed"] == [
        "container_tests.service.test_upstream_faults::test_fault[slow]"
    ]


def test_an_assertion_is_told_from_an_error(tmp_path: Path) -> None:
    asserted = {c.test: c.asserted for c in junit.cases(write(tmp_path)) if c.red}
    assert asserted == {"test_cache": True, "test_fault": False}


@pytest.mark.parametrize(
    ("message", "asserted"),
    [
        ("AssertionError: uv sync ran again", True),
        ("assert 137 == 0", True),
        ("Failed: the container of the image did not start", True),
        ("schemathesis.core.failures.FailureGroup: 2 distinct failures", True),
        ("KeyError: 'content'", False),
        ("TimeoutError: the container did not answer", False),
    ],
)
def test_a_checks_failure_is_told_from_a_crash(message: str, asserted: bool) -> None:
    assert junit.Case("m.test_x", "test_y", "failed", message).asserted is asserted
