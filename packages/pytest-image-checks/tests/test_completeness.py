"""``--require-complete``: a skip, an xfail, an xpass, a deselection or an empty run fails the
session, with or without xdist, and names what did not run."""

import pytest

TESTS = """
import pytest

def test_runs():
    pass

@pytest.mark.skip(reason="planted")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_xfailed():
    assert False

@pytest.mark.xfail(reason="fixed?")
def test_xpassed():
    pass

@pytest.mark.slow
def test_slow():
    pass
"""


@pytest.fixture
def tests(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("IMAGE_CHECKS_REQUIRE_COMPLETE", raising=False)
    pytester.makeini("[pytest]\nmarkers = slow: slow\n")
    pytester.makepyfile(test_mixed=TESTS)
    return pytester


def test_without_the_option_skips_pass(tests: pytest.Pytester) -> None:
    result = tests.runpytest_inprocess("-p", "no:cacheprovider", "-m", "not slow")
    assert result.ret == pytest.ExitCode.OK


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_every_test_that_did_not_run_fails_the_session(
    tests: pytest.Pytester, workers: list[str]
) -> None:
    result = tests.runpytest_subprocess(
        "-p", "no:cacheprovider", "--require-complete", "-m", "not slow", *workers
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*--require-complete: the session is incomplete, 4 problems:*"])
    result.stdout.fnmatch_lines_random([
        "*test_mixed.py::test_skipped: skipped (planted)",
        "*test_mixed.py::test_xfailed: xfailed (known)",
        "*test_mixed.py::test_xpassed: xpassed (fixed?)",
        "*1 tests deselected",
    ])  # fmt: skip


def test_the_environment_variable_asks_for_it_too(
    tests: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAGE_CHECKS_REQUIRE_COMPLETE", "1")
    result = tests.runpytest_inprocess("-p", "no:cacheprovider", "-k", "test_runs")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*4 tests deselected"])


def test_a_run_of_nothing_fails(tests: pytest.Pytester) -> None:
    result = tests.runpytest_inprocess("-p", "no:cacheprovider", "--require-complete", "-k", "nope")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*no test ran"])


def test_a_complete_run_passes(tests: pytest.Pytester) -> None:
    (tests.path / "test_mixed.py").write_text("def test_runs():\n    pass\n")
    result = tests.runpytest_inprocess("-p", "no:cacheprovider", "--require-complete")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
