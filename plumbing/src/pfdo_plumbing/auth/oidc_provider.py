"""The development issuer as a small OpenID Connect provider, under ``/auth/oidc``:

- ``/.well-known/openid-configuration``: the discovery document;
- ``/authorize`` (browser): the authorization code flow with PKCE S256, state and nonce required;
  a page in Russian to pick a demo person;
- ``/token`` (back channel): code or refresh token → access token + ID token. The access token
  is the very token the services accept (issuer, audience, claims ``role``, ``municipality``,
  ``provider_id``), the ID token is for the client (audience = its client id, the nonce);
- ``/jwks``, ``/userinfo`` (back channel);
- ``/end-session`` (browser): RP-initiated logout, back to a registered
  ``post_logout_redirect_uri``; revokes the sign-in session's refresh tokens.

Only ``/authorize`` and ``/end-session`` are reachable through the gateway."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

import jwt
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..settings import ServiceSettings
from .devkeys import DevKeys
from .oidc_accounts import ROLE_TITLES, DemoAccount, load_accounts
from .oidc_grants import AuthorizeError, Grant, GrantStore, TokenError, check_authorization_request, verifier_matches
from .oidc_pages import error_page, sign_in_page, signed_out_page
from .oidc_settings import DevOidcSettings
from .principal import Role

PREFIX = "/auth/oidc"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")


async def _params(request: Request) -> dict[str, str]:
    """Query parameters, or an url-encoded form body (parsed here: no multipart parser needed)."""
    if request.method == "GET":
        return dict(request.query_params)
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


class OidcProvider:
    def __init__(self, service: ServiceSettings, settings: DevOidcSettings, keys: DevKeys) -> None:
        self.service = service
        self.settings = settings
        self.keys = keys
        self.grants = GrantStore(settings.code_ttl_s, settings.refresh_token_ttl_s)
        self.ttl_s = min(settings.access_token_ttl_s, service.jwt_max_lifetime_s)

    # ---- addresses ---------------------------------------------------------------------------
    def back_channel(self, request: Request) -> str:
        return str(request.base_url).rstrip("/") + PREFIX

    def front_channel(self, request: Request) -> str:
        return self.settings.public_url.rstrip("/") or self.back_channel(request)

    def discovery(self, request: Request) -> dict[str, Any]:
        back, front = self.back_channel(request), self.front_channel(request)
        return {
            "issuer": self.service.jwt_issuer,
            "authorization_endpoint": f"{front}/authorize",
            "end_session_endpoint": f"{front}/end-session",
            "token_endpoint": f"{back}/token",
            "userinfo_endpoint": f"{back}/userinfo",
            "jwks_uri": f"{back}/jwks",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "name", "role", "municipality", "provider_id", "sid", "nonce"],
        }

    # ---- authorize -----------------------------------------------------------------------------
    def accounts(self) -> list[DemoAccount]:
        return load_accounts(self.settings.accounts_file)

    def _chosen(self, form: dict[str, str]) -> DemoAccount | None:
        sub = form.get("account", "")
        if sub:
            return next((a for a in self.accounts() if a.sub == sub), None)
        try:  # "another account": any role a person can have, with its scope claims
            role = Role(form.get("role", ""))
        except ValueError:
            return None
        custom = form.get("sub", "").strip()
        if role not in ROLE_TITLES or not custom or len(custom) > 200:
            return None
        return DemoAccount(custom, role, custom, municipality=form.get("municipality", "").strip()[:20] or None,
                           provider_id=form.get("provider_id", "").strip()[:64] or None)

    async def authorize(self, request: Request) -> Response:
        params = await _params(request)
        try:
            auth = check_authorization_request(params, self.settings)
        except AuthorizeError as exc:
            if not exc.redirectable:
                return HTMLResponse(error_page(exc.description), status_code=400, headers=_NO_STORE)
            query = {"error": exc.error, "error_description": exc.description}
            if params.get("state"):
                query["state"] = params["state"]
            return RedirectResponse(_with_query(params["redirect_uri"], query), status_code=303)
        if request.method == "GET":
            return HTMLResponse(sign_in_page(self.accounts(), auth.as_params()), headers=_NO_STORE)
        account = self._chosen(params)
        if account is None:
            return HTMLResponse(error_page("Учётная запись не найдена: вернитесь и выберите другую."),
                                status_code=400, headers=_NO_STORE)
        grant = Grant(auth, account, session_id=uuid.uuid4().hex, auth_time=int(time.time()))
        code = self.grants.issue_code(grant)
        return RedirectResponse(_with_query(auth.redirect_uri, {"code": code, "state": auth.state}), status_code=303)

    # ---- token ---------------------------------------------------------------------------------
    def _client(self, request: Request, form: dict[str, str]) -> None:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError) as exc:
                raise TokenError("invalid_client", "malformed client credentials", 401) from exc
            client_id, _, secret = (unquote_plus(p) for p in decoded.partition(":"))
        if not (secrets.compare_digest(client_id, self.settings.client_id)
                and secrets.compare_digest(secret, self.settings.client_secret)):
            raise TokenError("invalid_client", "unknown client or wrong secret", 401)

    def _tokens(self, grant: Grant) -> dict[str, Any]:
        account, now = grant.account, int(time.time())
        access = self.keys.mint(
            sub=account.sub, role=account.role.value, issuer=self.service.jwt_issuer,
            audience=self.service.jwt_audience, ttl_s=self.ttl_s, municipality=account.municipality,
            provider_id=account.provider_id, now=now,
        )
        id_token = self.keys.sign({
            **account.claims(), "iss": self.service.jwt_issuer, "aud": grant.request.client_id,
            "iat": now, "exp": now + self.ttl_s, "auth_time": grant.auth_time, "nonce": grant.request.nonce,
            "sid": grant.session_id, "at_hash": _at_hash(access),
        })
        return {"access_token": access, "token_type": "Bearer", "expires_in": self.ttl_s, "id_token": id_token,
                "refresh_token": self.grants.issue_refresh(grant), "scope": grant.request.scope}

    def exchange(self, request: Request, form: dict[str, str]) -> dict[str, Any]:
        self._client(request, form)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            grant = self.grants.redeem_code(form.get("code", ""))
            if grant is None:
                raise TokenError("invalid_grant", "unknown, expired or already used code")
            if form.get("redirect_uri") != grant.request.redirect_uri:
                raise TokenError("invalid_grant", "redirect_uri differs from the authorization request")
            if not verifier_matches(form.get("code_verifier"), grant.request.code_challenge):
                raise TokenError("invalid_grant", "code_verifier does not match the code_challenge")
            return self._tokens(grant)
        if grant_type == "refresh_token":
            grant = self.grants.redeem_refresh(form.get("refresh_token", ""))
            if grant is None:
                raise TokenError("invalid_grant", "unknown, expired or revoked refresh token")
            return self._tokens(grant)
        raise TokenError("unsupported_grant_type", "authorization_code or refresh_token")

    async def token(self, request: Request) -> JSONResponse:
        form = await _params(request)
        try:
            body = self.exchange(request, form)
        except TokenError as exc:
            headers = {**_NO_STORE, **({"WWW-Authenticate": "Basic"} if exc.status == 401 else {})}
            return JSONResponse({"error": exc.error, "error_description": exc.description}, exc.status, headers)
        return JSONResponse(body, headers=_NO_STORE)

    # ---- userinfo, end-session -------------------------------------------------------------------
    def _verify(self, token: str, *, audience: str, check_expiry: bool = True) -> dict[str, Any] | None:
        try:
            kid = str(jwt.get_unverified_header(token).get("kid", ""))
            key = self.keys.public_key(kid)
            if key is None:
                return None
            return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=self.service.jwt_issuer,
                              options={"verify_exp": check_expiry})
        except jwt.PyJWTError:
            return None

    async def userinfo(self, request: Request) -> JSONResponse:
        header = request.headers.get("authorization", "")
        claims = self._verify(header[7:], audience=self.service.jwt_audience) if header[:7].lower() == "bearer " else None
        if claims is None:
            return JSONResponse({"error": "invalid_token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        keep = ("sub", "role", "municipality", "provider_id")
        info = {k: claims[k] for k in keep if k in claims}
        account = next((a for a in self.accounts() if a.sub == claims["sub"]), None)
        info["name"] = account.name if account else claims["sub"]
        return JSONResponse(info, headers=_NO_STORE)

    async def end_session(self, request: Request) -> Response:
        params = await _params(request)
        hint = params.get("id_token_hint", "")
        claims = self._verify(hint, audience=self.settings.client_id, check_expiry=False) if hint else None
        if hint and claims is None:
            return HTMLResponse(error_page("Неверный id_token_hint."), status_code=400, headers=_NO_STORE)
        if claims and claims.get("sid"):
            self.grants.end_session(str(claims["sid"]))
        target = params.get("post_logout_redirect_uri", "")
        if not target:
            return HTMLResponse(signed_out_page(), headers=_NO_STORE)
        if target not in self.settings.post_logout_redirect_uris:
            return HTMLResponse(error_page("Адрес возврата после выхода не зарегистрирован."), status_code=400,
                                headers=_NO_STORE)
        state = params.get("state")
        return RedirectResponse(_with_query(target, {"state": state}) if state else target, status_code=303)


def oidc_router(provider: OidcProvider) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    @router.get("/.well-known/openid-configuration")
    async def discovery(request: Request) -> dict[str, Any]:
        return provider.discovery(request)

    @router.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return provider.keys.jwks()

    router.add_api_route("/authorize", provider.authorize, methods=["GET", "POST"])
    router.add_api_route("/token", provider.token, methods=["POST"])
    router.add_api_route("/userinfo", provider.userinfo, methods=["GET", "POST"])
    router.add_api_route("/end-session", provider.end_session, methods=["GET", "POST"])
    return router
