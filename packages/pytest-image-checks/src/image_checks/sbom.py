"""A CycloneDX SBOM of an image, read from the image itself, written with the CycloneDX library.

It lists every Python distribution in the image's venv (name, version, purl, licence and, when
a ``uv.lock`` is given, the URL and SHA-256 it pins for the very wheel installed, matched by its
``WHEEL`` tags), every Debian package of its base (from the package database the base carries:
``/var/lib/dpkg/status`` or distroless' ``status.d``), and the base image itself (name and
digest from the image's labels). Licences come from each distribution's metadata:
``License-Expression``, else a ``License`` field that is an SPDX expression, else its licence
classifiers (mapped to SPDX by the CycloneDX tool's own table).

Usage: ``python -m image_checks.sbom IMAGE [--venv /srv/venv] [--lock uv.lock] [--out FILE]``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib.metadata
import io
import re
import tarfile
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import ExternalReference, ExternalReferenceType, HashAlgorithm, HashType, XsUri
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot5
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from cyclonedx_py._internal.utils.license_trove_classifier import license_trove2spdx
from debian.deb822 import Deb822
from license_expression import ExpressionError, get_spdx_licensing
from packageurl import PackageURL
from packaging.tags import Tag, parse_tag
from packaging.utils import parse_wheel_filename

SPEC = SchemaVersion.V1_5
SPDX = get_spdx_licensing()


def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class PythonDistribution:
    """One distribution installed in the image's venv."""

    name: str
    version: str
    licence: str | None  # an SPDX expression, or None when the metadata gives none
    tags: frozenset[Tag]  # the wheel tags it was installed from (its WHEEL file)


@dataclass(frozen=True)
class DebianPackage:
    """One package of the base's package database."""

    name: str
    version: str
    architecture: str


def spdx_licence(metadata: importlib.metadata.PackageMetadata) -> str | None:
    """The distribution's licence as an SPDX expression, or None if it cannot be known."""
    candidates = [metadata.get("License-Expression"), metadata.get("License")]
    for candidate in candidates:
        if candidate and len(candidate) < 100:
            try:
                expression = SPDX.parse(candidate, validate=True, strict=True)
            except ExpressionError:
                continue
            if expression is not None:
                return str(expression)
    mapped = sorted(
        {spdx for c in metadata.get_all("Classifier") or [] if (spdx := license_trove2spdx(c))}
    )
    return " OR ".join(mapped) if mapped else None


def wheel_tags(distribution: importlib.metadata.Distribution) -> frozenset[Tag]:
    """The tags of the wheel a distribution was installed from (empty if it has no WHEEL)."""
    wheel = distribution.read_text("WHEEL") or ""
    return frozenset(
        tag
        for line in wheel.splitlines()
        if line.startswith("Tag:")
        for tag in parse_tag(line.removeprefix("Tag:").strip())
    )


# Extracts a path of the image (``/venv/lib``) under a folder, as ``docker cp`` lays it
# out (``lib/...``); False when the image has no such path.
Extract = Callable[[str, Path], bool]


