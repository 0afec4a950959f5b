"""The multi-platform index in its registry: the tag names the signed index, the index lists
each released platform once, each entry is the image verified on that platform (its own release
checks passed), each entry's platform is its image's, and the index key verifies the index and
every image in it."""

from __future__ import annotations

import pytest

from image_checks.registry import (
    INDEX_TYPES,
    Manifest,
    PlatformRelease,
    ReleaseError,
    ReleaseIndex,
    config,
    image_ids,
    images_listed,
    load_platform_release,
    manifest,
    platform_name,
    verify_signature,
)
from image_checks.release import or_fail


@pytest.fixture(scope="session")
def platform_releases(release_index: ReleaseIndex) -> dict[str, PlatformRelease]:
    """Each platform's release that the index record names, by platform."""
    if not release_index.platforms:
        pytest.fail("the index record names no platform", pytrace=False)
    found = {}
    for platform, folder in release_index.platforms.items():
        try:
            found[platform] = load_platform_release(platform, release_index.path(folder))
        except ReleaseError as exc:
            pytest.fail(f"{platform}: {exc}", pytrace=False)
    return found


@pytest.fixture(scope="session")
def index_manifest(release_index: ReleaseIndex) -> Manifest:
    """The index as the registry serves it by its digest."""
    found = or_fail(manifest, release_index, release_index.digest)
    if found.media_type not in INDEX_TYPES:
        pytest.fail(
            f"{release_index.pinned} is a {found.media_type}, not an image index",
            pytrace=False,
        )
    return found


def test_index_tag_names_the_signed_index(release_index: ReleaseIndex, verdict) -> None:
    found = or_fail(manifest, release_index, release_index.tag)
    ok = found.digest == release_index.digest
    assert verdict(ok, f"{release_index.reference} -> {found.digest}"), (
        f"{release_index.reference} names {found.digest} ({found.media_type}), not the index "
        f"that was signed ({release_index.digest}): something else was pushed under the tag"
    )


def test_index_lists_each_released_platform_once(
    release_index: ReleaseIndex, index_manifest: Manifest, verdict
) -> None:
    listed = [platform_name(entry.get("platform", {})) for entry in images_listed(index_manifest)]
    released = sorted(release_index.platforms)
    ok = sorted(listed) == released
    assert verdict(ok, f"{', '.join(listed)}"), (
        f"the index {release_index.digest} lists {listed}; the release is of {released}, "
        "each once: a platform is missing, doubled or foreign"
    )


def test_index_entries_are_the_images_verified_on_their_platforms(
    index_manifest: Manifest,
    release_index: ReleaseIndex,
    platform_releases: dict[str, PlatformRelease],
    verdict,
) -> None:
    by_digest = {p.release.digest: p for p in platform_releases.values()}
    problems = []
    for entry in images_listed(index_manifest):
        released = by_digest.get(entry["digest"])
        if released is None:
            problems.append(f"{entry['digest']} is no platform's release ({sorted(by_digest)})")
            continue
        ids = or_fail(image_ids, release_index, or_fail(manifest, release_index, entry["digest"]))
        if released.tested not in ids:
            problems.append(
                f"{entry['digest']} ({released.platform}) is {sorted(ids)}, the image verified "
                f"on {released.platform} is {released.tested}"
            )
        failed = released.unverified()
        if failed:
            problems.append(f"{released.platform}: release checks not verified: {failed}")
    ok = bool(images_listed(index_manifest)) and not problems
    assert verdict(ok, f"{len(images_listed(index_manifest))} images, each verified"), (
        f"the index {release_index.digest} holds images that are not the ones verified:\n"
        + "\n".join(problems)
    )


def test_index_platforms_are_the_images_own(
    index_manifest: Manifest,
    release_index: ReleaseIndex,
    platform_releases: dict[str, PlatformRelease],
    verdict,
) -> None:
    released = {p.release.digest: p.platform for p in platform_releases.values()}
    problems = []
    for entry in images_listed(index_manifest):
        said = platform_name(entry.get("platform", {}))
        image = or_fail(manifest, release_index, entry["digest"])
        own = platform_name(or_fail(config, release_index, image))
        if said != own:
            problems.append(f"{entry['digest']} is listed as {said}, its image is {own}")
        if entry["digest"] in released and released[entry["digest"]] != said:
            problems.append(
                f"{entry['digest']} is listed as {said}, it was released as the "
                f"{released[entry['digest']]} image"
            )
    ok = bool(images_listed(index_manifest)) and not problems
    assert verdict(ok, "each entry's platform is its image's"), (
        f"the index {release_index.digest} lists images under another platform: an engine "
        "pulling it would run the wrong image:\n" + "\n".join(problems)
    )


def test_index_and_its_images_verify_with_the_index_key(
    index_manifest: Manifest, release_index: ReleaseIndex, cosign: str, verdict
) -> None:
    key = release_index.path(release_index.public_key)
    digests = [release_index.digest, *(e["digest"] for e in images_listed(index_manifest))]
    problems = []
    for digest in digests:
        try:
            signatures = verify_signature(cosign, release_index, key, digest)
        except ReleaseError as exc:
            problems.append(f"{digest}: {exc}")
            continue
        signed = {s["critical"]["image"]["docker-manifest-digest"] for s in signatures}
        if signed != {digest}:
            problems.append(f"{digest}: signatures name {sorted(signed)}")
    ok = not problems
    assert verdict(ok, f"{len(digests)} digests verified with {key.name}"), (
        f"the index key ({key}) does not verify the index and each image in it (a release "
        "signed as one):\n" + "\n".join(problems)
    )
