"""Runtime posture: hardened flags, memory limit, start-up time and graceful shutdown."""

from __future__ import annotations

import statistics
import time

import pytest

from container_tests.containers import ServiceContainer, running_service
from container_tests.expectations import Expectations
from container_tests.facts import Facts

STARTS = 3


@pytest.fixture(scope="module")
def hardened(image: str, expect: Expectations) -> ServiceContainer:
    """The image run read-only, without capabilities or privilege escalation, memory-limited."""
    with running_service(
        image,
        read_only=True,
        cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
        mem_limit=expect.memory_limit,
    ) as (container, _):
        yield container


@pytest.mark.parametrize("path", ["docs_path", "health_path", "/openapi.json"])
def test_hardened_container_serves(
    hardened: ServiceContainer, expect: Expectations, path: str
) -> None:
    path = getattr(expect, path, path)  # a key of the table, or a literal path
    response = hardened.get(path)
    assert response.status_code == 200, (
        f"{path} answered {response.status_code} with --read-only --cap-drop ALL "
        "--security-opt no-new-privileges"
    )


def test_server_runs_as_the_image_user_without_capabilities_by_default(
    image: str, expect: Expectations
) -> None:
    # Run as `docker run IMAGE` would, with Docker's default capability set (nothing dropped),
    # and read the serving process (PID 1) itself: root, or file capabilities on the
    # interpreter, would show here.
    probe = (
        "status = open('/proc/1/status').read().splitlines(); "
        "fields = dict(l.split(':', 1) for l in status); "
        "print(fields['Uid'].split()[1], fields['CapEff'].strip(), fields['CapPrm'].strip())"
    )
    with running_service(image) as (container, _):
        code, output = container.python(probe)
    assert code == 0, output
    uid, effective, permitted = output.split()
    assert int(uid) == expect.uid, f"the server runs as UID {uid}, expected {expect.uid}"
    assert (int(effective, 16), int(permitted, 16)) == (0, 0), (
        f"the server holds capabilities with Docker's defaults (CapEff {effective}, CapPrm "
        f"{permitted}): it must run as a non-root user with no file capabilities"
    )


def test_sigterm_stops_the_container_cleanly_within_budget(
    image: str, expect: Expectations, facts: Facts
) -> None:
    with running_service(image) as (container, _):
        wrapped = container.get_wrapped_container()
        started = time.perf_counter()
        wrapped.kill(signal="SIGTERM")
        result = wrapped.wait(timeout=expect.stop_budget_s + 5)
        seconds = time.perf_counter() - started
        logs = container.logs_text()
    facts.figure(
        "stop_s", round(seconds, 3), "s", budget=expect.stop_budget_s, detail="SIGTERM to exit 0"
    )
    assert result["StatusCode"] == 0, (
        f"SIGTERM ended the container with exit code {result['StatusCode']}, expected 0 "
        f"(the server must be PID 1 and shut down gracefully):\n{logs[-1500:]}"
    )
    assert seconds <= expect.stop_budget_s, (
        f"the container took {seconds:.1f} s to stop after SIGTERM "
        f"(budget {expect.stop_budget_s} s)"
    )


def test_startup_time_is_within_budget(image: str, expect: Expectations, facts: Facts) -> None:
    timings = []
    for _ in range(STARTS):
        # Wait well past the budget, so the budget is decided here, with the samples named.
        with running_service(image, startup_timeout_s=3 * expect.startup_budget_s) as (_, took):
            timings.append(took)
    median = statistics.median(timings)
    facts.figure(
        "startup_s", round(median, 3), "s", budget=expect.startup_budget_s,
        detail=f"docker start to first 200 on {expect.health_path}, median of {STARTS}",
    )  # fmt: skip
    facts.detail("startup_samples", [round(t, 3) for t in timings])
    assert max(timings) <= expect.startup_budget_s, (
        f"start-up took {max(timings):.2f} s (budget {expect.startup_budget_s} s, "
        f"[tool.container-tests] startup-budget-s); samples {timings}"
    )
