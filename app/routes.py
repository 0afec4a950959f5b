"""HTTP routes: thin handlers over the service layer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator

from app.dependencies import get_search_service
from app.schemas import ErrorResponse, HealthResponse
from app.services.search import SearchService

MAX_TITLE_LENGTH = 200

router = APIRouter()


def _not_blank(value: str) -> str:
    """Strips the title and rejects one made of white space only."""
    value = value.strip()
    if not value:
        raise ValueError("title must not be blank")
    return value


Title = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_TITLE_LENGTH,
        description="Words to look for in the titles of works.",
        examples=["Sunflowers"],
    ),
    AfterValidator(_not_blank),
]


@router.get(
    "/api/search",
    response_model=str,
    summary="Primary image URL of the first work whose title matches",
    responses={
        200: {"description": "URL of the primary image (empty if the work has none)."},
        404: {"model": ErrorResponse, "description": "No work matches the title."},
        502: {"model": ErrorResponse, "description": "Upstream unreachable or answered badly."},
        504: {"model": ErrorResponse, "description": "Upstream did not answer in time."},
    },
)
async def search(
    title: Title,
    service: Annotated[SearchService, Depends(get_search_service)],
) -> str:
    """Searches the collection by title and returns the first hit's primary image URL."""
    artwork = await service.search_by_title(title)
    return artwork.primary_image


@router.get("/health", response_model=HealthResponse, summary="Liveness; never calls upstream")
async def health() -> HealthResponse:
    """Answers as long as the process serves requests."""
    return HealthResponse(status="ok")
