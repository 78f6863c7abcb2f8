"""The billing HTTP API (mounted under /api/billing): its routers, in the order the OpenAPI document lists them.

Each router is module-level; its routes get the service context through ``context.BillingContext``
(``app.state.billing``, set by the composition root)."""

from __future__ import annotations

from fastapi import APIRouter

from . import agreements, certificates, documents, exports, payment_orders, periods, statistics

ROUTERS: tuple[APIRouter, ...] = (certificates.router, payment_orders.router, periods.router, statistics.router,
                                  agreements.router, exports.router, documents.router)

__all__ = ["ROUTERS"]
