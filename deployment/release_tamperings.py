"""Tampers with a release four ways and expects each to turn its named release check red.

After the gate, the image it verified is released again into scratch repositories of the same
registry (``tamper/<name>``, with a key pair made here, as ``COSIGN_KEY``), each from a copy of
the gate's reports; then one thing is changed the way an attacker or a careless pipeline would,
and the release checks (``pytest --pyargs image_checks.release``) run against it:

- ``tag``: another image is pushed under the released tag
  -> ``test_release_tag_names_the_signed_digest``;
- ``sbom``: the SBOM attestation is replaced by a changed SBOM, signed with the same key
  -> ``test_sbom_attestation_is_the_sbom_checked_against_the_image``;
- ``provenance``: the provenance attestation is replaced by one naming another commit
  -> ``test_provenance_names_this_checkout_and_its_bases``;
- ``key``: the signature is replaced by one made with another key
  -> ``test_release_signature_verifies_with_the_release_key``.

A control release, untouched, must pass every check. A tampering passes when exactly its named
check is red. Writes ``reports/release-tamperings.json``; exits 1 when any expectation fails.

With ``--index RECORD`` (a multi-platform index, ``deployment/release_index.py``), the index is
made again from the same verified digests in scratch repositories (``tamper/index-<name>``),
signed with ``cosign sign --recursive``, and the index checks run (``--release-index``):

- ``tag``: another index (of one platform) pushed under the tag after signing
  -> ``test_index_tag_names_the_signed_index``;
- ``missing``: an index of one platform, signed -> ``test_index_lists_each_released_platform_once``;
- ``foreign``: the amd64 entry replaced by another image, signed
  -> ``test_index_entries_are_the_images_verified_on_their_platforms``;
- ``swap``: each image listed under the other's platform, signed
  -> ``test_index_platforms_are_the_images_own``;
- ``key``: the index signed with another key
  -> ``test_index_and_its_images_verify_with_the_index_key``.

Writes ``index-tamperings.json`` beside the record.

Usage: ``uv run python deployment/release_tamperings.py [--image TAG] [--reports DIR]``
       ``uv run python deployment/release_tamperings.py --index reports/index/release-index.json``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx

from image_checks import junit
from image_checks.registry import (
    ReleaseIndex,
    images_listed,
    load_index,
    load_release,
    manifest,
    platform_name,
)

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("sbom.cdx.json", "image-facts.json", "build.json")
EXPECTED = {
    "control": set(),
    "tag": {"test_release_tag_names_the_signed_digest"},
    "sbom": {"test_sbom_attestation_is_the_sbom_checked_against_the_image"},
    "provenance": {"test_provenance_names_this_checkout_and_its_bases"},
    "key": {"test_release_signature_verifies_with_the_release_key"},
}
EXPECTED_INDEX = {
    "control": set(),
    "tag": {"test_index_tag_names_the_signed_index"},
    "missing": {"test_index_lists_each_released_platform_once"},
    "foreign": {"test_index_entries_are_the_images_verified_on_their_platforms"},
    "swap": {"test_index_platforms_are_the_images_own"},
    "key": {"test_index_and_its_images_verify_with_the_index_key"},
}
OFFLINE = ["--tlog-upload=false", "--allow-http-registry", "--yes"]


def log(message: str) -> None:
    """One line of progress."""
    print(f"[tamperings] {message}", flush=True)


def run(command: list[str], env: dict[str, str] | None = None) -> str:
    """Runs ``command`` in the checkout; its output, or SystemExit with its last lines."""
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"[tamperings] {' '.join(command[:3])} ... failed:\n{done.stderr[-2000:]}")
    return done.stdout


class Scratch:
    """One release of the image into a scratch repository, from a copy of the reports."""

    def __init__(self, name: str, image: str, reports: Path, work: Path, keys: Path) -> None:
        """Copies the reports into ``work/name`` and releases ``image`` as ``tamper/name``."""
        self.name, self.image, self.folder, self.keys = name, image, work / name, keys
        self.folder.mkdir()
        for file in COPIED:
            shutil.copy(reports / file, self.folder / file)
        self.env = {
            **os.environ,
            "REPORT_DIR": str(self.folder),
            "RELEASE_REPOSITORY": f"tamper/{name}",
            "COSIGN_KEY": str(keys / "a.key"),
            "COSIGN_PASSWORD": "",
        }
        run(["deployment/release.sh", image], env=self.env)
        self.release = load_release(self.folder / "release.json")

    def cosign(self, *args: str) -> None:
        """Runs cosign with the offline options on the released digest."""
        run(["cosign", *args, *OFFLINE, self.release.pinned], env=self.env)

    def forget(self) -> None:
        """Removes the scratch tags and digest the release gave the image in the engine.

        The tag the record names (``0.1.0-amd64``) and the version's (``0.1.0``), which
        release.sh also pushes for this machine's own platform.
        """
        docker = run(["deployment/docker-client.sh"]).strip()
        version = self.release.reference.rsplit("-", 1)[0]
        subprocess.run(
            [docker, "rmi", self.release.reference, version, self.release.pinned],
            cwd=ROOT, capture_output=True, check=False,
        )  # fmt: skip

    def red(self) -> set[str]:
        """The release checks that fail on this release."""
        report = self.folder / "junit.xml"
        subprocess.run(
            ["uv", "run", "--frozen", "pytest", "--pyargs", "image_checks.release", "-q",
             "-p", "no:cacheprovider", f"--image={self.image}",
             f"--release={self.folder / 'release.json'}", f"--image-reports={self.folder}",
             f"--junitxml={report}"],
            cwd=ROOT, env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        cases = list(junit.cases(report))
        if len(cases) != len(EXPECTED) + 1:  # every release check ran
            raise SystemExit(f"[tamperings] {self.name}: {len(cases)} release checks ran")
        return {case.test for case in cases if case.red}


def tamper_tag(scratch: Scratch) -> None:
    """Pushes another image (an empty one made here) under the released tag.

    Never an image of the engine's own: a pushed image keeps the registry's digest, and a base
    that did would be labelled with it by every later build.
    """
    docker = run(["deployment/docker-client.sh"]).strip()
    empty = scratch.folder / "empty.tar"
    tarfile.open(empty, "w").close()
    reference = scratch.release.reference
    run([docker, "import", "--change", "LABEL tampered=tag", str(empty), reference])
    run([docker, "push", reference])
    run([docker, "rmi", reference])


def tamper_sbom(scratch: Scratch) -> None:
    """Re-attests a changed SBOM (one Python distribution's version), with the same key."""
    sbom = json.loads((scratch.folder / "sbom.cdx.json").read_text())
    component = next(c for c in sbom["components"] if c.get("purl", "").startswith("pkg:pypi/"))
    component["version"] += ".post1"
    changed = scratch.folder / "changed-sbom.json"
    changed.write_text(json.dumps(sbom))
    scratch.cosign("attest", "--key", str(scratch.keys / "a.key"), "--type", "cyclonedx",
                   "--predicate", str(changed), "--replace")  # fmt: skip


def tamper_provenance(scratch: Scratch) -> None:
    """Re-attests the provenance naming another commit, with the same key."""
    provenance = json.loads((scratch.folder / "provenance.json").read_text())
    for dependency in provenance["buildDefinition"]["resolvedDependencies"]:
        if "gitCommit" in dependency["digest"]:
            dependency["digest"]["gitCommit"] = "0" * 40
    changed = scratch.folder / "changed-provenance.json"
    changed.write_text(json.dumps(provenance))
    scratch.cosign("attest", "--key", str(scratch.keys / "a.key"), "--type", "slsaprovenance1",
                   "--predicate", str(changed), "--replace")  # fmt: skip


def tamper_key(scratch: Scratch) -> None:
    """Deletes the release's signature and signs its digest with another key."""
    release = scratch.release
    url = f"http://{release.registry}/v2/{release.repository}/manifests/"
    tag = release.digest.replace(":", "-") + ".sig"
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    signature = httpx.head(url + tag, headers=accept, timeout=10).headers["Docker-Content-Digest"]
    httpx.delete(url + signature, timeout=10).raise_for_status()
    scratch.cosign("sign", "--key", str(scratch.keys / "b.key"))


TAMPERINGS: dict[str, Callable[[Scratch], None]] = {
    "control": lambda scratch: None,
    "tag": tamper_tag,
    "sbom": tamper_sbom,
    "provenance": tamper_provenance,
    "key": tamper_key,
}


class IndexScratch:
    """The index made again in a scratch repository, from the same verified digests."""

    def __init__(self, name: str, index: ReleaseIndex, work: Path, keys: Path) -> None:
        """Copies the index's images into ``tamper/index-<name>`` under an index of them all."""
        self.name, self.keys, self.folder = name, keys, work / f"index-{name}"
        self.folder.mkdir()
        self.repository = f"{index.registry}/tamper/index-{name}"
        self.docker = run(["deployment/docker-client.sh"]).strip()
        self.images = {
            platform_name(entry["platform"]): entry
            for entry in images_listed(manifest(index, index.digest))
        }
        sources = [
            f"{index.registry}/{index.repository}@{e['digest']}" for e in self.images.values()
        ]
        tag = f"{self.repository}:{index.tag}"
        run([self.docker, "buildx", "imagetools", "create", "--tag", tag, *sources])
        self.index = index.model_copy(
            update={
                "reference": f"{self.repository}:{index.tag}",
                "public_key": keys / "a.pub",
                "platforms": {p: index.path(f).resolve() for p, f in index.platforms.items()},
            }
        )
        self.index = self.index.model_copy(
            update={"digest": manifest(self.index, index.tag).digest}
        )

    def put(self, entries: list[tuple[dict, str]], *, record: bool = True) -> None:
        """Pushes an index of ``entries`` (descriptor, platform) under the tag.

        With ``record``, the record then names it, as the pipeline that made it would.
        """
        body = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {k: d[k] for k in ("mediaType", "digest", "size")}
                | {"platform": dict(zip(("os", "architecture"), p.split("/"), strict=True))}
                for d, p in entries
            ],
        }
        url = f"http://{self.index.registry}/v2/{self.index.repository}/manifests/{self.index.tag}"
        answer = httpx.put(
            url, content=json.dumps(body),
            headers={"Content-Type": body["mediaType"]}, timeout=10,
        )  # fmt: skip
        answer.raise_for_status()
        if record:
            self.index = self.index.model_copy(
                update={"digest": answer.headers["Docker-Content-Digest"]}
            )

    def sign(self, key: str) -> None:
        """Signs the recorded index and each image in it with ``key`` (a or b)."""
        run(["cosign", "sign", "--recursive", "--key", str(self.keys / f"{key}.key"), *OFFLINE,
             self.index.pinned], env={**os.environ, "COSIGN_PASSWORD": ""})  # fmt: skip

    def foreign_image(self) -> dict:
        """Pushes an empty image made here to the scratch repository; its descriptor."""
        empty = self.folder / "empty.tar"
        tarfile.open(empty, "w").close()
        reference = f"{self.repository}:foreign"
        run([self.docker, "import", "--change", "LABEL tampered=index", str(empty), reference])
        run([self.docker, "push", reference])
        run([self.docker, "rmi", reference])
        found = manifest(self.index, "foreign")
        size = httpx.head(
            f"http://{self.index.registry}/v2/{self.index.repository}/manifests/foreign",
            headers={"Accept": found.media_type}, timeout=10,
        ).headers["Content-Length"]  # fmt: skip
        return {"mediaType": found.media_type, "digest": found.digest, "size": int(size)}

    def red(self) -> set[str]:
        """The index checks that fail on this index."""
        path = self.folder / "release-index.json"
        path.write_text(self.index.model_dump_json(exclude={"folder"}))
        report = self.folder / "junit.xml"
        subprocess.run(
            ["uv", "run", "--frozen", "pytest", "--pyargs", "image_checks.release", "-q",
             "-p", "no:cacheprovider", f"--release-index={path}",
             f"--image-reports={self.folder}", f"--junitxml={report}"],
            cwd=ROOT, capture_output=True, text=True, check=False,
        )  # fmt: skip
        cases = list(junit.cases(report))
        if len(cases) != len(set().union(*EXPECTED_INDEX.values())):  # each has its tampering
            raise SystemExit(f"[tamperings] index {self.name}: {len(cases)} index checks ran")
        return {case.test for case in cases if case.red}


