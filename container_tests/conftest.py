"""Fixtures of the image-verification suite: the engine, the image under test, its files.

Two layers of tests share them: ``image/``, the generic checks any service's image must pass,
driven only by the table (``container_tests/expectations.py``), and ``service/``, this
service's own checks with their stand-in upstream (fixtures in ``service/conftest.py``). Checks
of an optional section of the table that is absent are deselected and listed as "not
configured" (terminal summary and report), never skipped in silence.

The image is built once per session from this checkout by the one build entry,
``deployment/build-image.sh`` (BuildKit; bases chosen by ``BASE_FLAVOUR``), or taken from
``APP_IMAGE`` when the gate already built it. Without a Docker engine the container tests do
not run, the rest of the session does, and the run fails with one line saying how to get an
engine; ``CONTAINER_TESTS_ALLOW_SKIP=1`` (ignored when ``CI`` is set) skips them instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import docker
import pytest
from docker.errors import DockerException, ImageNotFound
from filelock import FileLock
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.remote.webdriver import WebDriver
from testcontainers.core.labels import LABEL_SESSION_ID, SESSION_ID, create_labels

from container_tests import browser, deployment_files, workers
from container_tests.builds import FLAVOUR_LABEL
from container_tests.containers import STOPPED_LOGS, ServiceContainer, running_service
from container_tests.expectations import (
    ROOT,
    BaseFlavour,
    ConfigError,
    Expectations,
    Section,
    config_path,
    load_expectations,
)
from container_tests.facts import Facts
from container_tests.filesystem import ImageFilesystem, LayerReport, analyze_layers


def _engine_problem() -> str | None:
    """Returns why no Docker engine can be used, or None when one answers ``/_ping``.

    A unix socket is tried with a plain socket first: docker-py and httpx both leave the socket
    of a failed connection open (a ResourceWarning, an error under ``filterwarnings = error``).
    """
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://"):
        try:
            with socket.socket(socket.AF_UNIX) as probe:
                probe.settimeout(5)
                probe.connect(host.removeprefix("unix://"))
        except OSError as exc:
            return f"no Docker engine reachable at {host} ({exc.__class__.__name__}: {exc})"
    try:
        with contextlib.closing(docker.from_env()) as client:
            client.ping()
    except DockerException as exc:
        return f"no Docker engine reachable at {host} ({exc.__class__.__name__}: {exc})"
    return None


NO_ENGINE = pytest.StashKey[str]()
NOT_CONFIGURED = pytest.StashKey[dict[str, list[str]]]()
WORKER_FACTS = pytest.StashKey[Facts]()  # the controller's merge of its workers' facts
SERVICE_LAYER = Path(__file__).parent / "service"


def sections(item: pytest.Item) -> set[Section]:
    """The optional sections of the table a test needs: ``service`` for the service layer,
    and any named by ``@pytest.mark.section(...)``."""
    needed: set[Section] = {"service"} if Path(item.path).is_relative_to(SERVICE_LAYER) else set()
    for marker in item.iter_markers("section"):
        needed.update(marker.args)
    return needed


def _deselect_not_configured(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselects the tests of sections absent from the table, and keeps their names."""
    try:
        expect = load_expectations()
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    missing: dict[str, list[str]] = {}
    for item in items:
        for section in sorted(sections(item)):
            if not expect.configured(section):
                missing.setdefault(section, []).append(item.nodeid)
    if dropped := {nodeid for nodeids in missing.values() for nodeid in nodeids}:
        config.hook.pytest_deselected(items=[i for i in items if i.nodeid in dropped])
        items[:] = [item for item in items if item.nodeid not in dropped]
    config.stash[NOT_CONFIGURED] = missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test here as a container test, sets aside the tests of sections the table
    does not configure and, without an engine, all of them."""
    ours = [item for item in items if Path(item.path).is_relative_to(Path(__file__).parent)]
    for item in ours:
        item.add_marker(pytest.mark.container)
    if ours:
        _deselect_not_configured(config, items)
        ours = [item for item in items if item in ours]
    if not ours or (problem := _engine_problem()) is None:
        return
    if os.environ.get("CONTAINER_TESTS_ALLOW_SKIP") == "1" and not os.environ.get("CI"):
        for item in ours:
            item.add_marker(pytest.mark.skip(reason=problem))
        return
    # The other suites still run and report; the session fails at its end (below).
    config.stash[NO_ENGINE] = (
        f"container_tests: {len(ours)} tests not run: {problem}; run ./deployment/app-build.sh "
        "(it sets up and starts an engine) or start dockerd, or set CONTAINER_TESTS_ALLOW_SKIP=1"
    )
    items[:] = [item for item in items if item not in ours]


def pytest_configure(config: pytest.Config) -> None:
    """Under xdist, prepares the controller to share one image and gather its workers' facts."""
    if workers.is_controller(config):
        workers.make_shared_folder()
        config.stash[WORKER_FACTS] = Facts()  # its not_configured is the one the summary lists
        config.stash[NOT_CONFIGURED] = config.stash[WORKER_FACTS].not_configured


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> workers.LayerScheduling:
    """Hands each layer of this suite to one worker whole (the controller)."""
    return workers.LayerScheduling(config, log)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """Takes what a finished xdist worker measured and noted (the controller)."""
    config: pytest.Config = node.config  # type: ignore[attr-defined]
    sent = workers.received(node)
    record = config.stash[WORKER_FACTS]
    record.merge({"not_configured": sent.get("not_configured", {})})  # also without facts
    if "facts" in sent:
        record.merge(sent["facts"])
    if sent.get("no_engine"):
        config.stash[NO_ENGINE] = sent["no_engine"]


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Lists the sections the table does not configure, and says, as the last line before the
    totals, why the container tests did not run."""
    for section, nodeids in terminalreporter.config.stash.get(NOT_CONFIGURED, {}).items():
        terminalreporter.write_line(
            f"not configured: [tool.container-tests.{section}] is not in {config_path()}; "
            f"its {len(nodeids)} checks were deselected",
            yellow=True,
        )
    if message := terminalreporter.config.stash.get(NO_ENGINE, None):
        terminalreporter.write_line(message, red=True, bold=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fails a session whose container tests could not run. Under xdist, a worker sends its
    notes to the controller, and the controller writes the facts and removes the shared image."""
    config = session.config
    if workers.is_worker(config):
        workers.send(config, "not_configured", config.stash.get(NOT_CONFIGURED, {}))
        workers.send(config, "no_engine", config.stash.get(NO_ENGINE, ""))
    if workers.is_controller(config):
        if config.stash[WORKER_FACTS].figures or config.stash[WORKER_FACTS].details:
            config.stash[WORKER_FACTS].write()
        workers.remove_shared_image_and_folder()
    if config.stash.get(NO_ENGINE, None) and session.exitstatus in (0, 5):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Forgets the logs of containers an earlier test started and stopped."""
    STOPPED_LOGS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[object]:
    """Attaches the logs of the test's running containers, and a screenshot of any browser
    page it used (saved beside the reports), to its failure report."""
    report = yield
    if report.failed and report.when == "call":
        for name, logs in STOPPED_LOGS:  # containers the test body started and stopped
            report.sections.append((f"logs of {name}", logs))
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, WebDriver):
                shot = browser.screenshot_path(f"screenshot-{item.name}")
                with contextlib.suppress(WebDriverException):
                    value.save_screenshot(str(shot))
                    report.sections.append((f"screenshot of {name}", str(shot.resolve())))
            container = value[0] if isinstance(value, tuple) and value else value
            if isinstance(container, ServiceContainer):
                with contextlib.suppress(DockerException):
                    report.sections.append((f"logs of {name}", container.logs_text()[-5000:]))
    return report


@pytest.fixture(scope="session")
def expect() -> Expectations:
    return load_expectations()


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


def _remove_leftovers(docker_client: docker.DockerClient) -> None:
    """Removes every container and network this session made that is still there."""
    selector = {"label": f"{LABEL_SESSION_ID}={SESSION_ID}"}
    for container in docker_client.containers.list(all=True, filters=selector):
        container.remove(force=True)
    for network in docker_client.networks.list(filters=selector):
        network.remove()


@pytest.fixture(scope="session")
def facts(request: pytest.FixtureRequest) -> Iterator[Facts]:
    """The session's measurements; written once, at the end, for the report."""
    record = Facts(not_configured=request.config.stash.get(NOT_CONFIGURED, {}))
    yield record
    if workers.is_worker(request.config):
        workers.send(request.config, "facts", record.to_dict())  # the controller writes them
    else:
        record.write()


