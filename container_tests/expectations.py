"""What the suite expects of the image: ``[tool.container-tests]`` in pyproject.toml, validated.

The table is one pydantic model, its defaults written here once: a misspelt key or a wrong
type fails the session with a message naming it. The top-level keys drive the generic image
checks (``container_tests/image/``). Two sections are optional, and switch their checks off
visibly (listed as "not configured" in the terminal summary and the report) when absent:

- ``[tool.container-tests.deployment]``: the Kubernetes manifests and compose file that deploy
  the image;
- ``[tool.container-tests.service]``: this service's own checks (``container_tests/service/``):
  search end to end through a stand-in upstream, the fault matrix, fuzzing and load.

``CONTAINER_TESTS_CONFIG=path`` names another TOML file holding the same table (under
``[tool.container-tests]``), so the same checks run against another image with its own table.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

ROOT = Path(__file__).resolve().parents[1]

BaseFlavour = Literal["public", "stand-in", "slim"]
Section = Literal["deployment", "service"]


class _Table(BaseModel):
    """Keys are written with dashes; unknown keys are errors; values never change."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=lambda name: name.replace("_", "-"),
        populate_by_name=True,
    )


class Deployment(_Table):
    """Where the files that deploy the image are, relative to the checkout."""

    manifests: str = "deployment/k8s"  # Kubernetes YAML: one Deployment, one ConfigMap, ...
    compose: str = "compose.yaml"  # a compose file, one service of which runs the image
    compose_service: str = "app"  # that service


class Service(_Table):
    """This service's layer: its upstream stand-in, fault matrix, fuzzing and load burst."""

    upstream_timeout_s: float = 2.0
    upstream_connect_timeout_s: float = 0.5
    timeout_margin_s: float = 1.5
    fuzz_examples: int = 40
    load_seconds: float = 20
    load_concurrency: int = 32
    max_memory_mb: float = 128


class Expectations(_Table):
    """Budgets and expectations of the release image; pyproject.toml explains each key."""

    version: str  # from [project], not from the table
    license: str  # from [project] too
    port: int
    uid: int
    workdir: str = "/app"
    health_path: str = "/health"
    docs_path: str = "/docs"
    python_version: str
    command: tuple[str, ...]
    healthcheck_command: tuple[str, ...]
    import_check: str  # a module the runtime user must be able to import
    max_image_mb: dict[BaseFlavour, float]
    max_added_mb: float
    max_added_layers: int
    max_wasted_mb: float = 1.0
    startup_budget_s: float = 10
    stop_budget_s: float = 10
    memory_limit: str = "256m"
    required_paths: tuple[str, ...]
    context_allowed: frozenset[str]
    workdir_allowed: frozenset[str]
    context_excluded: tuple[str, ...]
    image_excluded: tuple[str, ...]
    image_excluded_allowed: tuple[str, ...] = ()
    forbidden_tools: tuple[str, ...]
    allowed_licences: frozenset[str]
    deployment: Deployment | None = None
    service: Service | None = None

    def configured(self, section: Section) -> bool:
        """Whether the optional ``section`` is in the table."""
        return getattr(self, section) is not None


class ConfigError(Exception):
    """The expectations table is missing, misspelt or of the wrong type."""


def config_path() -> Path:
    """The TOML file holding the table: ``$CONTAINER_TESTS_CONFIG`` or this pyproject.toml."""
    return Path(os.environ.get("CONTAINER_TESTS_CONFIG") or ROOT / "pyproject.toml")


@cache
def load_expectations() -> Expectations:
    """Reads and validates the table once per session.

    Raises:
        ConfigError: naming the file and every key that is unknown, missing or mistyped.
    """
    path = config_path()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        table = document["tool"]["container-tests"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise ConfigError(f"{path}: no readable [tool.container-tests] table ({exc})") from exc
    project = document.get("project", {})
    try:
        return Expectations.model_validate(
            {"version": project.get("version", "0.0.0"), "license": project.get("license", ""),
             **table}
        )  # fmt: skip
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{path} [tool.container-tests]: {problems}") from None
