"""Sign-in and session settings, part of the portal's settings (prefix ``PFDO_PORTAL_``).

The identity provider is any OpenID Connect provider: the development issuer locally, the
region's Keycloak (or a broker in front of Госуслуги) in production. Where the person's role,
municipality and organisation are in its claims is configuration, e.g. for Keycloak realm roles
``PFDO_PORTAL_CLAIM_ROLE=realm_access.roles`` with ``PFDO_PORTAL_CLAIMS_FROM=["access_token"]``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

ClaimSource = Literal["id_token", "userinfo", "access_token"]


class AuthSettings(BaseSettings):
    database_url: str = Field(
        default="postgresql+asyncpg://pfdo@127.0.0.1:5433/portal",
        description="The portal's own database: its sessions (nothing of the services' data).",
    )
    db_pool_size: int = Field(default=5, ge=1)

    oidc_issuer_url: str = Field(
        default="http://127.0.0.1:8100/auth/oidc",
        description="The identity provider; its discovery document is read from "
        "<issuer url>/.well-known/openid-configuration.",
    )
    oidc_client_id: str = "pfdo-portal"
    oidc_client_secret: str = "pfdo-portal-dev-secret"
    oidc_redirect_uri: str = Field(
        default="http://127.0.0.1:8080/auth/callback", description="This portal's /auth/callback as the browser sees it.",
    )
    oidc_post_logout_redirect_uri: str = Field(
        default="http://127.0.0.1:8080/", description="Where the provider sends the browser after sign-out.",
    )
    oidc_scope: str = "openid profile"
    oidc_timeout_s: float = Field(default=10.0, gt=0)

    claims_from: list[ClaimSource] = Field(
        default=["id_token"],
        description="Where the person's claims are read, merged in this order (later ones win): the ID "
        "token, the userinfo answer, the access token (read as issued by the provider's token endpoint).",
    )
    claim_role: str = Field(default="role", description="Dotted path of the role claim (a string or a list).")
    claim_municipality: str = Field(default="municipality", description="Dotted path of the municipality code.")
    claim_provider_id: str = Field(default="provider_id", description="Dotted path of the organisation's id.")
    claim_name: str = Field(default="name", description="Dotted path of the name shown in the page header.")
    role_aliases: dict[str, str] = Field(
        default={},
        description="The provider's role names mapped to the portal's roles (parent, provider, "
        'municipal_operator, regional_operator, finance), e.g. {"pfdo-parent": "parent"}.',
    )

    session_secret: str = Field(
        default="pfdo-portal-dev-session-secret", min_length=16,
        description="Key sealing the tokens in the sessions table (set a secret one in production; "
        "changing it ends every session).",
    )
    session_cookie_name: str = "pfdo_session"
    session_cookie_secure: bool = Field(default=False, description="Send the session cookie over HTTPS only.")
    session_max_age_s: int = Field(default=12 * 3600, ge=60, description="A session ends this long after sign-in.")
    session_idle_s: int = Field(default=2 * 3600, ge=60, description="A session unused this long ends.")
    login_ttl_s: int = Field(default=600, ge=30, description="Time to come back from the provider's sign-in page.")
    token_refresh_margin_s: int = Field(
        default=30, ge=0, description="An access token this close to expiry is refreshed before it is used.",
    )
    trusted_origins: list[str] = Field(
        default=[],
        description="Origins whose form posts are accepted besides the portal's own (the one of the redirect URI).",
    )
