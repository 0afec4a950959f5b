"""Image metadata: user, workdir, port, healthcheck, labels, command and environment."""

from __future__ import annotations

import re
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import docker
import pytest

from image_checks import engine
from image_checks.filesystem import ImageFilesystem
from image_checks.plugin import base_name
from image_checks.table import Table

OCI = "org.opencontainers.image"


def _git(context: Path, *args: str) -> bytes | None:
    """What ``git ARGS`` prints in ``context`` (None when it fails)."""
    result = subprocess.run(["git", *args], cwd=context, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def context_revision(context: Path) -> str:
    """The build context's commit, with -dirty when it holds uncommitted changes, ``unknown``
    outside git."""
    head = (_git(context, "rev-parse", "--verify", "--quiet", "HEAD") or b"").decode().strip()
    if not head:
        return "unknown"
    return f"{head}-dirty" if _git(context, "status", "--porcelain") else head


def _env(image_attrs: dict) -> dict[str, str]:
    return dict(item.split("=", 1) for item in image_attrs["Config"].get("Env") or [])


def test_image_runs_as_the_numeric_non_root_user(image_attrs: dict, image_table: Table) -> None:
    user = image_attrs["Config"].get("User") or ""
    uid = user.split(":")[0]
    assert user, "the image sets no USER, so it runs as root: set USER to a numeric UID"
    assert uid.isdigit(), f"USER is {user!r}: use a numeric UID so runAsNonRoot can verify it"
    assert int(uid) != 0, "the image runs as root: set USER to a non-root UID"
    assert int(uid) == image_table.user, f"USER is {user!r}, the table's user is {image_table.user}"


# A USER step as BuildKit (``USER 65532``) and the classic builder (``#(nop)  USER``) record it.
USER_STEP = re.compile(r"(?:^|#\(nop\)\s+)USER\s+(\S+)")


def test_image_sets_its_user_itself(
    docker_client: docker.DockerClient, image: str, image_attrs: dict, image_table: Table
) -> None:
    # The base's own USER (distroless' nonroot) would hide a USER step deleted from the build:
    # only the steps on top of the base count. Without a base named (FROM scratch), all do.
    history = docker_client.api.history(image)  # newest first
    base = base_name(image_attrs, image_table)
    try:
        base_steps = len(docker_client.api.history(base)) if base else 0
    except docker.errors.NotFound:
        pytest.fail(f"the base {base} is not in the local engine; pull or make it", pytrace=False)
    added = history[: max(len(history) - base_steps, 0)]
    users = [m.group(1) for step in added if (m := USER_STEP.search(step.get("CreatedBy") or ""))]
    on_top = f"on top of {base}" if base else "(no base named: its whole history)"
    assert users, (
        f"the build sets no USER {on_top} ({len(added)} steps of its own): the image runs as "
        "whatever user its base names; set USER in the image's last stage"
    )
    assert users[0].split(":")[0] == str(image_table.user), (
        f"the image's own last USER step is {users[0]}, the table's user is {image_table.user}"
    )


def test_image_workdir(image_attrs: dict, image_table: Table) -> None:
    workdir = image_attrs["Config"].get("WorkingDir") or "/"
    assert workdir == image_table.workdir, (
        f"WORKDIR is {workdir!r}, the table's workdir is {image_table.workdir!r}"
    )


def test_image_exposes_exactly_the_service_port(image_attrs: dict, image_table: Table) -> None:
    exposed = set(image_attrs["Config"].get("ExposedPorts") or {})
    wanted = {f"{image_table.port}/tcp"} if image_table.port is not None else set()
    assert exposed == wanted, (
        f"the image exposes {sorted(exposed)}; the table says {sorted(wanted) or 'none'}"
    )


@engine.runs_healthchecks
def test_image_has_an_exec_form_healthcheck_on_the_health_path(
    image_attrs: dict, image_table: Table
) -> None:
    check = image_attrs["Config"].get("Healthcheck") or {}
    test = check.get("Test") or []
    assert test, "the image has no HEALTHCHECK"
    assert test[:1] == ["CMD"], f"HEALTHCHECK must be exec form (no shell needed): {test}"
    if image_table.healthcheck_command is not None:
        assert test[1:] == list(image_table.healthcheck_command), (
            f"HEALTHCHECK runs {test[1:]}, the table's healthcheck-command is "
            f"{list(image_table.healthcheck_command)}"
        )
    assert check.get("Interval", 0) > 0, "HEALTHCHECK needs an explicit interval"
    assert check.get("Timeout", 0) > 0, "HEALTHCHECK needs an explicit timeout"
    wanted = {
        "--interval": (image_table.healthcheck_interval_s, check.get("Interval", 0) / 1e9),
        "--timeout": (image_table.healthcheck_timeout_s, check.get("Timeout", 0) / 1e9),
        "--start-period": (
            image_table.healthcheck_start_period_s,
            check.get("StartPeriod", 0) / 1e9,
        ),
        "--retries": (image_table.healthcheck_retries, check.get("Retries", 0)),
    }
    differ = [
        f"{flag} {got:g} (the table: {want:g})"
        for flag, (want, got) in wanted.items()
        if want is not None and got != want
    ]
    assert not differ, f"the image's HEALTHCHECK differs from the table: {', '.join(differ)}"


def test_image_stops_with_the_tables_signal(image_attrs: dict, image_table: Table) -> None:
    said = image_attrs["Config"].get("StopSignal") or "SIGTERM"
    number = int(said) if said.isdigit() else signal.Signals[f"SIG{said.removeprefix('SIG')}"]
    assert number == signal.Signals[image_table.stop_signal], (
        f"the image's STOPSIGNAL is {said}, the table's stop-signal is {image_table.stop_signal}: "
        "`docker stop` and Kubernetes send it to ask the server to drain"
    )


def test_image_starts_the_app_whatever_its_base_sets(image_attrs: dict, image_table: Table) -> None:
    config = image_attrs["Config"]
    effective = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    assert effective == list(image_table.command), (
        f"the image starts {effective} (ENTRYPOINT {config.get('Entrypoint')} + CMD "
        f"{config.get('Cmd')}), the table's command is {list(image_table.command)}; reset an "
        "ENTRYPOINT the base sets and keep CMD exec form, so the server is PID 1 and receives "
        "SIGTERM"
    )


def test_image_labels_name_its_base(image_attrs: dict, base_image) -> None:
    # base.name is checked by test_image_is_built_on_the_base_its_labels_name (layers).
    labels = image_attrs["Config"].get("Labels") or {}
    digest = labels.get(f"{OCI}.base.digest", "")
    assert digest in base_image.known_digests, (
        f"{OCI}.base.digest is {digest!r}, but {base_image.name} is "
        f"{sorted(base_image.known_digests)}"
    )


def test_image_carries_oci_labels(image_attrs: dict, image_table: Table) -> None:
    labels = image_attrs["Config"].get("Labels") or {}
    wanted = ("title", "version", "revision", "created", "source", "licenses")
    missing = [k for k in wanted if not labels.get(f"{OCI}.{k}")]
    assert not missing, f"OCI labels missing: {[f'{OCI}.{k}' for k in missing]}"
    if image_table.version is not None:
        assert labels[f"{OCI}.version"] == image_table.version, (
            f"the version label is {labels[f'{OCI}.version']!r}, the table's version "
            f"{image_table.version!r}"
        )
    if image_table.license is not None:
        assert labels[f"{OCI}.licenses"] == image_table.license, (
            f"the licenses label is {labels[f'{OCI}.licenses']!r}, the table's license "
            f"{image_table.license!r}"
        )


@pytest.mark.image_checks_section("build")
def test_image_revision_label_is_the_build_contexts_commit(
    image_attrs: dict, image_table: Table, image_files: ImageFilesystem
) -> None:
    assert image_table.build is not None
    labels = image_attrs["Config"].get("Labels") or {}
    context = image_table.context_path()
    revision = context_revision(context)
    label = labels.get(f"{OCI}.revision")
    assert label == revision, (
        f"the revision label is {label!r}, the build context is at "
        f"{revision} (-dirty: uncommitted changes)"
    )
    if revision == "unknown" or revision.endswith("-dirty") or image_table.python is None:
        return
    # The commit the label names must hold the code the image holds, file for file.
    compared, differ = 0, []
    for code_path in image_table.python.code_paths:
        inside = image_table.in_workdir(code_path)
        for path in sorted(image_files.members):
            if not (path.startswith(inside + "/") and path.endswith(".py")):
                continue
            relative = f"{code_path.strip('/')}/{path.removeprefix(inside + '/')}"
            committed = _git(context, "show", f"{label}:{relative}")
            if committed is None:
                differ.append(f"/{path}: not in commit {label} as {relative}")
            elif committed != image_files.read(path):
                differ.append(f"/{path}: differs from {relative} of commit {label}")
            compared += 1
    assert compared, f"no source file of {list(image_table.python.code_paths)} in the image"
    assert not differ, (
        "the image's code is not that of the commit its revision label names:\n"
        + "\n".join(differ[:20])
    )


def test_image_created_label_is_a_time_of_its_build(image_attrs: dict, image_table: Table) -> None:
    labels = image_attrs["Config"].get("Labels") or {}
    said = labels.get(f"{OCI}.created", "")
    try:
        created = datetime.fromisoformat(said.replace("Z", "+00:00"))
    except ValueError:
        pytest.fail(f"the created label {said!r} is not an RFC 3339 time", pytrace=False)
    assert created.tzinfo is not None, f"the created label {said!r} names no time zone"
    assert datetime(2000, 1, 1, tzinfo=UTC) < created <= datetime.now(UTC), (
        f"the created label {said!r} is not a time at which this image can have been made"
    )
    if image_table.configured("build"):
        # Reproducible builds date the image by its commit: the label is the commit's time.
        epoch = _git(image_table.context_path(), "show", "-s", "--format=%ct", "HEAD")
        if epoch and not context_revision(image_table.context_path()).endswith("-dirty"):
            committed = datetime.fromtimestamp(int(epoch), UTC)
            assert created == committed, (
                f"the created label is {said}, the build context's commit was made at "
                f"{committed.isoformat()}"
            )


@pytest.mark.image_checks_section("python")
def test_image_environment_keeps_bytecode_and_output_as_built(
    image_attrs: dict, image_table: Table
) -> None:
    env = _env(image_attrs)
    venv_bin = f"/{image_table.venv_path()}/bin"
    assert env.get("PATH", "").split(":")[0] == venv_bin, (
        f"the venv ({venv_bin}) must come first on PATH, which is {env.get('PATH')!r}"
    )
    unset = [
        name for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED") if env.get(name) != "1"
    ]
    assert not unset, (
        f"{unset} not set to 1 in the image's ENV: the service would write bytecode into the "
        "container at run time, or hold its logs in a buffer"
    )
