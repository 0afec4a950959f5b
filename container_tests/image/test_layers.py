"""Layers: count, bytes wasted across them (as dive computes), and build-cache reuse."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import docker

from container_tests.builds import ColdRebuild
from container_tests.expectations import ROOT, Expectations
from container_tests.facts import Facts
from container_tests.filesystem import LayerReport

# What deployment/build-image.sh needs to build from a copy of the checkout.
BUILD_INPUTS = ("Dockerfile", ".dockerignore", "pyproject.toml", "uv.lock", "app", "deployment")


def test_image_is_built_on_the_base_its_labels_name(image_attrs: dict, base_image) -> None:
    layers = tuple(image_attrs["RootFS"]["Layers"])
    assert layers[: len(base_image.layers)] == base_image.layers, (
        f"the image's first layers are not those of {base_image.name} "
        "(org.opencontainers.image.base.name): the label names a base the image was not built on"
    )


def test_layers_added_on_top_of_the_base_are_bounded(
    layer_report: LayerReport, base_image, expect: Expectations, facts: Facts
) -> None:
    added = layer_report.layers[len(base_image.layers) :]
    facts.figure(
        "added_layers", len(added), budget=expect.max_added_layers,
        detail=f"layers on top of the {len(base_image.layers)} of the base",
    )  # fmt: skip
    listing = "\n".join(f"  {layer.size / 1e6:8.2f} MB  {layer.created_by[:90]}" for layer in added)
    assert len(added) <= expect.max_added_layers, (
        f"the build adds {len(added)} layers on top of {base_image.name}, over the "
        f"{expect.max_added_layers} allowed ([tool.container-tests] max-added-layers); merge "
        f"steps in the runtime stage:\n{listing}"
    )


def test_wasted_bytes_are_within_budget(
    layer_report: LayerReport, expect: Expectations, facts: Facts
) -> None:
    wasted_mb = layer_report.wasted_bytes / 1e6
    facts.figure(
        "wasted_mb", round(wasted_mb, 3), "MB", budget=expect.max_wasted_mb,
        detail="overwritten or deleted by later layers",
    )  # fmt: skip
    worst = sorted(layer_report.wasted_files, key=lambda item: item[1], reverse=True)[:10]
    assert wasted_mb <= expect.max_wasted_mb, (
        f"{wasted_mb:.2f} MB are overwritten or deleted by later layers (budget "
        f"{expect.max_wasted_mb} MB); largest: {[(f'/{p}', s) for p, s in worst]}"
    )


def test_changing_only_app_code_reuses_the_dependency_layer(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    image: str,
    base_image,
    cold_rebuild: ColdRebuild,
) -> None:
    cold_rebuild.wait()  # one build at a time: a build beside another has reused a layer wrongly
    for name in BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / name)
    with (tmp_path / "app" / "routes.py").open("a", encoding="utf-8") as routes:
        routes.write("\n# touched by test_changing_only_app_code_reuses_the_dependency_layer\n")
    tag = f"modern-ml-microservices-app:cache-check-{uuid.uuid4().hex[:8]}"
    build = subprocess.run(
        [tmp_path / "deployment" / "build-image.sh", tag],
        env={**os.environ, "BASE_FLAVOUR": base_image.flavour, "BUILDKIT_PROGRESS": "plain"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, f"rebuild failed:\n{build.stderr[-3000:]}"
    try:
        before = docker_client.images.get(image).attrs["RootFS"]["Layers"]
        after = docker_client.images.get(tag).attrs["RootFS"]["Layers"]
    finally:
        docker_client.images.remove(tag, force=True)
    lines = build.stderr.splitlines()
    # BuildKit's plain progress: "#9 [builder 4/7] RUN ... uv sync ..." then "#9 CACHED".
    sync_ids = {line.split()[0] for line in lines if "uv sync" in line and line.startswith("#")}
    assert sync_ids, "no uv sync step in the build output"
    assert all(f"{step} CACHED" in lines for step in sync_ids), (
        "the dependency step (uv sync) ran again after a change under app/ only; keep it "
        "before COPY app and bind-mount only pyproject.toml and uv.lock"
    )
    assert len(before) == len(after), "an app-only edit changed the number of layers"
    changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert len(changed) == 1, (
        f"an app-only edit changed layers {changed} of {len(before)}; only the app layer may"
    )


def test_a_rebuild_from_an_empty_cache_gives_the_same_layers(
    docker_client: docker.DockerClient, image_attrs: dict, cold_rebuild: ColdRebuild, facts: Facts
) -> None:
    # Built again from this checkout without any BuildKit cache, on the same bases (started in
    # the background when the layer began, image/conftest.py): every layer must be identical
    # (same diff IDs). The image id also holds the build's own time in its config and history
    # on engines whose BuildKit ignores SOURCE_DATE_EPOCH (before Docker 23), so it is compared
    # only where the engine honours it.
    code, output = cold_rebuild.wait()
    assert code == 0, f"the rebuild failed:\n{output}"
    rebuilt = docker_client.images.get(cold_rebuild.tag).attrs
    ours, theirs = image_attrs["RootFS"]["Layers"], rebuilt["RootFS"]["Layers"]
    facts.figure("reproducible_layers", ours == theirs, detail="a rebuild without cache")
    assert theirs == ours, (
        f"a rebuild of this checkout from an empty cache gives other layers: ours "
        f"{[d[7:19] for d in ours]}, rebuilt {[d[7:19] for d in theirs]}; something in the "
        "build depends on when it ran"
    )
    engine = int(docker_client.version()["Version"].split(".")[0])
    facts.figure(
        "reproducible_image_id", rebuilt["Id"] == image_attrs["Id"] if engine >= 23 else None,
        detail="None: this engine writes the build time into the config",
    )  # fmt: skip
    if engine >= 23:
        assert rebuilt["Id"] == image_attrs["Id"], "same layers, but another image id"
