"""A bounded loopback load generator and a memory sampler, for the load tests."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx
from docker.models.containers import Container


@dataclass
class BurstResult:
    """What a burst measured: latencies of good answers, and every failure."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """Requests, errors, throughput and latency percentiles (ms)."""
        ordered = sorted(self.latencies)

        def percentile(q: float) -> float:
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        return {
            "requests": len(self.latencies) + len(self.failures),
            "errors": len(self.failures),
            "seconds": round(self.seconds, 1),
            "rps": round(len(self.latencies) / self.seconds, 1),
            "p50_ms": percentile(0.50) if ordered else 0.0,
            "p99_ms": percentile(0.99) if ordered else 0.0,
            "mean_ms": round(statistics.fmean(ordered) * 1000, 1) if ordered else 0.0,
        }


async def burst(
    url: str, params: dict[str, str], seconds: float, concurrency: int, timeout: float = 10
) -> BurstResult:
    """``concurrency`` clients GET ``url`` back to back for ``seconds``; 200 is success.

    ``timeout`` bounds each request (longer for an image under emulation).
    """
    result = BurstResult(seconds=seconds)
    deadline = time.perf_counter() + seconds
    # Idle connections are dropped by the client before uvicorn closes them (its keep-alive
    # timeout is 5 s, httpx's default expiry too): otherwise a request sent on a connection the
    # server is closing at that instant fails, a race of the load generator, not of the app.
    limits = httpx.Limits(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(url, params=params)
                except httpx.HTTPError as exc:
                    result.failures.append(f"{type(exc).__name__}: {exc}")
                    continue
                if response.status_code == 200:
                    result.latencies.append(time.perf_counter() - started)
                else:
                    result.failures.append(f"HTTP {response.status_code}: {response.text[:100]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def working_set(memory_stats: dict) -> int | None:
    """Memory in use as ``docker stats`` counts it: usage less the inactive file cache, whose
    key is ``total_inactive_file`` under cgroup v1 and ``inactive_file`` under cgroup v2."""
    if "usage" not in memory_stats:
        return None
    details = memory_stats.get("stats") or {}
    return memory_stats["usage"] - details.get(
        "total_inactive_file", details.get("inactive_file", 0)
    )


class MemorySampler(threading.Thread):
    """Samples a container's memory use (as ``docker stats`` counts it) until stopped."""

    def __init__(self, container: Container) -> None:
        """Samples ``container`` from ``start()`` to ``stop()``."""
        super().__init__(daemon=True)
        self._container = container
        self._stopped = threading.Event()
        self.samples: list[int] = []
        self.limit = 0

    def run(self) -> None:
        """Takes one sample about every second."""
        while not self._stopped.is_set():
            stats = self._container.stats(stream=False)
            memory = stats.get("memory_stats") or {}
            if (used := working_set(memory)) is not None:
                self.samples.append(used)
                self.limit = memory.get("limit", 0)

    def stop(self) -> None:
        """Ends sampling and waits for the last sample."""
        self._stopped.set()
        self.join(timeout=10)
