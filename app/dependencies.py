"""FastAPI dependencies: how a request gets its upstream client, provider and service.

Tests swap any of them with ``app.dependency_overrides``.
"""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, Request

from app.providers.met import MetProvider
from app.services.search import SearchService


def get_http_client(request: Request) -> httpx.AsyncClient:
    """Returns the process-wide upstream client opened by the app's lifespan."""
    return request.app.state.http_client


def get_met_provider(
    client: Annotated[httpx.AsyncClient, Depends(get_http_client)],
) -> MetProvider:
    """Returns a provider over the shared client."""
    return MetProvider(client)


def get_search_service(
    provider: Annotated[MetProvider, Depends(get_met_provider)],
) -> SearchService:
    """Returns the search service over the provider."""
    return SearchService(provider)