@pytest.fixture(scope="session", autouse=True)
def _session_cleanup(docker_client: docker.DockerClient, facts: Facts) -> Iterator[None]:
    """Removes what a failed test left behind (the facts are written after it)."""
    yield
    _remove_leftovers(docker_client)


@pytest.fixture(scope="session")
def docker_cli() -> str:
    """A docker CLI that builds with BuildKit (docker-py cannot)."""
    found = subprocess.run(
        [ROOT / "deployment" / "docker-client.sh"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        pytest.fail(found.stderr.strip(), pytrace=False)
    return found.stdout.strip()


def _build(tag: str) -> str | None:
    """Builds this checkout as ``tag``; returns None, or why the build failed."""
    build = subprocess.run(
        [ROOT / "deployment" / "build-image.sh", tag], capture_output=True, text=True, check=False
    )
    if build.returncode == 0:
        return None
    return (
        f"building the image failed (exit {build.returncode}):\n{build.stdout[-3000:]}\n"
        + (build.stderr[-5000:])
    )


@pytest.fixture(scope="session")
def image(docker_client: docker.DockerClient) -> Iterator[str]:
    """The tag of the image under test: ``APP_IMAGE``, or a fresh build of this checkout (under
    xdist, one build for all workers)."""
    if tag := os.environ.get("APP_IMAGE"):
        try:
            docker_client.images.get(tag)
        except ImageNotFound:
            pytest.fail(f"APP_IMAGE={tag} does not exist in the local engine", pytrace=False)
        yield tag
        return
    if shared := workers.shared_folder():
        with FileLock(shared / "image.lock"):
            tag_file, failed_file = shared / "image-tag", shared / "image-failed"
            # A worker cannot stop the session (xdist takes pytest.exit for a crash): the tests
            # that need the image fail with the build's output, the others still run.
            if failed_file.exists():
                pytest.fail(failed_file.read_text(), pytrace=False)
            if not tag_file.exists():
                tag = f"modern-ml-microservices-app:pytest-{uuid.uuid4().hex[:8]}"
                if failure := _build(tag):
                    failed_file.write_text(failure)
                    pytest.fail(failure, pytrace=False)
                tag_file.write_text(tag)
        yield tag_file.read_text()
        _remove_leftovers(docker_client)  # the controller removes the image after every worker
        return
    tag = f"modern-ml-microservices-app:pytest-{uuid.uuid4().hex[:8]}"
    if failure := _build(tag):  # nothing here can pass without the image: stop the session
        pytest.exit(failure, returncode=1)
    yield tag
    _remove_leftovers(docker_client)  # a leftover container would keep the image alive
    docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="session")
def image_attrs(docker_client: docker.DockerClient, image: str) -> dict:
    """``docker image inspect`` of the image under test."""
    return docker_client.images.get(image).attrs


@dataclass(frozen=True)
class BaseImage:
    """The runtime base the image under test was built on, as its labels name it."""

    flavour: str
    name: str
    digest: str
    layers: tuple[str, ...]
    size: int
    known_digests: frozenset[str]  # the local image id and any registry digests


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient, image_attrs: dict) -> BaseImage:
    """The runtime base named by the image's labels, inspected in the local engine."""
    labels = image_attrs["Config"].get("Labels") or {}
    flavour = labels.get(FLAVOUR_LABEL, "")
    name = labels.get("org.opencontainers.image.base.name", "")
    if not name and (named := os.environ.get("CONTAINER_TESTS_BASE")):
        # An image built elsewhere, which does not label its base: the caller names it (the
        # label checks still fail, as they should).
        name, flavour = named, os.environ.get("BASE_FLAVOUR", "")
    if not name or flavour not in get_args(BaseFlavour):
        pytest.fail(
            f"the image does not say which base it was built on (labels {FLAVOUR_LABEL}="
            f"{flavour!r}, org.opencontainers.image.base.name={name!r}): build it with "
            "deployment/build-image.sh, or name its base with CONTAINER_TESTS_BASE=image and "
            "BASE_FLAVOUR=flavour",
            pytrace=False,
        )
    try:
        attrs = docker_client.images.get(name).attrs
    except ImageNotFound:
        pytest.fail(f"the base {name} is not in the local engine; pull or make it", pytrace=False)
    return BaseImage(
        flavour=flavour,
        name=name,
        digest=labels.get("org.opencontainers.image.base.digest", ""),
        layers=tuple(attrs["RootFS"]["Layers"]),
        size=attrs["Size"],
        known_digests=frozenset(
            [attrs["Id"], *(d.split("@", 1)[1] for d in attrs.get("RepoDigests") or [])]
        ),
    )


