"""The error mapping in the shipped image, over a real network: the fault matrix.

A fault must be answered within the app's timeout plus a margin: ``timeout-margin-s`` of the
table, plus the slowest of a few round trips through the app and the stand-in measured in the
same run (``round_trip_s``), so a CPU shared with a rebuild and a browser widens the bound by
what it costs, not by a guess. The lower bounds (a timeout not cut short) need no margin.
"""

from __future__ import annotations

import ipaddress
import time

import docker
import httpx
import pytest
from testcontainers.core.network import Network

from container_tests.service.upstream import STAND_IN_ALIAS, upstream_env
from container_tests.settings import Service
from image_checks.containers import ServiceContainer, running_service
from image_checks.facts import Facts
from image_checks.table import Table

SEARCH = "GET /public/collection/v1/search"  # the upstream call a search makes first
# Search term (the stand-in's behaviour) -> the status and the exact body the app must answer
# (docs/service.md): the image URL, or {"detail": ...} naming the call, never more.
MATRIX = [
    ("sunflowers", 200, "https://images.metmuseum.org/CRDImages/ep/original/DT1502_cropped2.jpg"),
    ("nothing", 404, {"detail": "No results found."}),  # no hits: objectIDs null
    ("ghost", 404, {"detail": "No results found. The first hit, object 999999, is gone."}),
    ("boom", 502, {"detail": f"Upstream API answered 500 on {SEARCH}."}),
    ("garbage", 502, {"detail": f"Upstream API answered a non-JSON body on {SEARCH}."}),
    ("shape", 502, {"detail": f"Upstream API answered unexpected JSON on {SEARCH}."}),
    ("slow", 504, {"detail": f"Upstream API timed out on {SEARCH}."}),  # past UPSTREAM_TIMEOUT
    (
        "reset",
        502,
        {"detail": f"Upstream API unreachable on {SEARCH}: ReadError."},
    ),  # an RST as httpx reads
]


def _record(facts: Facts, case: str, status: int, seconds: float) -> None:
    facts.append("fault_matrix", {"case": case, "status": status, "seconds": round(seconds, 3)})


CALIBRATION_TRIPS = 5


@pytest.fixture(scope="module")
def round_trip_s(upstream_service: ServiceContainer, facts: Facts) -> float:
    """The slowest of a few searches the stand-in answers at once, through the app (seconds)."""
    trips = []
    for _ in range(CALIBRATION_TRIPS):
        started = time.perf_counter()
        upstream_service.get("/api/search", title="nothing")
        trips.append(time.perf_counter() - started)
    facts.detail("fault_round_trips_s", [round(t, 3) for t in trips])
    return max(trips)


def _check_answer(response: httpx.Response, wanted: int, body: object, seconds: float,
                  service_expect: Service, case: str, round_trip: float) -> None:  # fmt: skip
    bound = service_expect.upstream_timeout_s + service_expect.timeout_margin_s + round_trip
    assert response.status_code == wanted, (
        f"{case}: answered {response.status_code}, expected {wanted}: {response.text[:500]}"
    )
    assert response.headers.get("content-type") == "application/json", (
        f"{case}: answered {response.headers.get('content-type')}, not application/json"
    )
    assert response.json() == body, f"{case}: answered {response.text[:500]}, expected {body!r}"
    assert seconds <= bound, (
        f"{case}: answered after {seconds:.2f} s, beyond UPSTREAM_TIMEOUT "
        f"{service_expect.upstream_timeout_s} s + {service_expect.timeout_margin_s} s margin + "
        f"{round_trip:.2f} s (the slowest round trip measured in this run)"
    )


def _search_with_upstream_at(url: str, case: str, status: int, body: object, image: str,
                             network: Network, service_expect: Service, facts: Facts,
                             table: Table, round_trip: float) -> float:  # fmt: skip
    """Runs the app with its upstream at ``url``, searches once, checks the answer (``status``
    and ``body``, within the timeout) and returns the seconds it took."""
    env = upstream_env(service_expect, url=url)
    with running_service(image, table, env=env, network=network) as (app, _):
        started = time.perf_counter()
        response = app.get("/api/search", title="sunflowers")
        seconds = time.perf_counter() - started
    _record(facts, case, response.status_code, seconds)
    _check_answer(response, status, body, seconds, service_expect, case, round_trip)
    return seconds


@pytest.mark.parametrize(("case", "status", "body"), MATRIX, ids=[case for case, *_ in MATRIX])
def test_fault_matrix(
    upstream_service: ServiceContainer,
    service_expect: Service,
    facts: Facts,
    case: str,
    status: int,
    body: object,
    round_trip_s: float,
) -> None:
    started = time.perf_counter()
    response = upstream_service.get("/api/search", title=case)
    seconds = time.perf_counter() - started
    _record(facts, case, response.status_code, seconds)
    _check_answer(response, status, body, seconds, service_expect, case, round_trip_s)
    if case == "slow":  # the read timeout decides here, not the shorter connect timeout
        assert seconds >= service_expect.upstream_timeout_s, (
            f"slow: answered 504 after {seconds:.2f} s, before UPSTREAM_TIMEOUT "
            f"{service_expect.upstream_timeout_s} s: is the connect timeout applied to reads?"
        )


def test_unanswered_connection_answers_504_within_the_connect_timeout(
    image: str,
    network: Network,
    service_expect: Service,
    facts: Facts,
    docker_client: docker.DockerClient,
    image_table: Table,
    round_trip_s: float,
) -> None:
    # An address of the private network that no container holds: the connection attempt gets
    # no answer at all (no ARP reply, no SYN-ACK, no reset), so only the connect timeout ends it.
    subnet = docker_client.networks.get(network.name).attrs["IPAM"]["Config"][0]["Subnet"]
    silent = list(ipaddress.ip_network(subnet).hosts())[-1]
    seconds = _search_with_upstream_at(
        f"http://{silent}:8080",
        "unanswered",
        504,
        {"detail": f"Upstream API timed out on {SEARCH}."},
        image,
        network,
        service_expect,
        facts,
        image_table,
        round_trip_s,
    )
    assert seconds < service_expect.upstream_timeout_s, (
        f"unanswered: answered after {seconds:.2f} s; UPSTREAM_CONNECT_TIMEOUT "
        f"{service_expect.upstream_connect_timeout_s} s should have ended the attempt well "
        f"before UPSTREAM_TIMEOUT {service_expect.upstream_timeout_s} s: is the read timeout "
        "applied to connects?"
    )


def test_unreachable_upstream_answers_502(
    image: str,
    network: Network,
    service_expect: Service,
    facts: Facts,
    image_table: Table,
    round_trip_s: float,
) -> None:
    closed_port = f"http://{STAND_IN_ALIAS}:9"  # the stand-in's host, where nothing listens
    body = {"detail": f"Upstream API unreachable on {SEARCH}: ConnectError."}
    _search_with_upstream_at(
        closed_port, "unreachable", 502, body, image, network, service_expect, facts,
        image_table, round_trip_s,
    )  # fmt: skip
