"""Entry point: ``python -m app`` serves the API with uvicorn.

A settings error ends the process with one readable line and exit code 2, not a traceback.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from app.settings import SettingsError, get_settings

# How long SIGTERM waits for requests in flight; orchestrators must allow more than this
# (deployment/k8s sets terminationGracePeriodSeconds above it, and the suite checks that).
GRACEFUL_SHUTDOWN_SECONDS = 8


def log_config(level: str) -> dict[str, Any]:
    """Uvicorn's logging set-up, extended so the app's own loggers print the same way."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["app"] = {"handlers": ["default"], "level": level.upper(), "propagate": False}
    return config


def main() -> int:
    """Resolves settings, then serves until SIGTERM or SIGINT; returns the exit code."""
    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(
        "app.main:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level),
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
