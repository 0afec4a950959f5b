"""This service's own checks' table, ``[tool.service-checks]`` in pyproject.toml, validated.

The generic checks read ``[tool.image-checks]`` (pytest-image-checks); this table holds what
only this service's layer (``service/``) needs: the stand-in upstream's timeouts, fuzzing and
the load burst. A misspelt key or a wrong type fails the session naming it.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ROOT = Path(__file__).resolve().parents[1]


class Service(BaseModel):
    """This service's layer: its upstream stand-in, fault matrix, fuzzing and load burst."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=lambda name: name.replace("_", "-"),
        populate_by_name=True,
    )

    upstream_timeout_s: float = Field(2.0, gt=0)
    upstream_connect_timeout_s: float = Field(0.5, gt=0)
    timeout_margin_s: float = Field(1.5, ge=0)
    fuzz_examples: int = Field(40, gt=0)  # a fuzz run of nothing checks nothing
    load_seconds: float = Field(20, gt=0)  # nor does a burst of no time
    load_concurrency: int = Field(32, gt=0)
    max_memory_mb: float = Field(128, gt=0)
    # Distributions whose compiled modules the serving process (PID 1) must have loaded: the
    # event loop and the HTTP parser uvicorn falls back from, silently, when they are missing.
    server_extensions: tuple[str, ...] = Field(("uvloop", "httptools"), min_length=1)


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
