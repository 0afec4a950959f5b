"""FastAPI dependencies: how a request gets its provider and service.

Tests swap any of them with ``app.dependency_overrides``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from app.services.search import Collection, SearchService

if TYPE_CHECKING:
    from app.providers.met import MetProvider


def get_met_provider(request: Request) -> MetProvider:
    """Returns a provider over the process's one upstream client (``app.upstream``)."""
    return request.app.state.upstream.provider()


def get_search_service(
    provider: Annotated[Collection, Depends(get_met_provider)],
) -> SearchService:
    """Returns the search service over the provider."""
    return SearchService(provider)
