"""A released image as its registry serves it, and what cosign verifies of it.

The release record (``--release FILE``, JSON) says what was released: the reference pushed
(``registry/repository:tag``), the digest it was pushed as, and, relative to the record's
folder, the cosign public key, the SBOM and the provenance predicate that were attached. The
index record (``--release-index FILE``) says the same of a multi-platform index, and where each
platform's own release and its checks' facts are. The registry is read over its HTTP API
(plain HTTP on loopback, HTTPS elsewhere); signatures and attestations are verified by the
``cosign`` program (``COSIGN`` names another), offline: with a key, without a transparency log.
"""

from __future__ import annotations

import ast
import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from image_checks.facts import FACTS_FILE, RELEASE_FACTS_FILE, read_facts

RELEASE_CHECKS = Path(__file__).parent / "release" / "test_release.py"
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
COSIGN_TYPES = {
    "cyclonedx": "https://cyclonedx.org/bom",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
}


P = TypeVar("P", bound="Published")


class ReleaseError(Exception):
    """The release record, the registry or cosign cannot be read as expected."""


class Published(BaseModel):
    """What was pushed to a registry and signed: a reference, its digest, the public key."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reference: str  # registry/repository:tag, as pushed
    digest: str  # sha256:..., the digest the registry gave the push
    public_key: Path  # the cosign public key, relative to the record's folder
    folder: Path = Path()

    @property
    def registry(self) -> str:
        """The registry's host:port."""
        return self.reference.split("/", 1)[0]

    @property
    def repository(self) -> str:
        """The repository in the registry, without tag or digest."""
        rest = self.reference.split("/", 1)[1]
        return rest.split("@", 1)[0].rsplit(":", 1)[0] if ":" in rest else rest

    @property
    def tag(self) -> str:
        """The tag that was pushed."""
        rest = self.reference.split("/", 1)[1].split("@", 1)[0]
        return rest.rsplit(":", 1)[1] if ":" in rest else "latest"

    @property
    def pinned(self) -> str:
        """``registry/repository@digest``: what cosign signs and verifies."""
        return f"{self.registry}/{self.repository}@{self.digest}"

    def path(self, name: Path) -> Path:
        """A file the record names, relative to its folder."""
        return name if name.is_absolute() else self.folder / name


class Release(Published):
    """The release record of one image: what was pushed, and what was attached to it."""

    sbom: Path  # the SBOM attached as an attestation
    provenance: Path  # the provenance predicate attached as an attestation


class ReleaseIndex(Published):
    """The release record of a multi-platform index: the index, and each platform's release.

    ``platforms`` maps each platform (``linux/arm64``) to the folder of its gate's reports
    (relative to the record's folder): its ``release.json``, and the facts of the image checks
    and of the release checks that verified that platform's image.
    """

    platforms: dict[str, Path]


def load_release(path: Path) -> Release:
    """Reads and validates the release record of one image at ``path``.

    Raises:
        ReleaseError: the file is missing, not JSON, or lacks a key (each named).
    """
    return _load(path, Release)


def load_index(path: Path) -> ReleaseIndex:
    """Reads and validates the release record of a multi-platform index at ``path``.

    Raises:
        ReleaseError: the file is missing, not JSON, or lacks a key (each named).
    """
    return _load(path, ReleaseIndex)


def _load(path: Path, kind: type[P]) -> P:
    """Reads the record at ``path`` as ``kind``.

    Raises:
        ReleaseError: the file is missing, not JSON, or lacks a key (each named).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        release = kind.model_validate({**data, "folder": path.resolve().parent})
    except (OSError, json.JSONDecodeError) as exc:
        raise ReleaseError(f"cannot read the release record {path}: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ReleaseError(f"the release record {path} is not valid: {problems}") from None
    if "/" not in release.reference or not release.digest.startswith("sha256:"):
        raise ReleaseError(
            f"the release record {path}: reference {release.reference!r} must be "
            f"registry/repository:tag and digest {release.digest!r} sha256:..."
        )
    return release


@dataclass(frozen=True)
class PlatformRelease:
    """One platform's release, as its gate left it: the record and what its checks found."""

    platform: str
    release: Release
    tested: str  # the id of the image the image checks verified on this platform
    verdicts: dict[str, str]  # release check -> verified / FAILED

    def unverified(self) -> list[str]:
        """The release checks of one image that did not verify this release (or did not run)."""
        return sorted(c for c in release_check_names() if self.verdicts.get(c) != "verified")


