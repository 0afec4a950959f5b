"""Writes and prints the gate's image report: facts from Docker, the suite and JUnit XML.

Writes ``DIR/image-report.json`` and prints the same as a table.

Usage: ``python deployment/summary.py --image TAG --reports DIR [--seconds N]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from container_tests.expectations import load_expectations

SUITES = ("unit_tests", "container_tests")


def junit_results(path: Path) -> dict[str, dict[str, Any]]:
    """Per suite (by test module path): counts of outcomes and the names of failed tests."""
    results: dict[str, dict[str, Any]] = {
        suite: {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
        for suite in SUITES
    }
    if not path.exists():
        return results
    root = ET.parse(path).getroot()  # noqa: S314 - our own pytest's output
    for case in root.iter("testcase"):
        suite = case.get("classname", "").split(".")[0]
        if suite not in results:
            continue
        counts = results[suite]
        counts["tests"] += 1
        for outcome, key in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            if case.find(outcome) is not None:
                counts[key] += 1
                if key != "skipped":
                    counts["failed"].append(f"{case.get('classname')}::{case.get('name')}")
    return results


def image_facts(tag: str) -> dict[str, Any]:
    """What ``docker image inspect`` says of the release image (``id`` None if not built)."""
    client = docker.from_env()
    try:
        image = client.images.get(tag)
    except DockerException:
        return {"image": tag, "id": None}
    config = image.attrs["Config"]
    check = config.get("Healthcheck") or {}
    labels = config.get("Labels") or {}
    facts: dict[str, Any] = {
        "image": tag,
        "id": image.id,
        "repo_digests": image.attrs.get("RepoDigests") or [],
        "size_mb": round(image.attrs["Size"] / 1e6, 1),
        "layer_count": len(image.attrs["RootFS"]["Layers"]),
        "base": {
            "flavour": labels.get("org.modern-ml-microservices.base-flavour"),
            "name": labels.get("org.opencontainers.image.base.name"),
            "digest": labels.get("org.opencontainers.image.base.digest"),
        },
        "user": config.get("User"),
        "ports": sorted(config.get("ExposedPorts") or {}),
        "healthcheck": {
            "test": check.get("Test"),
            "interval_s": check.get("Interval", 0) / 1e9,
            "timeout_s": check.get("Timeout", 0) / 1e9,
        },
        "labels": labels,
    }
    with contextlib.suppress(DockerException):
        base = client.images.get(facts["base"]["name"])
        facts["base"]["size_mb"] = round(base.attrs["Size"] / 1e6, 1)
        facts["base"]["layer_count"] = len(base.attrs["RootFS"]["Layers"])
    return facts


def budgets(flavour: str | None) -> dict[str, Any]:
    """The budgets the suite holds the image to, from the validated table."""
    expect = load_expectations()
    return {
        "max_image_mb": expect.max_image_mb.get(flavour) if flavour else None,  # type: ignore[call-overload]
        "max_added_mb": expect.max_added_mb,
        "max_added_layers": expect.max_added_layers,
        "max_wasted_mb": expect.max_wasted_mb,
        "startup_budget_s": expect.startup_budget_s,
        "stop_budget_s": expect.stop_budget_s,
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
    image = image_facts(args.image)
    tests = junit_results(args.reports / "tests.xml")
    audit_file = args.reports / "audit.json"
    audit = json.loads(audit_file.read_text()) if audit_file.exists() else None
    report = {
        **image,
        "budgets": budgets((image.get("base") or {}).get("flavour")),
        "layers": suite_facts.get("layers", []),
        "wasted_bytes": suite_facts.get("wasted_bytes"),
        "startup_seconds": suite_facts.get("startup_seconds"),
        "startup_samples": suite_facts.get("startup_samples", []),
        "stop_seconds": suite_facts.get("stop_seconds"),
        "fault_matrix": suite_facts.get("fault_matrix", []),
        "fuzz": suite_facts.get("fuzz"),
        "load": suite_facts.get("load"),
        "drain": suite_facts.get("drain"),
        "sbom": suite_facts.get("sbom"),
        "audit": audit,
        "unit_tests": tests["unit_tests"],
        "container_tests": tests["container_tests"],
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
            f"{figures['peak_memory_mb']} MiB (budget {figures.get('max_memory_mb', '?')} MiB, "
            f"limit {figures['memory_limit_mb']} MiB)"
        )

    def drain(figures: dict[str, Any] | None) -> str:
        if not figures:
            return "not run"
        return (
            f"{figures['in_flight'] - figures['failed']} of {figures['in_flight']} in-flight "
            f"requests answered after SIGTERM; exit in {figures['seconds']} s"
        )

    def sbom(facts: dict[str, Any] | None) -> str:
        if not facts:
            return "not written"
        return (
            f"{Path(facts['path']).name} (sha256:{facts['sha256'][:12]}, CycloneDX "
            f"{facts['spec']}): {facts['python']} Python distributions, {facts['debian']} "
            "Debian packages, the base image"
        )

    def failed(counts: dict[str, Any]) -> list[tuple[str, str]]:
        return [("  failed", name) for name in counts["failed"][:20]]

    if report["id"] is None:
        head = [("image", f"{report['image']}: not built")]
    else:
        base, limits = report["base"], report["budgets"]
        added = report["size_mb"] - base.get("size_mb", 0)
        largest = sorted(report["layers"], key=lambda layer: layer["size_mb"], reverse=True)[:3]
        wasted = report["wasted_bytes"]
        head = [
            ("image", f"{report['image']} ({report['id'].removeprefix('sha256:')[:12]})"),
            ("base", f"{base['flavour']}: {base['name']} ({(base['digest'] or '')[:19]})"),
            (
                "size",
                f"{report['size_mb']} MB uncompressed (budget {limits['max_image_mb']} MB on "
                f"{base['flavour']}); {added:.1f} MB added to the base (budget "
                f"{limits['max_added_mb']} MB)",
            ),
            (
                "layers",
                f"{report['layer_count']}: {base.get('layer_count', '?')} of the base, "
                f"{report['layer_count'] - base.get('layer_count', 0)} added "
                f"(budget {limits['max_added_layers']})",
            ),
            *(
                (
                    ("largest layers" if i == 0 else ""),
                    f"{lay['size_mb']:6.2f} MB  {lay['created_by'][:60] or '(base image)'}",
                )
                for i, lay in enumerate(largest)
            ),
            (
                "wasted",
                f"{wasted} bytes across layers (budget {limits['max_wasted_mb']} MB)"
                if wasted is not None
                else "not measured",
            ),
            ("user, ports", f"{report['user']}, {', '.join(report['ports'])}"),
            ("healthcheck", " ".join((report["healthcheck"]["test"] or ["none"])[1:])),
        ]
    limits = report["budgets"]
    rows = [
        *head,
        (
            "start-up",
            seconds(report["startup_seconds"], "to first 200 on /health (median)")
            + f" (budget {limits['startup_budget_s']} s)",
        ),
        (
            "SIGTERM",
            seconds(report["stop_seconds"], f"to exit 0 (budget {limits['stop_budget_s']} s)"),
        ),
        ("fault matrix", faults(report["fault_matrix"])),
        ("schema fuzzing", fuzzing(report["fuzz"])),
        ("load", load(report["load"])),
        ("drain", drain(report["drain"])),
        ("sbom", sbom(report["sbom"])),
        ("audit", report["audit"]["verdict"] if report["audit"] else "not run"),
        ("unit tests", tests(report["unit_tests"])),
        *failed(report["unit_tests"]),
        ("container tests", tests(report["container_tests"])),
        *failed(report["container_tests"]),
        ("gate", f"{report['gate_seconds']} s; reports in {reports}/"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


if __name__ == "__main__":
    sys.exit(main())
