"""Service settings: one class, profiles per environment from ``profiles.toml``.

Resolution order, highest first: constructor arguments, environment variables, the
profile named by ``ENV`` in ``profiles.toml``, then the defaults declared below.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, HttpUrl, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROFILES_FILE = Path(__file__).with_name("profiles.toml")
Environment = Literal["dev", "qa", "prod"]
ENVIRONMENTS: tuple[str, ...] = ("dev", "qa", "prod")


class SettingsError(RuntimeError):
    """Raised when the settings cannot be resolved; its message is meant for a person."""


def profile_source(settings_cls: type[BaseSettings], env: str) -> PydanticBaseSettingsSource:
    """The table of ``profiles.toml`` named by ``env``, read by pydantic-settings.

    Raises:
        SettingsError: When ``env`` is not a known environment.
    """
    if env not in ENVIRONMENTS:
        raise SettingsError(
            f"ENV={env!r} is not a known environment; choose one of {', '.join(ENVIRONMENTS)}."
        )
    return TomlConfigSettingsSource(settings_cls, toml_file=PROFILES_FILE, toml_table_header=(env,))


class Settings(BaseSettings):
    """Every setting of the service; each can be overridden by an environment variable."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    env: Environment = "dev"
    met_api_url: HttpUrl = HttpUrl("https://collectionapi-dummy.metmuseum.org")
    upstream_connect_timeout: float = Field(default=3.0, gt=0, le=60)
    upstream_timeout: float = Field(default=10.0, gt=0, le=120)
    host: str = "0.0.0.0"  # noqa: S104 - a container must listen on all its interfaces
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Puts the ENV profile below environment variables and above the defaults."""
        env = str(init_settings().get("env") or os.environ.get("ENV", "dev")).strip()
        return (init_settings, env_settings, profile_source(settings_cls, env))

    @property
    def met_api_base(self) -> str:
        """The upstream base URL without a trailing slash."""
        return str(self.met_api_url).rstrip("/")


def load_settings(**overrides: Any) -> Settings:  # noqa: ANN401 - values of any setting
    """Builds settings, turning every failure into one readable ``SettingsError``.

    Args:
        **overrides: Values that win over environment variables and profiles.

    Returns:
        The resolved settings.

    Raises:
        SettingsError: When ``ENV`` is unknown or a value is invalid.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from exc


@lru_cache
def get_settings() -> Settings:
    """Returns the process-wide settings, resolved once."""
    return load_settings()
