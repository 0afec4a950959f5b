"""``/docs``: Swagger UI served by the app itself, under a strict Content-Security-Policy.

FastAPI's default page loads Swagger UI from a CDN, so without outside network (air-gapped
clusters, strict proxies) it renders blank. Here the assets come from the ``fastapi-offline``
package (Swagger UI's bundle, CSS and favicon, pinned in ``uv.lock``) and are served under
``/docs-assets``; the page itself is FastAPI's, and its one inline start-up script carries a
nonce that is new in every response. ReDoc is switched off.
"""

from __future__ import annotations

import secrets
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
ASSETS_URL = "/docs-assets"
ASSETS_DIR = files("fastapi_offline") / "static"


def content_security_policy(nonce: str) -> str:
    """The docs page's policy: the page's own origin only, plus its one nonced inline script.

    ``data:`` images are allowed because Swagger UI's CSS draws its icons as inline SVG data; they
    never leave the page.
    """
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


def add_docs(app: FastAPI) -> None:
    """Serves Swagger UI at ``DOCS_URL`` from assets under ``ASSETS_URL``."""
    app.mount(ASSETS_URL, StaticFiles(directory=str(ASSETS_DIR)), name="docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        nonce = secrets.token_urlsafe(16)
        html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
        return HTMLResponse(
            html, headers={"Content-Security-Policy": content_security_policy(nonce)}
        )
