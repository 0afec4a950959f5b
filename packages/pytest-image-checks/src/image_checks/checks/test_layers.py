"""Layers: count, bytes wasted across them (as dive computes), and build-cache reuse."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import docker
import pytest

from image_checks import engine
from image_checks.builds import ColdRebuild
from image_checks.facts import Facts
from image_checks.filesystem import LayerReport
from image_checks.table import Table

build = pytest.mark.image_checks_section("build")


def test_image_is_built_on_the_base_its_labels_name(image_attrs: dict, base_image) -> None:
    layers = tuple(image_attrs["RootFS"]["Layers"])
    assert layers[: len(base_image.layers)] == base_image.layers, (
        f"the image's first layers are not those of {base_image.name} "
        "(org.opencontainers.image.base.name): the label names a base the image was not built on"
    )


def test_layers_added_on_top_of_the_base_are_bounded(
    layer_report: LayerReport, base_image, image_table: Table, facts: Facts
) -> None:
    added = layer_report.layers[len(base_image.layers) :]
    facts.figure(
        "added_layers", len(added), budget=image_table.max_added_layers,
        detail=f"layers on top of the {len(base_image.layers)} of the base",
    )  # fmt: skip
    listing = "\n".join(f"  {layer.size / 1e6:8.2f} MB  {layer.created_by[:90]}" for layer in added)
    assert len(added) <= image_table.max_added_layers, (
        f"the build adds {len(added)} layers on top of {base_image.name}, over the "
        f"{image_table.max_added_layers} allowed ([tool.image-checks] max-added-layers); merge "
        f"steps in the runtime stage:\n{listing}"
    )


def test_wasted_bytes_are_within_budget(
    layer_report: LayerReport, image_table: Table, facts: Facts
) -> None:
    wasted_mb = layer_report.wasted_bytes / 1e6
    facts.figure(
        "wasted_mb", round(wasted_mb, 3), "MB", budget=image_table.max_wasted_mb,
        detail="overwritten or deleted by later layers",
    )  # fmt: skip
    worst = sorted(layer_report.wasted_files, key=lambda item: item[1], reverse=True)[:10]
    assert wasted_mb <= image_table.max_wasted_mb, (
        f"{wasted_mb:.2f} MB are overwritten or deleted by later layers (budget "
        f"{image_table.max_wasted_mb} MB); largest: {[(f'/{p}', s) for p, s in worst]}"
    )


def _copy_context(context: Path, into: Path) -> None:
    """A copy of the build context (git's files when it is a checkout: what a clone holds)."""
    shutil.copytree(
        context, into, dirs_exist_ok=True, symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", ".venv", ".git", "reports"),
    )  # fmt: skip


@engine.needs_buildkit
@build
def test_changing_only_app_code_reuses_the_dependency_layer(
    tmp_path: Path,
    docker_client: docker.DockerClient,
    image: str,
    image_table: Table,
    cold_rebuild: ColdRebuild,
) -> None:
    assert image_table.build is not None
    edit, step = image_table.build.edit, image_table.build.cached_step
    if not edit or not step:
        pytest.fail("the build section names no edit and cached-step to check the cache with",
                    pytrace=False)  # fmt: skip
    cold_rebuild.wait()  # one build at a time: a build beside another has reused a layer wrongly
    _copy_context(image_table.context_path(), tmp_path)
    with (tmp_path / edit).open("a", encoding="utf-8") as edited:
        edited.write("\n# touched by test_changing_only_app_code_reuses_the_dependency_layer\n")
    tag = f"image-checks:cache-check-{uuid.uuid4().hex[:8]}"
    result = engine.build(image_table, tag, context=tmp_path, env={"BUILDKIT_PROGRESS": "plain"})
    assert result.returncode == 0, engine.failure(result)
    try:
        before = docker_client.images.get(image).attrs["RootFS"]["Layers"]
        after = docker_client.images.get(tag).attrs["RootFS"]["Layers"]
    finally:
        docker_client.images.remove(tag, force=True)
    lines = result.stderr.splitlines()
    # BuildKit's plain progress: "#9 [builder 4/7] RUN ... uv sync ..." then "#9 CACHED".
    step_ids = {line.split()[0] for line in lines if step in line and line.startswith("#")}
    assert step_ids, f"no step running {step!r} in the build output (build.cached-step)"
    assert all(f"{s} CACHED" in lines for s in step_ids), (
        f"the step running {step!r} ran again after an edit of {edit} only; keep it before the "
        "COPY of the code and bind-mount only what it needs"
    )
    assert len(before) == len(after), "an app-only edit changed the number of layers"
    changed = [i for i, (old, new) in enumerate(zip(before, after, strict=True)) if old != new]
    assert len(changed) == 1, (
        f"an edit of {edit} changed layers {changed} of {len(before)}; only its layer may"
    )


@engine.needs_buildkit
@build
def test_a_rebuild_from_an_empty_cache_gives_the_same_layers(
    docker_client: docker.DockerClient, image_attrs: dict, cold_rebuild: ColdRebuild, facts: Facts
) -> None:
    # Built again from the build context without any BuildKit cache (started in the background
    # with the first check that used the image, checks/conftest.py): every layer must be identical
    # (same diff IDs). Where the engine honours SOURCE_DATE_EPOCH (Docker 23 and later), the
    # whole image must be: the same image id, and on the containerd image store the same
    # manifest digest. Older engines write the build's own time into the config and history,
    # so there only the layers are compared, and the report says so.
    code, output = cold_rebuild.wait()
    assert code == 0, f"the rebuild failed:\n{output}"
    rebuilt = docker_client.images.get(cold_rebuild.tag).attrs
    ours, theirs = image_attrs["RootFS"]["Layers"], rebuilt["RootFS"]["Layers"]
    whole = int(docker_client.version()["Version"].split(".")[0]) >= 23
    manifests = [(attrs.get("Descriptor") or {}).get("digest") for attrs in (image_attrs, rebuilt)]
    facts.detail("reproducibility", {
        "compared": (
            ("image id and manifest digest" if manifests[0] else "image id") + " and layer diff ids"
            if whole else "layer diff ids only (this engine writes the build time into the config)"
        ),
        "built": {"id": image_attrs["Id"], "manifest": manifests[0]},
        "rebuilt": {"id": rebuilt["Id"], "manifest": manifests[1]},
    })  # fmt: skip
    facts.figure("reproducible_layers", ours == theirs, detail="a rebuild without cache")
    facts.figure(
        "reproducible_image_id", rebuilt["Id"] == image_attrs["Id"] if whole else None,
        detail="" if whole else "this engine writes the build time into the config",
    )  # fmt: skip
    assert theirs == ours, (
        f"a rebuild of the build context from an empty cache gives other layers: ours "
        f"{[d[7:19] for d in ours]}, rebuilt {[d[7:19] for d in theirs]}; something in the "
        "build depends on when it ran"
    )
    if whole:
        assert rebuilt["Id"] == image_attrs["Id"], (
            f"same layers, but another image id ({image_attrs['Id'][:19]} built, "
            f"{rebuilt['Id'][:19]} rebuilt): the config or history holds the build's time"
        )
        assert manifests[1] == manifests[0], (
            f"same image id, but another manifest digest ({manifests[0]} built, {manifests[1]} "
            "rebuilt)"
        )
