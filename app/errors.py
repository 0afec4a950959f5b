"""Errors the service raises and how they map to HTTP answers."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """Base of the errors that become a JSON ``{"detail": ...}`` answer."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR

    def __init__(self, detail: str) -> None:
        """Keeps the message that is sent to the client as ``detail``."""
        super().__init__(detail)
        self.detail = detail


class NotFoundError(ServiceError):
    """Nothing upstream matches the request."""

    status_code = status.HTTP_404_NOT_FOUND


class UpstreamError(ServiceError):
    """The upstream API could not be reached or answered something unusable."""

    status_code = status.HTTP_502_BAD_GATEWAY


class UpstreamTimeoutError(UpstreamError):
    """The upstream API did not answer within the configured timeout."""

    status_code = status.HTTP_504_GATEWAY_TIMEOUT


async def _service_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Answers a ``ServiceError`` with its status and detail, and logs upstream faults."""
    assert isinstance(exc, ServiceError)  # noqa: S101 - registered for ServiceError only
    if isinstance(exc, UpstreamError):
        logger.warning("%s %s -> %d: %s", request.method, request.url.path, exc.status_code, exc)
    return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail})


async def _unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Answers any other error with a plain 500; the traceback goes to the log only."""
    logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "Internal server error."},
    )


def register_error_handlers(app: FastAPI) -> None:
    """Installs the handlers that turn errors into JSON answers."""
    app.add_exception_handler(ServiceError, _service_error_handler)
    app.add_exception_handler(Exception, _unexpected_error_handler)
