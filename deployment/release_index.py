"""Releases the images of several platforms as one multi-platform index, signed as one.

Each argument is the reports folder of a gate that released one platform's image
(``release.json``, the image checks' facts, the release checks' facts): CI's are
``reports/docker-28`` (linux/amd64) and ``reports/arm64``. Each platform's release must be
verified (every release check green) and all must be releases of the same repository and
version. Then, on an engine with buildx (Docker 28):

1. ``docker buildx imagetools create`` pushes an OCI index of those digests (each entry's
   platform read from its image's configuration) under the version's tag (``0.1.0``), in place
   of the one platform's image that tag named;
2. ``cosign sign --recursive`` signs the index and each image in it with one key (a key pair
   made for this run, removed at exit, or ``COSIGN_KEY``);
3. ``INDEX_DIR/release-index.json`` records the index (reference, digest, public key, each
   platform's reports folder) and ``INDEX_DIR/cosign.pub`` its public key;
4. the index checks verify it from the registry (``pytest --pyargs image_checks.release
   --release-index ...``): the tag names the signed index, each platform once, each entry the
   image verified on its platform, each entry's platform its image's, the key verifies all.

Safe to run twice: the same digests make the same index; signatures are added.

Usage: ``uv run python deployment/release_index.py REPORTS_DIR REPORTS_DIR...``
Env:   ``INDEX_DIR`` (default ``reports/index``), ``COSIGN_KEY``/``COSIGN_PASSWORD``.
Exits 1 with the reason when a release is missing or unverified, the platforms repeat, the
engine has no buildx, or an index check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from image_checks.registry import (
    PlatformRelease,
    ReleaseError,
    config,
    load_platform_release,
    load_release,
    manifest,
    platform_name,
)

ROOT = Path(__file__).resolve().parents[1]
OFFLINE = ["--tlog-upload=false", "--allow-http-registry", "--yes"]


class IndexingError(Exception):
    """A release cannot be indexed; the message says why."""


def log(message: str) -> None:
    """One line of progress."""
    print(f"[release-index] {message}", file=sys.stderr, flush=True)


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    """Runs ``command`` in the checkout; its output, or IndexingError with its last lines."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = "\n".join(line for line in done.stderr.splitlines() if "PRIVATE" not in line)
        raise IndexingError(f"{' '.join(command[:4])} ... failed:\n{said[-1500:]}")
    return done.stdout


def platform_releases(folders: list[Path]) -> list[PlatformRelease]:
    """Each folder's verified release, with its platform as the registry's image says it.

    Raises:
        IndexingError: a folder has no release, an unverified one, another repository or
            version than the first, or a platform already given.
    """
    found: list[PlatformRelease] = []
    for folder in folders:
        try:
            release = load_release(folder / "release.json")
            platform = platform_name(config(release, manifest(release, release.digest)))
            released = load_platform_release(platform, folder)
        except ReleaseError as exc:
            raise IndexingError(f"{folder}: {exc}") from None
        if released.unverified():
            raise IndexingError(
                f"{folder}: the release of {platform} is not verified (release checks not "
                f"green: {released.unverified()}): run its gate again"
            )
        if found:
            other = found[0].release
            if (released.release.registry, released.release.repository) != (
                other.registry,
                other.repository,
            ):
                raise IndexingError(
                    f"{folder}: {released.release.reference} is not in {other.registry}/"
                    f"{other.repository}: one index holds one repository's images"
                )
            if version(released) != version(found[0]):
                raise IndexingError(
                    f"{folder}: version {version(released)}, the first is {version(found[0])}"
                )
            if platform in {p.platform for p in found}:
                raise IndexingError(f"{folder}: {platform} is given twice")
        found.append(released)
        log(f"{platform}: {released.release.pinned} (verified)")
    return found


def version(released: PlatformRelease) -> str:
    """The version a platform's release is tagged with (``0.1.0`` of ``0.1.0-arm64``)."""
    arch = released.platform.split("/")[1]
    return released.release.tag.removesuffix(f"-{arch}")


