"""Writes and prints the gate's report.

It is the image checks' report (pytest-image-checks) with this service's own figures (fault
matrix, fuzzing, load), the audit and every suite's counts, the unit suite's twice: on the
host's interpreter (this one's: ``uv run`` runs both) and on the image's (its builder stage).

Every figure comes from the one record the checks wrote (``image-facts.json``); from Docker this
reads only what names the image. Writes ``DIR/image-report.json`` and prints it as a table.

Usage: ``python deployment/summary.py --image TAG --reports DIR [--seconds N]``
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

from image_checks import junit
from image_checks.facts import FACTS_FILE, RELEASE_FACTS_FILE, read_facts
from image_checks.report import (
    failed_rows,
    image_facts,
    image_rows,
    junit_results,
    render,
    tests_row,
)

SUITES = ("unit_tests", "packages", "container_tests", "image_checks")
RELEASE_TESTS = "release-tests.xml"  # the release checks' run
IN_IMAGE = "unit-tests-image.xml"  # deployment/unit-tests-in-image.sh's run


def service_rows(details: dict[str, Any]) -> list[tuple[str, str]]:
    """This service's figures: the fault matrix, schema fuzzing and the load burst."""
    matrix = details.get("fault_matrix", [])
    cells = [f"{row['case']} {row['status']} ({row['seconds']:.2f} s)" for row in matrix]
    fuzz = details.get("fuzz")
    fuzzed = "not run"
    if fuzz:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(fuzz["statuses"].items()))
        fuzzed = f"{fuzz['examples']} requests over {fuzz['operations']} operations ({statuses})"
    load = details.get("load")
    loaded = "not run"
    if load:
        loaded = (
            f"{load['requests']} requests in {load['seconds']} s at {load['concurrency']}"
            f" concurrent: {load['rps']} req/s, p50 {load['p50_ms']} ms, p99 "
            f"{load['p99_ms']} ms, {load['errors']} errors"
        )
    return [
        ("fault matrix", "; ".join(cells) if cells else "not run"),
        ("schema fuzzing", fuzzed),
        ("load", loaded),
    ]


def release_rows(release: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The release: where it is, its digest, and each release check's verdict."""
    if not release:
        return [("release", "not released (only an image every test passed on is)")]
    rows = [
        ("release", f"{release['reference']}, signed with {release['key']}"),
        ("public key", release["public_key"]),
        ("release digest", release["digest"]),
    ]
    for row in release["checks"] or [{"check": "release checks", "verdict": "not run", "said": ""}]:
        name = row["check"].removeprefix("test_").replace("_", " ")
        rows.append((f"  {row['verdict']}", f"{name}: {row['said']}"))
    return rows


def patch_rows(patches: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Patch currency: each verdict, then each Debian update with the CVEs it names."""
    if not patches:
        return [("patch currency", "not run")]
    rows = []
    if debian := patches.get("debian"):
        rows.append((f"patches: Debian {debian['suite']}", debian["verdict"]))
        for update in debian["updates"]:
            cves = update["cves"]
            named = f"{len(cves)} CVEs ({', '.join(cves[:4])}{', ...' if len(cves) > 4 else ''})"
            rows.append((
                "  REQUIRED" if update["required"] else "  update available",
                f"{update['package']} {update['installed']} -> {update['available']} "
                f"({update['index']}); {named if cves else 'no CVE named'}",
            ))  # fmt: skip
    python = patches["python"]
    rows.append(("patches: Python", python["verdict"]))
    rows += [("  yanked", f"{y['name']} {y['version']}: {y['reason']}") for y in python["yanked"]]
    if python["newer"]:
        newer = ", ".join(f"{n['name']} {n['installed']} -> {n['latest']}" for n in python["newer"])
        rows.append(("  newer releases", newer))
    return rows


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file a step of the gate wrote, or None when that step did not write it."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def read_release(reports: Path) -> dict[str, Any] | None:
    """The release record with the release checks' verdicts, or None when nothing was released."""
    path = reports / "release.json"
    if not path.exists():
        return None
    checks = read_facts(reports / RELEASE_FACTS_FILE)["details"].get("release", [])
    return {**(read_json(path) or {}), "checks": checks}


def main() -> int:
    """Collects the facts, prints them as a table and writes them as JSON beside the reports."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--seconds", type=int, default=0, help="wall time of the gate")
    args = parser.parse_args()

    tests = junit_results(args.reports / "tests.xml", SUITES)
    in_image = args.reports / IN_IMAGE
    tests["unit_tests_in_image"] = junit_results(in_image, ("unit_tests",))["unit_tests"]
    image_python = next(
        (n.removeprefix("python-") for n in junit.suite_names(in_image) if n.startswith("python-")),
        None,
    )
    host_python = platform.python_version()
    tests["unit_tests_in_image"]["python"] = image_python
    tests["unit_tests"]["python"] = host_python
    tests["release_checks"] = junit_results(args.reports / RELEASE_TESTS, ("release",))["release"]
    report = {
        **image_facts(args.image),
        **read_facts(args.reports / FACTS_FILE),
        "audit": read_json(args.reports / "audit.json"),
        "lint": read_json(args.reports / "lint.json") or {},
        "release": read_release(args.reports),
        "patches": read_json(args.reports / "patches.json"),
        **tests,
        "gate_seconds": args.seconds,
    }
    (args.reports / "image-report.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = [
        *image_rows(report),
        *service_rows(report["details"]),
        *((f"lint: {name}", verdict) for name, verdict in report["lint"].items()),
        ("audit", report["audit"]["verdict"] if report["audit"] else "not run"),
        *patch_rows(report["patches"]),
        (f"unit tests, host Python {host_python}", tests_row(tests["unit_tests"])),
        *failed_rows(tests["unit_tests"]),
        (
            f"app's unit tests, image's Python {image_python or '(not run)'}",
            tests_row(tests["unit_tests_in_image"]),
        ),
        *failed_rows(tests["unit_tests_in_image"]),
        ("plugin tests", tests_row(tests["packages"])),
        *failed_rows(tests["packages"]),
        ("image checks", tests_row(tests["image_checks"])),
        *failed_rows(tests["image_checks"]),
        ("service checks", tests_row(tests["container_tests"])),
        *failed_rows(tests["container_tests"]),
        *release_rows(report["release"]),
        ("release checks", tests_row(tests["release_checks"])),
        *failed_rows(tests["release_checks"]),
        ("gate", f"{args.seconds} s; reports in {args.reports}/"),
    ]
    print(render(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
