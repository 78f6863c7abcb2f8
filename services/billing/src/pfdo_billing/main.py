"""Composition root of the billing service: runtime, event handlers, routers, jobs."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from pfdo_plumbing.audit import audit_router
from pfdo_plumbing.http.app import create_app
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_plumbing.settings import ServiceSettings

from pfdo_billing.adapters import handlers
from pfdo_billing.api.routes import ROUTERS
from pfdo_billing.domain.errors import BillingDomainError
from pfdo_billing.service import payment_orders
from pfdo_billing.service.context import Billing
from pfdo_billing.settings import BillingSettings


def build_app(settings: ServiceSettings | None = None) -> FastAPI:
    if settings is None:
        settings = BillingSettings()
    elif not isinstance(settings, BillingSettings):
        settings = BillingSettings(**settings.model_dump())
    runtime = ServiceRuntime(settings)
    billing = Billing(runtime, settings)
    handlers.register(billing)

    @runtime.every("advance-orders", 3600)
    async def advance_orders() -> None:
        """Advances of the current month, once the month has started (idempotent)."""
        async with runtime.db.transaction() as session:
            await payment_orders.issue_advances(billing, session, billing.today().replace(day=1), None)

    app = create_app(
        runtime, title="PFDO billing",
        description="The certificate ledger: periods, nominals, quotes, reservations, month close, payment orders.",
        routers=[*ROUTERS, audit_router(runtime)],
        domain_errors={BillingDomainError: 422},
    )
    app.state.billing = billing
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn pfdo_billing.main:app` builds the app on first access only
    if name == "app":
        return build_app()
    raise AttributeError(name)
