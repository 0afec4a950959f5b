"""The image stays within the size budgets of the table: its base's, and what the build adds.

Sizes are the bytes of the files of every layer, uncompressed, read from ``docker save``: the
same on every engine and image store (``docker image inspect``'s ``Size`` is the compressed
content on the containerd image store, and the unpacked size on the classic one).
"""

from __future__ import annotations

from image_checks.facts import Facts
from image_checks.filesystem import ImageFilesystem, LayerReport
from image_checks.plugin import Platform
from image_checks.table import Table


def _largest(layer_report: LayerReport, files: ImageFilesystem) -> str:
    """The largest layers and files of the image, for a person to act on."""
    layers = sorted(layer_report.layers, key=lambda lay: lay.size, reverse=True)
    members = sorted(files.files(), key=lambda member: member.size, reverse=True)
    return (
        "Largest layers:\n"
        + "\n".join(
            f"  {lay.size / 1e6:8.1f} MB  {lay.created_by[:100] or '(base image)'}"
            for lay in layers[:5]
        )
        + "\nLargest files:\n"
        + "\n".join(f"  {m.size / 1e6:8.1f} MB  /{m.name}" for m in members[:10])
    )


def test_image_size_is_within_the_budget_of_its_base(
    layer_report: LayerReport,
    image_files: ImageFilesystem,
    base_image,
    image_platform: Platform,
    facts: Facts,
) -> None:
    # A property of the artefact: the budget is the table's for the image's platform, unscaled.
    size_mb = sum(layer.size for layer in layer_report.layers) / 1e6
    budget = base_image.budget_mb
    where = f"the {base_image.table_name} base" if base_image.table_name else "max-image-mb"
    facts.figure(
        "image_mb", round(size_mb, 1), "MB", budget=budget,
        detail=f"uncompressed, {image_platform.image}, on {base_image.name} ({where})",
    )  # fmt: skip
    assert size_mb <= budget, (
        f"image is {size_mb:.1f} MB, over the {budget:.0f} MB budget of {where} "
        f"([tool.image-checks]).\n"
        f"{_largest(layer_report, image_files)}"
    )


def test_bytes_added_on_top_of_the_base_are_within_budget(
    layer_report: LayerReport,
    image_files: ImageFilesystem,
    base_image,
    image_table: Table,
    facts: Facts,
) -> None:
    # The base's layers are the image's first (test_image_is_built_on_the_base_its_labels_name).
    base_mb, added_mb = (
        sum(layer.size for layer in part) / 1e6
        for part in (
            layer_report.layers[: len(base_image.layers)],
            layer_report.layers[len(base_image.layers) :],
        )
    )
    facts.figure(
        "added_mb", round(added_mb, 1), "MB", budget=image_table.max_added_mb,
        detail=f"on top of {base_image.name} ({base_mb:.1f} MB)",
    )  # fmt: skip
    assert added_mb <= image_table.max_added_mb, (
        f"the build adds {added_mb:.1f} MB on top of {base_image.name}, over the "
        f"{image_table.max_added_mb:.0f} MB budget ([tool.image-checks] max-added-mb).\n"
        f"{_largest(layer_report, image_files)}"
    )