def docker_with_buildx() -> str:
    """The docker client of the engine in use, if it has buildx (imagetools).

    Raises:
        IndexingError: it has not.
    """
    docker = run(["deployment/docker-client.sh"]).strip()
    try:
        run([docker, "buildx", "version"])
    except IndexingError:
        raise IndexingError(
            f"{docker} has no buildx: make the index on Docker 28 "
            '(eval "$(deployment/engines.sh start docker-28)")'
        ) from None
    return docker


def make_index(docker: str, releases: list[PlatformRelease], tag: str) -> str:
    """Pushes the index of ``releases`` under ``tag``; the digest the registry gives it."""
    first = releases[0].release
    reference = f"{first.registry}/{first.repository}:{tag}"
    sources = [p.release.pinned for p in releases]
    log(f"pushing the index of {len(sources)} platforms as {reference}")
    run([docker, "buildx", "imagetools", "create", "--tag", reference, *sources])
    return manifest(first, tag).digest  # the same repository: the tag now names the index


def sign(reference: str, key: Path, env: dict[str, str]) -> None:
    """Signs the index and each image in it (``cosign sign --recursive``)."""
    log(f"signing {reference} and each image in it (cosign sign --recursive)")
    run(["cosign", "sign", "--recursive", "--key", str(key), *OFFLINE, reference], env=env)


def main() -> int:
    """Indexes, signs, records and verifies; 1 with the reason when any step fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reports", nargs="+", type=Path, help="a platform gate's reports folder")
    args = parser.parse_args()
    out = Path(os.environ.get("INDEX_DIR", ROOT / "reports" / "index"))
    if len(args.reports) < 2:
        log("error: an index of one platform is that platform's release: give two or more")
        return 1
    if shutil.which("cosign") is None:
        log("error: cosign is missing: run deployment/prerequisites.sh")
        return 1
    try:
        releases = platform_releases(args.reports)
        docker = docker_with_buildx()
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="index-key-") as keys:
            env = dict(os.environ)
            if env.get("COSIGN_KEY"):
                key = Path(env["COSIGN_KEY"])
                run(["cosign", "public-key", "--key", str(key), "--outfile",
                     str(out / "cosign.pub")], env=env)  # fmt: skip
                key_source = f"COSIGN_KEY ({key})"
            else:
                env["COSIGN_PASSWORD"] = ""
                run(["cosign", "generate-key-pair", "--output-key-prefix",
                     f"{keys}/cosign"], env=env)  # fmt: skip
                key = Path(keys) / "cosign.key"
                shutil.copy(Path(keys) / "cosign.pub", out / "cosign.pub")
                key_source = "a key pair made for this run"
            first = releases[0].release
            digest = make_index(docker, releases, version(releases[0]))
            reference = f"{first.registry}/{first.repository}:{version(releases[0])}"
            sign(f"{first.registry}/{first.repository}@{digest}", key, env)
    except IndexingError as exc:
        log(f"error: {exc}")
        return 1
    record = {
        "reference": reference,
        "digest": digest,
        "key": key_source,
        "public_key": "cosign.pub",
        "platforms": {
            p.platform: os.path.relpath(folder.resolve(), out.resolve())
            for p, folder in zip(releases, args.reports, strict=True)
        },
    }
    (out / "release-index.json").write_text(json.dumps(record, indent=2) + "\n")
    log(f"released {reference} as {digest}; record: {out / 'release-index.json'}")
    log("verifying the index from the registry (pytest --pyargs image_checks.release)")
    checks = subprocess.run(
        ["uv", "run", "--frozen", "pytest", "--pyargs", "image_checks.release", "-q",
         "-p", "no:cacheprovider", "--require-complete",
         f"--release-index={out / 'release-index.json'}", f"--image-reports={out}",
         f"--junitxml={out / 'index-checks.xml'}"],
        cwd=ROOT, check=False,
    )  # fmt: skip
    return 1 if checks.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
