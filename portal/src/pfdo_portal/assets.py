"""The portal's static files under ``/static/``: its own stylesheet (in this package) and the npm
packages' files it loads (htmx.org, at the version of web/package-lock.json), served by the
portal itself: no page loads anything from another host."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from starlette.responses import FileResponse

OWN = Path(__file__).resolve().parent / "static"

VENDOR_FILES: dict[str, str] = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
}
"""``/static/vendor/<name>`` -> the path inside node_modules, and no other file of the packages."""

CACHE = {"Cache-Control": "public, max-age=3600"}


def workspace_node_modules() -> Path | None:
    """``web/node_modules`` of the source tree this package runs from (None when installed elsewhere)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "web" / "package.json").is_file():
            return parent / "web" / "node_modules"
    return None


def node_modules(configured: str) -> Path | None:
    """The node_modules folder holding every vendor file, or None when one is missing."""
    folder = Path(configured) if configured else workspace_node_modules()
    if folder is None or not all((folder / name).is_file() for name in VENDOR_FILES.values()):
        return None
    return folder


def router(configured_node_modules: str) -> APIRouter:
    folder = node_modules(configured_node_modules)
    routes = APIRouter(include_in_schema=False)

    @routes.get("/static/vendor/{name}")
    async def vendor(name: str) -> FileResponse:
        if folder is None or name not in VENDOR_FILES:
            raise HTTPException(404)
        return FileResponse(folder / VENDOR_FILES[name], headers=CACHE, media_type="text/javascript")

    @routes.get("/static/{name}")
    async def own(name: str) -> FileResponse:
        path = OWN / name
        if "/" in name or name.startswith(".") or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, headers=CACHE)

    return routes
