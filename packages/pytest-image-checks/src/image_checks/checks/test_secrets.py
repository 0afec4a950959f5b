"""No secret in the image: files, keys, metadata, history or build secrets (as dockle checks)."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import docker
import pytest

from image_checks import engine
from image_checks.filesystem import LayerReport
from image_checks.table import Table

SECRET_NAME = re.compile(
    r"(?i)(passw(or)?d|secret|token|api[_-]?key|private[_-]?key|credential|access[_-]?key)"
)
SECRET_VALUE = re.compile(
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}"
    r"|xox[baprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{20}"
)


def test_no_secret_in_any_file_of_any_layer(layer_report: LayerReport) -> None:
    # Every layer, not the final filesystem: a file added in one layer and deleted in a later
    # one still ships in the image's tarballs.
    found = [
        f"/{path}: {', '.join(kinds)} (layer {index}: {layer.created_by[:60]})"
        for index, layer in enumerate(layer_report.layers)
        for path, kinds in layer.secrets.items()
    ]
    assert not found, "secrets are stored in the image's layers:\n" + "\n".join(found[:20])


def test_no_secret_looking_env_or_label(image_attrs: dict) -> None:
    config = image_attrs["Config"]
    env = dict(item.split("=", 1) for item in config.get("Env") or [])
    labels = config.get("Labels") or {}
    suspicious = sorted(
        f"{kind} {key}"
        for kind, pairs in (("ENV", env), ("LABEL", labels))
        for key, value in pairs.items()
        if SECRET_NAME.search(key) or SECRET_VALUE.search(value)
    )
    assert not suspicious, f"secret-looking image metadata: {suspicious}; pass secrets at run time"


def test_history_shows_no_secret(docker_client: docker.DockerClient, image: str) -> None:
    steps = [step.get("CreatedBy", "") for step in docker_client.api.history(image)]
    leaks = [step[:160] for step in steps if SECRET_VALUE.search(step)]
    build_args = [
        step[:160]
        for step in steps
        if re.search(r"\|\d+ .*\b\w*(PASSWORD|SECRET|TOKEN|API_KEY)\w*=", step)
    ]
    assert not leaks, f"docker history shows secret values: {leaks}"
    assert not build_args, f"build ARGs that look like secrets are baked into history: {build_args}"


@engine.needs_buildkit
@pytest.mark.image_checks_section("build")
def test_build_secret_content_is_in_no_layer(
    layer_report: LayerReport, base_image, image_table: Table
) -> None:
    # The build passes build.secret-file as a build secret; no layer the build adds may hold
    # a copy, under any name (the base's layers may ship the same public file themselves).
    assert image_table.build is not None
    if not image_table.build.secret_file:
        pytest.fail("the build section names no secret-file to look for", pytrace=False)
    found = [
        Path(os.path.expandvars(c)) for c in image_table.build.secret_file
        if Path(os.path.expandvars(c)).is_file()
    ]  # fmt: skip
    assert found, (
        f"none of the build secret's files {list(image_table.build.secret_file)} exists, so "
        "there is nothing to look for"
    )
    bundle = found[0]
    digest = hashlib.sha256(bundle.read_bytes()).hexdigest()
    added = layer_report.layers[len(base_image.layers) :]
    copies = [
        f"/{path} ({layer.created_by[:60]})"
        for layer in added
        for path, file_digest in layer.digests.items()
        if file_digest == digest
    ]
    assert not copies, (
        f"the file passed as a build secret ({bundle}) was stored in a layer: {copies}"
    )
