"""What is inside the image, said in a CycloneDX SBOM, checked against the image itself, and
the licence policy of its Python dependencies (``python.allowed-licences`` in the table)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import docker
import pytest
from license_expression import get_spdx_licensing

from image_checks import sbom
from image_checks.containers import ServiceContainer
from image_checks.facts import Facts
from image_checks.filesystem import ImageFilesystem
from image_checks.table import Table

python = pytest.mark.image_checks_section("python")

# Lists (canonical name, version) of every distribution the venv's interpreter can see.
INSTALLED = (
    "import importlib.metadata as m, json, re; "
    "print(json.dumps(sorted({(re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(), d.version) "
    "for d in m.distributions()})))"
)


@pytest.fixture(scope="session")
def bom(
    docker_client: docker.DockerClient,
    image: str,
    image_files: ImageFilesystem,
    image_table: Table,
    image_reports: Path,
    facts: Facts,
) -> dict[str, Any]:
    """The image's SBOM, written to sbom.cdx.json in the reports (validated CycloneDX 1.5),
    from the session's one export of the image; wheels pinned by the build context's lock."""
    venv = f"/{image_table.venv_path()}" if image_table.python else None
    lock = None
    if image_table.python and image_table.configured("build"):
        lock = image_table.context_path() / image_table.python.lock
    bom = sbom.build_bom(
        docker_client, image, venv, lock if lock and lock.is_file() else None,
        extract=image_files.extract,
    )  # fmt: skip
    text = sbom.to_json(bom)
    path = image_reports / "sbom.cdx.json"
    path.write_text(text, encoding="utf-8")
    document = json.loads(text)
    components = document["components"]
    facts.detail(
        "sbom",
        {
            "path": str(path),
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "spec": document["specVersion"],
            "python": sum(c.get("purl", "").startswith("pkg:pypi/") for c in components),
            "debian": sum(c.get("purl", "").startswith("pkg:deb/") for c in components),
        },
    )
    return document


def _python(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in document["components"] if c.get("purl", "").startswith("pkg:pypi/")]


@python
def test_sbom_lists_exactly_the_distributions_in_the_image(
    bom: dict[str, Any], service: ServiceContainer
) -> None:
    code, output = service.python(INSTALLED)
    assert code == 0, f"python does not run in the image (exit {code}): {output[-500:]}"
    in_image = {tuple(pair) for pair in json.loads(output)}
    listed = {(sbom.canonical(c["name"]), c["version"]) for c in _python(bom)}
    assert listed == in_image, (
        f"the SBOM and the image disagree: only in the image {sorted(in_image - listed)}, "
        f"only in the SBOM {sorted(listed - in_image)}"
    )


@python
@pytest.mark.image_checks_section("build")
def test_sbom_pins_each_distribution_to_the_locked_wheel(bom: dict[str, Any]) -> None:
    assert _python(bom), "the SBOM lists no Python distribution: nothing to pin"
    unpinned = [c["name"] for c in _python(bom) if not c.get("hashes")]
    assert not unpinned, f"no SHA-256 from the lock for {unpinned}"


def test_sbom_names_the_base_and_its_debian_packages(
    bom: dict[str, Any], base_image, image_files: ImageFilesystem, image_table: Table
) -> None:
    (base,) = [c for c in bom["components"] if c.get("bom-ref") == "base-image"]
    said = f"the SBOM's base is {base['name']} {base['version']}"
    assert base["name"] == base_image.name, f"{said}, but the image is built on {base_image.name}"
    assert base["version"] in base_image.known_digests, (
        f"{said}, but {base_image.name} is {sorted(base_image.known_digests)}"
    )
    debian = [c["name"] for c in bom["components"] if c.get("purl", "").startswith("pkg:deb/")]
    if any(p.startswith("var/lib/dpkg/status") for p in image_files.members):
        assert debian, "the image has a Debian package database, the SBOM lists no package"
    if image_table.python and debian:
        stdlib = f"libpython{image_table.python.version}-stdlib"
        assert stdlib in debian, (
            f"the SBOM lists {len(debian)} Debian packages, not the base's Python ({stdlib}): "
            f"{debian[:10]}"
        )


@python
def test_every_python_dependency_has_an_allowed_licence(
    bom: dict[str, Any], image_table: Table
) -> None:
    assert image_table.python is not None
    assert _python(bom), "the SBOM lists no Python distribution: no licence was checked"
    licensing = get_spdx_licensing()
    problems = []
    for component in _python(bom):
        expressions = [
            entry.get("expression") or entry["license"].get("id") or entry["license"].get("name")
            for entry in component.get("licenses", [])
        ]
        if not expressions:
            problems.append(f"{component['name']} {component['version']}: licence unknown")
            continue
        symbols = {str(s) for e in expressions for s in licensing.license_symbols(e)}
        if disallowed := sorted(symbols - image_table.python.allowed_licences):
            problems.append(f"{component['name']} {component['version']}: {disallowed}")
    assert not problems, (
        "runtime dependencies with an unknown licence or one outside allowed-licences "
        "([tool.image-checks.python]):\n" + "\n".join(problems)
    )
