"""Writes and prints the gate's image report: facts from Docker, the suite and JUnit XML.

Writes ``DIR/image-report.json`` and prints the same as a table.

Usage: ``python deployment/summary.py --image TAG --reports DIR [--seconds N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

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


def image_facts(tag: str) -> dict[str, Any]:
    """What ``docker image inspect`` says of the release image."""
    image = docker.from_env().images.get(tag)
    config = image.attrs["Config"]
    check = config.get("Healthcheck") or {}
    return {
        "image": tag,
        "id": image.id,
        "repo_digests": image.attrs.get("RepoDigests") or [],
        "size_mb": round(image.attrs["Size"] / 1e6, 1),
        "layer_count": len(image.attrs["RootFS"]["Layers"]),
        "user": config.get("User"),
        "ports": sorted(config.get("ExposedPorts") or {}),
        "healthcheck": {
            "test": check.get("Test"),
            "interval_s": check.get("Interval", 0) / 1e9,
            "timeout_s": check.get("Timeout", 0) / 1e9,
        },
        "labels": config.get("Labels") or {},
    }


def main() -> int:
    """Collects the facts, prints them as a table and writes them as JSON beside the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0, help="wall time of the gate")
    args = parser.parse_args()

    facts_file = args.reports / "container-facts.json"
    suite_facts = json.loads(facts_file.read_text()) if facts_file.exists() else {}
    report = {
        **image_facts(args.image),
        "layers": suite_facts.get("layers", []),
        "wasted_bytes": suite_facts.get("wasted_bytes"),
        "startup_seconds": suite_facts.get("startup_seconds"),
        "startup_samples": suite_facts.get("startup_samples", []),
        "stop_seconds": suite_facts.get("stop_seconds"),
        "fault_matrix": suite_facts.get("fault_matrix", []),
        "fuzz": suite_facts.get("fuzz"),
        "load": suite_facts.get("load"),
        "drain": suite_facts.get("drain"),
        "unit_tests": junit_counts(args.reports / "unit-tests.xml"),
        "container_tests": junit_counts(args.reports / "container-tests.xml"),
        "gate_seconds": args.seconds,
    }
    (args.reports / "image-report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report, args.reports))
    return 0


def table(report: dict[str, Any], reports: Path) -> str:
    """The report as a short two-column table."""

    def tests(counts: dict[str, int]) -> str:
        passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
        return (
            f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
            f"{counts['skipped']} skipped"
        )

    def seconds(value: float | None, what: str) -> str:
        return f"{value:.2f} s {what}" if value is not None else "not measured"

    def faults(matrix: list[dict[str, Any]]) -> str:
        cells = [f"{row['case']} {row['status']} ({row['seconds']:.2f} s)" for row in matrix]
        return "; ".join(cells) if cells else "not run"

    def fuzzing(fuzz: dict[str, Any] | None) -> str:
        if not fuzz:
            return "not run"
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(fuzz["statuses"].items()))
        return f"{fuzz['examples']} requests over {fuzz['operations']} operations ({statuses})"

    def load(figures: dict[str, Any] | None) -> str:
        if not figures:
            return "not run"
        return (
            f"{figures['requests']} requests in {figures['seconds']} s at {figures['concurrency']}"
            f" concurrent: {figures['rps']} req/s, p50 {figures['p50_ms']} ms, p99 "
            f"{figures['p99_ms']} ms, {figures['errors']} errors, peak memory "
            f"{figures['peak_memory_mb']} of {figures['memory_limit_mb']} MiB"
        )

    def drain(figures: dict[str, Any] | None) -> str:
        if not figures:
            return "not run"
        return (
            f"{figures['in_flight'] - figures['failed']} of {figures['in_flight']} in-flight "
            f"requests answered after SIGTERM; exit in {figures['seconds']} s"
        )

    largest = sorted(report["layers"], key=lambda layer: layer["size_mb"], reverse=True)[:3]
    wasted = report["wasted_bytes"]
    rows = [
        ("image", f"{report['image']} ({report['id'].removeprefix('sha256:')[:12]})"),
        ("size", f"{report['size_mb']} MB uncompressed, {report['layer_count']} layers"),
        *(
            (
                ("largest layers" if i == 0 else ""),
                f"{lay['size_mb']:6.2f} MB  {lay['created_by'][:60] or '(base image)'}",
            )
            for i, lay in enumerate(largest)
        ),
        ("wasted", f"{wasted} bytes across layers" if wasted is not None else "not measured"),
        ("user, ports", f"{report['user']}, {', '.join(report['ports'])}"),
        ("healthcheck", " ".join((report["healthcheck"]["test"] or ["none"])[1:])),
        ("start-up", seconds(report["startup_seconds"], "to first 200 on /health (median)")),
        ("SIGTERM", seconds(report["stop_seconds"], "to exit 0")),
        ("fault matrix", faults(report["fault_matrix"])),
        ("schema fuzzing", fuzzing(report["fuzz"])),
        ("load", load(report["load"])),
        ("drain", drain(report["drain"])),
        ("unit tests", tests(report["unit_tests"])),
        ("container tests", tests(report["container_tests"])),
        ("gate", f"{report['gate_seconds']} s; reports in {reports}/"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


if __name__ == "__main__":
    sys.exit(main())
