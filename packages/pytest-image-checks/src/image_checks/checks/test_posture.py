"""Runtime posture: hardened flags, memory limit, start-up time and graceful shutdown."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from image_checks.containers import NotStarted, ServiceContainer, running_service, started
from image_checks.facts import Facts
from image_checks.plugin import Platform, table_of
from image_checks.table import Table

STARTS = 3
http = pytest.mark.image_checks_section("http")
pytestmark = pytest.mark.image_checks_runs  # each check starts the image


@pytest.fixture(scope="module")
def hardened(image: str, image_table: Table) -> Iterator[ServiceContainer | NotStarted]:
    """The image run read-only, without capabilities or privilege escalation, memory-limited."""
    assert image_table.http is not None
    with started(
        image,
        image_table,
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit=image_table.http.memory_limit,
    ) as container:
        yield container


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The paths the hardened container must serve: the health path, and the docs'."""
    if "served_path" in metafunc.fixturenames:
        paths = []
        with contextlib.suppress(pytest.UsageError):  # said once, after collection
            table = table_of(metafunc.config)
            health = [table.http.health_path] if table.http else []
            docs = [table.docs.path, table.docs.openapi_path] if table.docs else []
            paths = [*health, *docs]
        metafunc.parametrize("served_path", paths, ids=paths)


@http
def test_hardened_container_serves(
    hardened: ServiceContainer, image_table: Table, served_path: str
) -> None:
    path = served_path
    response = hardened.get(path)
    assert response.status_code == 200, (
        f"{path} answered {response.status_code} with --read-only --cap-drop ALL "
        "--security-opt no-new-privileges"
    )


def test_server_runs_as_the_image_user_without_capabilities_by_default(
    image: str, image_table: Table
) -> None:
    # Run as `docker run IMAGE` would, with Docker's default capability set (nothing dropped),
    # and read the serving process (PID 1) from the host: root, or file capabilities on the
    # interpreter, would show here.
    with running_service(image, image_table) as (container, _):
        container.reload()
        pid = container.get_wrapped_container().attrs["State"]["Pid"]
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError as exc:
            pytest.fail(f"cannot read the container's PID 1 through /proc/{pid} ({exc}): the "
                        "engine does not run on this host", pytrace=False)  # fmt: skip
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    uid = fields["Uid"].split()[1]
    effective, permitted = fields["CapEff"].strip(), fields["CapPrm"].strip()
    assert int(uid) == image_table.user, (
        f"the server runs as UID {uid}, the table's user is {image_table.user}"
    )
    assert (int(effective, 16), int(permitted, 16)) == (0, 0), (
        f"the server holds capabilities with Docker's defaults (CapEff {effective}, CapPrm "
        f"{permitted}): it must run as a non-root user with no file capabilities"
    )


def test_docker_stop_stops_the_container_cleanly_within_budget(
    image: str, image_table: Table, image_platform: Platform, facts: Facts
) -> None:
    # As an engine stops it: `docker stop` sends the image's STOPSIGNAL, waits, then kills.
    budget = image_platform.time(image_table.stop_budget_s)
    grace = int(budget) + 5
    with running_service(image, image_table) as (container, _):
        wrapped = container.get_wrapped_container()
        started = time.perf_counter()
        wrapped.stop(timeout=grace)
        seconds = time.perf_counter() - started
        result = wrapped.wait(timeout=5)
        logs = container.logs_text()
    facts.figure(
        "stop_s",
        round(seconds, 3),
        "s",
        budget=budget,
        detail=f"docker stop to exit 0{image_platform.note()}",
    )
    assert result["StatusCode"] == 0, (
        f"`docker stop` ended the container with exit code {result['StatusCode']}, expected 0 "
        f"after {seconds:.1f} s (137: killed, by a STOPSIGNAL of SIGKILL or after the {grace} s "
        "grace period; the server must be PID 1 and shut down gracefully on "
        f"{image_table.stop_signal}):\n{logs[-1500:]}"
    )
    assert seconds <= budget, (
        f"the container took {seconds:.1f} s to stop after `docker stop` (budget {budget} s)"
    )


@http
def test_startup_time_is_within_budget(
    image: str, image_table: Table, image_platform: Platform, facts: Facts
) -> None:
    assert image_table.http is not None
    budget = image_platform.time(image_table.http.startup_budget_s)
    timings = []
    for _ in range(STARTS):
        # Wait well past the budget, so the budget is decided here, with the samples named.
        with running_service(image, image_table, startup_timeout_s=3 * budget) as (_, took):
            timings.append(took)
    median = statistics.median(timings)
    facts.figure(
        "startup_s", round(median, 3), "s", budget=budget,
        detail=f"docker start to first 200 on {image_table.http.health_path}, median of "
        f"{STARTS}{image_platform.note()}",
    )  # fmt: skip
    facts.detail("startup_samples", [round(t, 3) for t in timings])
    assert max(timings) <= budget, (
        f"start-up took {max(timings):.2f} s (budget {budget} s, [tool.image-checks.http] "
        f"startup-budget-s); samples {timings}"
    )
