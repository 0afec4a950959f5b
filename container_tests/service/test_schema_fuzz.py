"""Schema fuzzing: schemathesis against the running container's own OpenAPI schema.

Each operation of ``/openapi.json`` gets a bounded number of valid and of invalid generated
requests (derandomized, so every run sends the same ones), plus the schema's own examples;
schemathesis' checks then demand that no answer is a server error and that every status,
content type and body is documented. The run fails when an operation got no request at all, or
none of its requests was answered with a 2xx (then the fuzzing never got past validation).
"""

from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from container_tests.settings import Service
from image_checks.containers import ServiceContainer
from image_checks.facts import Facts


def test_api_conforms_to_its_schema(
    upstream_service: ServiceContainer, service_expect: Service, facts: Facts
) -> None:
    schema = schemathesis.openapi.from_url(upstream_service.url("/openapi.json"))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the OpenAPI schema lists no operations"
    counts: dict[str, object] = {"operations": len(operations), "examples": 0, "statuses": {}}
    statuses: dict[str, int] = counts["statuses"]  # type: ignore[assignment]

    per_operation: dict[str, int] = dict.fromkeys((op.label for op in operations), 0)
    succeeded: set[str] = set()
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)  # valid and invalid requests
    strategies = [
        operation.as_strategy(generation_mode=mode)
        for operation, mode in itertools.product(operations, modes)
        # nothing to get wrong in a request without parameters
        if mode is GenerationMode.POSITIVE or any(operation.iter_parameters())
    ]
    # The schema's own examples too: the documented request that should succeed.
    strategies += [s for op in operations for s in op.get_strategies_from_examples()]
    for strategy in strategies:

        @given(case=strategy)
        @settings(
            max_examples=service_expect.fuzz_examples,
            derandomize=True,  # the same examples on every run: a fixed seed
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call_and_validate(timeout=10)
            counts["examples"] += 1  # type: ignore[operator]
            per_operation[case.operation.label] += 1
            if response.status_code < 300:
                succeeded.add(case.operation.label)
            statuses[str(response.status_code)] = statuses.get(str(response.status_code), 0) + 1

        check()

    facts.detail("fuzz", counts)  # recorded as it stands now (records are copied)
    silent = [label for label, count in per_operation.items() if count == 0]
    assert not silent, f"no generated request ran against {silent}: the fuzzing checked nothing"
    unsuccessful = sorted(set(per_operation) - succeeded)
    assert not unsuccessful, (
        f"no request to {unsuccessful} got a 2xx answer, not even the schema's example "
        f"(statuses {dict(sorted(statuses.items()))}): the fuzzing never reached success"
    )
