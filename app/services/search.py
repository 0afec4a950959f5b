"""Search of the collection by title."""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import NotFoundError
from app.providers.met import MetProvider

NO_RESULTS = "No results found."


@dataclass(frozen=True, slots=True)
class Artwork:
    """A work found by a search, with the images the API lists for it."""

    object_id: int
    title: str
    primary_image: str
    additional_images: tuple[str, ...]


class SearchService:
    """Finds works through a ``MetProvider``."""

    def __init__(self, provider: MetProvider) -> None:
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
