"""The plugin as a user meets it, in a pytest run of its own (pytester): its options, clear
errors for a bad table or a missing image, sections listed as not configured, and a session
without an engine that fails with one line instead of a traceback.
"""

from pathlib import Path

import pytest

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    def runner(*args: str, env: dict[str, str] | None = None) -> pytest.RunResult:
        for name in ("IMAGE_CHECKS_IMAGE", "IMAGE_CHECKS_TABLE", "IMAGE_CHECKS_BUILD_CONTEXT",
                     "IMAGE_CHECKS_ALLOW_NO_ENGINE", "CI"):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        return pytester.runpytest_inprocess("-p", "no:cacheprovider", *args)

    return runner


def test_the_options_are_in_the_help(run) -> None:
    result = run("--help")
    result.stdout.fnmatch_lines(["*--image=REF*", "*--image-table=FILE*", "*--build-context=DIR*"])
    result.stdout.fnmatch_lines(["*--release=FILE*"])


def test_a_misspelt_key_is_a_usage_error_naming_it(run, minimal_table: Path) -> None:
    minimal_table.write_text(minimal_table.read_text().replace("user =", "usr ="))
    result = run("--pyargs", "image_checks", "--image-table", str(minimal_table), "--image", "x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*user: Field required*usr: Extra inputs are not permitted*"])
    assert "Traceback" not in result.stderr.str()


def test_no_table_is_a_usage_error_saying_how_to_name_one(run) -> None:
    result = run("--pyargs", "image_checks", "--image", "x")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pyproject.toml: cannot read the table*--image-table FILE*"])


def test_sections_not_configured_are_listed_and_no_engine_fails_the_run(
    run, minimal_table: Path
) -> None:
    result = run(
        "--pyargs", "image_checks", "--image-table", str(minimal_table), "--image", "x",
        env=NO_ENGINE,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for section in ("http", "docs", "python", "build", "deployment"):
        result.stdout.fnmatch_lines([f"not configured: [[]tool.image-checks.{section}[]]*"])
    result.stdout.fnmatch_lines(["image checks: * tests not run: no Docker engine reachable*"])
    assert "Traceback" not in result.stdout.str()


def test_without_an_engine_the_checks_can_be_skipped_outside_ci(run, minimal_table: Path) -> None:
    args = ("--pyargs", "image_checks", "--image-table", str(minimal_table), "--image", "x")
    skipped = run(*args, env={**NO_ENGINE, "IMAGE_CHECKS_ALLOW_NO_ENGINE": "1"})
    assert skipped.ret == pytest.ExitCode.OK
    skipped.stdout.fnmatch_lines(["*skipped*"])
    in_ci = run(*args, env={**NO_ENGINE, "IMAGE_CHECKS_ALLOW_NO_ENGINE": "1", "CI": "true"})
    assert in_ci.ret == pytest.ExitCode.TESTS_FAILED


NOT_ON_PODMAN = """
import pytest

@pytest.mark.image_checks_not_on("podman", reason="it needs BuildKit")
def test_builds(image_table):
    pass

def test_reads(image_table):
    pass
"""


@pytest.mark.parametrize(("engine", "ran"), [("Podman", 1), ("Docker", 2)])
def test_a_check_an_engine_lacks_is_listed_by_name_with_why(
    run,
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    minimal_table: Path,
    engine: str,
    ran: int,
) -> None:
    from image_checks import engine as engines

    monkeypatch.setattr(engines, "engine_problem", lambda: None)
    monkeypatch.setattr(engines, "current_engine", lambda: {"name": engine, "version": "4.3.1"})
    pytester.makepyfile(test_engine=NOT_ON_PODMAN)
    result = run("--image-table", str(minimal_table), "--image", "x", "--require-complete")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=ran)
    listed = [
        "*not on this engine (Podman 4.3.1): 1 checks not run*",
        "*test_builds: it needs BuildKit*",
    ]
    if engine == "Podman":
        result.stdout.fnmatch_lines(listed)
    else:
        assert "not on this engine" not in result.stdout.str()


def test_the_release_checks_run_only_when_named(run, minimal_table: Path) -> None:
    env = {**NO_ENGINE, "IMAGE_CHECKS_ALLOW_NO_ENGINE": "1"}
    table = ("--image-table", str(minimal_table), "--image", "x", "--collect-only", "-q")
    generic = run("--pyargs", "image_checks", *table, env=env)
    assert "checks/test_layers.py" in generic.stdout.str()
    assert "test_release.py" not in generic.stdout.str()
    named = run("--pyargs", "image_checks.release", *table, env=env)
    named.stdout.fnmatch_lines(["*test_release.py::test_release_tag_names_the_signed_digest"])


def test_each_release_record_runs_its_own_checks(run, minimal_table: Path) -> None:
    env = {**NO_ENGINE, "IMAGE_CHECKS_ALLOW_NO_ENGINE": "1"}
    table = ("--image-table", str(minimal_table), "--image", "x", "--collect-only", "-q")
    index = run("--pyargs", "image_checks", "--release-index", "i.json", *table, env=env)
    index.stdout.fnmatch_lines(["*test_index.py::test_index_tag_names_the_signed_index"])
    assert "test_release.py" not in index.stdout.str()
    assert "checks/test_layers.py" in index.stdout.str()
    one = run("--pyargs", "image_checks.release", "--release", "r.json", *table, env=env)
    one.stdout.fnmatch_lines(["*test_release.py::test_release_tag_names_the_signed_digest"])
    assert "test_index.py" not in one.stdout.str()
