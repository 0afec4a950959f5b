"""Prints the gate's summary: image facts and test counts, read from Docker and JUnit XML.

Usage: ``python deployment/summary.py --image TAG --reports DIR [--seconds N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import docker


def junit_counts(path: Path) -> dict[str, int]:
    """Returns tests, failures, errors and skipped summed over a JUnit XML file's suites."""
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not path.exists():
        return counts
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's output
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


def main() -> int:
    """Collects the facts, prints them as a table and writes them as JSON beside the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0, help="wall time of the gate")
    args = parser.parse_args()

    image = docker.from_env().images.get(args.image)
    facts_file = args.reports / "container-facts.json"
    facts = json.loads(facts_file.read_text()) if facts_file.exists() else {}
    summary = {
        "image": args.image,
        "id": image.id,
        "size_mb": round(image.attrs["Size"] / 1e6, 1),
        "layers": len(image.attrs["RootFS"]["Layers"]),
        "startup_seconds": facts.get("startup_seconds"),
        "unit_tests": junit_counts(args.reports / "unit-tests.xml"),
        "container_tests": junit_counts(args.reports / "container-tests.xml"),
        "gate_seconds": args.seconds,
    }
    (args.reports / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

    def tests(counts: dict[str, int]) -> str:
        passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
        return (
            f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
            f"{counts['skipped']} skipped"
        )

    startup = summary["startup_seconds"]
    rows = [
        ("image", f"{args.image} ({image.short_id.removeprefix('sha256:')})"),
        ("size", f"{summary['size_mb']} MB uncompressed"),
        ("layers", str(summary["layers"])),
        ("startup", f"{startup:.2f} s to first 200 on /health" if startup else "not measured"),
        ("unit tests", tests(summary["unit_tests"])),
        ("container tests", tests(summary["container_tests"])),
        ("gate", f"{args.seconds} s; reports in {args.reports}/"),
    ]
    width = max(len(name) for name, _ in rows)
    print("\n".join(f"  {name:<{width}}  {value}" for name, value in rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
