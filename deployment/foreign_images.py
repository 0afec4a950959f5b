"""Proof that pytest-image-checks verifies images this project did not design, from its wheel.

Builds the plugin's wheel (``uv build --package pytest-image-checks``), installs it with
pytest into a fresh virtual environment outside this checkout (``pip install`` of the wheel, as
the README types it), makes three images and verifies each with the README's command, run in a
folder that holds only that image's table::

    pytest --pyargs image_checks --image my-service:1.0 --image-table image-checks.toml

- ``original``: the original single-stage design of this service (``benchmarks/baseline/``),
  built on the slim bases, with this project's table (as ``benchmarks/verdict.py``, but
  verified only as an image: no build context);
- ``my-service:1.0``: pypiserver, a third-party Python server from the package index, in a
  two-stage image on this project's local slim bases, whose Dockerfile is written here;
- ``busybox``: Debian's static busybox serving files with its httpd, ``FROM scratch``: no
  Python, no base, a multi-call binary that holds a shell.

Each verdict is compared, check by check, with the faults listed here (``EXPECTED``, found by
reading each Dockerfile); writes ``packages/pytest-image-checks/VERDICTS.md`` and exits 1 on
any difference. Usage: ``uv run python deployment/foreign_images.py``
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import tomlkit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import BUSYBOX, baseline_tree, commit_tree, static_busybox  # noqa: E402
from image_checks.junit import Case, cases  # noqa: E402

REPORT = ROOT / "packages" / "pytest-image-checks" / "VERDICTS.md"
TAGS = ("foreign/original-design:1", "my-service:1.0", "foreign/busybox-httpd:1")
INSTALL = "pip install dist/pytest_image_checks-0.1.0-py3-none-any.whl"  # as the README types it
VERIFY = "pytest --pyargs image_checks --image my-service:1.0 --image-table image-checks.toml"
PYPISERVER = "pypiserver==2.4.2"

# The faults of each image, by check, as a reader of its Dockerfile finds them.
# fmt: off
NO_LABELS = "no OCI labels: no base name, digest, version or revision"
EXPECTED: dict[str, dict[str, str]] = {
    "original": {
        "test_workdir_holds_only_the_app_and_the_venv": "COPY . /app copies the whole context",
        "test_image_holds_no_excluded_file": "uv stays in the image",
        "test_image_has_no_compiler_or_package_manager": "a shell, dpkg and uv",
        "test_the_app_imports_as_the_runtime_user": "no USER: the app runs as root",
        "test_no_setuid_or_setgid_files": "the builder base keeps its setuid programs",
        "test_only_sticky_directories_are_world_writable": "uv's cache locks: world-writable",
        "test_app_and_venv_belong_to_root_and_are_read_only_for_the_service_user":
            "the venv's .lock is world-writable",
        "test_app_bytecode_was_compiled_in_the_build": "only the venv is compiled, not app/",
        "test_stdlib_is_compiled_to_bytecode_that_matches_its_sources":
            "the stdlib is compiled at run time, into the container",
        "test_image_runs_as_the_numeric_non_root_user": "no USER: root",
        "test_image_sets_its_user_itself": "no USER of its own",
        "test_image_created_label_is_a_time_of_its_build": NO_LABELS,
        "test_image_exposes_exactly_the_service_port": "no EXPOSE",
        "test_image_has_an_exec_form_healthcheck_on_the_health_path": "no HEALTHCHECK",
        "test_container_becomes_healthy": "no HEALTHCHECK",
        "test_image_starts_the_app_whatever_its_base_sets": "CMD fastapi run, not the table's",
        "test_image_labels_name_its_base": NO_LABELS,
        "test_image_carries_oci_labels": NO_LABELS,
        "test_image_environment_keeps_bytecode_and_output_as_built":
            "no PYTHONDONTWRITEBYTECODE, no PYTHONUNBUFFERED",
        "test_image_size_is_within_the_budget_of_its_base": "builder base, uv, context",
        "test_bytes_added_on_top_of_the_base_are_within_budget": "uv, the context, uv's cache",
        "test_server_runs_as_the_image_user_without_capabilities_by_default": "root",
        "test_sbom_names_the_base_and_its_debian_packages": NO_LABELS,
        "test_every_python_dependency_has_an_allowed_licence":
            "fastapi[standard] brings distributions whose metadata names no SPDX licence",
        "test_k8s_container_port_is_the_exposed_port": "no EXPOSE to match the manifest's port",
        "test_k8s_runs_as_the_image_user": "root, while the manifest says 65532",
        "test_compose_publishes_the_exposed_port_on_loopback": "no EXPOSE to match compose's port",
    },
    "my-service:1.0": {
        "test_app_bytecode_was_compiled_in_the_build":
            "uv pip install compiles nothing: pypiserver's modules have no bytecode",
        "test_dependencies_are_compiled_to_bytecode": "no dependency is compiled either",
        "test_image_labels_name_its_base": NO_LABELS,
        "test_image_carries_oci_labels": NO_LABELS,
        "test_sbom_names_the_base_and_its_debian_packages": NO_LABELS,
        "test_image_environment_keeps_bytecode_and_output_as_built":
            "PATH does not start with the venv; no PYTHONDONTWRITEBYTECODE, PYTHONUNBUFFERED",
        "test_app_and_venv_belong_to_root_and_are_read_only_for_the_service_user":
            "/srv and its packages folder belong to the service user",
        "test_image_holds_no_excluded_file": "pip's vendored CA bundle (a *.pem) ships",
        "test_image_has_no_compiler_or_package_manager": "pypiserver depends on pip, which ships",
        "test_docker_stop_stops_the_container_cleanly_within_budget":
            "pypiserver as PID 1 does not stop on SIGTERM",
        "test_image_created_label_is_a_time_of_its_build": NO_LABELS,
    },
    "busybox": {
        "test_image_has_no_compiler_or_package_manager": "busybox is a shell, wget and more",
        "test_docker_stop_stops_the_container_cleanly_within_budget":
            "busybox httpd as PID 1 does not stop on SIGTERM",
        "test_image_created_label_is_a_time_of_its_build": NO_LABELS,
        "test_image_size_is_within_the_budget_of_its_base": "FROM scratch: no base to hold it to",
        "test_bytes_added_on_top_of_the_base_are_within_budget": "FROM scratch: no base",
        "test_image_is_built_on_the_base_its_labels_name": "FROM scratch: no base",
        "test_layers_added_on_top_of_the_base_are_bounded": "FROM scratch: no base",
        "test_image_labels_name_its_base": NO_LABELS,
        "test_image_carries_oci_labels": NO_LABELS,
        "test_sbom_names_the_base_and_its_debian_packages": NO_LABELS,
    },
}
# fmt: on

PYPISERVER_DOCKERFILE = f"""\
FROM {{uv}} AS uv
FROM {{builder}} AS builder
COPY --from=uv /uv /usr/local/bin/uv
RUN --mount=type=secret,id=ca_bundle,required=false \\
    if [ -s /run/secrets/ca_bundle ]; then export SSL_CERT_FILE=/run/secrets/ca_bundle; fi \\
    && uv venv --python /usr/bin/python3.13 /opt/venv \\
    && uv pip install --python /opt/venv/bin/python --no-cache {PYPISERVER} \\
    && rm -f /opt/venv/.lock && mkdir -p /srv/packages

