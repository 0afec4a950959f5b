"""The process's one upstream connection, opened by the first request that calls upstream.

The provider's HTTP stack (httpx, and httpcore, which its first client loads) takes about 50 ms
to import. Opened here, at first use, that cost is paid by the first search instead of by the
service's start-up to its first answer (docs/benchmarks.md, "Start-up, taken apart").
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

    from app.providers.met import MetProvider
    from app.settings import Settings


class Upstream:
    """Makes the upstream client once, at the first provider asked for, and closes it."""

    def __init__(self, settings: Settings) -> None:
        """Keeps ``settings`` for the client it makes later."""
        self._settings = settings
        self._client: httpx.AsyncClient | None = None
        self._making = threading.Lock()  # FastAPI runs sync dependencies in worker threads

    @property
    def client(self) -> httpx.AsyncClient | None:
        """The client, or None before the first provider was asked for."""
        return self._client

    def provider(self) -> MetProvider:
        """A provider over the process's one client, made by the first call (from any thread)."""
        from app.providers import met  # here, not at the top: see the module docstring

        with self._making:
            if self._client is None:
                self._client = met.build_http_client(self._settings)
        return met.MetProvider(self._client)

    async def aclose(self) -> None:
        """Closes the client, if one was made."""
        if self._client is not None:
            await self._client.aclose()
