"""The development token issuer: serves its JWKS and mints tokens for any role and subject, and
is a small OpenID Connect provider for the portal's sign-in (``oidc_provider``: a page to pick a
demo person, the code flow with PKCE, end-session).

It refuses to start unless PFDO_DEV_ISSUER_ENABLED=1: it must never run in production.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from ..http.docs import install_docs
from ..settings import ServiceSettings
from .devkeys import DevKeys
from .oidc_provider import OidcProvider, oidc_router
from .oidc_settings import DevOidcSettings
from .principal import Role
from .tokens import MAX_LIFETIME_S


class TokenRequest(BaseModel):
    sub: str = Field(min_length=1, max_length=200)
    role: Role
    municipality: str | None = Field(default=None, max_length=20)
    provider_id: str | None = Field(default=None, max_length=64)
    ttl_s: int = Field(default=3600, ge=1, le=MAX_LIFETIME_S,
                       description="Lifetime, seconds; at most the services' default maximum (12 h).")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


def create_issuer_app(settings: ServiceSettings | None = None, oidc: DevOidcSettings | None = None) -> FastAPI:
    settings = settings or ServiceSettings(service_name="auth")
    if not settings.dev_issuer_enabled:
        raise RuntimeError("The development token issuer is off; set PFDO_DEV_ISSUER_ENABLED=1 to run it locally.")
    keys = DevKeys(settings.dev_keys_dir)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        keys.ensure()
        yield

    app = FastAPI(title="PFDO development token issuer", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url="/auth/openapi.json")
    install_docs(app, prefix="/auth", title="PFDO development token issuer", assets_folder=settings.docs_assets_dir)

    @app.get("/auth/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/auth/.well-known/jwks.json")
    async def jwks() -> dict[str, Any]:
        return keys.jwks()

    @app.post("/auth/token", response_model=TokenResponse)
    async def token(request: TokenRequest) -> TokenResponse:
        if request.ttl_s > settings.jwt_max_lifetime_s:  # the services would refuse the token
            raise HTTPException(422, f"ttl_s: at most {settings.jwt_max_lifetime_s} s")
        minted = keys.mint(
            sub=request.sub, role=request.role.value, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
            ttl_s=request.ttl_s, municipality=request.municipality, provider_id=request.provider_id,
        )
        return TokenResponse(access_token=minted, expires_in=request.ttl_s)

    app.include_router(oidc_router(OidcProvider(settings, oidc or DevOidcSettings(), keys)))

    @app.post("/auth/rotate")
    async def rotate() -> dict[str, str]:
        return {"kid": keys.rotate()}

    return app


def __getattr__(name: str) -> Any:
    # `uvicorn pfdo_plumbing.auth.devissuer:app` builds the app on first access only
    if name == "app":
        return create_issuer_app()
    raise AttributeError(name)