FROM {{runtime}}
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=65532:65532 /srv/packages /srv/packages
WORKDIR /srv
USER 65532
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s \\
    CMD ["/opt/venv/bin/python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/health')"]
ENTRYPOINT []
CMD ["/opt/venv/bin/pypi-server", "run", "-p", "8080", "/srv/packages"]
"""

PYPISERVER_TABLE = """\
[tool.image-checks]
schema-version = 1
user = 65532
workdir = "/srv"
port = 8080
command = ["/opt/venv/bin/pypi-server", "run", "-p", "8080", "/srv/packages"]
max-image-mb = 90
max-added-mb = 40
max-added-layers = 4
required-paths = ["packages", "/opt/venv/bin/pypi-server"]
workdir-allowed = ["packages"]
image-excluded = [".git", ".env", "*.key", "*.pem", "id_rsa*", "credentials.json", "uv"]
image-excluded-allowed = ["*/site-packages/certifi/cacert.pem", "usr/lib/ssl/cert.pem",
                          "etc/ssl/certs/*.pem"]
forbidden-tools = ["sh", "bash", "apt", "dpkg", "pip", "uv", "gcc", "curl", "wget"]

[tool.image-checks.http]
health-path = "/health"

[tool.image-checks.python]
version = "3.13"
venv = "/opt/venv"
import-check = "pypiserver"
code-paths = ["/opt/venv/lib/python3.13/site-packages/pypiserver"]
allowed-licences = ["MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "PSF-2.0", "Python-2.0",
                    "ISC", "Zlib", "MPL-2.0"]
