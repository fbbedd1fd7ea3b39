"""`/docs` (Swagger UI) and `/redoc` served offline, from the assets the `fastapi-offline` package ships.

FastAPI's own pages load their scripts and styles from a CDN, so they were blank on a machine without
internet access. Here the same pages load `/docs/assets/...` from this server; nothing leaves it.

Example:
    >>> sorted(ASSETS)
    ['favicon.png', 'redoc.standalone.js', 'swagger-ui-bundle.js', 'swagger-ui.css']
"""

from __future__ import annotations

import importlib.resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

__all__ = ["add_docs_pages", "ASSETS", "ASSET_PREFIX"]

ASSET_PREFIX = "/docs/assets/"
ASSETS = {  # file in fastapi_offline/static -> its media type
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def add_docs_pages(app: FastAPI, title: str) -> None:
    """Adds `/docs`, `/redoc` and their assets to `app` (built with `docs_url=None, redoc_url=None`)."""
    static = importlib.resources.files("fastapi_offline").joinpath("static")
    assets = {name: static.joinpath(name).read_bytes() for name in ASSETS}  # about 2.8 MB, read once
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} - API docs", swagger_js_url=ASSET_PREFIX + "swagger-ui-bundle.js",
            swagger_css_url=ASSET_PREFIX + "swagger-ui.css", swagger_favicon_url=ASSET_PREFIX + "favicon.png",
        )  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    async def redoc_page() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url, title=f"{title} - API docs", redoc_js_url=ASSET_PREFIX + "redoc.standalone.js",
            redoc_favicon_url=ASSET_PREFIX + "favicon.png", with_google_fonts=False,
        )  # fmt: skip

    @app.get(ASSET_PREFIX + "{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name not in assets:
            return Response(b'{"detail":"Not Found"}', status_code=404, media_type="application/json")
        return Response(assets[name], media_type=ASSETS[name], headers={"cache-control": "public, max-age=86400"})
