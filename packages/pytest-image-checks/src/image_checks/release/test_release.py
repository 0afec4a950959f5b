"""The release in its registry: the tag names the signed digest, the digest is the image the
checks tested, its signature and its two attestations (SBOM, provenance) verify with the
release's public key and say what the checks found."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import docker

from image_checks.plugin import BASE_LABEL, DIGEST_LABEL, known_digests
from image_checks.registry import (
    COSIGN_TYPES,
    Release,
    image_ids,
    manifest,
    verified_statements,
    verify_signature,
)
from image_checks.release import or_fail
from image_checks.table import Table

REVISION_LABEL = "org.opencontainers.image.revision"
PRIVATE_KEY_MARK = b"PRIVATE KEY-----"


def _subjects(statement: dict[str, Any]) -> set[str]:
    return {f"sha256:{s['digest'].get('sha256', '')}" for s in statement.get("subject", [])}


def test_release_tag_names_the_signed_digest(release: Release, verdict) -> None:
    found = or_fail(manifest, release, release.tag)
    ok = found.digest == release.digest
    assert verdict(ok, f"{release.reference} -> {found.digest}"), (
        f"{release.reference} names {found.digest}, not the digest that was tested and signed "
        f"({release.digest}): another image was pushed under the tag after the release"
    )


def test_released_digest_is_the_image_the_checks_tested(
    release: Release, image_attrs: dict, checked_sbom: dict[str, Any], verdict
) -> None:
    found = or_fail(manifest, release, release.digest)
    ids = or_fail(image_ids, release, found)
    tested = image_attrs["Id"]
    ok = tested in ids and checked_sbom.get("image_id") == tested
    assert verdict(ok, f"{release.digest} holds image {tested[:19]}"), (
        f"{release.pinned} is the image {sorted(ids)}, the image under test is {tested}, and "
        f"the checks' SBOM was made of {checked_sbom.get('image_id')}: the release is not the "
        "image the checks verified"
    )


def test_release_signature_verifies_with_the_release_key(
    release: Release, cosign: str, verdict
) -> None:
    key = release.path(release.public_key)
    signatures = or_fail(verify_signature, cosign, release, key)
    signed = {s["critical"]["image"]["docker-manifest-digest"] for s in signatures}
    ok = signed == {release.digest}
    assert verdict(ok, f"{len(signatures)} signatures verified with {key.name}"), (
        f"cosign verified signatures of {sorted(signed)}, not of {release.digest}"
    )


def test_sbom_attestation_is_the_sbom_checked_against_the_image(
    release: Release, cosign: str, checked_sbom: dict[str, Any], verdict
) -> None:
    key = release.path(release.public_key)
    statements = or_fail(verified_statements, cosign, release, key, "cyclonedx")
    path = release.path(release.sbom)
    text = path.read_bytes()
    checked = json.loads(text)
    same_file = hashlib.sha256(text).hexdigest() == checked_sbom["sha256"]
    wrong = [
        s for s in statements
        if s["predicateType"] != COSIGN_TYPES["cyclonedx"] or s["predicate"] != checked
        or _subjects(s) != {release.digest}
    ]  # fmt: skip
    ok = same_file and bool(statements) and not wrong
    assert verdict(ok, f"{len(statements)} CycloneDX attestations, {len(wrong)} differ"), (
        f"{len(wrong)} of {len(statements)} SBOM attestations of {release.digest} are not the "
        f"SBOM the checks wrote ({path}), or name another subject; that file "
        f"{'is' if same_file else 'is NOT'} the one the checks hashed "
        f"({checked_sbom['sha256'][:12]}): the SBOM was changed after it was checked or signed"
    )


def _commit(table: Table, labels: dict[str, str]) -> tuple[str, str]:
    """The commit of the checkout the image was built from, and where it was read."""
    if table.configured("build"):
        context = table.context_path()
        run = subprocess.run(
            ["git", "-C", str(context), "rev-parse", "HEAD"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if run.returncode == 0:
            return run.stdout.strip(), f"HEAD of {context}"
    return labels.get(REVISION_LABEL, "").removesuffix("-dirty"), f"the {REVISION_LABEL} label"


def _provenance_problems(
    statement: dict[str, Any],
    release: Release,
    commit: str,
    labels: dict[str, str],
    client: docker.DockerClient,
    table: Table,
) -> list[str]:
    problems = []
    if statement["predicateType"] != COSIGN_TYPES["slsaprovenance1"]:
        problems.append(f"predicate type {statement['predicateType']}")
    if _subjects(statement) != {release.digest}:
        problems.append(f"subject {sorted(_subjects(statement))}, not {release.digest}")
    dependencies = statement["predicate"]["buildDefinition"].get("resolvedDependencies", [])
    commits = {d["digest"]["gitCommit"] for d in dependencies if "gitCommit" in d.get("digest", {})}
    if commits != {commit}:
        problems.append(f"commits {sorted(commits)}, not this checkout's {commit}")
    images = {
        d["uri"].removeprefix("docker-image://"): f"sha256:{d['digest'].get('sha256')}"
        for d in dependencies
        if d.get("uri", "").startswith("docker-image://")
    }
    base, base_digest = labels.get(BASE_LABEL, ""), labels.get(DIGEST_LABEL, "")
    if images.get(base) != base_digest:
        problems.append(f"the runtime base {base} as {images.get(base)}, labelled {base_digest}")
    for name, digest in images.items():
        try:
            local = known_digests(client.images.get(name).attrs)
        except docker.errors.ImageNotFound:
            continue  # a base of the build that this engine does not hold: nothing to compare
        if digest not in local:
            problems.append(f"the base {name} as {digest}; this engine's is {sorted(local)}")
    if table.python and table.configured("build"):
        lock = table.lock_path()
        expected = hashlib.sha256(lock.read_bytes()).hexdigest()
        hashes = {
            d["digest"].get("sha256") for d in dependencies if d.get("uri", "").endswith(lock.name)
        }
        if hashes != {expected}:
            problems.append(f"{lock.name} as {sorted(hashes)}, the checkout's is {expected[:12]}")
    return problems


def test_provenance_names_this_checkout_and_its_bases(
    release: Release,
    cosign: str,
    image_attrs: dict,
    image_table: Table,
    docker_client: docker.DockerClient,
    verdict,
) -> None:
    key = release.path(release.public_key)
    statements = or_fail(verified_statements, cosign, release, key, "slsaprovenance1")
    labels = image_attrs["Config"].get("Labels") or {}
    commit, where = _commit(image_table, labels)
    assert commit, f"the image has no {REVISION_LABEL} label and no checkout names a commit"
    problems = [
        f"attestation {n}: {problem}"
        for n, statement in enumerate(statements, 1)
        for problem in _provenance_problems(
            statement, release, commit, labels, docker_client, image_table
        )
    ]
    if labels.get(REVISION_LABEL, "").removesuffix("-dirty") != commit:
        problems.append(f"the image's {REVISION_LABEL} is {labels.get(REVISION_LABEL)}")
    ok = bool(statements) and not problems
    assert verdict(ok, f"{len(statements)} provenance attestations; commit {commit[:12]}"), (
        f"the provenance of {release.digest} does not match {where} ({commit}) and the image's "
        "bases:\n" + "\n".join(problems)
    )


def test_reports_hold_no_private_key(image_reports: Path, verdict) -> None:
    leaked = [
        str(path) for path in sorted(image_reports.rglob("*"))
        if path.is_file() and PRIVATE_KEY_MARK in path.read_bytes()
    ]  # fmt: skip
    assert verdict(not leaked, f"{len(leaked)} files with a private key"), (
        f"a private key is in the reports, which are published with the release: {leaked}"
    )
