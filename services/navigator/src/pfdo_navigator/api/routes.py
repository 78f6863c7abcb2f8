"""The navigator's HTTP API (mounted under /api/navigator): its routers, in the order the OpenAPI document
lists them.

Each router is module-level, one per resource; its routes get the service context through
``context.NavigatorContext`` (``app.state.navigator``, set by the composition root)."""

from __future__ import annotations

from fastapi import APIRouter

from . import admin, attendance, cabinet, catalogue, disputes, enrolments, events, program_page, statistics

ROUTERS: tuple[APIRouter, ...] = (
    catalogue.router, enrolments.router, attendance.router, disputes.router, cabinet.router, admin.router,
    program_page.router, events.router, statistics.router,
)

__all__ = ["ROUTERS"]
