"""Search end to end: the image's API lists it, refuses bad input with 422 and answers through
the stand-in upstream."""

from __future__ import annotations

import json

from container_tests.settings import Service
from image_checks.containers import ServiceContainer

# The shared objects PID 1 (the server) has mapped, read inside the container as its own user.
LOADED = (
    "import json; maps = open('/proc/1/maps').read().splitlines(); "
    "print(json.dumps(sorted({l.split()[-1] for l in maps if l.split()[-1].endswith('.so')})))"
)


def test_server_runs_on_the_event_loop_and_parser_it_ships(
    service: ServiceContainer, service_expect: Service
) -> None:
    code, output = service.python(LOADED)
    assert code == 0, f"cannot read the server's memory maps (exit {code}): {output[-500:]}"
    loaded = json.loads(output)
    missing = [
        name for name in service_expect.server_extensions
        if not any(f"/site-packages/{name}/" in path for path in loaded)
    ]  # fmt: skip
    assert not missing, (
        f"the server runs without {missing} loaded (uvicorn fell back to asyncio / h11?); "
        f"its compiled modules: {[p.rsplit('/site-packages/', 1)[-1] for p in loaded][:30]}"
    )


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