"""

BUSYBOX_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY www /www
USER 65534
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s \\
    CMD ["/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
"""

BUSYBOX_TABLE = """\
[tool.image-checks]
schema-version = 1
user = 65534
workdir = "/"
port = 8080
command = ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
max-image-mb = 5
max-added-mb = 5
max-added-layers = 2
required-paths = ["/bin/busybox", "/www/index.html"]
workdir-allowed = ["bin", "www", "dev", "etc", "proc", "sys", ".dockerenv"]
image-excluded = [".git", ".env", "*.key", "*.pem", "id_rsa*"]
forbidden-tools = ["sh", "bash", "busybox", "apt", "dpkg", "curl", "wget"]

[tool.image-checks.http]
health-path = "/"
"""


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[foreign-images] {message}", file=sys.stderr, flush=True)


def run(command: list[str] | str, **kwargs: object) -> str:
    """Runs ``command`` (a string: as typed, split like a shell); its output, or exits."""
    argv = shlex.split(command) if isinstance(command, str) else command
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{result.stdout[-2000:]}"
                         f"{result.stderr[-3000:]}")  # fmt: skip
    return result.stdout


def build(tag: str, context: Path, secret: bool) -> None:
    """Builds ``context`` as ``tag`` with BuildKit (the CA bundle as a secret when asked)."""
    cli = run([ROOT / "deployment" / "docker-client.sh"]).strip()
    bundle = os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt"
    secrets = (
        ["--secret", f"id=ca_bundle,src={bundle}"] if secret and Path(bundle).is_file() else []
    )
    run([cli, "build", "-q", "-t", tag, *secrets, str(context)],
        env={**os.environ, "DOCKER_BUILDKIT": "1"})  # fmt: skip


def fresh_venv(work: Path) -> Path:
    """A virtual environment outside the checkout with the plugin's wheel and pytest only."""
    log("building the wheel (uv build --package pytest-image-checks)")
    run(["uv", "build", "--package", "pytest-image-checks", "--out-dir", work / "dist"], cwd=ROOT)
    venv = work / "venv"
    run(["uv", "venv", "--seed", "--quiet", "--python", sys.executable, venv])
    log(f"installing it in a fresh venv: {INSTALL}")
    run(INSTALL, cwd=work, env=venv_env(venv))
    return venv


