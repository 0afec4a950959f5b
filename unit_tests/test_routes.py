"""Every status the routes can answer, through the whole app with upstream mocked."""

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pytest_httpx import HTTPXMock

from app import dependencies
from app.dependencies import get_search_service
from unit_tests.conftest import API


def mock_hit(httpx_mock: HTTPXMock, image: str = "https://images.example/1.jpg") -> None:
    httpx_mock.add_response(url=f"{API}/search?title=true&q=sunflowers", json=HIT)
    httpx_mock.add_response(
        url=f"{API}/objects/1", json={"objectID": 1, "title": "Sunflowers", "primaryImage": image}
    )


HIT = {"total": 1, "objectIDs": [1]}


def test_search_returns_primary_image_url_as_json_string(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    mock_hit(httpx_mock)
    response = client.get("/api/search", params={"title": "sunflowers"})
    assert response.status_code == 200, response.text
    assert response.json() == "https://images.example/1.jpg"


def test_search_strips_surrounding_white_space_from_the_title(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    mock_hit(httpx_mock)
    assert client.get("/api/search", params={"title": "  sunflowers "}).status_code == 200


def test_search_returns_404_when_upstream_has_no_hits(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    response = client.get("/api/search", params={"title": "zzzz"})
    assert response.status_code == 404
    assert response.json() == {"detail": "No results found."}


def test_search_returns_404_when_the_first_hit_is_gone(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(url=f"{API}/search?title=true&q=x", json=HIT)
    httpx_mock.add_response(url=f"{API}/objects/1", status_code=404, json={"message": "nope"})
    response = client.get("/api/search", params={"title": "x"})
    assert response.status_code == 404
    assert response.json()["detail"].startswith("No results found.")


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "Field required"),
        ({"title": ""}, "at least 1 character"),
        ({"title": "   "}, "must not be blank"),
        ({"title": "x" * 201}, "at most 200 characters"),  # the documented limit, not a constant
    ],
    ids=["missing", "empty", "blank", "too-long"],
)
def test_search_rejects_bad_titles_with_422(
    client: TestClient, httpx_mock: HTTPXMock, params: dict, fragment: str
) -> None:
    response = client.get("/api/search", params=params)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert errors[0]["loc"] == ["query", "title"]
    assert fragment in errors[0]["msg"]
    assert httpx_mock.get_requests() == [], "a bad title must not reach upstream"


def test_search_accepts_a_title_of_the_maximum_length(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    response = client.get("/api/search", params={"title": "x" * 200})
    assert response.status_code == 404


def test_search_of_a_work_without_a_public_image_answers_an_empty_string(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    mock_hit(httpx_mock, image="")
    response = client.get("/api/search", params={"title": "sunflowers"})
    assert response.status_code == 200, response.text
    assert response.json() == ""


@pytest.mark.parametrize(
    "title",
    ["Les Tournesols, été", "向日葵", "🌻 sunflowers", "عباد الشمس", "Ἥλιος"],
    ids=["accents", "cjk", "emoji", "right-to-left", "greek"],
)
def test_titles_in_any_script_reach_upstream_intact(
    client: TestClient, httpx_mock: HTTPXMock, title: str
) -> None:
    httpx_mock.add_response(json={"total": 0, "objectIDs": None})
    assert client.get("/api/search", params={"title": title}).status_code == 404
    request = httpx_mock.get_request()
    assert request is not None
    assert request.url.params.get_list("q") == [title]


@pytest.mark.parametrize(
    ("mock", "status", "fragment"),
    [
        ({"status_code": 500, "text": "boom"}, 502, "answered 500"),
        ({"status_code": 200, "text": "not json"}, 502, "non-JSON body"),
        ({"status_code": 200, "json": {"unexpected": True}}, 502, "unexpected JSON"),
        ({"status_code": 404, "text": "wrong base URL"}, 502, "answered 404"),
        (httpx.ConnectError("refused"), 502, "unreachable"),
        (httpx.RemoteProtocolError("reset"), 502, "unreachable"),
        (httpx.ReadTimeout("slow"), 504, "timed out"),
        (httpx.ConnectTimeout("slow"), 504, "timed out"),
    ],
    ids=["5xx", "non-json", "wrong-shape", "search-404", "refused", "reset", "read", "connect"],
)
def test_search_maps_upstream_faults_to_gateway_errors(
    client: TestClient,
    httpx_mock: HTTPXMock,
    mock: dict | Exception,
    status: int,
    fragment: str,
) -> None:
    if isinstance(mock, Exception):
        httpx_mock.add_exception(mock)
    else:
        httpx_mock.add_response(**mock)
    response = client.get("/api/search", params={"title": "sunflowers"})
    assert response.status_code == status, response.text
    assert fragment in response.json()["detail"]
    assert "Traceback" not in response.text


def test_upstream_faults_are_logged(
    client: TestClient, httpx_mock: HTTPXMock, caplog: pytest.LogCaptureFixture
) -> None:
    httpx_mock.add_response(status_code=503)
    client.get("/api/search", params={"title": "sunflowers"})
    assert any("503" in record.getMessage() for record in caplog.records), caplog.text


def test_unexpected_errors_become_a_plain_500_without_traceback(
    app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    class ExplodingService:
        async def search_by_title(self, title: str) -> None:
            raise RuntimeError("secret internal state")

    app.dependency_overrides[get_search_service] = ExplodingService
    response = client.get("/api/search", params={"title": "x"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error."}
    assert "secret" not in response.text
    assert "secret internal state" in caplog.text, "the traceback belongs in the log"


def test_health_answers_ok_without_calling_upstream(
    client: TestClient, httpx_mock: HTTPXMock
) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert httpx_mock.get_requests() == []


def test_openapi_documents_every_status_of_search(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/api/search", "/health"}
    responses = schema["paths"]["/api/search"]["get"]["responses"]
    assert set(responses) == {"200", "404", "422", "502", "504"}
    models = {
        status: answer.get("content", {}).get("application/json", {}).get("schema")
        for status, answer in responses.items()
    }
    for status in ("404", "502", "504"):
        assert models[status] == {"$ref": "#/components/schemas/ErrorResponse"}, status
    assert models["422"] == {"$ref": "#/components/schemas/HTTPValidationError"}
    assert schema["components"]["schemas"]["ErrorResponse"]["required"] == ["detail"]


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text


def test_the_upstream_client_is_shared_and_closed_with_the_app(
    app: FastAPI, httpx_mock: HTTPXMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    given: list[httpx.AsyncClient] = []

    class RecordingProvider(dependencies.MetProvider):
        def __init__(self, client: httpx.AsyncClient) -> None:
            given.append(client)
            super().__init__(client)

    monkeypatch.setattr(dependencies, "MetProvider", RecordingProvider)
    with TestClient(app) as test_client:
        shared = app.state.http_client
        for _ in range(2):
            mock_hit(httpx_mock)
            assert test_client.get("/api/search", params={"title": "sunflowers"}).status_code == 200
        assert len(given) == 2, f"{len(given)} providers made for 2 searches"
        assert all(client is shared for client in given), "a search used its own upstream client"
        assert not shared.is_closed
    assert shared.is_closed
