"""Composition root of the registry: runtime, use cases, routes, the daily expiry job.

``uvicorn pfdo_registry.main:app`` builds the app from the environment (PFDO_ settings)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pfdo_plumbing.audit import audit_router
from pfdo_plumbing.http.app import create_app
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.settings import ServiceSettings

from .api import labels
from .api.routes import ROUTERS
from .domain.errors import DomainError, DuplicateCertificate, IllegalTransition
from .service import certificates
from .service.context import Registry
from .settings import RegistrySettings

DESCRIPTION = """The registries of record: children and their certificates, providers, programs and their
certification. Parents apply for their own children; providers manage their own organisation and
programs; operators act within their municipality (regional operators everywhere). Errors are
problem+json with a machine-readable `code`."""


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    if settings is None:
        settings = RegistrySettings()
    elif not isinstance(settings, RegistrySettings):
        settings = RegistrySettings(**settings.model_dump())
    runtime = ServiceRuntime(settings)
    reg = Registry.build(runtime, settings)

    @runtime.every("expire-certificates", settings.expiry_job_interval_s)
    async def expire_job() -> None:
        await certificates.expire_due(reg)

    app = create_app(
        runtime, title="PFDO registry", description=DESCRIPTION,
        routers=[*ROUTERS, labels.router, audit_router(runtime)],
        domain_errors={IllegalTransition: 409, DuplicateCertificate: 409, DomainError: 422},
        consume=False,
    )
    app.state.registry = reg
    return app


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app()
    raise AttributeError(name)
