"""Search end to end: the image's API lists it, refuses bad input with 422 and answers through
the stand-in upstream."""

from __future__ import annotations

from image_checks.containers import ServiceContainer


def test_openapi_lists_the_search_path(service: ServiceContainer) -> None:
    response = service.get("/openapi.json")
    assert response.status_code == 200, f"/openapi.json answered {response.status_code}"
    paths = set(response.json()["paths"])
    assert "/api/search" in paths, f"/openapi.json lists {sorted(paths)}"


def test_bad_input_answers_422_not_500(service: ServiceContainer) -> None:
    response = service.get("/api/search", title="   ")
    assert response.status_code == 422, response.text


def test_search_answers_end_to_end_through_the_stand_in(
    upstream_service: ServiceContainer,
) -> None:
    response = upstream_service.get("/api/search", title="sunflowers")
    assert response.status_code == 200, response.text
    assert response.json().endswith("DT1502_cropped2.jpg"), response.text
