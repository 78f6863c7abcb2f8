"""Sign-in and sign-out: ``/auth/login`` sends the browser to the identity provider,
``/auth/callback`` checks its answer and opens a session, ``/auth/logout`` ends it here and at
the provider (RP-initiated logout)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from pfdo_plumbing.logging import get_logger

from ..rendering import render
from .claims import ClaimMapping, UnmappedIdentity, map_identity
from .csrf import csrf_protect
from .guards import login_redirect, safe_next
from .oidc import OidcClient, SignInFailed
from .sessions import SessionStore

log = get_logger(__name__)

router = APIRouter(prefix="/auth", include_in_schema=False)

UNAVAILABLE = "Вход временно недоступен: служба входа не отвечает. Попробуйте чуть позже."
NOT_FINISHED = "Вход не завершён: страница входа устарела или была открыта в другой вкладке. Войдите ещё раз."
NO_ACCESS = "Ваша учётная запись не даёт доступа к порталу: у неё нет подходящей роли."


def _store(request: Request) -> SessionStore:
    return request.app.state.sessions


def _oidc(request: Request) -> OidcClient:
    return request.app.state.oidc


def set_session_cookie(request: Request, response: Response, session_id: str, max_age_s: int) -> None:
    settings = request.app.state.settings
    response.set_cookie(settings.session_cookie_name, session_id, max_age=max_age_s, path="/", httponly=True,
                        samesite="lax", secure=settings.session_cookie_secure)


def clear_session_cookie(request: Request, response: Response) -> None:
    settings = request.app.state.settings
    response.delete_cookie(settings.session_cookie_name, path="/", httponly=True, samesite="lax",
                           secure=settings.session_cookie_secure)


def mapping(settings: object) -> ClaimMapping:
    return ClaimMapping(role=settings.claim_role, municipality=settings.claim_municipality,  # type: ignore[attr-defined]
                        provider_id=settings.claim_provider_id, name=settings.claim_name,  # type: ignore[attr-defined]
                        role_aliases=settings.role_aliases)  # type: ignore[attr-defined]


@router.get("/login")
async def login(request: Request, next: str | None = None) -> Response:  # noqa: A002 - the query's name
    target = safe_next(next)
    if getattr(request.state, "user", None) is not None:
        return RedirectResponse(target, status_code=303)
    try:
        started = await _oidc(request).start()
    except SignInFailed as exc:
        log.warning("sign_in_unavailable", reason=exc.reason)
        raise HTTPException(503, UNAVAILABLE) from exc
    settings = request.app.state.settings
    if request.state.session_id:
        await _store(request).delete(request.state.session_id)
    await _store(request).purge_expired()  # sign-ins are rare enough to carry the cleanup
    login_state = {k: started[k] for k in ("state", "nonce", "code_verifier")} | {"next": target}
    session_id, _ = await _store(request).create(login=login_state, lifetime=timedelta(seconds=settings.login_ttl_s))
    response = RedirectResponse(started["url"], status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(request, response, session_id, settings.login_ttl_s)
    return response


@router.get("/callback")
async def callback(request: Request) -> Response:
    settings = request.app.state.settings
    session_id = request.state.session_id
    login_state = await _store(request).take_login(session_id) if session_id else None
    if login_state is None:
        if getattr(request.state, "user", None) is not None:  # the answer again (Back): already signed in
            return RedirectResponse("/", status_code=303)
        raise HTTPException(400, NOT_FINISHED)
    try:
        tokens, claims = await _oidc(request).finish(request.query_params, login_state)
        user = map_identity(claims, mapping(settings))
    except SignInFailed as exc:
        log.info("sign_in_refused", reason=exc.reason)
        raise HTTPException(400, NOT_FINISHED) from exc
    except UnmappedIdentity as exc:
        log.info("sign_in_unmapped", reason=str(exc))
        raise HTTPException(403, NO_ACCESS) from exc
    # a new session id once signed in: an id planted before sign-in is worth nothing after it
    await _store(request).delete(session_id)
    new_id, _ = await _store(request).create(person=user.as_json(), tokens=tokens)
    log.info("signed_in", role=user.role.value, session_expires_in_s=settings.session_max_age_s,
             token_expires_in_s=int(tokens["expires_at"] - time.time()))
    response = RedirectResponse(login_state.get("next") or "/", status_code=303)
    set_session_cookie(request, response, new_id, settings.session_max_age_s)
    return response


@router.get("/logout")
async def logout_page(request: Request) -> Response:
    labels = await request.app.state.labels.book()
    return render(request, "auth/logout.html", {"title": "Выход", "csrf_token": request.state.csrf_token},
                  labels=labels)


@router.post("/logout", dependencies=[Depends(csrf_protect)])
async def logout(request: Request) -> Response:
    ended = await _store(request).delete(request.state.session_id)
    id_token = (ended.tokens or {}).get("id_token") if ended else None
    target = await _oidc(request).logout_url(id_token) if ended and ended.person else None
    response = RedirectResponse(target or "/", status_code=303)
    clear_session_cookie(request, response)
    if ended and ended.person:
        log.info("signed_out", role=ended.person.get("role"))
    return response


async def sign_in_again(request: Request) -> Response:
    """The API refused the session's access token (revoked, or keys changed at the provider): the
    session ends here and the person is sent to sign in, back to the same page afterwards."""
    if request.state.session_id:
        await _store(request).delete(request.state.session_id)
    request.state.user = None
    response = login_redirect(request)
    clear_session_cookie(request, response)
    return response