def venv_env(venv: Path) -> dict[str, str]:
    """The environment with ``venv`` first on PATH and nothing of this checkout's."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("IMAGE_CHECKS_", "VIRTUAL"))}
    return {**keep, "PATH": f"{venv / 'bin'}:{keep['PATH']}", "VIRTUAL_ENV": str(venv)}


def images(work: Path) -> dict[str, tuple[str, str, str | None]]:
    """Builds the three images: name -> (tag, table, base to name with --image-base)."""
    bases = dict(
        line.split("=", 1) for line in run([ROOT / "deployment" / "base-images.sh", "slim"]).split()
    )
    log("original design: building it from its own tree on the slim bases")
    tree = commit_tree(baseline_tree(work / "original"))
    run([tree / "deployment" / "build-image.sh", "foreign/original-design:1"],
        env={**os.environ, "BASE_FLAVOUR": "slim"})  # fmt: skip
    ours = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    document = tomlkit.document()
    document["tool"] = {"image-checks": ours["tool"]["image-checks"]}
    del document["tool"]["image-checks"]["build"]  # verified as an image: no build context
    document["tool"]["image-checks"]["deployment"] = {
        "manifests": str(ROOT / "deployment" / "k8s"), "compose": str(ROOT / "compose.yaml"),
        "compose-service": "app",
    }  # fmt: skip
    original_table = tomlkit.dumps(document)

    log(f"my-service:1.0: {PYPISERVER} in a two-stage image on the slim bases")
    context = work / "pypiserver"
    context.mkdir()
    (context / "Dockerfile").write_text(
        PYPISERVER_DOCKERFILE.format(
            uv=bases["UV_IMAGE"], builder=bases["BUILDER_IMAGE"], runtime=bases["RUNTIME_IMAGE"]
        )
    )
    build("my-service:1.0", context, secret=True)

    log(f"busybox: Debian's {BUSYBOX}, FROM scratch")
    context = work / "busybox"
    (context / "www").mkdir(parents=True)
    (context / "www" / "index.html").write_text("<h1>static</h1>\n")
    static_busybox(context / "busybox")
    (context / "Dockerfile").write_text(BUSYBOX_DOCKERFILE)
    build("foreign/busybox-httpd:1", context, secret=False)
    return {
        "original": ("foreign/original-design:1", original_table, bases["BUILDER_IMAGE"]),
        "my-service:1.0": ("my-service:1.0", PYPISERVER_TABLE, bases["RUNTIME_IMAGE"]),
        "busybox": ("foreign/busybox-httpd:1", BUSYBOX_TABLE, None),
    }


def verify(venv: Path, work: Path, name: str, tag: str, table: str, base: str | None) -> list[Case]:
    """Runs the README's command (with this image's tag) in a folder holding only its table."""
    folder = work / f"verify-{name.replace(':', '-')}"
    folder.mkdir()
    (folder / "image-checks.toml").write_text(table, encoding="utf-8")
    command = shlex.split(VERIFY.replace("my-service:1.0", tag))
    extra = ["-p", "no:cacheprovider", "-q", f"--junitxml={folder / 'junit.xml'}",
             "--image-reports", str(folder / "reports"),
             *(["--image-base", base] if base else [])]  # fmt: skip
    log(f"{name}: {' '.join(command)}")
    result = subprocess.run(
        [*command, *extra], cwd=folder, env=venv_env(venv), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    found = cases(folder / "junit.xml")
    if not found:
        raise SystemExit(f"{name}: no check ran:\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
    if "Traceback" in result.stdout.split("= FAILURES =")[0]:
        raise SystemExit(f"{name}: the harness crashed:\n{result.stdout[-3000:]}")
    return found


def compare(name: str, found: list[Case]) -> list[str]:
    """What differs from the faults listed for ``name``."""
    expected = EXPECTED[name]
    red = {c.test for c in found if c.red}
    problems = [f"{name}: {t} passed, yet the image has that fault: {expected[t]}"
                for t in sorted(set(expected) - red)]  # fmt: skip
    problems += [f"{name}: {c.name} {c.outcome}, a fault not listed: {c.why}"
                 for c in found if c.test in red - set(expected)]  # fmt: skip
    problems += [f"{name}: {c.name} skipped" for c in found if c.outcome == "skipped"]
    return problems


def write_report(results: dict[str, list[Case]]) -> None:
    """The verdicts, check by check, for the plugin's README to link."""
    lines = [
        "# Verdicts on images this project did not design",
        "",
        "Written by `uv run python deployment/foreign_images.py`: the plugin's wheel in a fresh",
        "virtual environment, `pytest --pyargs image_checks --image TAG --image-table",
        "image-checks.toml` in a folder holding only the image's table. The faults each image",
        "has, found by reading its Dockerfile, are listed in the script; the run fails unless",
        "each image fails exactly those.",
        "",
    ]
    for name, found in results.items():
        passed = sum(c.outcome == "passed" for c in found)
        lines += [f"## {name}: {passed} passed, {len(found) - passed} failed", "",
                  "| Check | Verdict |", "| --- | --- |"]  # fmt: skip
        for case in found:
            fault = EXPECTED[name].get(case.test, "not listed")
            said = case.why[:140].replace("|", "/")
            why = f"**{case.outcome}**: {fault} (the check: {said})"
            lines.append(f"| {case.module}: `{case.name}` | {why if case.red else 'passed'} |")
        lines.append("")
    REPORT.write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    """Builds, installs and verifies; exits 1 when a verdict differs from the listed faults."""
    with tempfile.TemporaryDirectory(prefix="foreign-images-") as tmp:
        work = Path(tmp)
        venv = fresh_venv(work)
        results, problems = {}, []
        try:
            for name, (tag, table, base) in images(work).items():
                results[name] = verify(venv, work, name, tag, table, base)
                passed = sum(c.outcome == "passed" for c in results[name])
                log(f"{name}: {passed} of {len(results[name])} passed")
                problems += compare(name, results[name])
        finally:  # the images it made go with the run
            subprocess.run(["docker", "rmi", "-f", *TAGS], capture_output=True, check=False)
    write_report(results)
    for problem in problems:
        log(f"UNEXPECTED {problem}")
    log(f"{'as expected' if not problems else f'{len(problems)} unexpected'}; "
        f"{REPORT.relative_to(ROOT)} written")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
