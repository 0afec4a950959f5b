"""Writes the release's SLSA v1 provenance predicate: what was built, from what, by what.

From the build's own record (``BUILD_RECORD``, deployment/build_record.py) and this checkout:
the commit (and whether the tree had uncommitted changes), the build arguments, every base
image by digest, the hash of ``uv.lock``, the builder with the versions of the docker client,
the engine and buildx, and when the build ran. cosign wraps it in an in-toto statement whose
subject is the pushed digest (``cosign attest --type slsaprovenance1``); the release checks
read it back from the registry and match it against the image and this checkout.

Usage: ``python deployment/provenance.py --build-record FILE --out FILE``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BUILD_TYPE = "urn:modern-ml-microservices:deployment/build-image.sh:v1"  # how to read it: this file


def git(*args: str) -> str:
    """A git command's output in this checkout, stripped ("" when git fails)."""
    run = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return run.stdout.strip() if run.returncode == 0 else ""


def sha256(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Checkout:
    """What the provenance says of the checkout the image was built from."""

    source: str  # its remote's URL, else file://PATH
    commit: str
    uncommitted_changes: bool
    lock_sha256: str  # of its uv.lock


def this_checkout() -> Checkout:
    """This checkout, as git and its uv.lock say.

    Raises:
        SystemExit: this is not a git checkout.
    """
    commit = git("rev-parse", "HEAD")
    if not commit:
        raise SystemExit("provenance.py: not a git checkout: the provenance must name a commit")
    return Checkout(
        source=git("remote", "get-url", "origin") or f"file://{ROOT}",
        commit=commit,
        uncommitted_changes=bool(git("status", "--porcelain")),
        lock_sha256=sha256(ROOT / "uv.lock"),
    )


def predicate(record: dict[str, Any], checkout: Checkout) -> dict[str, Any]:
    """The SLSA v1 provenance predicate of the build ``record`` describes, from ``checkout``.

    Raises:
        SystemExit: the record names no base.
    """
    if not record.get("bases"):
        raise SystemExit("provenance.py: the build record names no base image")
    source, commit = checkout.source, checkout.commit
    dependencies = [
        {"uri": f"git+{source}", "digest": {"gitCommit": commit}},
        *(
            {
                "uri": f"docker-image://{base['name']}",
                "digest": {"sha256": base["digest"].removeprefix("sha256:")},
                "annotations": {"build_arg": arg},
            }
            for arg, base in record["bases"].items()
        ),
        {"uri": "file:uv.lock", "digest": {"sha256": checkout.lock_sha256}},
    ]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {
                "source": {"uri": f"git+{source}", "commit": commit},
                "dockerfile": record["dockerfile"],
                "target": record["target"],
                "platform": record.get("platform"),
                "buildArgs": record["build_args"],
            },
            "internalParameters": {
                "builder": record["builder"],
                "no_cache": record["no_cache"],
                "uncommitted_changes": checkout.uncommitted_changes,
            },
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {
                "id": f"{source}#deployment/app-build.sh",
                "version": {
                    "docker-client": record["docker_client"],
                    "engine": record["engine"],
                    **({"buildx": record["buildx"]} if record["buildx"] else {}),
                },
            },
            "metadata": {
                "invocationId": str(uuid.uuid4()),
                "startedOn": record["started_on"],
                "finishedOn": record["finished_on"],
            },
            "byproducts": [{"name": "image-id", "digest": {"sha256": record["image_id"][7:]}}],
        },
    }


def main() -> int:
    """Reads the build record, writes the predicate."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-record", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    try:
        record = json.loads(args.build_record.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SystemExit(f"provenance.py: cannot read the build record: {exc}") from None
    found = predicate(record, this_checkout())
    args.out.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
