"""What the suite expects of the image: ``[tool.container-tests]`` in pyproject.toml, validated.

The table is one pydantic model: a misspelt key or a wrong type fails the session with a
message naming it. ``CONTAINER_TESTS_CONFIG=path`` names another TOML file holding the same
table (under ``[tool.container-tests]``), so the same checks can run against another image.
"""

from __future__ import annotations

import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[1]

BaseFlavour = Literal["public", "stand-in", "slim"]


class Expectations(BaseModel):
    """Budgets and expectations of the release image; pyproject.toml explains each key."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=lambda name: name.replace("_", "-")
    )

    version: str = Field(alias="version")  # from [project], not from the table
    license: str = Field(alias="license")  # from [project] too
    port: int
    uid: int
    workdir: str
    health_path: str
    python_version: str
    max_image_mb: dict[BaseFlavour, float]
    max_added_mb: float
    max_added_layers: int
    max_wasted_mb: float
    startup_budget_s: float
    stop_budget_s: float
    memory_limit: str
    max_memory_mb: float
    upstream_timeout_s: float
    upstream_connect_timeout_s: float
    timeout_margin_s: float
    fuzz_examples: int
    load_seconds: float
    load_concurrency: int
    required_paths: tuple[str, ...]
    context_allowed: frozenset[str]
    workdir_allowed: frozenset[str]
    context_excluded: tuple[str, ...]
    image_excluded: tuple[str, ...]
    image_excluded_allowed: tuple[str, ...]
    forbidden_tools: tuple[str, ...]
    allowed_licences: frozenset[str]


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
    version = document.get("project", {}).get("version", "0.0.0")
    license = document.get("project", {}).get("license", "")
    try:
        return Expectations.model_validate({"version": version, "license": license, **table})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise ConfigError(f"{path} [tool.container-tests]: {problems}") from None
