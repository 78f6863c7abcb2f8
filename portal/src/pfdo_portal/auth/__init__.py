"""Sign-in with OpenID Connect and server-side sessions: ``install_auth(app, settings)`` adds
the session layer and the /auth routes; pages use the guards (``current_user``,
``require_user``, ``require_role``) and ``csrf_protect`` on every form post."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from starlette.responses import Response

from .claims import PortalUser
from .csrf import csrf_protect
from .guards import SignInRequired, current_user, login_redirect, require_role, require_user
from .middleware import SessionMiddleware
from .oidc import OidcClient
from .routes import router, sign_in_again
from .sessions import SessionStore
from .settings import AuthSettings

__all__ = ["AuthSettings", "PortalUser", "close_auth", "csrf_protect", "current_user", "install_auth",
           "require_role", "require_user", "sign_in_again"]


def install_auth(app: FastAPI, settings: AuthSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
    """``transport``: how the identity provider is reached (tests pass the issuer app itself)."""
    store = SessionStore.connect(settings.database_url, pool_size=settings.db_pool_size,
                                 max_age_s=settings.session_max_age_s, idle_s=settings.session_idle_s,
                                 secret=settings.session_secret)
    oidc = OidcClient(settings, transport=transport)
    app.state.sessions = store
    app.state.oidc = oidc
    app.add_middleware(SessionMiddleware, store=store, oidc=oidc, cookie_name=settings.session_cookie_name,
                       refresh_margin_s=settings.token_refresh_margin_s)
    app.include_router(router)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, _exc: SignInRequired) -> Response:
        return login_redirect(request)


async def close_auth(app: FastAPI) -> None:
    await app.state.sessions.close()
