"""The generic image checks' verdict on both designs, check by check.

Runs the generic checks of pytest-image-checks (``pytest --pyargs image_checks``) with this
project's table against two images, each built by the table's build command
(``deployment/build-image.sh``) on the slim bases from a copy of its own tree given as the
build context (so the checks that read a context read that design's Dockerfile and
.dockerignore):

- ours: this checkout's tracked files;
- the original single-stage design: the same files with ``benchmarks/baseline/`` laid over them.

Nobody tuned the suite for the original design, so it shows whether the checks are generic: it
must fail exactly on the faults that design has, listed in ``BASELINE_FAULTS`` by reading its
Dockerfile, and ours must pass every check. The run exits 1 otherwise, naming each difference.
Writes ``benchmarks/verdict.json`` and the side-by-side table, ``docs/verdict.md``.

Usage: ``uv run python benchmarks/verdict.py``
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    BASELINE_FLAVOUR,
    baseline_tree,
    commit_tree,
    copy_tree,
    log,
    output,
)
from image_checks.junit import Case, cases  # noqa: E402

RESULTS = ROOT / "benchmarks" / "verdict.json"
REPORT = ROOT / "docs" / "verdict.md"

# The faults of the original design (benchmarks/baseline/Dockerfile and its .dockerignore), as
# a reader of those two files finds them, and the generic check that must catch each.
# fmt: off
BASELINE_FAULTS = {
    "test_context_holds_only_the_allowed_top_level_entries":
        "a deny-list .dockerignore sends tests, docs, CI files, ... to the daemon",
    "test_context_holds_no_excluded_path":
        "the deny-list misses unit_tests, container_tests, Dockerfile, .ci, ...",
    "test_workdir_holds_only_the_app_and_the_venv": "COPY . /app copies the whole context",
    "test_image_holds_no_excluded_file": "uv stays in the image",
    "test_image_has_no_compiler_or_package_manager":
        "one stage: the builder base's shell, dpkg, plus uv",
    "test_the_app_imports_as_the_runtime_user": "no USER: the app runs as root",
    "test_no_setuid_or_setgid_files": "the builder base keeps its setuid programs",
    "test_only_sticky_directories_are_world_writable":
        "uv's cache stays in /root/.cache/uv, its lock files world-writable",
    "test_app_and_venv_belong_to_root_and_are_read_only_for_the_service_user":
        "the venv's .lock is world-writable",
    "test_app_bytecode_was_compiled_in_the_build":
        "only the venv is compiled (UV_COMPILE_BYTECODE), not app/",
    "test_stdlib_is_compiled_to_bytecode_that_matches_its_sources":
        "half the stdlib has no bytecode: compiled at run time, into the container",
    "test_image_runs_as_the_numeric_non_root_user": "no USER: root",
    "test_image_sets_its_user_itself": "no USER of its own",
    "test_image_created_label_is_a_time_of_its_build": "no labels",
    "test_image_exposes_exactly_the_service_port": "no EXPOSE",
    "test_image_has_an_exec_form_healthcheck_on_the_health_path": "no HEALTHCHECK",
    "test_container_becomes_healthy": "no HEALTHCHECK",
    "test_image_starts_the_app_whatever_its_base_sets":
        "CMD fastapi run (the fastapi-cli wrapper), not the table's command",
    "test_image_labels_name_its_base": "no labels",
    "test_image_carries_oci_labels": "no labels",
    "test_image_revision_label_is_the_build_contexts_commit": "no labels",
    "test_image_environment_keeps_bytecode_and_output_as_built":
        "no PYTHONDONTWRITEBYTECODE, no PYTHONUNBUFFERED",
    "test_image_size_is_within_the_budget_of_its_base":
        "the builder base, uv, the context and fastapi[standard] all ship",
    "test_bytes_added_on_top_of_the_base_are_within_budget":
        "uv, the whole context, uv's cache and fastapi[standard] on top of the base",
    "test_changing_only_app_code_reuses_the_dependency_layer":
        "COPY . before uv sync: an app edit re-syncs every dependency",
    "test_a_rebuild_from_an_empty_cache_gives_the_same_layers":
        "file dates of the build time: no two builds alike",
    "test_server_runs_as_the_image_user_without_capabilities_by_default":
        "root, with Docker's default capabilities",
    "test_sbom_names_the_base_and_its_debian_packages":
        "no base labels, so the SBOM cannot name the base",
    "test_every_python_dependency_has_an_allowed_licence":
        "fastapi[standard] brings Jinja2 and protobuf, whose metadata name no SPDX licence",
    "test_k8s_container_port_is_the_exposed_port": "no EXPOSE to match the manifest's port",
    "test_k8s_runs_as_the_image_user": "root, while the manifest says 65532",
    "test_compose_publishes_the_exposed_port_on_loopback": "no EXPOSE to match compose's port",
}
# fmt: on


def design_tree(destination: Path, baseline: bool) -> Path:
    """A committed copy of one design's tree."""
    return commit_tree(baseline_tree(destination) if baseline else copy_tree(destination))


