"""The portal as an OpenID Connect client (authlib): the authorization code flow with PKCE S256,
state and nonce; the ID token checked (signature from the provider's JWKS, issuer, audience,
expiry, nonce, at_hash); refresh; RP-initiated logout. The provider is found by discovery."""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

import warnings

import authlib.deprecate  # noqa: F401 - installs authlib's own warning filter first, so ours below wins
import httpx
import jwt

with warnings.catch_warnings():
    # authlib prefers the httpx2 package and warns when it falls back to httpx, which the whole
    # workspace uses (one HTTP client library, not two)
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.starlette_client import OAuth

from .settings import AuthSettings


class SignInFailed(Exception):
    """The provider refused, or its answer did not pass the checks; ``reason`` is for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OidcClient:
    def __init__(self, settings: AuthSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        client_kwargs: dict[str, Any] = {"scope": settings.oidc_scope, "code_challenge_method": "S256",
                                         "timeout": settings.oidc_timeout_s}
        if transport is not None:
            client_kwargs["transport"] = transport
        self.app = OAuth().register(
            "portal", client_id=settings.oidc_client_id, client_secret=settings.oidc_client_secret,
            server_metadata_url=settings.oidc_issuer_url.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    async def start(self) -> dict[str, str]:
        """A new sign-in: the provider's authorize URL and what the callback checks
        (``state``, ``nonce``, ``code_verifier``), to keep on the server."""
        try:
            found = await self.app.create_authorization_url(self.settings.oidc_redirect_uri)
        except (httpx.HTTPError, OAuthError, RuntimeError) as exc:
            raise SignInFailed(f"discovery failed: {exc!r}") from exc
        return {"url": found["url"], "state": found["state"], "nonce": found["nonce"],
                "code_verifier": found["code_verifier"]}

    async def finish(self, query: Mapping[str, str], login: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Check the callback against the sign-in under way and redeem the code: the token
        response and the person's claims (merged from the configured sources)."""
        if query.get("error"):
            raise SignInFailed(f"provider answered {query.get('error')}: {query.get('error_description', '')}")
        if not secrets.compare_digest(str(query.get("state", "")), str(login.get("state", ""))):
            raise SignInFailed("state does not match the sign-in under way")
        code = query.get("code")
        if not code:
            raise SignInFailed("no code")
        try:
            token = await self.app.fetch_access_token(
                redirect_uri=self.settings.oidc_redirect_uri, code=code, code_verifier=login["code_verifier"],
            )
            if "id_token" not in token:
                raise SignInFailed("no ID token")
            id_claims = await self.app.parse_id_token(token, nonce=login["nonce"], leeway=30)
            claims: dict[str, Any] = {}
            for source in self.settings.claims_from:
                if source == "id_token":
                    claims.update(id_claims)
                elif source == "userinfo":
                    claims.update(await self.app.userinfo(token=token))
                else:  # straight from the provider's token endpoint: its signature is the services' business
                    claims.update(jwt.decode(token["access_token"], options={"verify_signature": False}))
        except (httpx.HTTPError, OAuthError, jwt.PyJWTError, ValueError, KeyError) as exc:
            raise SignInFailed(f"code exchange failed: {exc!r}") from exc
        if claims.get("sub") != id_claims.get("sub"):
            raise SignInFailed("claims of another subject")
        return stored_tokens(token), claims

    async def refresh(self, refresh_token: str) -> dict[str, Any]:
        try:
            token = await self.app.fetch_access_token(grant_type="refresh_token", refresh_token=refresh_token)
        except (httpx.HTTPError, OAuthError, ValueError) as exc:
            raise SignInFailed(f"refresh failed: {exc!r}") from exc
        kept = stored_tokens(token)
        kept.setdefault("refresh_token", refresh_token)
        return kept

    async def logout_url(self, id_token: str | None) -> str | None:
        """The provider's end-session address (None when it announces none)."""
        try:
            found = await self.app.create_logout_url(
                post_logout_redirect_uri=self.settings.oidc_post_logout_redirect_uri, id_token_hint=id_token,
                client_id=self.settings.oidc_client_id,
            )
        except (httpx.HTTPError, OAuthError, RuntimeError):
            return None
        return str(found["url"])


def stored_tokens(token: Mapping[str, Any]) -> dict[str, Any]:
    """What the session keeps of a token response, with the access token's expiry as a time."""
    expires_at = token.get("expires_at")
    if expires_at is None:
        expires_at = int(time.time()) + int(token.get("expires_in") or 300)
    kept = {"access_token": token["access_token"], "expires_at": int(expires_at)}
    for name in ("refresh_token", "id_token"):
        if token.get(name):
            kept[name] = token[name]
    return kept
