"""Sign-in in the local stack: the development issuer is the portal's OpenID Connect provider.

The browser reaches the issuer's sign-in and sign-out pages through the gateway
(``<gateway>/auth/oidc/...``) and comes back to the portal there too (``<gateway>/auth/callback``);
the portal calls the issuer's back channel (discovery, token, JWKS) at its own address. The
sign-in page offers the people of the demo region's accounts file."""

from __future__ import annotations

import json

from .config import StackConfig

PORTAL_CLIENT_ID = "pfdo-portal"
PORTAL_CLIENT_SECRET = "pfdo-portal-dev-secret"
"""A development secret: the local issuer and portal only."""
PORTAL_DATABASE = "portal"
"""The portal's own database (its sessions)."""
ACCOUNTS_FILE = "demo-accounts.json"


def callback_url(config: StackConfig) -> str:
    return f"{config.gateway_url}/auth/callback"


def signed_out_url(config: StackConfig) -> str:
    return f"{config.gateway_url}/"


def issuer_env(config: StackConfig) -> dict[str, str]:
    """What the development issuer gets: its one client, the portal, and the accounts to offer."""
    return {
        "PFDO_DEV_OIDC_CLIENT_ID": PORTAL_CLIENT_ID,
        "PFDO_DEV_OIDC_CLIENT_SECRET": PORTAL_CLIENT_SECRET,
        "PFDO_DEV_OIDC_REDIRECT_URIS": json.dumps([callback_url(config)]),
        "PFDO_DEV_OIDC_POST_LOGOUT_REDIRECT_URIS": json.dumps([signed_out_url(config)]),
        "PFDO_DEV_OIDC_PUBLIC_URL": f"{config.gateway_url}/auth/oidc",
        "PFDO_DEV_OIDC_ACCOUNTS_FILE": str(config.stack_dir / ACCOUNTS_FILE),
    }


def portal_env(config: StackConfig) -> dict[str, str]:
    """What the portal gets to sign people in and keep their sessions."""
    return {
        "PFDO_PORTAL_DATABASE_URL": config.pg_dsn(PORTAL_DATABASE),
        "PFDO_PORTAL_OIDC_ISSUER_URL": f"http://{config.host}:{config.auth_port}/auth/oidc",
        "PFDO_PORTAL_OIDC_CLIENT_ID": PORTAL_CLIENT_ID,
        "PFDO_PORTAL_OIDC_CLIENT_SECRET": PORTAL_CLIENT_SECRET,
        "PFDO_PORTAL_OIDC_REDIRECT_URI": callback_url(config),
        "PFDO_PORTAL_OIDC_POST_LOGOUT_REDIRECT_URI": signed_out_url(config),
    }
