"""The process's one upstream client: made once, by the first provider asked for (any thread)."""

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.providers import met
from app.settings import Settings
from app.upstream import Upstream


def test_concurrent_first_requests_make_one_client(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    # FastAPI runs the sync dependency that asks for a provider in worker threads: the first
    # requests of a burst arrive together, and each must get the same client.
    made: list[object] = []
    build = met.build_http_client

    def slow_build(settings: Settings) -> object:
        time.sleep(0.05)  # long enough for every thread to reach the test before one assigns
        made.append(client := build(settings))
        return client

    monkeypatch.setattr(met, "build_http_client", slow_build)
    upstream = Upstream(settings)
    start = threading.Barrier(8)

    def first_request() -> object:
        start.wait()
        return upstream.provider()._client

    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: first_request(), range(8)))
    for client in made:
        asyncio.run(client.aclose())
    assert len(made) == 1, f"{len(made)} upstream clients made by 8 concurrent first requests"
    assert all(client is upstream.client for client in clients)
