"""What the suite expects of the image, read from ``[tool.container-tests]`` in pyproject.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Expectations:
    """Budgets and expectations of the release image; see pyproject.toml for each one's meaning."""

    version: str
    port: int
    uid: int
    workdir: str
    health_path: str
    max_image_mb: float
    python_version: str
    max_layers: int
    max_wasted_mb: float
    startup_budget_s: float
    stop_budget_s: float
    memory_limit: str
    upstream_timeout_s: float
    timeout_margin_s: float
    fuzz_examples: int
    load_seconds: float
    load_concurrency: int
    required_paths: tuple[str, ...]
    context_allowed: frozenset[str]
    workdir_allowed: frozenset[str]
    context_excluded: tuple[str, ...]
    image_excluded: tuple[str, ...]
    dev_packages: tuple[str, ...]


@cache
def load_expectations() -> Expectations:
    """Reads the table once per session."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    table = pyproject["tool"]["container-tests"]
    return Expectations(
        version=pyproject["project"]["version"],
        port=int(table["port"]),
        uid=int(table["uid"]),
        workdir=table["workdir"],
        health_path=table["health-path"],
        max_image_mb=float(table["max-image-mb"]),
        python_version=str(table["python-version"]),
        max_layers=int(table["max-layers"]),
        max_wasted_mb=float(table["max-wasted-mb"]),
        startup_budget_s=float(table["startup-budget-s"]),
        stop_budget_s=float(table["stop-budget-s"]),
        memory_limit=str(table["memory-limit"]),
        upstream_timeout_s=float(table["upstream-timeout-s"]),
        timeout_margin_s=float(table["timeout-margin-s"]),
        fuzz_examples=int(table["fuzz-examples"]),
        load_seconds=float(table["load-seconds"]),
        load_concurrency=int(table["load-concurrency"]),
        required_paths=tuple(table["required-paths"]),
        context_allowed=frozenset(table["context-allowed"]),
        workdir_allowed=frozenset(table["workdir-allowed"]),
        context_excluded=tuple(table["context-excluded"]),
        image_excluded=tuple(table["image-excluded"]),
        dev_packages=tuple(table["dev-packages"]),
    )
