"""Image metadata: user, workdir, port, healthcheck, labels and command."""

from __future__ import annotations

import subprocess

from container_tests.expectations import ROOT, Expectations


def checkout_revision() -> str:
    """This checkout's commit as deployment/build-image.sh labels it: -dirty when uncommitted
    changes are present, ``unknown`` outside git."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return result.stdout.strip() if result.returncode == 0 else ""

    head = git("rev-parse", "--verify", "--quiet", "HEAD")
    if not head:
        return "unknown"
    return f"{head}-dirty" if git("status", "--porcelain") else head


def test_image_runs_as_the_numeric_non_root_user(image_attrs: dict, expect: Expectations) -> None:
    user = image_attrs["Config"]["User"]
    uid = user.split(":")[0]
    assert uid.isdigit(), f"USER is {user!r}: use a numeric UID so runAsNonRoot can verify it"
    assert int(uid) != 0, "the image runs as root: set USER to a non-root UID"
    assert int(uid) == expect.uid, f"USER is {user!r}, expected UID {expect.uid} (pyproject)"


def test_image_workdir(image_attrs: dict, expect: Expectations) -> None:
    assert image_attrs["Config"]["WorkingDir"] == expect.workdir, "WORKDIR changed"


def test_image_exposes_exactly_the_service_port(image_attrs: dict, expect: Expectations) -> None:
    exposed = set(image_attrs["Config"].get("ExposedPorts") or {})
    assert exposed == {f"{expect.port}/tcp"}, (
        f"the image exposes {sorted(exposed)}; it must expose {expect.port}/tcp and nothing else"
    )


def test_image_has_an_exec_form_healthcheck_on_the_health_path(
    image_attrs: dict, expect: Expectations
) -> None:
    check = image_attrs["Config"].get("Healthcheck") or {}
    test = check.get("Test") or []
    assert test[:1] == ["CMD"], f"HEALTHCHECK must be exec form (no shell in the image): {test}"
    assert test[1:] == list(expect.healthcheck_command), (
        f"HEALTHCHECK runs {test[1:]}, the table's healthcheck-command is "
        f"{list(expect.healthcheck_command)}"
    )
    assert check.get("Interval", 0) > 0, "HEALTHCHECK needs an explicit interval"
    assert check.get("Timeout", 0) > 0, "HEALTHCHECK needs an explicit timeout"


def test_image_starts_the_app_whatever_its_base_sets(
    image_attrs: dict, expect: Expectations
) -> None:
    config = image_attrs["Config"]
    effective = (config.get("Entrypoint") or []) + (config.get("Cmd") or [])
    assert effective == list(expect.command), (
        f"the image starts {effective} (ENTRYPOINT {config.get('Entrypoint')} + CMD "
        f"{config.get('Cmd')}); reset ENTRYPOINT (distroless sets the bare interpreter) and "
        "keep CMD exec form so the server is PID 1 and receives SIGTERM"
    )


def test_image_labels_name_its_base(image_attrs: dict, base_image) -> None:
    # base.name is checked by test_image_is_built_on_the_base_its_labels_name (layers).
    labels = image_attrs["Config"].get("Labels") or {}
    digest = labels.get("org.opencontainers.image.base.digest", "")
    assert digest in base_image.known_digests, (
        f"org.opencontainers.image.base.digest is {digest!r}, but {base_image.name} is "
        f"{sorted(base_image.known_digests)}"
    )


def test_image_carries_oci_labels(image_attrs: dict, expect: Expectations) -> None:
    labels = image_attrs["Config"].get("Labels") or {}
    wanted = ("title", "version", "revision", "created", "source")
    missing = [k for k in wanted if not labels.get(f"org.opencontainers.image.{k}")]
    assert not missing, f"OCI labels missing: {missing}"
    assert labels["org.opencontainers.image.version"] == expect.version, (
        "the version label must be the pyproject version (build with deployment/app-build.sh)"
    )
    assert labels.get("org.opencontainers.image.licenses") == expect.license, (
        f"the licenses label must be the project's licence ({expect.license!r}, pyproject)"
    )
    assert (ROOT / "LICENSE").is_file(), "the project's licence text (LICENSE) is missing"
    assert labels["org.opencontainers.image.revision"] == checkout_revision(), (
        "the revision label must be this checkout's commit, with -dirty when the tree had "
        "uncommitted changes (build with deployment/build-image.sh from this checkout)"
    )
    assert labels["org.opencontainers.image.created"] != "1970-01-01T00:00:00Z", "created not set"


def test_image_environment_keeps_bytecode_and_output_as_built(image_attrs: dict) -> None:
    env = dict(item.split("=", 1) for item in image_attrs["Config"]["Env"])
    assert env["PATH"].startswith("/app/.venv/bin:"), "the venv must come first on PATH"
    unset = [
        name for name in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED") if env.get(name) != "1"
    ]
    assert not unset, (
        f"{unset} not set to 1 in the image's ENV: the service would write bytecode into the "
        "container at run time, or hold its logs in a buffer"
    )
