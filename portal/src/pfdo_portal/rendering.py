"""Templates and what every page gets: the region's name, the names of codes, the person (when
signed in), the formatting filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from .formatting import FILTERS
from .labels import LabelBook

TEMPLATES = Path(__file__).resolve().parent / "templates"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Every page loads from its own host only (the gateway adds its own headers in front)."""


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(TEMPLATES))
    found.env.filters.update(FILTERS)
    found.env.trim_blocks = True
    found.env.lstrip_blocks = True
    return found


def access_token(request: Request) -> str | None:
    """The signed-in person's bearer token for API calls (set on the request by the session
    layer), None for an anonymous visitor."""
    return getattr(request.state, "access_token", None)


def render(
    request: Request, name: str, context: dict[str, Any], *, labels: LabelBook, status_code: int = 200,
) -> HTMLResponse:
    app = request.app
    page = {
        "settings": app.state.settings,
        "label": labels,
        "user": getattr(request.state, "user", None),
        "htmx": request.headers.get("hx-request") == "true",
        **context,
    }
    response = app.state.templates.TemplateResponse(request, name, page, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Vary"] = "HX-Request, Cookie"
    return response
