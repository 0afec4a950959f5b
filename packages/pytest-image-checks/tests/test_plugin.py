"""The plugin as a user meets it, in a pytest run of its own (pytester): its options, clear
errors for a bad table or a missing image, sections listed as not configured, and a session
without an engine that fails with one line instead of a traceback.
"""

import ast
from pathlib import Path

import pytest

from image_checks.plugin import CHECKS_DIR, RUNS_MARK

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


def test_the_checks_that_start_the_image_are_marked_and_can_be_left_out(
    run, minimal_table: Path
) -> None:
    minimal_table.write_text(
        minimal_table.read_text()
        + '\n[tool.image-checks.http]\nhealth-path = "/health"\n'
        + '\n[tool.image-checks.docs]\npath = "/docs"\nopenapi-path = "/openapi.json"\n'
        + '\n[tool.image-checks.python]\nversion = "3.13"\nimport-check = "app"\n'
        + 'code-paths = ["app"]\nallowed-licences = ["MIT"]\n'
    )
    env = {**NO_ENGINE, "IMAGE_CHECKS_ALLOW_NO_ENGINE": "1"}
    table = ("--image-table", str(minimal_table), "--image", "x", "--collect-only", "-q")
    reads = run("--pyargs", "image_checks", "-m", "not image_checks_runs", *table, env=env)
    runs = run("--pyargs", "image_checks", "-m", "image_checks_runs", *table, env=env)
    read, ran = reads.stdout.str(), runs.stdout.str()
    for nodeid in (
        "test_http.py::test_health_answers_ok",  # the shared container (service)
        "test_image_contents.py::test_the_app_imports_as_the_runtime_user",  # python_probe
        "test_posture.py::test_startup_time_is_within_budget",  # containers of its own
        "test_docs_browser.py::test_docs_page_renders_the_title_and_every_operation",
    ):
        assert nodeid in ran, f"{nodeid} starts the image but is not marked image_checks_runs"
        assert nodeid not in read, f"{nodeid} starts the image yet runs without it"
    assert "test_layers.py::" in read, "the checks that only read the image were left out too"
    assert "test_layers.py::" not in ran


STARTERS = {"running_service", "started", "ServiceContainer"}  # each starts a container


def _starts_a_container(function: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Call)
        and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in STARTERS
        for node in ast.walk(function)
    )


@pytest.mark.parametrize("module", sorted(CHECKS_DIR.glob("test_*.py")), ids=lambda p: p.name)
def test_every_check_that_starts_a_container_itself_is_marked(module: Path) -> None:
    # Tests on the plugin's container fixtures are marked by the plugin; a check (or a fixture of
    # its module) that starts one itself needs the marker in its module's pytestmark or its own.
    tree = ast.parse(module.read_text(encoding="utf-8"))
    module_mark = any(
        isinstance(node, ast.Assign)
        and any(getattr(target, "id", None) == "pytestmark" for target in node.targets)
        and RUNS_MARK in ast.unparse(node.value)
        for node in tree.body
    )
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    starting_fixtures = {
        f.name for f in functions if not f.name.startswith("test_") and _starts_a_container(f)
    }
    unmarked = [
        f.name
        for f in functions
        if f.name.startswith("test_")
        and (_starts_a_container(f) or starting_fixtures & {a.arg for a in f.args.args})
        and not module_mark
        and not any(RUNS_MARK in ast.unparse(d) for d in f.decorator_list)
    ]
    assert not unmarked, f"{module.name}: {unmarked} start a container but are not {RUNS_MARK}"


def test_a_failed_test_with_a_browser_carries_its_screenshot(
    run, pytester: pytest.Pytester
) -> None:
    pytester.makepyfile(
        test_page="""
        import pytest
        from selenium.webdriver.remote.webdriver import WebDriver

        class Page(WebDriver):  # a session that needs no Chromium
            def __init__(self):
                pass

            def save_screenshot(self, filename):
                with open(filename, "wb") as shot:
                    shot.write(b"png")
                return True

        @pytest.fixture
        def page():
            return Page()

        def test_title(page):
            assert False, "the page lacks its title"
        """
    )
    result = run(f"--image-reports={pytester.path / 'reports'}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*screenshot of page*"])
    assert list((pytester.path / "reports").glob("screenshot-test_title*")), "no screenshot kept"
