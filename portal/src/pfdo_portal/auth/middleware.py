"""Reads the session of every page request: sets ``request.state.user`` (None for a visitor),
``access_token`` (for the API calls), ``csrf_token`` and the session's key. An access token
about to expire is refreshed first; when that fails the session ends (the person signs in again)."""

from __future__ import annotations

import time
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from pfdo_plumbing.logging import get_logger

from .oidc import OidcClient, SignInFailed
from .sessions import Session, SessionStore

log = get_logger(__name__)

SKIPPED_PREFIXES = ("/static/", "/health")


def cookie_value(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is a visitor without a session
                return None
            if name in jar:
                return jar[name].value
    return None


class SessionMiddleware:
    def __init__(self, app: ASGIApp, *, store: SessionStore, oidc: OidcClient, cookie_name: str,
                 refresh_margin_s: int) -> None:
        self.app = app
        self.store = store
        self.oidc = oidc
        self.cookie_name = cookie_name
        self.refresh_margin_s = refresh_margin_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(SKIPPED_PREFIXES):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state.update(user=None, access_token=None, csrf_token=None, session=None, session_id=None)
        session_id = cookie_value(scope, self.cookie_name)
        session = await self.store.load(session_id) if session_id else None
        if session is not None:
            state.update(session=session, session_id=session_id, csrf_token=session.csrf_token)
            if session.person:
                tokens = await self._fresh_tokens(session)
                if tokens is None:
                    await self.store.delete_by_hash(session.id_hash)
                    state.update(session=None, session_id=None, csrf_token=None)
                else:
                    state.update(user=session.user, access_token=tokens["access_token"])
        await self.app(scope, receive, send)

    async def _fresh_tokens(self, session: Session) -> dict | None:
        tokens = session.tokens or {}
        if tokens.get("expires_at", 0) - self.refresh_margin_s > time.time():
            return tokens
        try:
            return await self.store.refresh_tokens(
                session.id_hash, margin_s=self.refresh_margin_s,
                refresh=lambda current: self.oidc.refresh(current["refresh_token"]),
            )
        except SignInFailed as exc:
            log.info("session_refresh_failed", reason=exc.reason)
            return None
