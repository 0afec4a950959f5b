"""Writes what one build was given, as JSON: deployment/build-image.sh calls it (BUILD_RECORD).

The record holds the bases by digest, the build arguments, which builder ran and the versions
of the docker client, the engine and buildx, the tags and the image id, and when the build
started and finished. The release's provenance statement (deployment/provenance.py) is made
from it, so the provenance says what the build was given, not what a later step assumes.

Usage: ``python3 deployment/build_record.py --out FILE --builder B ... TAG [TAG...]``
(standard library only: it runs before any virtual environment exists).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path


def pairs(values: list[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict.

    Raises:
        SystemExit: a value without ``=``, naming the option.
    """
    found = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"build_record.py: {option} {value!r} is not KEY=VALUE")
        found[key] = rest
    return found


def main() -> int:
    """Reads the options, writes the record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--builder", required=True, help="classic, buildx or buildx-oci")
    parser.add_argument("--client", required=True, help="the docker client's version")
    parser.add_argument("--engine", required=True, help="the engine's version")
    parser.add_argument("--buildx", default="", help="buildx's version, when there is one")
    parser.add_argument("--started", required=True, help="when the build started (UTC, ISO)")
    parser.add_argument("--target", default="")
    parser.add_argument("--platform", required=True, help="linux/amd64, linux/arm64")
    parser.add_argument("--no-cache", default="0")
    parser.add_argument("--base", action="append", default=[], help="ARG=IMAGE=DIGEST")
    parser.add_argument("--arg", action="append", default=[], help="a build argument, KEY=VALUE")
    parser.add_argument("--image-id", required=True)
    parser.add_argument("tags", nargs="+")
    args = parser.parse_args()
    bases = {}
    for arg, value in pairs(args.base, "--base").items():
        name, sep, digest = value.rpartition("=")
        if not sep or not name or not digest.startswith("sha256:"):
            raise SystemExit(f"build_record.py: --base {arg}={value!r} is not ARG=IMAGE=sha256:...")
        bases[arg] = {"name": name, "digest": digest}
    record = {
        "tags": args.tags,
        "image_id": args.image_id,
        "dockerfile": "Dockerfile",
        "target": args.target or None,
        "platform": args.platform,
        "no_cache": args.no_cache == "1",
        "bases": bases,
        "build_args": {
            **{arg: base["name"] for arg, base in bases.items()},
            **pairs(args.arg, "--arg"),
        },
        "builder": args.builder,
        "docker_client": args.client,
        "engine": args.engine,
        "buildx": args.buildx or None,
        "started_on": args.started,
        "finished_on": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
