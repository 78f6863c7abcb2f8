"""The documentation pages of a service, served from local files (no CDN):

    /api/<service>/docs            Swagger UI
    /api/<service>/redoc           ReDoc
    /api/<service>/asyncapi.html   the AsyncAPI document of its events, rendered on the server
    /api/<service>/docs/assets/... the Swagger UI and ReDoc files themselves

Swagger UI and ReDoc come from the npm packages swagger-ui-dist and redoc, installed at the
versions of web/package-lock.json (the bootstrap runs ``npm ci`` there; the images copy them).
The setting ``docs_assets_dir`` names that ``node_modules`` folder; empty means the workspace's
own ``web/node_modules``. The pages are plain routes, outside the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from ..logging import get_logger

log = get_logger(__name__)

ASSET_FILES: dict[str, str] = {
    "swagger-ui/swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui/swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "swagger-ui/favicon-32x32.png": "swagger-ui-dist/favicon-32x32.png",
    "redoc/redoc.standalone.js": "redoc/bundles/redoc.standalone.js",
}
"""The files the pages load (path under /docs/assets -> path inside node_modules), and no others:
the packages also hold demo pages that fetch from other hosts."""

FOREIGN_URLS: dict[str, tuple[bytes, ...]] = {
    "redoc/redoc.standalone.js": (b'"https://cdn.redoc.ly/redoc/logo-mini.svg"',),
}
"""URLs of other hosts that a bundle would load by itself, served blanked out (ReDoc 2.x always
draws Redocly's logo from their CDN; with an empty source the image fails and hides itself)."""

PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
"""The pages load from this host only, also should a new bundle version fetch from elsewhere."""


def asset_bytes(folder: Path, name: str) -> bytes:
    """An asset as served: the file with the other hosts' URLs of :data:`FOREIGN_URLS` blanked out."""
    data = (folder / ASSET_FILES[name]).read_bytes()
    for url in FOREIGN_URLS.get(name, ()):
        if url not in data:
            log.warning("docs_asset_changed", asset=name, hint="the bundle no longer holds a URL it is served without")
        data = data.replace(url, b'""')
    return data


def workspace_assets_dir() -> Path | None:
    """``web/node_modules`` of the source tree this package runs from (None when installed elsewhere)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "web" / "package.json").is_file():
            return parent / "web" / "node_modules"
    return None


def assets_dir(configured: str | Path | None) -> Path | None:
    """The node_modules folder holding the documentation assets, or None when they are not installed."""
    folder = Path(configured) if configured else workspace_assets_dir()
    if folder is None or not all((folder / name).is_file() for name in ASSET_FILES.values()):
        return None
    return folder


def _csp() -> dict[str, str]:
    return {"Content-Security-Policy": PAGE_CSP}


def _missing_assets_page(title: str) -> HTMLResponse:
    body = (
        f"<!DOCTYPE html><html lang=\"ru\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title></head><body>"
        "<h1>Документация API недоступна</h1>"
        "<p>Файлы Swagger UI и ReDoc не установлены на этом сервере. Установите их командой "
        "<code>npm ci</code> в папке <code>web</code> репозитория (это делает <code>make bootstrap</code>) "
        "или укажите папку <code>node_modules</code> в переменной <code>PFDO_DOCS_ASSETS_DIR</code>.</p>"
        "</body></html>"
    )
    return HTMLResponse(body, status_code=503)


def swagger_ui_page(*, title: str, openapi_url: str, assets: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — Swagger UI</title>
<link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
</head>
<body>
<noscript>Для документации API нужен JavaScript.</noscript>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: "{openapi_url}",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
}});
</script>
</body>
</html>
"""


def redoc_page(*, title: str, openapi_url: str, assets: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} — ReDoc</title>
<link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
<style>
body {{ margin: 0; padding: 0; }}
a[href*="redocly"] {{ display: none !important; }}
</style>
</head>
<body>
<noscript>Для документации API нужен JavaScript.</noscript>
<redoc spec-url="{openapi_url}"></redoc>
<script src="{assets}/redoc/redoc.standalone.js"></script>
</body>
</html>
"""


def install_docs(
    app: FastAPI, *, prefix: str, title: str, assets_folder: str | Path | None,
    asyncapi: Callable[[], dict[str, Any]] | None = None,
) -> None:
    """Add the documentation pages and their assets under ``prefix`` (the app's own /docs is off);
    the AsyncAPI page when ``asyncapi`` gives the document."""
    folder = assets_dir(assets_folder)
    if folder is None:
        log.warning("docs_assets_missing", configured=str(assets_folder or ""),
                    hint="npm ci in web/ (make bootstrap), or set PFDO_DOCS_ASSETS_DIR")
    assets = f"{prefix}/docs/assets"
    openapi_url = app.openapi_url or f"{prefix}/openapi.json"

    async def swagger_ui(request: Request) -> HTMLResponse:
        if folder is None:
            return _missing_assets_page(title)
        return HTMLResponse(swagger_ui_page(title=title, openapi_url=openapi_url, assets=assets), headers=_csp())

    async def redoc(request: Request) -> HTMLResponse:
        if folder is None:
            return _missing_assets_page(title)
        return HTMLResponse(redoc_page(title=title, openapi_url=openapi_url, assets=assets), headers=_csp())

    async def asyncapi_html(request: Request) -> HTMLResponse:
        from pfdo_contracts.asyncapi_html import render_html

        assert asyncapi is not None
        return HTMLResponse(render_html(asyncapi()), headers=_csp())

    served: dict[str, bytes] = {}  # the few bundles, read once per process on first request

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        if folder is None or name not in ASSET_FILES:
            return Response(status_code=404)
        if name not in FOREIGN_URLS:
            return FileResponse(folder / ASSET_FILES[name], headers={"Cache-Control": "public, max-age=3600"})
        if name not in served:
            served[name] = asset_bytes(folder, name)
        return Response(served[name], media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})

    app.add_route(f"{prefix}/docs", swagger_ui, include_in_schema=False)
    app.add_route(f"{prefix}/redoc", redoc, include_in_schema=False)
    if asyncapi is not None:
        app.add_route(f"{prefix}/asyncapi.html", asyncapi_html, include_in_schema=False)
    app.add_route(assets + "/{name:path}", asset, include_in_schema=False)
