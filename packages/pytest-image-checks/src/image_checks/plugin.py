"""The pytest plugin (entry point ``pytest11``): options, fixtures and the session's notes.

``pytest --pyargs image_checks --image REF --image-table FILE`` runs every generic check of
``image_checks/checks`` against the image ``REF``; ``--build-context DIR`` adds the checks of
the build context and the build cache (and, without ``--image``, builds the image under test
from it). A conftest adds the checks to a run of its own folder with :func:`include_checks`.

Checks of a section the table does not configure are deselected and listed as "not
configured" in the terminal summary and the facts record, never skipped in silence. Without a
Docker engine the checks do not run, the rest of the session does, and the session fails with
one line saying so (``IMAGE_CHECKS_ALLOW_NO_ENGINE=1`` skips them instead, except under CI).
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import docker
import pytest
from docker.errors import DockerException, ImageNotFound
from filelock import FileLock
from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID, create_labels

from image_checks import completeness, deployment_files, engine, workers
from image_checks.containers import STOPPED_LOGS, NotStarted, ServiceContainer, started
from image_checks.facts import FACTS_FILE, PREFIX, RELEASE_FACTS_FILE, Facts
from image_checks.filesystem import ImageFilesystem, LayerReport, analyze_layers
from image_checks.table import SECTIONS, Environment, Section, Table, TableError, load_table

CHECKS_DIR = Path(__file__).with_name("checks")
RELEASE_DIR = Path(__file__).with_name("release")  # run only when named, or given a record
RELEASE_RECORDS = {"test_release.py": "release", "test_index.py": "release_index"}
CHECKS_NODE = "image_checks/checks/"  # what the checks' node ids hold, wherever installed
SECTION_MARK = "image_checks_section"
ENGINE_MARK = "image_checks_not_on"  # engine.needs_buildkit, engine.runs_healthchecks
RUNS_MARK = "image_checks_runs"  # starts the image: a container (or a browser on one)
RUNS_FIXTURES = {"service", "python_probe"}  # each a container of the image
IMAGE_FIXTURES = {
    "image", "image_table", "docker_client", "image_attrs", "service", "python_probe",
    "image_platform",
}  # fmt: skip
BASE_LABEL = "org.opencontainers.image.base.name"
DIGEST_LABEL = "org.opencontainers.image.base.digest"

TABLE = pytest.StashKey[Table]()
NO_ENGINE = pytest.StashKey[str]()
NOT_CONFIGURED = pytest.StashKey[dict[str, list[str]]]()
NOT_ON_ENGINE = pytest.StashKey[dict[str, str]]()
ENGINE_NAME = pytest.StashKey[str]()
RECORD = pytest.StashKey[Facts]()  # what the reporting process merges from every test's report
LOCAL_FACTS = pytest.StashKey[Facts]()  # what this process's checks record
READS = pytest.StashKey["ImageReads"]()  # the image's export and layers, read in the background
COMPLETE = pytest.StashKey[completeness.Completeness]()  # with --require-complete
INCOMPLETE = pytest.StashKey[list[str]]()  # why a session that had to be complete is not


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's options; each also reads an ``IMAGE_CHECKS_*`` variable (table.Environment)."""
    group = parser.getgroup("image-checks", "image checks (pytest-image-checks)")
    group.addoption("--image", metavar="REF", help="the image under test (an existing image)")
    group.addoption(
        "--image-table",
        metavar="FILE",
        type=Path,
        help="a pyproject.toml or TOML file holding [tool.image-checks] "
        "(default: pyproject.toml of the rootdir)",
    )
    group.addoption(
        "--build-context",
        metavar="DIR",
        type=Path,
        help="the image's build context: runs the build-context and cache checks",
    )
    group.addoption(
        "--dockerfile", metavar="FILE", type=Path, help="the Dockerfile, relative to the context"
    )
    group.addoption(
        "--image-base", metavar="REF", help="the base of an image that does not label it"
    )
    group.addoption(
        "--image-reports", metavar="DIR", type=Path, help="where facts, SBOM, screenshots go"
    )
    group.addoption(
        "--release",
        metavar="FILE",
        type=Path,
        help="the release record (JSON) the release checks verify: pytest --pyargs "
        "image_checks.release",
    )
    group.addoption(
        "--release-index",
        metavar="FILE",
        type=Path,
        help="the record (JSON) of a multi-platform index the index checks verify: pytest "
        "--pyargs image_checks.release",
    )
    group.addoption(
        "--require-complete",
        action="store_true",
        default=None,
        dest=completeness.OPTION,
        help="fail the session when any test was skipped, xfailed, xpassed or deselected, "
        "or none ran",
    )
    parser.addini(
        workers.SCOPES_INI,
        "node id prefixes each run whole on one xdist worker (beside the generic checks)",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    """Registers the section marker; under xdist, prepares the controller to share one image."""
    config.addinivalue_line(
        "markers", f"{SECTION_MARK}(name): needs [tool.image-checks.<name>]; deselected without"
    )
    config.addinivalue_line(
        "markers",
        f"{ENGINE_MARK}(engine, reason): cannot run on that engine (docker, podman); listed by "
        "name with the reason as not on this engine",
    )
    config.addinivalue_line(
        "markers",
        f"{RUNS_MARK}: starts the image (a container, or a browser on one); set on every test "
        f"using {' or '.join(sorted(RUNS_FIXTURES))}; -m 'not {RUNS_MARK}' keeps the checks "
        "that only read the image",
    )
    if workers.is_controller(config):
        workers.make_shared_folder()
    if not workers.is_worker(config):
        config.stash[RECORD] = Facts()
        config.pluginmanager.register(RecordMerger(config.stash[RECORD]), "image-checks-record")
    if environment(config).require_complete:
        config.stash[COMPLETE] = completeness.Completeness()
        config.pluginmanager.register(config.stash[COMPLETE], "image-checks-completeness")


class RecordMerger:
    """Merges the records each test's report carries, in the process that reports."""

    def __init__(self, record: Facts) -> None:
        """Merges into ``record``."""
        self.record = record

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Takes the records of a test's last report (a worker's, or this process's)."""
        if report.when == "teardown":
            for name, value in report.user_properties:
                if isinstance(name, str) and name.startswith(PREFIX):
                    self.record.receive(name, str(value))


def include_checks(config: pytest.Config) -> None:
    """Adds the generic checks to this run's arguments (call it from ``pytest_configure``)."""
    if not any(Path(arg.split("::")[0]).resolve() == CHECKS_DIR for arg in config.args):
        config.args.append(str(CHECKS_DIR))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leaves the release checks out of a run of the generic checks.

    ``pytest --pyargs image_checks`` collects the package's every test module; the release
    checks verify a release that only exists after the checks passed, so they run when named
    (``--pyargs image_checks.release``) or when a record is given: ``--release`` runs the
    checks of one image's release, ``--release-index`` those of a multi-platform index.
    """
    if not collection_path.is_relative_to(RELEASE_DIR):
        return None
    env = environment(config)
    given = {option: getattr(env, option) for option in RELEASE_RECORDS.values()}
    if any(given.values()):
        option = RELEASE_RECORDS.get(collection_path.name)
        return None if option is None or given[option] else True
    named = any(
        arg.split("::")[0] in ("image_checks.release", "image_checks/release")
        or Path(arg.split("::")[0]).resolve().is_relative_to(RELEASE_DIR)
        for arg in config.args
    )
    return None if named else True


def environment(config: pytest.Config) -> Environment:
    """The environment as the harness reads it, with the command line's options over it."""
    env = Environment()
    options = {
        "image": config.getoption("image"),
        "table": config.getoption("image_table"),
        "build_context": config.getoption("build_context"),
        "dockerfile": config.getoption("dockerfile"),
        "base": config.getoption("image_base"),
        "reports": config.getoption("image_reports"),
        "require_complete": config.getoption(completeness.OPTION),
        "release": config.getoption("release"),
        "release_index": config.getoption("release_index"),
    }
    return env.model_copy(update={k: v for k, v in options.items() if v is not None})


def table_of(config: pytest.Config) -> Table:
    """The session's table, read and validated once.

    Raises:
        pytest.UsageError: the table is missing or invalid, naming the file and the keys.
    """
    if TABLE not in config.stash:
        env = environment(config)
        path = env.table or config.rootpath / "pyproject.toml"
        try:
            config.stash[TABLE] = load_table(
                path,
                build_context=env.build_context,
                dockerfile=env.dockerfile,
                environment=env,
            )
        except TableError as exc:
            raise pytest.UsageError(f"{exc} (name the table with --image-table FILE)") from None
    return config.stash[TABLE]


def is_check(item: pytest.Item) -> bool:
    """Whether ``item`` is one of the generic checks."""
    return Path(item.path).is_relative_to(CHECKS_DIR)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Marks the tests that use a container of the image (before ``-m`` selects)."""
    if RUNS_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(RUNS_MARK)


def _uses_the_image(item: pytest.Item) -> bool:
    return is_check(item) or bool(IMAGE_FIXTURES & set(getattr(item, "fixturenames", ())))


def sections(item: pytest.Item) -> set[Section]:
    """The sections of the table ``item`` needs (``@pytest.mark.image_checks_section``)."""
    return {name for marker in item.iter_markers(SECTION_MARK) for name in marker.args}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Sets aside the checks of sections not configured and, without an engine, the image's."""
    ours = [item for item in items if _uses_the_image(item)]
    if not ours:
        return
    table = table_of(config)
    missing: dict[str, list[str]] = {}
    for item in ours:
        for section in sorted(sections(item)):
            if section not in SECTIONS:
                raise pytest.UsageError(f"{item.nodeid}: no section {section!r} in the table")
            if not table.configured(section):
                missing.setdefault(section, []).append(item.nodeid)
    if dropped := {nodeid for nodeids in missing.values() for nodeid in nodeids}:
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid in dropped])
        items[:] = [item for item in items if item.nodeid not in dropped]
    config.stash[NOT_CONFIGURED] = missing
    ours = [item for item in ours if item.nodeid not in dropped]
    if not ours:
        return
    if (problem := engine.engine_problem()) is None:
        _set_aside_what_this_engine_lacks(config, items, ours)
        return
    if table.environment.allow_no_engine and not table.environment.ci:
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=problem))
        return
    config.stash[NO_ENGINE] = (
        f"image checks: {len(ours)} tests not run: {problem}; start a Docker engine, or set "
        "IMAGE_CHECKS_ALLOW_NO_ENGINE=1 to skip them"
    )
    items[:] = [item for item in items if item not in ours]


