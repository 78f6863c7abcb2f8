"""Whom the portal calls the API for: the visitor's X-Forwarded-For, as the gateway gave it to the
portal, passed on with every API call of that page request.

The gateway believes it only from the portal's own address (its ``PORTAL_CLIENT_ADDRESS``), so the
per-address and anonymous rate budgets count each visitor, not the portal as one client. The
portal is reachable only through the gateway, which always sets the header.
"""

from __future__ import annotations

from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

_forwarded_for: ContextVar[str | None] = ContextVar("pfdo_portal_forwarded_for", default=None)


def forwarded_for() -> str | None:
    """The X-Forwarded-For of the page request being answered (None outside one, or without it)."""
    return _forwarded_for.get()


class VisitorMiddleware:
    """Keeps the page request's X-Forwarded-For for the API calls made while answering it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        value = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for"), None)
        token = _forwarded_for.set(value[:512] if value else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _forwarded_for.reset(token)
