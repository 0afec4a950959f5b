"""The provenance names what the build record says it was given, and the checkout's commit."""

import pytest

from deployment.build_record import pairs
from deployment.provenance import Checkout, predicate

CHECKOUT = Checkout("https://git.test/app.git", "f" * 40, False, "d" * 64)
RECORD = {
    "tags": ["app:1"],
    "image_id": "sha256:" + "a" * 64,
    "dockerfile": "Dockerfile",
    "target": None,
    "no_cache": False,
    "bases": {
        "RUNTIME_IMAGE": {"name": "runtime:1", "digest": "sha256:" + "b" * 64},
        "UV_IMAGE": {"name": "uv:1", "digest": "sha256:" + "c" * 64},
    },
    "build_args": {"RUNTIME_IMAGE": "runtime:1", "UV_IMAGE": "uv:1", "VERSION": "1"},
    "builder": "classic",
    "docker_client": "20.10",
    "engine": "20.10",
    "buildx": None,
    "started_on": "2026-12-06T00:00:00Z",
    "finished_on": "2026-12-06T00:00:01Z",
}


def test_provenance_names_the_commit_each_base_and_the_lock() -> None:
    found = predicate(RECORD, CHECKOUT)
    dependencies = found["buildDefinition"]["resolvedDependencies"]
    assert {"uri": "git+https://git.test/app.git", "digest": {"gitCommit": "f" * 40}} in (
        dependencies
    )
    images = {d["uri"]: d["digest"]["sha256"] for d in dependencies if "docker-image" in d["uri"]}
    assert images == {"docker-image://runtime:1": "b" * 64, "docker-image://uv:1": "c" * 64}
    assert {"uri": "file:uv.lock", "digest": {"sha256": "d" * 64}} in dependencies
    assert found["buildDefinition"]["externalParameters"]["buildArgs"]["VERSION"] == "1"
    versions = found["runDetails"]["builder"]["version"]
    assert versions == {"docker-client": "20.10", "engine": "20.10"}
    assert found["runDetails"]["byproducts"] == [
        {"name": "image-id", "digest": {"sha256": "a" * 64}}
    ]


def test_a_record_without_bases_is_refused_with_a_message() -> None:
    with pytest.raises(SystemExit, match="names no base image"):
        predicate({**RECORD, "bases": {}}, CHECKOUT)


def test_a_build_argument_without_a_value_is_named() -> None:
    assert pairs(["A=1", "B="], "--arg") == {"A": "1", "B": ""}
    with pytest.raises(SystemExit, match="--arg 'VERSION' is not KEY=VALUE"):
        pairs(["VERSION"], "--arg")
