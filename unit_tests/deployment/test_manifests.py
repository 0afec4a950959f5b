"""Offline schema validation of what ships beside the image: k8s, CI workflow, compose.

The same files are checked against the image itself in container_tests.
"""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from check_jsonschema.cli.main_command import main as check_jsonschema_main
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = "1.33.0"  # the Kubernetes API the manifests target
MANIFESTS = sorted((ROOT / "deployment" / "k8s").glob("*.yaml"))
KINDS = {"ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}


def _objects() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in MANIFESTS
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
        if doc
    ]


def test_every_kind_the_service_needs_is_there() -> None:
    assert {doc["kind"] for _, doc in _objects()} == KINDS


@pytest.mark.parametrize(("name", "doc"), _objects(), ids=[name for name, _ in _objects()])
def test_manifest_is_valid_for_the_pinned_kubernetes_version(name: str, doc: dict) -> None:
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{name} is not a valid {doc['kind']} for Kubernetes {K8S_VERSION}: {exc}")


def test_kustomization_lists_every_manifest() -> None:
    listed = yaml.safe_load((ROOT / "deployment" / "k8s" / "kustomization.yaml").read_text())
    on_disk = {p.name for p in MANIFESTS} - {"kustomization.yaml"}
    assert set(listed["resources"]) == on_disk


def _check_jsonschema(schema: str, path: Path) -> Result:
    """check-jsonschema's command, run in this process (its import alone takes 1.7 s)."""
    return CliRunner().invoke(check_jsonschema_main, ["--builtin-schema", schema, str(path)])


WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_ci_workflow_is_valid(workflow: Path) -> None:
    result = _check_jsonschema("vendor.github-workflows", workflow)
    assert result.exit_code == 0, result.output


def test_mutation_workflow_runs_every_break_on_a_schedule_and_keeps_the_results() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/mutation.yml").read_text())
    assert {"schedule", "workflow_dispatch"} <= set(workflow[True])
    steps = workflow["jobs"]["mutation"]["steps"]
    assert any(s.get("run") == "uv run python deployment/mutation_check.py" for s in steps), (
        "the scheduled run must apply every break (no NAME filter)"
    )
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload, "the workflow must keep reports/mutation-check.json"
    assert upload[0]["if"] == "always()"


def test_ci_workflow_runs_the_gate_and_keeps_the_reports() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/gate.yml").read_text())
    steps = workflow["jobs"]["gate"]["steps"]
    assert any(step.get("run") == "./deployment/app-build.sh" for step in steps)
    assert workflow["jobs"]["gate"]["env"]["BASE_FLAVOUR"] == "public", (
        "CI with a registry must verify the public bases, with no fallback to stand-ins"
    )
    python = [s["with"].get("python-version") for s in steps if "setup-uv" in s.get("uses", "")]
    assert python == ["3.13"], "the unit suite must run on the image's Python (3.13)"
    upload = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload, "the workflow must keep the reports as artefacts"
    assert upload[0]["if"] == "always()", "reports must be kept when the gate fails too"
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as the boolean true
    assert "pull_request" in triggers, "the gate must run on pull requests"


def test_compose_file_is_valid() -> None:
    result = _check_jsonschema("vendor.compose-spec", ROOT / "compose.yaml")
    assert result.exit_code == 0, result.output
