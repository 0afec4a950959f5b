"""Builds the FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.docs import add_docs
from app.errors import register_error_handlers
from app.providers.met import build_http_client
from app.routes import router
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Builds the app; ``settings`` default to the process-wide ones."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info("starting: env=%s upstream=%s", settings.env, settings.met_api_base)
        async with build_http_client(settings) as client:
            app.state.http_client = client
            yield

    app = FastAPI(
        title="Met Museum search",
        version=__version__,
        description="Finds works of the Metropolitan Museum of Art by title.",
        lifespan=lifespan,
        docs_url=None,  # served by add_docs, without a CDN
        redoc_url=None,
    )
    add_docs(app)
    register_error_handlers(app)
    app.include_router(router)
    return app


app = create_app()
