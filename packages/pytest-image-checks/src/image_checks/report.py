"""The report of a run: what names the image, each figure beside its budget, the tests' counts.

Every figure comes from the one record the checks wrote (``image-facts.json``, each figure
measured once, with its budget); from Docker this reads only what names the image (id,
digests, base labels, user, ports, healthcheck), never a measurement. Writes
``DIR/image-report.json`` and prints the same as a two-column table.

Usage: ``python -m image_checks.report --image REF --reports DIR [--junit FILE]``
(``--junit``: pytest's ``--junitxml`` file, default ``DIR/tests.xml``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException

from image_checks import junit
from image_checks.engine import engine_facts, image_platform
from image_checks.facts import FACTS_FILE, read_facts

OCI = "org.opencontainers.image"


def junit_results(path: Path, suites: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Per suite (``junit.Case.suite``): counts of outcomes and the names of red tests."""
    results: dict[str, dict[str, Any]] = {
        suite: {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
        for suite in suites
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
    """What names the image in ``docker image inspect`` (``id`` None when it is not there)."""
    try:
        with contextlib.closing(docker.from_env()) as client:
            image = client.images.get(tag)
            engine = engine_facts(client)
    except DockerException:
        return {"image": tag, "id": None}
    config = image.attrs["Config"]
    labels = config.get("Labels") or {}
    return {
        "image": tag,
        "id": image.id,
        "manifest_digest": (image.attrs.get("Descriptor") or {}).get("digest"),
        "platform": image_platform(image.attrs),
        "repo_digests": image.attrs.get("RepoDigests") or [],
        "engine": engine,
        "base": {
            "name": labels.get(f"{OCI}.base.name"),
            "digest": labels.get(f"{OCI}.base.digest"),
        },
        "user": config.get("User"),
        "ports": sorted(config.get("ExposedPorts") or {}),
        "healthcheck": (config.get("Healthcheck") or {}).get("Test"),
        "labels": labels,
    }


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


def engine_row(engine: dict[str, str] | None) -> str:
    """The engine the figures come from."""
    if not engine:
        return "unknown"
    store = engine["image_store"]
    return f"{engine['name']} {engine['version']} (API {engine['api']}, {store} image store)"


def platform_row(report: dict[str, Any]) -> str:
    """The image's platform, and the engine's when it emulates the image."""
    found, native = report.get("platform"), (report.get("engine") or {}).get("platform")
    if native and found != native:
        return f"{found}, emulated on {native} (time and memory budgets scaled: see each figure)"
    return found or "unknown"


def reproducibility_row(found: dict[str, Any]) -> tuple[str, str]:
    """What the rebuild without cache was compared on, and the digests of both builds."""

    def digests(build: dict[str, str | None]) -> str:
        shown = f"id {(build['id'] or '')[7:19]}"
        return shown + (f", manifest {build['manifest'][7:19]}" if build.get("manifest") else "")

    return (
        "reproducibility",
        f"compared {found['compared']}: built {digests(found['built'])}; "
        f"rebuilt {digests(found['rebuilt'])}",
    )


def tests_row(counts: dict[str, Any]) -> str:
    """A suite's counts in one line."""
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return (
        f"{passed} passed, {counts['failures']} failed, {counts['errors']} errors, "
        f"{counts['skipped']} skipped"
    )


def image_rows(report: dict[str, Any]) -> list[tuple[str, str]]:
    """The rows that name the image, then one per figure, the SBOM and sections not configured."""
    details = report.get("details", {})
    if report["id"] is None:
        head = [("image", f"{report['image']}: not in the local engine")]
    else:
        base = report["base"]
        largest = sorted(details.get("layers", []), key=lambda lay: lay["size_mb"], reverse=True)
        head = [
            ("image", f"{report['image']} ({report['id'].removeprefix('sha256:')[:12]})"),
            ("engine", engine_row(report.get("engine"))),
            ("platform", platform_row(report)),
            ("base", f"{base['name'] or 'not labelled'} ({(base['digest'] or '')[:19]})"),
            ("user, ports", f"{report['user'] or 'root'}, {', '.join(report['ports']) or 'none'}"),
            ("healthcheck", " ".join((report["healthcheck"] or ["none", "none"])[1:])),
            *(
                (
                    ("largest layers" if i == 0 else ""),
                    f"{lay['size_mb']:6.2f} MB  {lay['created_by'][:60] or '(base image)'}",
                )
                for i, lay in enumerate(largest[:3])
            ),
        ]
    figures = [figure_row(name, figure) for name, figure in report.get("figures", {}).items()]
    if "reproducibility" in details:
        figures.append(reproducibility_row(details["reproducibility"]))
    sbom = details.get("sbom")
    return [
        *head,
        *(figures or [("figures", "none recorded (did the checks run?)")]),
        (
            "sbom",
            f"{Path(sbom['path']).name} (sha256:{sbom['sha256'][:12]}, CycloneDX {sbom['spec']}): "
            f"{sbom['python']} Python distributions, {sbom['debian']} Debian packages, the base"
            if sbom
            else "not written",
        ),
        *(
            ("not configured", f"[tool.image-checks.{section}]: {len(ids)} checks deselected")
            for section, ids in report.get("not_configured", {}).items()
        ),
        *(
            ("not on this engine", f"{name}: {why}")
            for name, why in report.get("not_on_this_engine", {}).items()
        ),
    ]


def failed_rows(counts: dict[str, Any]) -> list[tuple[str, str]]:
    """The first red tests of a suite, one row each."""
    return [("  failed", name) for name in counts["failed"][:20]]


def render(rows: list[tuple[str, str]]) -> str:
    """Rows as a two-column table."""
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"  {name:<{width}}  {value}" for name, value in rows)


def main(argv: list[str] | None = None) -> int:
    """Writes ``image-report.json`` beside the facts and prints the table."""
    parser = argparse.ArgumentParser(prog="python -m image_checks.report", description=__doc__)
    parser.add_argument("--image", required=True)
    parser.add_argument("--reports", type=Path, required=True)
    parser.add_argument("--junit", type=Path)
    args = parser.parse_args(argv)
    counts = junit_results(args.junit or args.reports / "tests.xml", ("image_checks",))
    report = {
        **image_facts(args.image),
        **read_facts(args.reports / FACTS_FILE),
        "checks": counts["image_checks"],
    }
    (args.reports / "image-report.json").write_text(json.dumps(report, indent=2) + "\n")
    rows = [*image_rows(report), ("checks", tests_row(report["checks"]))]
    print(render([*rows, *failed_rows(report["checks"])]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
