"""Writes and prints the gate's image report: the suite's facts, JUnit XML and the image's ids.

Every figure comes from the one record the container suite wrote (``container-facts.json``,
each figure measured once, with its budget); from Docker this script reads only what names
the image (id, digests, base labels, user, ports, healthcheck), never a measurement. Writes
``DIR/image-report.json`` and prints the same as a table, each figure beside its budget.

Usage: ``python deployment/summary.py --image TAG --reports DIR [--seconds N]``
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from deployment import junit

SUITES = ("unit_tests", "container_tests")


def junit_results(path: Path) -> dict[str, dict[str, Any]]:
    """Per suite (by test module path): counts of outcomes and the names of failed tests."""
    results: dict[str, dict[str, Any]] = {
        suite: {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
        for suite in SUITES
    }
    keys = {"failed": "failures", "error": "errors", "skipped": "skipped"}
    for case in junit.cases(path):
        if (counts := results.get(case.suite)) is None:
            continue
        counts["tests"] += 1
        if case.outcome in keys:
            counts[keys[case.outcome]] += 1
        if case.red:
            counts["failed"].append(f"{case.classname}::{case.name}")
    return results


def image_facts(tag: str) -> dict[str, Any]:
    """What names the release image in ``docker image inspect`` (``id`` None if not built)."""
    client = docker.from_env()
    try:
        image = client.images.get(tag)
    except DockerException:
        return {"image": tag, "id": None}
    config = image.attrs["Config"]
    check = config.get("Healthcheck") or {}
    labels = config.get("Labels") or {}
    return {
        "image": tag,
        "id": image.id,
        "repo_digests": image.attrs.get("RepoDigests") or [],
        "base": {
            "flavour": labels.get("org.modern-ml-microservices.base-flavour"),
            "name": labels.get("org.opencontainers.image.base.name"),
            "digest": labels.get("org.opencontainers.image.base.digest"),
        },
        "user": config.get("User"),
        "ports": sorted(config.get("ExposedPorts") or {}),
        "healthcheck": check.get("Test"),
        "labels": labels,
    }


def read_facts(path: Path) -> dict[str, Any]:
    """The suite's record (figures, details, not configured), empty when it wrote none."""
    empty: dict[str, Any] = {"figures": {}, "details": {}, "not_configured": {}}
    return {**empty, **json.loads(path.read_text())} if path.exists() else empty


def main() -> int:
    """Collects the facts, prints them as a table and writes them as JSON beside the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0, help="wall time of the gate")
    args = parser.parse_args()

    facts = read_facts(args.reports / "container-facts.json")
    tests = junit_results(args.reports / "tests.xml")
    audit_file = args.reports / "audit.json"
    report = {
        **image_facts(args.image),
        **facts,
        "audit": json.loads(audit_file.read_text()) if audit_file.exists() else None,
        "unit_tests": tests["unit_tests"],
        "container_tests": tests["container_tests"],
        "gate_seconds": args.seconds,
    }
    (args.reports / "image-report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(table(report, args.reports))
    return 0


def figure_row(name: str, figure: dict[str, Any]) -> tuple[str, str]:
    """One measured figure: value and unit, the budget it is held to, what it is."""
    value, unit, budget = figure["value"], figure.get("unit", ""), figure.get("budget")
    shown = "not measured on this engine" if value is None else f"{value} {unit}".strip()
    if budget is not None and value is not None:
        verdict = "within" if value <= budget else "OVER"
        shown += f"   (budget {budget} {unit}: {verdict})".replace(" :", ":")
    if figure.get("detail"):
        shown += f"   {figure['detail']}"
    return name, shown


def table(report: dict[str, Any], reports: Path) -> str:
    """The report as a short two-column table."""

    def tests(counts: dict[str, int]) -> str:
        passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
        return (
            f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
            f"{counts['skipped']} skipped"
        )

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
            f"{figures['p99_ms']} ms, {figures['errors']} errors"
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

    details = report["details"]
    if report["id"] is None:
        head = [("image", f"{report['image']}: not built")]
    else:
        base = report["base"]
        largest = sorted(details.get("layers", []), key=lambda lay: lay["size_mb"], reverse=True)
        head = [
            ("image", f"{report['image']} ({report['id'].removeprefix('sha256:')[:12]})"),
            ("base", f"{base['flavour']}: {base['name']} ({(base['digest'] or '')[:19]})"),
            ("user, ports", f"{report['user']}, {', '.join(report['ports'])}"),
            ("healthcheck", " ".join((report["healthcheck"] or ["none"])[1:])),
            *(
                (
                    ("largest layers" if i == 0 else ""),
                    f"{lay['size_mb']:6.2f} MB  {lay['created_by'][:60] or '(base image)'}",
                )
                for i, lay in enumerate(largest[:3])
            ),
        ]
    figures = [figure_row(name, figure) for name, figure in report["figures"].items()]
    rows = [
        *head,
        *(figures or [("figures", "none recorded (did the container suite run?)")]),
        ("fault matrix", faults(details.get("fault_matrix", []))),
        ("schema fuzzing", fuzzing(details.get("fuzz"))),
        ("load", load(details.get("load"))),
        ("sbom", sbom(details.get("sbom"))),
        ("audit", report["audit"]["verdict"] if report["audit"] else "not run"),
        *(
            ("not configured", f"[tool.container-tests.{section}]: {len(ids)} checks deselected")
            for section, ids in report["not_configured"].items()
        ),
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