def run_generic_layer(tree: Path, base: str | None, work: Path) -> tuple[list[Case], float]:
    """Runs the generic checks with this project's table, ``tree`` as the build context."""
    junit = work / f"{tree.name}.xml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IMAGE_CHECKS_")},
        "BASE_FLAVOUR": BASELINE_FLAVOUR,
    }
    started = time.perf_counter()
    subprocess.run(
        ["uv", "run", "--project", ROOT, "--frozen", "--quiet", "pytest", "--pyargs",
         "image_checks", "--image-table", ROOT / "pyproject.toml", "--build-context", tree,
         *(["--image-base", base] if base else []),
         "--image-reports", work / f"{tree.name}-reports",
         "--rootdir", work, "-c", work / "pytest.ini", "-p", "no:cacheprovider", "-q",
         f"--junitxml={junit}"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if not junit.exists():
        raise SystemExit(f"the generic layer did not run in {tree}")
    return cases(junit), seconds


def compare(ours: list[Case], baseline: list[Case]) -> list[str]:
    """What differs from the expected verdict.

    Ours fails nothing; the baseline fails exactly ``BASELINE_FAULTS``.
    """
    problems = [f"ours {c.outcome}: {c.name}: {c.why}" for c in ours if c.outcome != "passed"]
    failed = {c.test for c in baseline if c.red}
    skipped = [c.name for c in baseline if c.outcome == "skipped"]
    problems += [
        f"baseline: {name} passed, yet the design has that fault: {BASELINE_FAULTS[name]}"
        for name in sorted(set(BASELINE_FAULTS) - failed)
    ]
    problems += [
        f"baseline: {c.name} {c.outcome}, a fault not listed in BASELINE_FAULTS: {c.why}"
        for c in baseline
        if c.test in failed - set(BASELINE_FAULTS)
    ]
    problems += [f"baseline: {name} skipped" for name in skipped]
    return problems


def table(ours: list[Case], baseline: list[Case]) -> str:
    """Markdown: one row per check, ours beside the original design, and the fault it caught.

    The tests' own messages are in verdict.json.
    """
    theirs = {(c.module, c.name): c for c in baseline}
    lines = ["| Check | Ours | Original design |", "| --- | --- | --- |"]
    for check in ours:
        other = theirs.get((check.module, check.name))
        verdict = "not run" if other is None else other.outcome
        if other is not None and other.outcome != "passed":
            fault = BASELINE_FAULTS.get(other.test, other.why[:100])
            verdict = f"**{other.outcome}**: {fault}"
        module = check.module.removeprefix("test_")
        lines.append(f"| {module}: `{check.name}` | {check.outcome} | {verdict} |")
    return "\n".join(lines)


def write_report(text: str, ours: list[Case], theirs: list[Case]) -> None:
    """Writes docs/verdict.md: both designs, check by check."""
    passed = sum(c.outcome == "passed" for c in theirs)
    REPORT.write_text(
        "# The generic checks on two designs\n\n"
        "Written by `uv run python benchmarks/verdict.py`: pytest-image-checks with this "
        "project's table against ours and the original single-stage design "
        "(`benchmarks/baseline/`), each built on the slim bases from its own tree. The "
        "original's faults are listed in the script (`BASELINE_FAULTS`), found by reading its "
        "Dockerfile and .dockerignore; the run fails unless it fails exactly those and ours "
        "none. Every check's message is in `benchmarks/verdict.json`.\n\n"
        f"Ours: {sum(c.outcome == 'passed' for c in ours)} of {len(ours)} passed. Original "
        f"design: {passed} of {len(theirs)} passed.\n\n{text}\n",
        encoding="utf-8",
    )


def main() -> int:
    """Builds and checks both designs, writes the verdict, exits 1 on an unexpected one."""
    bases = dict(
        line.split("=", 1)
        for line in output([ROOT / "deployment" / "base-images.sh", BASELINE_FLAVOUR]).split()
    )
    with tempfile.TemporaryDirectory(prefix="verdict-") as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\n")  # no project's settings: the plugin's
        log("ours: the generic layer (builds the image from a copy of this checkout)")
        ours, ours_s = run_generic_layer(design_tree(work / "ours", False), None, work)
        log(f"ours: {sum(c.outcome == 'passed' for c in ours)} of {len(ours)} passed")
        log("original design: the generic layer (builds it from its own tree)")
        theirs, theirs_s = run_generic_layer(
            design_tree(work / "original", True), bases["BUILDER_IMAGE"], work
        )
        passed = sum(c.outcome == "passed" for c in theirs)
        log(f"original design: {passed} of {len(theirs)} passed")
    problems = compare(ours, theirs)
    RESULTS.write_text(
        json.dumps(
            {
                "commit": output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).strip(),
                "flavour": BASELINE_FLAVOUR,
                "seconds": {"ours": round(ours_s), "original": round(theirs_s)},
                "ours": [asdict(c) for c in ours],
                "original": [asdict(c) for c in theirs],
                "problems": problems,
            },
            indent=2,
        )
        + "\n"
    )
    write_report(table(ours, theirs), ours, theirs)
    for problem in problems:
        log(f"UNEXPECTED {problem}")
    log(f"verdict: {'as expected' if not problems else f'{len(problems)} unexpected'}; "
        f"{RESULTS.relative_to(ROOT)} and {REPORT.relative_to(ROOT)} written")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
