"""Bounded load on the running image, and graceful shutdown while requests are in flight."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from docker.utils import parse_bytes
from testcontainers.core.network import Network

from container_tests.load import MemorySampler, burst
from container_tests.service.upstream import arrivals, upstream_env
from container_tests.settings import Service
from image_checks.containers import ServiceContainer, running_service
from image_checks.facts import Facts
from image_checks.plugin import Platform
from image_checks.table import Table

pytestmark = pytest.mark.load
IN_FLIGHT = 16


def test_bounded_load_has_no_errors_restarts_or_memory_overrun(
    image: str,
    network: Network,
    stand_in: ServiceContainer,
    image_table: Table,
    image_platform: Platform,
    service_expect: Service,
    facts: Facts,
) -> None:
    limit = parse_bytes(image_table.http.memory_limit)
    budget_mb = image_platform.memory(service_expect.max_memory_mb)
    # A restart policy, so that a crash under load shows as a restart instead of a stop.
    with running_service(
        image,
        image_table,
        # A long upstream timeout: the burst is about errors, restarts and memory; timeouts are
        # the fault matrix's, and a CPU shared with the other layer must not turn into 504s.
        # Under emulation both timeouts scale: the stand-in, emulated too, accepts slowly.
        env={
            **upstream_env(service_expect),
            "UPSTREAM_TIMEOUT": str(image_platform.time(10)),
            "UPSTREAM_CONNECT_TIMEOUT": str(
                image_platform.time(service_expect.upstream_connect_timeout_s)
            ),
        },
        network=network,
        mem_limit=image_table.http.memory_limit,
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
    ) as (container, _):
        wrapped = container.get_wrapped_container()
        sampler = MemorySampler(wrapped)
        sampler.start()
        try:
            result = asyncio.run(
                burst(
                    container.url("/api/search"),
                    {"title": "sunflowers"},
                    service_expect.load_seconds,
                    service_expect.load_concurrency,
                    timeout=image_platform.time(10),
                )
            )
        finally:
            sampler.stop()
        wrapped.reload()
        state = wrapped.attrs["State"]
        restarts = wrapped.attrs.get("RestartCount", 0)
    summary = result.summary()
    peak = max(sampler.samples, default=0)
    facts.detail("load", {**summary, "concurrency": service_expect.load_concurrency})
    facts.figure(
        "load_peak_memory_mib", round(peak / 2**20, 1), "MiB", budget=budget_mb,
        detail=f"under the burst, hard limit {limit / 2**20:.0f} MiB{image_platform.note()}",
    )  # fmt: skip
    assert summary["requests"], "the burst made no request: nothing was loaded"
    assert not result.failures, (
        f"{len(result.failures)} of {summary['requests']} requests failed under load: "
        f"{sorted(set(result.failures))[:5]}"
    )
    assert state["Running"], f"the container stopped under load: {state}"
    assert not state["OOMKilled"], "the container was killed for memory under load"
    assert restarts == 0, f"the container restarted {restarts} times under load"
    assert sampler.samples, "no memory sample was taken during the burst"
    assert peak <= budget_mb * 2**20, (
        f"memory peaked at {peak / 2**20:.0f} MiB under load, over the budget of "
        f"{budget_mb:.0f} MiB ([tool.service-checks] max-memory-mb{image_platform.note()}; "
        "the hard limit "
        f"is {limit / 2**20:.0f} MiB)"
    )


def test_docker_stop_lets_in_flight_requests_finish(
    image: str,
    network: Network,
    stand_in: ServiceContainer,
    image_table: Table,
    image_platform: Platform,
    service_expect: Service,
    facts: Facts,
) -> None:
    # "lag" answers after 1 s at the stand-in; the app may wait up to 5 s for it. The stop comes
    # once the stand-in has seen every request arrive (none is answered yet), as `docker stop`.
    env = {
        **upstream_env(service_expect),
        "UPSTREAM_TIMEOUT": str(image_platform.time(5)),
        "UPSTREAM_CONNECT_TIMEOUT": str(
            image_platform.time(service_expect.upstream_connect_timeout_s)
        ),
    }
    budget = image_platform.time(image_table.stop_budget_s)
    with running_service(image, image_table, env=env, network=network) as (container, _):
        wrapped = container.get_wrapped_container()
        url = container.url("/api/search")
        before = arrivals(stand_in, "lag")

        async def in_flight_then_stop() -> list[httpx.Response | Exception]:
            async with httpx.AsyncClient(timeout=15) as client:
                requests = [
                    asyncio.create_task(client.get(url, params={"title": "lag"}))
                    for _ in range(IN_FLIGHT)
                ]
                while arrivals(stand_in, "lag") < before + IN_FLIGHT:
                    if all(r.done() for r in requests):  # answered without the stand-in
                        break
                    await asyncio.sleep(0.02)
                await asyncio.to_thread(wrapped.stop, timeout=int(budget) + 5)
                return await asyncio.gather(*requests, return_exceptions=True)

        signalled = time.perf_counter()
        answers = asyncio.run(in_flight_then_stop())
        exit_code = wrapped.wait(timeout=5)["StatusCode"]
        seconds = time.perf_counter() - signalled
    failed = [
        repr(a) if isinstance(a, Exception) else f"HTTP {a.status_code}"
        for a in answers
        if isinstance(a, Exception) or a.status_code != 200
    ]
    facts.detail("drain", {"in_flight": IN_FLIGHT, "failed": len(failed)})
    facts.figure(
        "drain_s", round(seconds, 2), "s", budget=budget,
        detail=f"docker stop with {IN_FLIGHT} requests in flight to exit{image_platform.note()}",
    )  # fmt: skip
    assert not failed, f"requests in flight at `docker stop` were not answered: {failed[:5]}"
    assert exit_code == 0, f"the container exited {exit_code} after `docker stop` under load"
    assert seconds <= budget, f"draining took {seconds:.1f} s (budget {budget} s)"
