"""Composition root of the ratings service: ``uvicorn pfdo_ratings.main:app``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pfdo_plumbing.audit import audit_router
from pfdo_plumbing.http.app import create_app
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.settings import ServiceSettings

from .adapters.handlers import register_handlers
from .api.routes import router as ratings_router
from .domain.errors import DomainError
from .service.ratings import Clock, RatingsService, utc_now
from .settings import RatingsSettings

DESCRIPTION = """Parents rate a program once after the enrolment ended (four scales, 0-100 % in steps of 10),
may edit for 30 days; aggregates per program and provider (count, mean per scale, a shrunk score with a
regional prior of weight 10 pseudo-reviews by default) feed the navigator's ranking."""


def build_runtime(settings: ServiceSettings | None = None, *, clock: Clock = utc_now,
                  configure_logs: bool = True) -> tuple[ServiceRuntime, RatingsService]:
    if settings is None:
        settings = RatingsSettings()
    elif not isinstance(settings, RatingsSettings):
        settings = RatingsSettings(**settings.model_dump())
    runtime = ServiceRuntime(settings, configure_logs=configure_logs)
    service = RatingsService(runtime, prior_weight=settings.prior_weight, clock=clock, timezone=settings.region_timezone)
    register_handlers(runtime, service)
    return runtime, service


def build_app(settings: ServiceSettings | None = None, *, clock: Clock = utc_now) -> FastAPI:
    runtime, service = build_runtime(settings, clock=clock)

    @runtime.every("refresh_prior", runtime.settings.prior_refresh_interval_s)  # type: ignore[attr-defined]
    async def refresh_prior() -> None:
        await service.recompute(apply=True, refresh_prior=True)

    app = create_app(
        runtime, title="PFDO ratings", description=DESCRIPTION,
        routers=[ratings_router, audit_router(runtime)],
        domain_errors={DomainError: 409},
    )
    app.state.ratings = service
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn pfdo_ratings.main:app` builds the app on first access only
    if name == "app":
        return build_app()
    raise AttributeError(name)
