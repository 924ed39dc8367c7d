"""OpenAPI docs served from local files: Swagger UI's assets come from the ``swagger-ui-py``
wheel, not a CDN, so the docs work on a network without the internet."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def swagger_assets_dir() -> Path:
    import swagger_ui

    return Path(swagger_ui.__file__).resolve().parent / "static"


def install(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI) and its assets; ``/openapi.json`` is FastAPI's own."""
    app.mount(ASSETS, StaticFiles(directory=swagger_assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
