"""Schema fuzzing: schemathesis against the running container's own OpenAPI schema.

Each operation of ``/openapi.json`` gets a bounded number of valid and of invalid generated
requests (derandomized, so every run sends the same ones); schemathesis' checks then demand
that no answer is a server error and that every status, content type and body is documented.
"""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from container_tests.containers import ServiceContainer
from container_tests.expectations import Expectations
from container_tests.facts import FACTS


def test_api_conforms_to_its_schema(
    upstream_service: ServiceContainer, expect: Expectations
) -> None:
    schema = schemathesis.openapi.from_url(upstream_service.url("/openapi.json"))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI schema lists no operations"
    counts: dict[str, object] = {"operations": len(operations), "examples": 0, "statuses": {}}
    FACTS["fuzz"] = counts
    statuses: dict[str, int] = counts["statuses"]  # type: ignore[assignment]

    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)  # valid and invalid requests
    for operation, mode in itertools.product(operations, modes):
        if mode is GenerationMode.NEGATIVE and not any(operation.iter_parameters()):
            continue  # nothing to get wrong in a request without parameters

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=expect.fuzz_examples,
            derandomize=True,  # the same examples on every run: a fixed seed
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(timeout=10)
            counts["examples"] += 1  # type: ignore[operator]
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        check()