def release_check_names() -> set[str]:
    """The names of the release checks of one image (the test functions of test_release.py)."""
    tree = ast.parse(RELEASE_CHECKS.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def load_platform_release(platform: str, folder: Path) -> PlatformRelease:
    """The release of ``platform`` that a gate left in ``folder``.

    Raises:
        ReleaseError: the folder lacks the release record or the image checks' facts.
    """
    release = load_release(folder / "release.json")
    sbom = read_facts(folder / FACTS_FILE)["details"].get("sbom") or {}
    if not sbom.get("image_id"):
        raise ReleaseError(
            f"{folder / FACTS_FILE} records no image the checks verified: run that platform's "
            "gate (its image checks) with the same reports folder"
        )
    checks = read_facts(folder / RELEASE_FACTS_FILE)["details"].get("release", [])
    verdicts = {check["check"]: check["verdict"] for check in checks}
    return PlatformRelease(platform, release, sbom["image_id"], verdicts)


@dataclass(frozen=True)
class Manifest:
    """A manifest (or index) as the registry serves it."""

    digest: str  # the registry's Docker-Content-Digest
    media_type: str
    body: dict[str, Any]


def _base_url(registry: str) -> str:
    host = registry.rsplit(":", 1)[0]
    loopback = host in ("localhost", "[::1]") or host.startswith("127.")
    return f"{'http' if loopback else 'https'}://{registry}/v2"


def _get(release: Published, path: str, accept: str) -> httpx.Response:
    url = f"{_base_url(release.registry)}/{release.repository}/{path}"
    try:
        answer = httpx.get(url, headers={"Accept": accept}, timeout=10, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise ReleaseError(f"the registry {release.registry} does not answer: {exc}") from exc
    if answer.status_code != 200:
        raise ReleaseError(f"GET {url}: {answer.status_code} {answer.text[:200]}")
    return answer


def manifest(release: Published, reference: str) -> Manifest:
    """The manifest the registry serves for ``reference`` (a tag or a digest) of the release.

    Raises:
        ReleaseError: the registry does not answer, or has no such manifest.
    """
    answer = _get(release, f"manifests/{reference}", MANIFEST_TYPES)
    return Manifest(
        digest=answer.headers.get("Docker-Content-Digest", ""),
        media_type=answer.headers.get("Content-Type", "").split(";")[0].strip(),
        body=answer.json(),
    )


def config(release: Published, found: Manifest) -> dict[str, Any]:
    """The image configuration an image manifest names (its os, architecture, labels...).

    Raises:
        ReleaseError: the manifest names no configuration, or the registry has none.
    """
    if "config" not in found.body:
        raise ReleaseError(f"{found.digest} is a {found.media_type or 'manifest'} without config")
    return _get(release, f"blobs/{found.body['config']['digest']}", "*/*").json()


def images_listed(found: Manifest) -> list[dict[str, Any]]:
    """The image descriptors an index lists (attestation manifests left out), in its order."""
    return [
        entry
        for entry in found.body.get("manifests", [])
        if entry.get("annotations", {}).get("vnd.docker.reference.type") != "attestation-manifest"
    ]


def platform_name(platform: dict[str, Any]) -> str:
    """``os/architecture[/variant]`` of an index entry's or an image configuration's platform."""
    parts = [platform.get("os", "?"), platform.get("architecture", "?"), platform.get("variant")]
    return "/".join(part for part in parts if part)


def image_ids(release: Published, found: Manifest) -> set[str]:
    """The digests that name the image ``found`` describes, as engines name images locally.

    A manifest's own digest (the id on the containerd image store) and its config's (the id on
    the classic store); for an index, those of each image it lists.
    """
    ids = {found.digest}
    if "config" in found.body:
        ids.add(found.body["config"]["digest"])
    for entry in images_listed(found):
        ids |= image_ids(release, manifest(release, entry["digest"]))
    return ids


def cosign_program(name: str | None) -> str:
    """The cosign program: ``name`` (``COSIGN``) or ``cosign`` on PATH.

    Raises:
        ReleaseError: it is not there.
    """
    found = shutil.which(name or "cosign")
    if found is None:
        raise ReleaseError(
            f"{name or 'cosign'} is not on PATH: install cosign 2 (or name it with COSIGN)"
        )
    return found


def _cosign(program: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [program, *args, "--insecure-ignore-tlog=true", "--allow-http-registry"],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def verify_signature(
    program: str, release: Published, key: Path, digest: str | None = None
) -> list[dict[str, Any]]:
    """The signatures ``key`` verifies of the release's digest (or ``digest``): cosign verify.

    Raises:
        ReleaseError: none verifies, with cosign's own words.
    """
    pinned = f"{release.registry}/{release.repository}@{digest}" if digest else release.pinned
    run = _cosign(program, "verify", "--key", str(key), "--output", "json", pinned)
    if run.returncode != 0:
        raise ReleaseError(f"cosign verify failed (exit {run.returncode}): {run.stderr[-800:]}")
    return json.loads(run.stdout)


def verified_statements(
    program: str, release: Release, key: Path, kind: str
) -> list[dict[str, Any]]:
    """The in-toto statements of type ``kind`` attached to the digest that ``key`` verifies.

    Raises:
        ReleaseError: none verifies (none attached, or signed with another key), with
            cosign's own words.
    """
    run = _cosign(program, "verify-attestation", "--key", str(key), "--type", kind, release.pinned)
    if run.returncode != 0:
        raise ReleaseError(
            f"cosign verify-attestation --type {kind} failed (exit {run.returncode}): "
            f"{run.stderr[-800:]}"
        )
    statements = []
    for line in run.stdout.splitlines():
        if line.strip():
            envelope = json.loads(line)
            statements.append(json.loads(base64.b64decode(envelope["payload"])))
    return statements