def _archive(client: docker.DockerClient, image: str, path: str, into: Path) -> bool:
    """Extracts ``path`` of ``image`` under ``into``; False when the image has no such path."""
    container = client.containers.create(image)
    try:
        stream, _ = container.get_archive(path)
        data = b"".join(stream)  # read before the container goes
    except docker.errors.NotFound:
        return False
    finally:
        container.remove(force=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(into, filter="data")
    return True


def python_distributions(extract: Extract, venv: str) -> list[PythonDistribution]:
    """The distributions of every ``site-packages`` under the image's ``venv`` (absolute)."""
    with tempfile.TemporaryDirectory() as tmp:
        extract(f"{venv.rstrip('/')}/lib", Path(tmp))
        paths = [str(p) for p in Path(tmp).glob("lib/python*/site-packages")]
        return sorted(
            (
                PythonDistribution(
                    d.metadata["Name"], d.version, spdx_licence(d.metadata), wheel_tags(d)
                )
                for d in importlib.metadata.distributions(path=paths)
            ),
            key=lambda d: canonical(d.name),
        )


def debian_packages(extract: Extract) -> list[DebianPackage]:
    """The installed packages of the image's Debian package database (both layouts)."""
    with tempfile.TemporaryDirectory() as tmp:
        if not extract("/var/lib/dpkg", Path(tmp)):
            return []
        files = [
            Path(tmp) / "dpkg" / "status",
            *sorted((Path(tmp) / "dpkg" / "status.d").glob("*")),
        ]
        packages = {}
        for file in files:
            if not file.is_file() or file.name.endswith(".md5sums"):
                continue
            with file.open(encoding="utf-8") as handle:
                for paragraph in Deb822.iter_paragraphs(handle):
                    if "Package" in paragraph and "installed" in paragraph.get(
                        "Status", "installed"
                    ):
                        package = DebianPackage(
                            paragraph["Package"], paragraph["Version"], paragraph["Architecture"]
                        )
                        packages[package.name] = package
        return sorted(packages.values(), key=lambda p: p.name)


def locked_wheels(lock: Path) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(canonical name, version) -> the (url, sha256) of every wheel ``uv.lock`` pins for it."""
    pinned: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for package in tomllib.loads(lock.read_text(encoding="utf-8"))["package"]:
        pinned[(canonical(package["name"]), package.get("version", ""))] = [
            (w["url"], w["hash"].removeprefix("sha256:")) for w in package.get("wheels", [])
        ]
    return pinned


def installed_wheel(dist: PythonDistribution, wheels: list[tuple[str, str]]) -> tuple[str, str]:
    """The locked wheel (url, sha256) whose tags match the installed distribution's.

    Raises:
        LookupError: ``uv.lock`` pins no wheel of this version with these tags.
    """
    for url, digest in wheels:
        if parse_wheel_filename(url.rsplit("/", 1)[-1])[3] & dist.tags:
            return url, digest
    raise LookupError(f"uv.lock pins no wheel of {dist.name} {dist.version} for {set(dist.tags)}")


def build_bom(
    client: docker.DockerClient,
    image: str,
    venv: str | None,
    lock: Path | None = None,
    extract: Extract | None = None,
) -> Bom:
    """The SBOM of ``image``: its Python distributions, its base's Debian packages, its base.

    The Python distributions are those of ``venv`` (absolute), when one is given.

    ``extract`` reads the image's files (the suite passes its export of the image, read once
    for every check); by default they are copied out of a container of it.
    """
    extract = extract or functools.partial(_archive, client, image)
    labels = client.images.get(image).labels or {}
    licences = LicenseFactory()
    pinned = locked_wheels(lock) if lock else None
    bom = Bom()
    bom.metadata.component = Component(
        type=ComponentType.CONTAINER,
        name=labels.get("org.opencontainers.image.title", image),
        version=labels.get("org.opencontainers.image.version"),
        bom_ref="image",
        properties=[],
    )
    for dist in python_distributions(extract, venv) if venv else []:
        hashes, references, (url, digest) = [], [], ("", "")
        if pinned is not None:
            # Not locked: listed without a hash, for the checks to name.
            with contextlib.suppress(LookupError):
                url, digest = installed_wheel(
                    dist, pinned.get((canonical(dist.name), dist.version), [])
                )
        if digest:
            hashes = [HashType(alg=HashAlgorithm.SHA_256, content=digest)]
            references = [
                ExternalReference(
                    type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url), hashes=hashes
                )
            ]
        bom.components.add(
            Component(
                name=dist.name,
                version=dist.version,
                bom_ref=f"pypi:{canonical(dist.name)}@{dist.version}",
                purl=PackageURL(type="pypi", name=canonical(dist.name), version=dist.version),
                licenses=[licences.make_from_string(dist.licence)] if dist.licence else [],
                hashes=hashes,
                external_references=references,
            )
        )
    for package in debian_packages(extract):
        bom.components.add(
            Component(
                type=ComponentType.LIBRARY,
                name=package.name,
                version=package.version,
                bom_ref=f"deb:{package.name}@{package.version}",
                purl=PackageURL(
                    type="deb",
                    namespace="debian",
                    name=package.name,
                    version=package.version,
                    qualifiers={"arch": package.architecture},
                ),
            )
        )
    base_name = labels.get("org.opencontainers.image.base.name", "unknown")
    bom.components.add(
        Component(
            type=ComponentType.CONTAINER,
            name=base_name,
            version=labels.get("org.opencontainers.image.base.digest", "unknown"),
            bom_ref="base-image",
        )
    )
    bom.register_dependency(bom.metadata.component, bom.components)
    return bom


def to_json(bom: Bom) -> str:
    """The SBOM as CycloneDX 1.5 JSON, validated against the CycloneDX schema.

    Raises:
        ValueError: the output is not valid CycloneDX 1.5.
    """
    text = JsonV1Dot5(bom).output_as_string(indent=2)
    if error := JsonStrictValidator(SPEC).validate_str(text):
        raise ValueError(f"the SBOM is not valid CycloneDX {SPEC.to_version()}: {error}")
    return text


def main(argv: list[str] | None = None) -> int:
    """Writes the SBOM of the image named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m image_checks.sbom", description=__doc__)
    parser.add_argument("image")
    parser.add_argument("--venv", help="the image's venv, absolute (default: no Python)")
    parser.add_argument("--lock", type=Path, help="the uv.lock the venv was synced from")
    parser.add_argument("--out", type=Path, default=Path("reports/sbom.cdx.json"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    bom = build_bom(docker.from_env(), args.image, args.venv, args.lock)
    args.out.write_text(to_json(bom), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
