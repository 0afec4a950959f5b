"""The release record: read, validated with each problem named, and what it names."""

import json
from pathlib import Path

import pytest

from image_checks.registry import Manifest, ReleaseError, image_ids, load_release

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