def tamper_index(scratch: IndexScratch) -> None:
    """Makes the tampering of the scratch's name, signing as the pipeline would."""
    amd64, arm64 = scratch.images["linux/amd64"], scratch.images["linux/arm64"]
    if scratch.name == "tag":
        scratch.sign("a")
        scratch.put([(amd64, "linux/amd64")], record=False)
    elif scratch.name == "missing":
        scratch.put([(amd64, "linux/amd64")])
        scratch.sign("a")
    elif scratch.name == "foreign":
        scratch.put([(scratch.foreign_image(), "linux/amd64"), (arm64, "linux/arm64")])
        scratch.sign("a")
    elif scratch.name == "swap":
        scratch.put([(amd64, "linux/arm64"), (arm64, "linux/amd64")])
        scratch.sign("a")
    else:
        scratch.sign("b" if scratch.name == "key" else "a")


def judge(
    name: str, red: set[str], expected: set[str], results: dict[str, dict], said_as: str = ""
) -> bool:
    """Whether the checks red on tampering ``name`` are exactly those ``expected``.

    Records the verdict in ``results`` and logs it (prefixed with ``said_as``).
    """
    ok = red == expected
    results[name] = {"expected_red": sorted(expected), "red": sorted(red), "ok": ok}
    said = "as expected" if ok else f"NOT AS EXPECTED (expected {sorted(expected)})"
    log(f"{said_as}{name}: red {sorted(red) or 'none'}: {said}")
    return ok


