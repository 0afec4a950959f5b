"""The release record: read, validated with each problem named, and what it names."""

import json
from pathlib import Path

import pytest

from image_checks.facts import Facts
from image_checks.registry import (
    Manifest,
    ReleaseError,
    image_ids,
    images_listed,
    load_index,
    load_platform_release,
    load_release,
    platform_name,
    release_check_names,
)

DIGEST = "sha256:" + "1" * 64
CONFIG = "sha256:" + "2" * 64


def _record(tmp_path: Path, **changes: object) -> Path:
    data = {
        "reference": "127.0.0.1:5055/team/app:1.0",
        "digest": DIGEST,
        "public_key": "cosign.pub",
        "sbom": "sbom.cdx.json",
        "provenance": "provenance.json",
        **changes,
    }
    path = tmp_path / "release.json"
    path.write_text(json.dumps({k: v for k, v in data.items() if v is not None}))
    return path


def test_a_record_names_registry_repository_tag_and_files(tmp_path: Path) -> None:
    release = load_release(_record(tmp_path))
    assert (release.registry, release.repository, release.tag) == (
        "127.0.0.1:5055", "team/app", "1.0",
    )  # fmt: skip
    assert release.pinned == f"127.0.0.1:5055/team/app@{DIGEST}"
    assert release.path(release.public_key) == tmp_path / "cosign.pub"


def test_a_record_without_a_key_names_it(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="not valid: digest: Field required"):
        load_release(_record(tmp_path, digest=None))


def test_a_reference_without_registry_or_a_digest_not_sha256_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="must be registry/repository:tag"):
        load_release(_record(tmp_path, reference="app:1.0"))
    with pytest.raises(ReleaseError, match="must be registry/repository:tag"):
        load_release(_record(tmp_path, digest="md5:abc"))


def test_a_missing_record_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(ReleaseError, match="cannot read the release record"):
        load_release(tmp_path / "nothing.json")


def test_a_manifest_names_its_own_digest_and_its_config(tmp_path: Path) -> None:
    release = load_release(_record(tmp_path))
    found = Manifest(DIGEST, "application/vnd.docker.distribution.manifest.v2+json",
                     {"config": {"digest": CONFIG}, "layers": []})  # fmt: skip
    assert image_ids(release, found) == {DIGEST, CONFIG}


def test_an_index_record_names_each_platforms_folder(tmp_path: Path) -> None:
    path = tmp_path / "release-index.json"
    path.write_text(json.dumps({
        "reference": "127.0.0.1:5055/team/app:1.0", "digest": DIGEST, "public_key": "cosign.pub",
        "platforms": {"linux/amd64": "../amd64", "linux/arm64": "../arm64"},
    }))  # fmt: skip
    index = load_index(path)
    assert index.path(index.platforms["linux/arm64"]) == tmp_path / "../arm64"
    path.write_text(json.dumps({"reference": index.reference, "digest": DIGEST}))
    with pytest.raises(ReleaseError, match=r"public_key: Field required.*platforms: Field"):
        load_index(path)


def test_an_index_lists_its_images_without_attestations() -> None:
    attestation = {"vnd.docker.reference.type": "attestation-manifest"}
    body = {"manifests": [
        {"digest": DIGEST, "platform": {"os": "linux", "architecture": "amd64"}},
        {"digest": CONFIG, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "sha256:" + "3" * 64, "annotations": attestation},
    ]}  # fmt: skip
    listed = images_listed(Manifest(DIGEST, "application/vnd.oci.image.index.v1+json", body))
    assert [platform_name(e["platform"]) for e in listed] == ["linux/amd64", "linux/arm64/v8"]


def test_a_platform_release_counts_only_the_checks_that_verified(tmp_path: Path) -> None:
    _record(tmp_path)
    facts = Facts()
    facts.detail("sbom", {"image_id": CONFIG})
    facts.write(tmp_path, "image-facts.json")
    names = sorted(release_check_names())
    assert len(names) == 6
    assert "test_reports_hold_no_private_key" in names
    release = Facts()
    release.details["release"] = [{"check": n, "verdict": "verified"} for n in names[1:]]
    release.write(tmp_path, "release-facts.json")
    found = load_platform_release("linux/amd64", tmp_path)
    assert (found.tested, found.release.digest) == (CONFIG, DIGEST)
    assert found.unverified() == names[:1]
