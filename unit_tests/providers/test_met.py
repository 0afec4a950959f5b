"""MetProvider against upstream answers mocked at the HTTP layer."""

from collections.abc import AsyncIterator

import httpx
import pytest
from pytest_httpx import HTTPXMock

import app
from app.errors import NotFoundError, UpstreamError, UpstreamTimeoutError
from app.providers.met import MetProvider, build_http_client
from app.settings import Settings
from unit_tests.conftest import API

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def provider(settings: Settings) -> AsyncIterator[MetProvider]:
    async with build_http_client(settings) as client:
        yield MetProvider(client)


async def test_search_parses_ids_and_ignores_unknown_fields(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=f"{API}/search?title=true&q=sunflowers",
        json={"total": 2, "objectIDs": [436524, 484935], "newField": {"x": 1}},
    )
    result = await provider.search("sunflowers")
    assert result.total == 2
    assert result.object_ids == [436524, 484935]


async def test_search_reads_null_object_ids_as_no_hits(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    result = await provider.search("nothing like this")
    assert result.total == 0
    assert result.object_ids == []


async def test_search_url_encodes_the_title_as_one_parameter(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    await provider.search("x&q=y #1")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params.get_list("q") == ["x&q=y #1"], "title leaked into other params"
    assert b"x%26q%3Dy" in request.url.query, "ampersand and equals sign must be encoded"


async def test_get_object_reads_the_api_field_names(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=f"{API}/objects/436524",
        json={
            "objectID": 436524,
            "title": "Sunflowers",
            "primaryImage": "https://images.example/436524.jpg",
            "additionalImages": ["https://images.example/436524-2.jpg"],
            "artistDisplayName": "Vincent van Gogh",
        },
    )
    work = await provider.get_object(436524)
    assert work.object_id == 436524
    assert work.title == "Sunflowers"
    assert work.primary_image == "https://images.example/436524.jpg"
    assert work.additional_images == ["https://images.example/436524-2.jpg"]


async def test_get_object_tolerates_null_strings_and_lists(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        json={"objectID": 1, "title": None, "primaryImage": None, "additionalImages": None}
    )
    work = await provider.get_object(1)
    assert (work.title, work.primary_image, work.additional_images) == ("", "", [])


async def test_get_object_raises_not_found_on_404(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=404, json={"message": "ObjectID not found"})
    with pytest.raises(NotFoundError):
        await provider.get_object(999)


async def test_search_404_is_a_broken_upstream_not_a_miss(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(status_code=404, text="no such route")
    with pytest.raises(UpstreamError, match="answered 404") as caught:
        await provider.search("x")
    assert not isinstance(caught.value, NotFoundError)


@pytest.mark.parametrize(
    ("response_kwargs", "message"),
    [
        ({"status_code": 500, "text": "boom"}, "answered 500"),
        ({"status_code": 503, "json": {"error": "down"}}, "answered 503"),
        ({"status_code": 200, "text": "<html>maintenance</html>"}, "non-JSON body"),
        ({"status_code": 200, "json": {"objectIDs": [1]}}, "unexpected JSON"),
        ({"status_code": 200, "json": ["not", "an", "object"]}, "unexpected JSON"),
        ({"status_code": 200, "json": {"total": "many", "objectIDs": [1]}}, "unexpected JSON"),
    ],
    ids=["500", "503", "html", "missing-total", "list", "wrong-type"],
)
async def test_search_maps_bad_answers_to_upstream_error(
    provider: MetProvider, httpx_mock: HTTPXMock, response_kwargs: dict, message: str
) -> None:
    httpx_mock.add_response(**response_kwargs)
    with pytest.raises(UpstreamError, match=message) as caught:
        await provider.search("x")
    assert not isinstance(caught.value, UpstreamTimeoutError)
    assert "/search" in str(caught.value), "the message must name the failing call"


@pytest.mark.parametrize(
    "timeout", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.PoolTimeout("x")]
)
async def test_timeouts_raise_upstream_timeout(
    provider: MetProvider, httpx_mock: HTTPXMock, timeout: httpx.TimeoutException
) -> None:
    httpx_mock.add_exception(timeout)
    with pytest.raises(UpstreamTimeoutError, match="timed out"):
        await provider.get_object(1)


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.RemoteProtocolError("reset")]
)
async def test_transport_errors_raise_upstream_unreachable(
    provider: MetProvider, httpx_mock: HTTPXMock, error: httpx.HTTPError
) -> None:
    httpx_mock.add_exception(error)
    with pytest.raises(UpstreamError, match="unreachable") as caught:
        await provider.search("x")
    assert not isinstance(caught.value, UpstreamTimeoutError)


async def test_requests_name_the_service_in_their_user_agent(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    await provider.search("x")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["User-Agent"] == f"modern-ml-microservices/{app.__version__}"


async def test_redirects_of_upstream_are_followed(
    provider: MetProvider, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(
        url=f"{API}/objects/1", status_code=301, headers={"Location": f"{API}/objects/2"}
    )
    httpx_mock.add_response(
        url=f"{API}/objects/2", json={"objectID": 2, "title": "Moved", "primaryImage": ""}
    )
    artwork = await provider.get_object(1)
    assert artwork.title == "Moved"
