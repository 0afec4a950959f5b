"""This service's own checks' table, ``[tool.service-checks]`` in pyproject.toml, validated.

The generic checks read ``[tool.image-checks]`` (pytest-image-checks); this table holds what
only this service's layer (``service/``) needs: the stand-in upstream's timeouts, fuzzing and
the load burst. A misspelt key or a wrong type fails the session naming it.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

ROOT = Path(__file__).resolve().parents[1]


class Service(BaseModel):
    """This service's layer: its upstream stand-in, fault matrix, fuzzing and load burst."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=lambda name: name.replace("_", "-"),
        populate_by_name=True,
    )

    upstream_timeout_s: float = 2.0
    upstream_connect_timeout_s: float = 0.5
    timeout_margin_s: float = 1.5
    fuzz_examples: int = 40
    load_seconds: float = 20
    load_concurrency: int = 32
    max_memory_mb: float = 128


class SettingsError(Exception):
    """``[tool.service-checks]`` is missing, misspelt or of the wrong type."""


@cache
def load_service(path: Path = ROOT / "pyproject.toml") -> Service:
    """Reads and validates ``[tool.service-checks]`` of ``path`` once.

    Raises:
        SettingsError: naming the file and every key that is unknown or mistyped.
    """
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["service-checks"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise SettingsError(f"{path}: no readable [tool.service-checks] table ({exc})") from exc
    try:
        return Service.model_validate(table)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors()
        )
        raise SettingsError(f"{path} [tool.service-checks]: {problems}") from None
