"""Client of the Metropolitan Museum of Art collection API (``/public/collection/v1``).

Every transport or format fault becomes an ``UpstreamError`` (502) or an
``UpstreamTimeoutError`` (504) whose message names the call that failed.
"""

from __future__ import annotations

from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from app import __version__
from app.errors import NotFoundError, UpstreamError, UpstreamTimeoutError
from app.schemas import MetObject, ObjectIdList
from app.settings import Settings

API_PREFIX = "/public/collection/v1"
ModelT = TypeVar("ModelT", bound=BaseModel)


def build_http_client(settings: Settings) -> httpx.AsyncClient:
    """Makes the one upstream client of the process, with explicit timeouts."""
    return httpx.AsyncClient(
        base_url=settings.met_api_base,
        timeout=httpx.Timeout(settings.upstream_timeout, connect=settings.upstream_connect_timeout),
        headers={"User-Agent": f"modern-ml-microservices/{__version__}"},
        follow_redirects=True,
    )


class MetProvider:
    """Typed access to the collection API over one shared ``httpx.AsyncClient``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        """Uses ``client``, whose ``base_url`` is the API's origin, for every call."""
        self._client = client

    async def search(self, title: str) -> ObjectIdList:
        """Searches works by title (``/search?title=true&q=...``)."""
        return await self._get(ObjectIdList, "/search", params={"title": "true", "q": title})

    async def get_object(self, object_id: int) -> MetObject:
        """Fetches one work (``/objects/{id}``); raises ``NotFoundError`` if it is unknown."""
        return await self._get(MetObject, f"/objects/{object_id}", missing_is_not_found=True)

    async def _get(
        self,
        model: type[ModelT],
        path: str,
        params: dict[str, Any] | None = None,
        *,
        missing_is_not_found: bool = False,
    ) -> ModelT:
        """GETs ``path`` and parses the JSON answer as ``model``.

        Args:
            model: The view the JSON answer must fit.
            path: Path below ``API_PREFIX``.
            params: Query parameters; httpx URL-encodes them.
            missing_is_not_found: Whether a 404 means "no such resource" (an object id)
                rather than a broken upstream (a 404 on ``/search`` is a wrong base URL).

        Raises:
            NotFoundError: The API answered 404 and ``missing_is_not_found`` is set.
            UpstreamTimeoutError: No answer within the client's timeout.
            UpstreamError: Unreachable, an error status, or a body that is not the expected JSON.
        """
        call = f"GET {API_PREFIX}{path}"
        try:
            response = await self._client.get(f"{API_PREFIX}{path}", params=params)
        except httpx.TimeoutException as exc:
            raise UpstreamTimeoutError(f"Upstream API timed out on {call}.") from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"Upstream API unreachable on {call}: {type(exc).__name__}."
            ) from exc
        if missing_is_not_found and response.status_code == httpx.codes.NOT_FOUND:
            raise NotFoundError(f"Upstream API has no resource at {call}.")
        if response.is_error:
            raise UpstreamError(f"Upstream API answered {response.status_code} on {call}.")
        try:
            return model.model_validate(response.json())
        except ValueError as exc:  # json.JSONDecodeError and pydantic's ValidationError
            kind = "unexpected JSON" if isinstance(exc, ValidationError) else "a non-JSON body"
            raise UpstreamError(f"Upstream API answered {kind} on {call}.") from exc