@pytest.fixture(scope="session")
def image_files(docker_client: docker.DockerClient, image: str) -> ImageFilesystem:
    """Every path of the image's filesystem, with contents (from ``docker export``)."""
    return ImageFilesystem.export(docker_client, image, labels=create_labels(image, None))


@pytest.fixture(scope="session")
def layer_report(docker_client: docker.DockerClient, image: str, facts: Facts) -> LayerReport:
    """Every layer of the image with its files, and the bytes wasted across layers."""
    report = analyze_layers(docker_client, image)
    facts.detail(
        "layers",
        [
            {"size_mb": round(layer.size / 1e6, 2), "created_by": layer.created_by[:120]}
            for layer in report.layers
        ],
    )
    return report


@pytest.fixture(scope="session")
def manifests(expect: Expectations) -> dict[str, dict[str, Any]]:
    """Every Kubernetes object of ``[tool.container-tests.deployment] manifests``, by kind."""
    assert expect.deployment is not None, "needs @pytest.mark.section('deployment')"
    return deployment_files.manifests(expect.deployment)


@pytest.fixture(scope="session")
def pod(manifests: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The pod spec of the Deployment."""
    return manifests["Deployment"]["spec"]["template"]["spec"]


@pytest.fixture(scope="session")
def app_container(pod: dict[str, Any]) -> dict[str, Any]:
    """The one container of the pod."""
    (container,) = pod["containers"]
    return container


@pytest.fixture(scope="session")
def compose_app(expect: Expectations) -> dict[str, Any]:
    """The compose service that runs the image."""
    assert expect.deployment is not None, "needs @pytest.mark.section('deployment')"
    return deployment_files.compose_service(expect.deployment)


@pytest.fixture(scope="session")
def service(image: str) -> Iterator[ServiceContainer]:
    """The image running with its defaults, shared by the tests that only read from it."""
    with running_service(image) as (container, _):
        yield container