def make_keys(keys: Path) -> None:
    """Two cosign key pairs, a and b, without password."""
    keys.mkdir()
    for name in ("a", "b"):
        run(["cosign", "generate-key-pair", "--output-key-prefix", str(keys / name)],
            env={**os.environ, "COSIGN_PASSWORD": ""})  # fmt: skip


def main_index(record: Path) -> int:
    """The index's tamperings: each must turn exactly its named index check red."""
    index = load_index(record)
    results, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="tamper-index-") as tmp:
        make_keys(Path(tmp) / "keys")
        for name, expected in EXPECTED_INDEX.items():
            scratch = IndexScratch(name, index, Path(tmp), Path(tmp) / "keys")
            tamper_index(scratch)
            failed |= not judge(name, scratch.red(), expected, results, said_as="index ")
    (index.folder / "index-tamperings.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


def main() -> int:
    """Releases, tampers, runs the release checks; exit 1 unless each went red as expected."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="modern-ml-microservices-app:0.1.0")
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    parser.add_argument("--index", type=Path, help="a multi-platform index's record")
    args = parser.parse_args()
    if args.index:
        return main_index(args.index)
    missing = [f for f in COPIED if not (args.reports / f).is_file()]
    if missing:
        log(f"{args.reports} lacks {missing}: run ./deployment/app-build.sh first")
        return 1
    results, failed = {}, False
    with tempfile.TemporaryDirectory(prefix="tamper-") as tmp:
        work, keys = Path(tmp), Path(tmp) / "keys"
        make_keys(keys)
        for name, tamper in TAMPERINGS.items():
            scratch = Scratch(name, args.image, args.reports, work, keys)
            scratch.forget()  # the image's own tags and digests stay as the gate left them
            tamper(scratch)
            failed |= not judge(name, scratch.red(), EXPECTED[name], results)
    (args.reports / "release-tamperings.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
