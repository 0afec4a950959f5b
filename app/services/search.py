"""Search of the collection by title."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.errors import NotFoundError
from app.schemas import MetObject, ObjectIdList

NO_RESULTS = "No results found."


@dataclass(frozen=True, slots=True)
class Artwork:
    """A work found by a search, with the images the API lists for it."""

    object_id: int
    title: str
    primary_image: str
    additional_images: tuple[str, ...]


class Collection(Protocol):
    """What the service needs of a provider (``app.providers.met.MetProvider`` in the app)."""

    async def search(self, title: str) -> ObjectIdList:
        """Ids of the works whose title matches ``title``."""
        ...

    async def get_object(self, object_id: int) -> MetObject:
        """One work; raises ``NotFoundError`` if it is unknown."""
        ...


class SearchService:
    """Finds works through a ``Collection``."""

    def __init__(self, provider: Collection) -> None:
        """Uses ``provider`` for every upstream call."""
        self._provider = provider

    async def search_by_title(self, title: str) -> Artwork:
        """Returns the first work whose title matches ``title``.

        Raises:
            NotFoundError: The search has no hits, or its first hit no longer exists upstream.
            UpstreamError: The upstream API failed (see ``MetProvider``).
        """
        hits = await self._provider.search(title)
        if not hits.object_ids:
            raise NotFoundError(NO_RESULTS)
        first = hits.object_ids[0]
        try:
            found = await self._provider.get_object(first)
        except NotFoundError as exc:
            raise NotFoundError(f"{NO_RESULTS} The first hit, object {first}, is gone.") from exc
        return Artwork(
            object_id=found.object_id,
            title=found.title,
            primary_image=found.primary_image,
            additional_images=tuple(found.additional_images),
        )
