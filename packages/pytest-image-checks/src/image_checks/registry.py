"""A released image as its registry serves it, and what cosign verifies of it.

The release record (``--release FILE``, JSON) says what was released: the reference pushed
(``registry/repository:tag``), the digest it was pushed as, and, relative to the record's
folder, the cosign public key, the SBOM and the provenance predicate that were attached. The
registry is read over its HTTP API (plain HTTP on loopback, HTTPS elsewhere); signatures and
attestations are verified by the ``cosign`` program (``COSIGN`` names another), offline: with a
key, without a transparency log.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

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


class ReleaseError(Exception):
    """The release record, the registry or cosign cannot be read as expected."""


class Release(BaseModel):
    """The release record: what was pushed, as what digest, and what was attached to it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    reference: str  # registry/repository:tag, as pushed
    digest: str  # sha256:..., the digest the registry gave the push
    public_key: Path  # the cosign public key, relative to the record's folder
    sbom: Path  # the SBOM attached as an attestation
    provenance: Path  # the provenance predicate attached as an attestation
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


def load_release(path: Path) -> Release:
    """Reads and validates the release record at ``path``.

    Raises:
        ReleaseError: the file is missing, not JSON, or lacks a key (each named).
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        release = Release.model_validate({**data, "folder": path.resolve().parent})
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
class Manifest:
    """A manifest (or index) as the registry serves it."""

    digest: str  # the registry's Docker-Content-Digest
    media_type: str
    body: dict[str, Any]


def _base_url(registry: str) -> str:
    host = registry.rsplit(":", 1)[0]
    loopback = host in ("localhost", "[::1]") or host.startswith("127.")
    return f"{'http' if loopback else 'https'}://{registry}/v2"


def manifest(release: Release, reference: str) -> Manifest:
    """The manifest the registry serves for ``reference`` (a tag or a digest) of the release.

    Raises:
        ReleaseError: the registry does not answer, or has no such manifest.
    """
    url = f"{_base_url(release.registry)}/{release.repository}/manifests/{reference}"
    try:
        answer = httpx.get(url, headers={"Accept": MANIFEST_TYPES}, timeout=10)
    except httpx.HTTPError as exc:
        raise ReleaseError(f"the registry {release.registry} does not answer: {exc}") from exc
    if answer.status_code != 200:
        raise ReleaseError(f"GET {url}: {answer.status_code} {answer.text[:200]}")
    return Manifest(
        digest=answer.headers.get("Docker-Content-Digest", ""),
        media_type=answer.headers.get("Content-Type", ""),
        body=answer.json(),
    )


def image_ids(release: Release, found: Manifest) -> set[str]:
    """The digests that name the image ``found`` describes, as engines name images locally.

    A manifest's own digest (the id on the containerd image store) and its config's (the id on
    the classic store); for an index, those of each image it lists.
    """
    ids = {found.digest}
    if "config" in found.body:
        ids.add(found.body["config"]["digest"])
    for entry in found.body.get("manifests", []):
        if entry.get("annotations", {}).get("vnd.docker.reference.type") == "attestation-manifest":
            continue
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


def verify_signature(program: str, release: Release, key: Path) -> list[dict[str, Any]]:
    """The signatures of the release's digest that ``key`` verifies (``cosign verify``).

    Raises:
        ReleaseError: none verifies, with cosign's own words.
    """
    run = _cosign(program, "verify", "--key", str(key), "--output", "json", release.pinned)
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
