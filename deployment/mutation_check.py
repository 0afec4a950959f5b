"""Proves the image-verification suite can fail, one deliberate break at a time.

Breaks the checkout the way a rushed change would and checks that the test meant to catch
the break goes red.

Each break is applied to a fresh clone of HEAD in a temporary folder (the checkout is never
touched); the container suite runs there and its JUnit XML says which tests failed.

Usage: ``uv run python deployment/mutation_check.py [NAME ...]`` (all breaks by default).
Exit code 1 if any break went unnoticed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Break:
    """One rushed change: replace ``old`` by ``new`` in ``path``; ``caught_by`` must fail."""

    name: str
    path: str
    old: str
    new: str
    caught_by: tuple[str, ...]


BREAKS = (
    Break(
        "runtime copies the whole context",
        "Dockerfile",
        "COPY --from=builder /app/app /app/app",
        "COPY --from=builder /app/app /app/app\nCOPY . /app/",
        ("test_workdir_holds_only_the_app_and_the_venv",),
    ),
    Break(
        "runs as root",
        "Dockerfile",
        "USER 65532:65532",
        "USER 0:0",
        ("test_image_runs_as_the_numeric_non_root_user",),
    ),
    Break(
        "named user instead of numeric UID",
        "Dockerfile",
        "USER 65532:65532",
        "USER nonroot",
        ("test_image_runs_as_the_numeric_non_root_user",),
    ),
    Break(
        "exposes an extra port",
        "Dockerfile",
        "EXPOSE 8000",
        "EXPOSE 8000 9090",
        ("test_image_exposes_exactly_the_service_port",),
    ),
    Break(
        "shell-form CMD",
        "Dockerfile",
        'CMD ["python", "-m", "app"]',
        "CMD python -m app",
        ("test_image_starts_the_app_whatever_its_base_sets",),
    ),
    Break(
        "dev dependencies installed",
        "Dockerfile",
        "uv sync --frozen --no-dev --no-install-project",
        "uv sync --frozen --no-install-project",
        ("test_no_dev_dependency_is_importable",),
    ),
    Break(
        "no HEALTHCHECK",
        "Dockerfile",
        'CMD ["python", "-m", "app.healthcheck"]',
        "NONE",
        (
            "test_image_has_an_exec_form_healthcheck_on_the_health_path",
            "test_container_becomes_healthy",
        ),
    ),
    Break(
        "uv left in the runtime image",
        "Dockerfile",
        "COPY --from=builder /app/app /app/app",
        "COPY --from=builder /app/app /app/app\nCOPY --from=uv /uv /usr/local/bin/uv",
        ("test_image_holds_no_excluded_file", "test_image_has_no_compiler_or_package_manager"),
    ),
    Break(
        "version label not passed",
        "Dockerfile",
        'org.opencontainers.image.version="${VERSION}"',
        'org.opencontainers.image.version="latest"',
        ("test_image_carries_oci_labels",),
    ),
    Break(
        ".dockerignore lets host bytecode and .env files through",
        ".dockerignore",
        "**/__pycache__\n**/*.py[cod]\n**/.env*\n",
        "",
        ("test_context_holds_no_excluded_path",),
    ),
    Break(
        ".dockerignore as a short deny-list",
        ".dockerignore",
        "*\n!pyproject.toml\n!uv.lock\n!app/\n",
        ".git\n.venv\n",
        ("test_context_holds_only_the_allowed_top_level_entries",),
    ),
    Break(
        "health route renamed",
        "app/routes.py",
        '@router.get("/health"',
        '@router.get("/healthz"',
        ("test_health_answers_ok", "test_openapi_lists_the_api_and_health_paths"),
    ),
    Break(
        "prod profile points elsewhere",
        "app/profiles.yaml",
        "prod:\n  met_api_url: https://collectionapi.metmuseum.org",
        "prod:\n  met_api_url: https://collectionapi-dummy.metmuseum.org",
        ("test_env_prod_selects_the_public_upstream",),
    ),
    Break(
        "service listens on another port than EXPOSE",
        "app/settings.py",
        "port: int = Field(default=8000",
        "port: int = Field(default=8081",
        ("test_service_listens_on_the_exposed_port_inside_the_container",),
    ),
    Break(
        "upstream errors answered as 500",
        "app/errors.py",
        "    status_code = status.HTTP_502_BAD_GATEWAY",
        "    status_code = status.HTTP_500_INTERNAL_SERVER_ERROR",
        ("test_fault_matrix",),
    ),
    Break(
        "size budget below the image",
        "pyproject.toml",
        "max-image-mb = { public = 100, stand-in = 95, slim = 75 }",
        "max-image-mb = { public = 40, stand-in = 40, slim = 40 }",
        ("test_image_size_is_within_the_budget_of_its_base",),
    ),
    Break(
        "added-bytes budget below what the build adds",
        "pyproject.toml",
        "max-added-mb = 35 ",
        "max-added-mb = 5 ",
        ("test_bytes_added_on_top_of_the_base_are_within_budget",),
    ),
    Break(
        "WORKDIR before the copies (base image's user owns /app)",
        "Dockerfile",
        "COPY --from=builder /app/.venv /app/.venv\nCOPY --from=builder /app/app /app/app\nWORKDIR /app",
        "WORKDIR /app\nCOPY --from=builder /app/.venv /app/.venv\nCOPY --from=builder /app/app /app/app",
        ("test_app_and_venv_belong_to_root_and_are_read_only_for_the_service_user",),
    ),
    Break(
        "uv's world-writable lock file shipped",
        "Dockerfile",
        " \\\n    && rm -f /app/.venv/.lock",
        "",
        ("test_only_sticky_directories_are_world_writable",),
    ),
    Break(
        "app not compiled at build time",
        "Dockerfile",
        " \\\n    && /app/.venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /app/app",
        "",
        ("test_app_bytecode_was_compiled_in_the_build",),
    ),
    Break(
        "dependencies not compiled",
        "Dockerfile",
        "UV_COMPILE_BYTECODE=1",
        "UV_COMPILE_BYTECODE=0",
        ("test_dependencies_are_compiled_to_bytecode",),
    ),
    Break(
        "a token baked into ENV",
        "Dockerfile",
        "    PYTHONUNBUFFERED=1\n",
        "    PYTHONUNBUFFERED=1 \\\n    MET_API_TOKEN=abc123\n",
        ("test_no_secret_looking_env_or_label",),
    ),
    Break(
        "a token passed as build ARG and stored",
        "Dockerfile",
        "FROM ${RUNTIME_IMAGE} AS runtime\n",
        "FROM ${RUNTIME_IMAGE} AS runtime\nARG GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ0123\n"
        "ENV GIT_REV=${GITHUB_TOKEN}\n",
        ("test_history_shows_no_secret",),
    ),
    Break(
        "build secret copied into the app",
        "Dockerfile",
        "COPY app /app/app\n",
        "COPY app /app/app\nRUN --mount=type=secret,id=ca_bundle cp /run/secrets/ca_bundle /app/app/ca.crt\n",
        ("test_build_secret_content_is_in_no_layer",),
    ),
    Break(
        "venv copied twice",
        "Dockerfile",
        "COPY --from=builder /app/app /app/app\n",
        "COPY --from=builder /app/app /app/app\nCOPY --from=builder /app/.venv /app/.venv\n",
        ("test_wasted_bytes_are_within_budget",),
    ),
    Break(
        "app copied before the dependency step",
        "Dockerfile",
        "WORKDIR /app\n\n# Dependencies first",
        "WORKDIR /app\nCOPY app /app/app\n\n# Dependencies first",
        ("test_changing_only_app_code_reuses_the_dependency_layer",),
    ),
    Break(
        "deprecated MAINTAINER instruction",
        "Dockerfile",
        "FROM ${RUNTIME_IMAGE} AS runtime\n",
        "FROM ${RUNTIME_IMAGE} AS runtime\nMAINTAINER someone@example.com\n",
        ("test_dockerfile_passes_hadolint",),
    ),
    Break(
        "non-zero exit after SIGTERM",
        "app/__main__.py",
        "        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,\n    )\n    return 0",
        "        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,\n    )\n    return 3",
        ("test_sigterm_stops_the_container_cleanly_within_budget",),
    ),
    Break(
        "no graceful drain on shutdown",
        "app/__main__.py",
        "GRACEFUL_SHUTDOWN_SECONDS = 8",
        "GRACEFUL_SHUTDOWN_SECONDS = 0",
        ("test_sigterm_lets_in_flight_requests_finish",),
    ),
    Break(
        "service crashes on non-ASCII titles",
        "app/services/search.py",
        "hits = await self._provider.search(title)",
        'hits = await self._provider.search(title.encode("ascii").decode())',
        ("test_api_conforms_to_its_schema",),
    ),
    Break(
        "upstream timeout not applied",
        "app/main.py",
        "timeout=httpx.Timeout(settings.upstream_timeout, connect=settings.upstream_connect_timeout),",
        "timeout=httpx.Timeout(30.0),",
        ("test_fault_matrix",),
    ),
    Break(
        "k8s container port drifts from EXPOSE",
        "deployment/k8s/deployment.yaml",
        "containerPort: 8000",
        "containerPort: 8080",
        ("test_k8s_container_port_is_the_exposed_port",),
    ),
    Break(
        "k8s runs another UID",
        "deployment/k8s/deployment.yaml",
        "        runAsUser: 65532\n        runAsGroup: 65532\n        seccompProfile:",
        "        runAsUser: 1000\n        runAsGroup: 65532\n        seccompProfile:",
        ("test_k8s_runs_as_the_image_user",),
    ),
    Break(
        "k8s probes a path the app does not serve",
        "deployment/k8s/deployment.yaml",
        "          readinessProbe:\n            httpGet:\n              path: /health",
        "          readinessProbe:\n            httpGet:\n              path: /ready",
        ("test_k8s_probes_use_the_health_path_the_image_answers",),
    ),
    Break(
        "ConfigMap variable the app does not read",
        "deployment/k8s/configmap.yaml",
        "  UPSTREAM_TIMEOUT:",
        "  UPSTREAM_TIMEOUT_SECONDS:",
        ("test_configmap_sets_only_variables_the_app_reads",),
    ),
    Break(
        "grace period shorter than the drain",
        "deployment/k8s/deployment.yaml",
        "terminationGracePeriodSeconds: 30",
        "terminationGracePeriodSeconds: 5",
        ("test_k8s_grace_period_exceeds_the_drain_time",),
    ),
    Break(
        "k8s memory limit above the tested one",
        "deployment/k8s/deployment.yaml",
        "              memory: 256Mi",
        "              memory: 512Mi",
        ("test_k8s_memory_limit_is_the_one_the_suite_tests_under",),
    ),
    Break(
        "compose maps another port",
        "compose.yaml",
        '"127.0.0.1:8000:8000"',
        '"127.0.0.1:8000:8080"',
        ("test_compose_publishes_the_exposed_port_on_loopback",),
    ),
)


def failed_tests(junit: Path) -> set[str]:
    """Names (without parameters) of the tests that failed or errored in a JUnit XML file."""
    if not junit.exists():
        return set()
    root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest's output
    return {
        case.get("name", "").split("[")[0]
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    }


def check(brk: Break, workdir: Path) -> tuple[bool, set[str], float, str]:
    """Applies one break in a fresh clone and runs the container suite there."""
    clone = workdir / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    target = clone / brk.path
    text = target.read_text(encoding="utf-8")
    if brk.old not in text:
        raise SystemExit(f"break {brk.name!r}: {brk.old!r} not found in {brk.path}; update it")
    target.write_text(text.replace(brk.old, brk.new, 1), encoding="utf-8")
    subprocess.run(["git", "-C", str(clone), "commit", "-qam", f"break: {brk.name}"], check=True)
    junit = workdir / "junit.xml"
    started = time.perf_counter()
    run = subprocess.run(
        ["uv", "run", "--frozen", "--quiet", "pytest", "container_tests", "-q",
         "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=clone, capture_output=True, text=True, check=False,
    )  # fmt: skip
    failed = failed_tests(junit)
    last_line = (run.stdout + run.stderr).strip().splitlines()[-1:] or [""]
    return set(brk.caught_by) <= failed, failed, time.perf_counter() - started, last_line[0]


def main() -> int:
    """Runs the chosen breaks and prints which test caught each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="substrings of break names to run")
    args = parser.parse_args()
    chosen = [b for b in BREAKS if not args.names or any(n in b.name for n in args.names)]
    missed = 0
    for number, brk in enumerate(chosen, 1):
        with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
            caught, failed, seconds, last_line = check(brk, Path(tmp))
        missed += not caught
        verdict = "caught" if caught else "MISSED"
        print(f"[{number}/{len(chosen)}] {verdict:6}  {brk.name}  ({seconds:.0f} s)")
        print(f"          expected red: {', '.join(brk.caught_by)}")
        print(f"          went red:     {', '.join(sorted(failed)) or 'nothing'}")
        print(f"          suite said:   {last_line[:150]}", flush=True)
    print(f"\n{len(chosen) - missed} of {len(chosen)} breaks caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
