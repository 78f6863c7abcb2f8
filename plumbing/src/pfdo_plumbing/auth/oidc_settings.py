"""Settings of the development issuer's OpenID Connect provider (prefix ``PFDO_DEV_OIDC_``).

One registered client (the portal) with its secret, the redirect URIs it may use after sign-in
and after sign-out, and where the browser reaches the issuer (``public_url``: through the
gateway, e.g. ``http://127.0.0.1:8080/auth/oidc``). The back-channel endpoints (token, JWKS,
userinfo) are announced at the address the discovery document was fetched from."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DevOidcSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PFDO_DEV_OIDC_", extra="ignore")

    client_id: str = "pfdo-portal"
    client_secret: str = Field(default="pfdo-portal-dev-secret", min_length=8)
    redirect_uris: list[str] = Field(
        default=["http://127.0.0.1:8080/auth/callback"],
        description="Exact redirect URIs the client may ask for (JSON list in the environment).",
    )
    post_logout_redirect_uris: list[str] = Field(
        default=["http://127.0.0.1:8080/"],
        description="Exact addresses the browser may be sent back to after sign-out (JSON list).",
    )
    public_url: str = Field(
        default="",
        description="Browser-facing base of the provider (authorize, end-session); empty: the address "
        "the discovery document was fetched from.",
    )
    accounts_file: str = Field(
        default="",
        description="The demo region's accounts file (demo-accounts.json) whose people the sign-in page "
        "offers; empty or missing: only the built-in regional operator and finance accounts.",
    )
    code_ttl_s: int = Field(default=60, ge=5, le=600, description="Lifetime of an authorization code.")
    access_token_ttl_s: int = Field(default=3600, ge=60, description="Lifetime of access and ID tokens.")
    refresh_token_ttl_s: int = Field(default=12 * 3600, ge=60, description="Lifetime of a refresh token.")