def _set_aside_what_this_engine_lacks(
    config: pytest.Config, items: list[pytest.Item], ours: list[pytest.Item]
) -> None:
    """Takes out the checks the engine cannot run, each with its reason.

    They are not deselected: they are listed by name in the terminal and the report, and
    --require-complete accepts them.
    """
    found = engine.current_engine()
    name = found["name"].lower()
    config.stash[ENGINE_NAME] = f"{found['name']} {found['version']}"
    why: dict[str, str] = {}
    for item in ours:
        reasons = [
            marker.kwargs.get("reason") or (marker.args[1] if len(marker.args) > 1 else "")
            for marker in item.iter_markers(ENGINE_MARK)
            if marker.args and marker.args[0] == name
        ]
        if reasons:
            why[item.nodeid] = "; ".join(r for r in reasons if r) or "no reason given"
    items[:] = [item for item in items if item.nodeid not in why]
    config.stash[NOT_ON_ENGINE] = why


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Hands the generic checks, and each ``image_checks_scopes`` prefix, to one worker whole."""
    return workers.scheduler(config, log, CHECKS_NODE, checks_relative(config))


def checks_relative(config: pytest.Config) -> tuple[str, ...]:
    """How node ids name the generic checks' folder relative to each argument holding it.

    pytest names a file outside the rootdir relative to the argument that collected it:
    ``pytest --pyargs image_checks`` run from a team's own folder gives ``checks/test_x.py``.
    """
    found = []
    for arg in config.args:
        name = arg.split("::", 1)[0]
        folder: Path | None = Path(name).resolve()
        if config.option.pyargs and not Path(name).exists():
            spec = importlib.util.find_spec(name) if name.replace(".", "").isidentifier() else None
            origin = spec.origin if spec else None
            folder = Path(origin).parent if origin else None
        if folder and folder != CHECKS_DIR and CHECKS_DIR.is_relative_to(folder):
            found.append(f"{CHECKS_DIR.relative_to(folder).as_posix()}/")
    return tuple(found)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Takes what a finished xdist worker measured and noted (the controller)."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    sent = workers.received(node)
    notes = config.stash.setdefault(NOT_CONFIGURED, {})
    for section, nodeids in sent.get("not_configured", {}).items():
        known = notes.setdefault(section, [])
        known.extend(n for n in nodeids if n not in known)
    if sent.get("no_engine"):
        config.stash[NO_ENGINE] = sent["no_engine"]
    if sent.get("not_on_engine"):
        config.stash.setdefault(NOT_ON_ENGINE, {}).update(sent["not_on_engine"])
        config.stash[ENGINE_NAME] = sent["engine_name"]
    if COMPLETE in config.stash:  # every worker collects every test: the most any set aside
        counted = config.stash[COMPLETE]
        counted.deselected = max(counted.deselected, sent.get("deselected", 0))


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Lists the sections the table does not configure, and says why the checks did not run."""
    config = terminalreporter.config
    for section, nodeids in config.stash.get(NOT_CONFIGURED, {}).items():
        hint = " and no build context (--build-context)" if section == "build" else ""
        terminalreporter.write_line(
            f"not configured: [tool.image-checks.{section}]{hint}; "
            f"its {len(nodeids)} checks were deselected",
            yellow=True,
        )
    if lacking := config.stash.get(NOT_ON_ENGINE, {}):
        terminalreporter.write_line(
            f"not on this engine ({config.stash[ENGINE_NAME]}): {len(lacking)} checks not run",
            yellow=True,
        )
        for nodeid, why in sorted(lacking.items()):
            terminalreporter.write_line(f"  {nodeid.rsplit('::', 1)[-1]}: {why}", yellow=True)
    if message := config.stash.get(NO_ENGINE, None):
        terminalreporter.write_line(message, red=True, bold=True)
    if problems := config.stash.get(INCOMPLETE, []):
        terminalreporter.write_line(
            f"--require-complete: the session is incomplete, {len(problems)} problems:",
            red=True,
            bold=True,
        )
        for problem in problems:
            terminalreporter.write_line(f"  {problem}", red=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fails a session whose checks could not run.

    Under xdist, a worker sends its notes to the controller, which writes the facts and removes
    the shared image.
    """
    config = session.config
    if workers.is_worker(config):
        workers.send(config, "not_configured", config.stash.get(NOT_CONFIGURED, {}))
        workers.send(config, "no_engine", config.stash.get(NO_ENGINE, ""))
        workers.send(config, "not_on_engine", config.stash.get(NOT_ON_ENGINE, {}))
        workers.send(config, "engine_name", config.stash.get(ENGINE_NAME, ""))
        if COMPLETE in config.stash:
            workers.send(config, "deselected", config.stash[COMPLETE].deselected)
    else:
        record = config.stash[RECORD]
        record.not_configured = config.stash.get(NOT_CONFIGURED, {})
        record.not_on_this_engine = {
            nodeid.rsplit("::", 1)[-1]: why
            for nodeid, why in sorted(config.stash.get(NOT_ON_ENGINE, {}).items())
        }
        if record.figures or record.details:
            env = environment(config)
            released = env.release or env.release_index
            record.write(env.reports, RELEASE_FACTS_FILE if released else FACTS_FILE)
    if workers.is_controller(config):
        workers.remove_shared_image_and_folder()
    if config.stash.get(NO_ENGINE, None) and session.exitstatus in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if COMPLETE in config.stash and not workers.is_worker(config):
        config.stash[INCOMPLETE] = config.stash[COMPLETE].problems()
        if config.stash[INCOMPLETE] and session.exitstatus in (0, 5):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Forgets the logs of containers an earlier test started and stopped."""
    STOPPED_LOGS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[object]:
    """Attaches the test's containers' logs and its browser page's screenshot to its failure."""
    report = yield
    if report.when == "teardown" and LOCAL_FACTS in item.config.stash:
        # The records travel with the test's last report, which junitxml writes as properties.
        report.user_properties.extend(item.config.stash[LOCAL_FACTS].drain())
    if report.failed and report.when == "call":
        for name, logs in STOPPED_LOGS:
            report.sections.append((f"logs of {name}", logs))
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if _is_browser(value):
                from selenium.common.exceptions import WebDriverException

                from image_checks import browser

                shot = browser.screenshot_path(
                    environment(item.config).reports, f"screenshot-{item.name}"
                )
                with contextlib.suppress(WebDriverException):
                    value.save_screenshot(str(shot))
                    report.sections.append((f"screenshot of {name}", str(shot.resolve())))
            container = value[0] if isinstance(value, tuple) and value else value
            if isinstance(container, ServiceContainer):
                with contextlib.suppress(DockerException):
                    report.sections.append((f"logs of {name}", container.logs_text()[-5000:]))
    return report


def _is_browser(value: object) -> bool:
    """True for a browser session (selenium is imported only by the checks that start one)."""
    webdriver = sys.modules.get("selenium.webdriver.remote.webdriver")
    return webdriver is not None and isinstance(value, webdriver.WebDriver)


@pytest.fixture(scope="session")
def image_table(pytestconfig: pytest.Config) -> Table:
    """``[tool.image-checks]``, validated."""
    return table_of(pytestconfig)


@pytest.fixture(scope="session")
def image_reports(image_table: Table) -> Path:
    """The folder the checks write their reports into (facts, SBOM, screenshots)."""
    folder = image_table.environment.reports
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove_leftovers(client: docker.DockerClient) -> None:
    """Removes every container and network this session made that is still there."""
    selector = {"label": f"{LABEL_SESSION_ID}={SESSION_ID}"}
    for container in client.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for network in client.networks.list(filters=selector):
        network.remove()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """A client of the engine; at the end, what a failed test left behind is removed."""
    client = docker.from_env()
    yield client
    with contextlib.suppress(DockerException):
        _remove_leftovers(client)
    client.close()


@pytest.fixture(scope="session")
def facts(pytestconfig: pytest.Config) -> Facts:
    """What the checks measure, each figure once with its budget.

    Sent with each test's report, and written once, at the end, by the process that reports.
    """
    return pytestconfig.stash.setdefault(LOCAL_FACTS, Facts())


@pytest.fixture(scope="session")
def docker_cli(image_table: Table) -> str:
    """A docker CLI that builds with BuildKit (docker-py cannot)."""
    try:
        return engine.buildkit_cli(image_table.environment.docker)
    except LookupError as exc:
        pytest.fail(str(exc), pytrace=False)


def _build_or_fail(table: Table, tag: str) -> None:
    """Builds the table's build context as ``tag``, or fails the test with the build's output."""
    result = engine.build(table, tag)
    if result.returncode != 0:
        pytest.fail(engine.failure(result), pytrace=False)


@pytest.fixture(scope="session")
def image(
    docker_client: docker.DockerClient, image_table: Table, request: pytest.FixtureRequest
) -> Iterator[str]:
    """The image under test: ``--image``, or a build of the build context, removed at the end.

    Under xdist, one build serves every worker. Once it is known, the reads of the whole image
    that the session's checks need start in the background (``ImageReads``).
    """
    wanted = {
        name for item in request.session.items for name in ImageReads.READS
        if name in getattr(item, "fixturenames", ())
    }  # fmt: skip
    config = request.config

    def start(tag: str) -> str:
        config.stash[READS] = ImageReads(tag, wanted)
        return tag

    def stop() -> None:  # before the image and the session's containers are removed
        if READS in config.stash:
            config.stash[READS].close()
            del config.stash[READS]

    try:
        yield from _image(docker_client, image_table, start, stop)
    finally:
        stop()


def _reads(config: pytest.Config, image: str) -> ImageReads:
    """The session's reads of ``image`` (new ones if a conftest overrides ``image``)."""
    if READS not in config.stash:
        config.stash[READS] = ImageReads(image, set())
    return config.stash[READS]


def _image(
    docker_client: docker.DockerClient,
    image_table: Table,
    start: Callable[[str], str],
    stop: Callable[[], None],
) -> Iterator[str]:
    if tag := image_table.environment.image:
        try:
            docker_client.images.get(tag)
        except ImageNotFound:
            pytest.fail(f"the image {tag} is not in the local engine (--image)", pytrace=False)
        yield start(tag)
        return
    if not image_table.configured("build"):
        pytest.fail(
            "no image to check: name one with --image REF, or give its build context with "
            "--build-context DIR",
            pytrace=False,
        )
    tag = f"image-checks:pytest-{uuid.uuid4().hex[:8]}"
    if shared := workers.shared_folder():
        with FileLock(shared / "image.lock"):
            tag_file, failed_file = shared / "image-tag", shared / "image-failed"
            if failed_file.exists():  # a worker cannot stop the session: its tests fail
                pytest.fail(failed_file.read_text(), pytrace=False)
            if not tag_file.exists():
                result = engine.build(image_table, tag)
                if result.returncode != 0:
                    failed_file.write_text(engine.failure(result))
                    pytest.fail(engine.failure(result), pytrace=False)
                tag_file.write_text(tag)
        yield start(tag_file.read_text())
        stop()
        _remove_leftovers(docker_client)  # the controller removes the image after every worker
        return
    _build_or_fail(image_table, tag)
    yield start(tag)
    stop()
    _remove_leftovers(docker_client)  # a leftover container would keep the image alive
    docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def image_attrs(docker_client: docker.DockerClient, image: str) -> dict:
    """``docker image inspect`` of the image under test."""
    return docker_client.images.get(image).attrs


@dataclass(frozen=True)
class Platform:
    """The image's platform and the engine's; under emulation, how budgets scale."""

    image: str  # linux/arm64, from the image's config
    engine: str  # linux/amd64: what the engine runs without emulation
    time_factor: float = 1.0  # 1 unless emulated: [tool.image-checks.emulation] time-factor
    memory_factor: float = 1.0

    @property
    def emulated(self) -> bool:
        """Whether the engine runs the image through an emulator."""
        return self.image != self.engine

    def time(self, seconds: float) -> float:
        """A time budget, as it applies on this platform."""
        return seconds * self.time_factor

    def memory(self, size: float) -> float:
        """A memory budget, as it applies on this platform."""
        return size * self.memory_factor

    def note(self) -> str:
        """What a figure's detail says of the platform ("" when native)."""
        if not self.emulated:
            return ""
        return (
            f"; {self.image} emulated on {self.engine}: time budgets x{self.time_factor:g}, "
            f"memory x{self.memory_factor:g}"
        )


@pytest.fixture(scope="session")
def image_platform(
    docker_client: docker.DockerClient, image_attrs: dict, image_table: Table
) -> Platform:
    """The image's platform, the engine's, and the budgets' scale under emulation."""
    found = engine.image_platform(image_attrs)
    native = engine.engine_facts(docker_client)["platform"]
    if found == native:
        return Platform(found, native)
    scale = image_table.emulation
    return Platform(found, native, scale.time_factor, scale.memory_factor)


@dataclass(frozen=True)
class BaseImage:
    """The runtime base the image under test was built on, as its labels name it."""

    name: str  # the image's name, from its base.name label (or --image-base)
    table_name: str  # the name the table's bases give it ("" when none matches)
    budget_mb: float  # its size budget: the matching base's, else max-image-mb
    digest: str
    layers: tuple[str, ...]
    known_digests: frozenset[str]  # the local image id and any registry digests


def base_name(image_attrs: dict, table: Table) -> str:
    """The base the image names in its labels, else ``--image-base``; "" when neither does."""
    labels = image_attrs["Config"].get("Labels") or {}
    return labels.get(BASE_LABEL) or table.environment.base or ""


def known_digests(attrs: dict) -> frozenset[str]:
    """An image's local id and its registry digests, from ``docker image inspect``."""
    return frozenset([attrs["Id"], *(d.split("@", 1)[1] for d in attrs.get("RepoDigests") or [])])


@pytest.fixture(scope="session")
def base_image(
    docker_client: docker.DockerClient, image_attrs: dict, image_table: Table
) -> BaseImage:
    """The runtime base named by the image's labels (or ``--image-base``), inspected."""
    labels = image_attrs["Config"].get("Labels") or {}
    name = base_name(image_attrs, image_table)
    if not name:
        pytest.fail(
            f"the image does not say which base it was built on (no {BASE_LABEL} label): "
            "label it in the build, or name the base with --image-base REF",
            pytrace=False,
        )
    try:
        attrs = docker_client.images.get(name).attrs
    except ImageNotFound:
        pytest.fail(f"the base {name} is not in the local engine; pull or make it", pytrace=False)
    named = image_table.base_named(name, engine.image_platform(image_attrs))
    return BaseImage(
        name=name,
        table_name=named.name if named else "",
        budget_mb=named.max_image_mb if named else image_table.max_image_mb,
        digest=labels.get(DIGEST_LABEL, ""),
        layers=tuple(attrs["RootFS"]["Layers"]),
        known_digests=known_digests(attrs),
    )


def _export(image: str) -> ImageFilesystem:
    client = docker.from_env()
    try:
        return ImageFilesystem.export(client, image, labels=create_labels(image, None))
    finally:
        client.close()


def _layers(image: str) -> LayerReport:
    client = docker.from_env()
    try:
        return analyze_layers(client, image)
    finally:
        client.close()


class ImageReads:
    """The image's whole filesystem and its layers, read in the background.

    Each reads the whole image through the engine and parses it (``docker export`` of a
    container, ``docker save``): started in two threads as soon as the image is known, for the
    session's checks that need them, they overlap with the checks that wait on containers.
    """

    READS: ClassVar[tuple[str, ...]] = ("image_files", "layer_report")  # the fixtures

    def __init__(self, image: str, wanted: set[str]) -> None:
        """Starts the reads ``wanted`` (fixture names) of ``image``."""
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image-checks-read")
        self._files: Future[ImageFilesystem] | None = None
        self._layers: Future[LayerReport] | None = None
        self._image = image
        if "image_files" in wanted:
            self._files = self._pool.submit(_export, image)
        if "layer_report" in wanted:
            self._layers = self._pool.submit(_layers, image)

    def files(self) -> ImageFilesystem:
        """The export (read now if it was not started); its error, raised here."""
        if self._files is None:
            self._files = self._pool.submit(_export, self._image)
        return self._files.result()

    def layers(self) -> LayerReport:
        """The layers (read now if they were not started); their error, raised here."""
        if self._layers is None:
            self._layers = self._pool.submit(_layers, self._image)
        return self._layers.result()

    def close(self) -> None:
        """Waits for the reads still running (each removes what it created)."""
        self._pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def image_files(image: str, pytestconfig: pytest.Config) -> ImageFilesystem:
    """Every path of the image's filesystem, with contents (from ``docker export``)."""
    return _reads(pytestconfig, image).files()


@pytest.fixture(scope="session")
def layer_report(image: str, facts: Facts, pytestconfig: pytest.Config) -> LayerReport:
    """Every layer of the image with its files, and the bytes wasted across layers."""
    report = _reads(pytestconfig, image).layers()
    facts.detail(
        "layers",
        [
            {"size_mb": round(layer.size / 1e6, 2), "created_by": layer.created_by[:120]}
            for layer in report.layers
        ],
    )
    return report


@pytest.fixture(scope="session")
def manifests(image_table: Table) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object of ``[tool.image-checks.deployment] manifests``, by kind."""
    assert image_table.deployment is not None, "needs the deployment section"
    return deployment_files.manifests(image_table.folder, image_table.deployment)


@pytest.fixture(scope="session")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pod spec of the Deployment."""
    if "Deployment" not in manifests:
        pytest.fail(f"the manifests hold no Deployment (kinds: {sorted(manifests)})")
    return manifests["Deployment"]["spec"]["template"]["spec"]


@pytest.fixture(scope="session")
def app_container(pod: dict[str, Any]) -> dict[str, Any]:
    """The one container of the pod."""
    containers = pod["containers"]
    if len(containers) != 1:
        pytest.fail(f"the Deployment's pod has {len(containers)} containers, not one")
    return containers[0]


@pytest.fixture(scope="session")
def compose_app(image_table: Table) -> dict[str, Any]:
    """The compose service that runs the image."""
    assert image_table.deployment is not None, "needs the deployment section"
    return deployment_files.compose_service(image_table.folder, image_table.deployment)


@pytest.fixture(scope="session")
def python_probe(image: str, image_table: Table) -> Iterator[ServiceContainer | NotStarted]:
    """A container of the image idling on its venv's interpreter, as the image's user.

    For the checks that run Python in the image without needing its server: a server that does
    not start (an app the user cannot read, a missing module) must not hide what they check.
    """
    assert image_table.python is not None, "needs [tool.image-checks.python]"
    interpreter = f"/{image_table.venv_path()}/bin/python"
    container = ServiceContainer(image, entrypoint=[interpreter])
    container.with_command(["-c", "import signal; signal.pause()"])
    container.interpreter = interpreter
    try:
        container.start()
    except DockerException as exc:
        yield NotStarted(f"{interpreter} does not start in the image: {exc}")
        return
    try:
        yield container
    finally:
        container.stop()


@pytest.fixture(scope="session")
def service(image: str, image_table: Table) -> Iterator[ServiceContainer | NotStarted]:
    """The image running with its defaults, shared by the checks that only read from it.

    It is ready once it answers HTTP at all: a health path that answers 404 or 500 is for the
    checks to report, not a reason for every check on this container to error.
    """
    with started(image, image_table, any_answer=True) as container:
        yield container
