"""What is inside the image, said in a CycloneDX SBOM, checked against the image itself, and
the licence policy of its Python dependencies (``python.allowed-licences`` in the table)."""

from __future__ import annotations

import base64
import csv
import fnmatch
import hashlib
import io
import json
import posixpath
import shutil
import subprocess
from pathlib import Path
from typing import Any

import docker
import pytest
from license_expression import get_spdx_licensing

from image_checks import lockfile, sbom
from image_checks.containers import ServiceContainer
from image_checks.facts import Facts
from image_checks.filesystem import ImageFilesystem
from image_checks.plugin import known_digests
from image_checks.table import Table

python = pytest.mark.image_checks_section("python")


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
        lock = image_table.lock_path()
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
            "image_id": docker_client.images.get(image).id,  # what it was checked against
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
    bom: dict[str, Any], python_probe: ServiceContainer, image_table: Table
) -> None:
    in_image = python_probe.distributions()
    listed = {(sbom.canonical(c["name"]), c["version"]) for c in _python(bom)}
    assert in_image, f"the image's venv (/{image_table.venv_path()}) holds no distribution"
    assert listed == in_image, (
        f"the SBOM and the image disagree: only in the image {sorted(in_image - listed)}, "
        f"only in the SBOM {sorted(listed - in_image)}"
    )


@python
@pytest.mark.image_checks_section("build")
def test_image_holds_exactly_the_locked_runtime_distributions(
    python_probe: ServiceContainer, image_table: Table
) -> None:
    # The lock's runtime closure with its markers evaluated on the image's own interpreter.
    assert image_table.python is not None
    lock = image_table.lock_path()
    if not lock.is_file():
        pytest.fail(f"the build context has no {image_table.python.lock}", pytrace=False)
    code, output = python_probe.python(lockfile.ENVIRONMENT_PROBE)
    assert code == 0, f"python does not run in the image (exit {code}): {output[-500:]}"
    locked = {
        (sbom.canonical(n), v) for n, v in lockfile.runtime_distributions(lock, json.loads(output))
    }
    in_image = python_probe.distributions()
    assert locked, f"{lock.name} locks no runtime distribution: nothing to compare"
    assert in_image == locked, (
        f"the image does not hold what {lock.name} locks for it: not installed "
        f"{sorted(locked - in_image)}, not locked {sorted(in_image - locked)} (a dependency "
        "changed in pyproject.toml without relocking, or a build that installs by hand)"
    )


@python
@pytest.mark.image_checks_section("build")
def test_lock_file_agrees_with_the_project(image_table: Table) -> None:
    # `uv sync --frozen` builds from uv.lock without reading pyproject.toml: a dependency added
    # there without relocking would silently not be installed.
    lock = image_table.lock_path()
    if lock.name != "uv.lock":
        pytest.fail(f"python.lock is {lock.name}: only a uv.lock can be checked", pytrace=False)
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH: it is needed to check uv.lock", pytrace=False)
    result = subprocess.run(
        [uv, "lock", "--check", "--offline", "--directory", str(lock.parent)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, (
        f"{lock} does not agree with its pyproject.toml (`uv lock --check` exit "
        f"{result.returncode}); run `uv lock`:\n{result.stderr[-1500:]}"
    )


@python
def test_installed_files_are_those_their_wheels_recorded(
    image_files: ImageFilesystem, image_table: Table, facts: Facts
) -> None:
    # Every file a distribution's RECORD lists with a hash, hashed again in the image: a file
    # patched after installation differs. python.changed-after-install names the exceptions.
    assert image_table.python is not None
    exempt = image_table.python.changed_after_install
    records = [
        path for path in image_files.members
        if path.startswith(image_table.venv_path() + "/")
        and fnmatch.fnmatch(path, "*/site-packages/*.dist-info/RECORD")
    ]  # fmt: skip
    assert records, f"no RECORD of any distribution under /{image_table.venv_path()}"
    checked, problems = 0, []
    for record in records:
        site = record.rsplit("/", 2)[0]
        for row in csv.reader(io.StringIO(image_files.read(record).decode())):
            if len(row) < 2 or not row[1]:
                continue  # RECORD itself, bytecode compiled after installation
            path = posixpath.normpath(posixpath.join(site, row[0]))
            if path not in image_files.members:
                problems.append(f"/{path}: listed in /{record}, not in the image")
                continue
            if any(fnmatch.fnmatch(posixpath.relpath(path, site), g) for g in exempt):
                continue
            algorithm, _, expected = row[1].partition("=")
            found = base64.urlsafe_b64encode(
                hashlib.new(algorithm, image_files.read(path)).digest()
            ).rstrip(b"=")
            checked += 1
            if found.decode() != expected:
                problems.append(f"/{path}: {algorithm} differs from /{record}")
    facts.figure("record_files_verified", checked, detail=f"hashed against {len(records)} RECORDs")
    assert checked, "no installed file was hashed against its RECORD: nothing was checked"
    assert not problems, (
        f"{len(problems)} installed files are not what their wheels installed (patched after "
        "installation? list deliberate changes in python.changed-after-install):\n"
        + "\n".join(problems[:20])
    )


@python
@pytest.mark.image_checks_section("build")
def test_sbom_pins_each_distribution_to_the_locked_wheel(bom: dict[str, Any]) -> None:
    assert _python(bom), "the SBOM lists no Python distribution: nothing to pin"
    unpinned = [c["name"] for c in _python(bom) if not c.get("hashes")]
    assert not unpinned, f"no SHA-256 from the lock for {unpinned}"


def test_sbom_names_the_base_and_its_debian_packages(
    bom: dict[str, Any],
    docker_client: docker.DockerClient,
    image_attrs: dict,
    image_files: ImageFilesystem,
    image_table: Table,
) -> None:
    # The base the SBOM names, looked up in the engine: it must be that digest, and its layers
    # must be the first of the image's (what the image is built on, whatever its labels say).
    (base,) = [c for c in bom["components"] if c.get("bom-ref") == "base-image"]
    said = f"the SBOM's base is {base['name']} {base['version']}"
    try:
        named = docker_client.images.get(base["name"]).attrs
    except (docker.errors.ImageNotFound, docker.errors.APIError) as exc:
        pytest.fail(f"{said}, which is not an image of the local engine: {exc}", pytrace=False)
    digests = known_digests(named)
    assert base["version"] in digests, f"{said}, but {base['name']} is {sorted(digests)}"
    base_layers = named["RootFS"]["Layers"]
    assert image_attrs["RootFS"]["Layers"][: len(base_layers)] == base_layers, (
        f"{said}, but the image's first layers are not that base's: it is built on another"
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
