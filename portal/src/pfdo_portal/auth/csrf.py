"""Protection of every form post against cross-site requests: a per-session token (a hidden
``csrf_token`` field, or the ``X-CSRF-Token`` header that htmx sends), and the request's
Origin (or Referer) must be the portal's own. The session cookie is SameSite=Lax besides."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
REFUSED = "Форма устарела или отправлена с другого сайта. Обновите страницу и отправьте форму ещё раз."


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def source_allowed(origin: str | None, referer: str | None, allowed: Iterable[str]) -> bool:
    """The Origin header when the browser names one, else the Referer's origin. Neither (or
    ``Origin: null``, sent under a no-referrer policy) leaves the decision to the token."""
    allowed = {a.lower().rstrip("/") for a in allowed}
    if origin and origin != "null":
        return origin.lower().rstrip("/") in allowed
    if referer:
        found = origin_of(referer)
        return found is not None and found in allowed
    return True


def token_matches(sent: str | None, expected: str | None) -> bool:
    return bool(sent) and bool(expected) and secrets.compare_digest(str(sent), str(expected))


def allowed_origins(request: Request) -> set[str]:
    settings = request.app.state.settings
    own = f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"
    configured = [origin_of(settings.oidc_redirect_uri), *settings.trusted_origins]
    return {o for o in (own, *configured) if o}


async def csrf_protect(request: Request) -> None:
    """A dependency for every route that takes a form post (or any unsafe method)."""
    if request.method in SAFE_METHODS:
        return
    if not source_allowed(request.headers.get("origin"), request.headers.get("referer"), allowed_origins(request)):
        raise HTTPException(403, REFUSED)
    sent = request.headers.get(HEADER)
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(FIELD)
    if not token_matches(sent if isinstance(sent, str) else None, getattr(request.state, "csrf_token", None)):
        raise HTTPException(403, REFUSED)
