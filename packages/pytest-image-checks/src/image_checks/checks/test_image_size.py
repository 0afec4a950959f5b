"""The image stays within the size budgets of the table: its base's, and what the build adds."""

from __future__ import annotations

import docker

from image_checks.facts import Facts
from image_checks.filesystem import ImageFilesystem
from image_checks.table import Table


def _largest(docker_client: docker.DockerClient, image: str, files: ImageFilesystem) -> str:
    """The largest layers and files of the image, for a person to act on."""
    layers = sorted(docker_client.api.history(image), key=lambda lay: lay["Size"], reverse=True)
    members = sorted(files.files(), key=lambda member: member.size, reverse=True)
    return (
        "Largest layers:\n"
        + "\n".join(
            f"  {lay['Size'] / 1e6:8.1f} MB  {lay['CreatedBy'][:100]}" for lay in layers[:5]
        )
        + "\nLargest files:\n"
        + "\n".join(f"  {m.size / 1e6:8.1f} MB  /{m.name}" for m in members[:10])
    )


def test_image_size_is_within_the_budget_of_its_base(
    docker_client: docker.DockerClient,
    image: str,
    image_attrs: dict,
    image_files: ImageFilesystem,
    base_image,
    image_table: Table,
    facts: Facts,
) -> None:
    size_mb = image_attrs["Size"] / 1e6
    budget = base_image.budget_mb
    where = f"the {base_image.table_name} base" if base_image.table_name else "max-image-mb"
    facts.figure(
        "image_mb", round(size_mb, 1), "MB", budget=budget,
        detail=f"uncompressed, on {base_image.name} ({where})",
    )  # fmt: skip
    assert size_mb <= budget, (
        f"image is {size_mb:.1f} MB, over the {budget:.0f} MB budget of {where} "
        f"([tool.image-checks]).\n"
        f"{_largest(docker_client, image, image_files)}"
    )


def test_bytes_added_on_top_of_the_base_are_within_budget(
    docker_client: docker.DockerClient,
    image: str,
    image_attrs: dict,
    image_files: ImageFilesystem,
    base_image,
    image_table: Table,
    facts: Facts,
) -> None:
    added_mb = (image_attrs["Size"] - base_image.size) / 1e6
    facts.figure(
        "added_mb", round(added_mb, 1), "MB", budget=image_table.max_added_mb,
        detail=f"on top of {base_image.name} ({base_image.size / 1e6:.1f} MB)",
    )  # fmt: skip
    assert added_mb <= image_table.max_added_mb, (
        f"the build adds {added_mb:.1f} MB on top of {base_image.name}, over the "
        f"{image_table.max_added_mb:.0f} MB budget ([tool.image-checks] max-added-mb).\n"
        f"{_largest(docker_client, image, image_files)}"
    )
