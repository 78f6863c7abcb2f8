"""HTTP routes of the registry (mounted under /api/registry): its routers, in the order the OpenAPI document
lists them.

Each router is module-level, one per resource; its routes get the service context through
``context.RegistryContext`` (``app.state.registry``, set by the composition root)."""

from __future__ import annotations

from fastapi import APIRouter

from . import certificates, programs, providers, reference, statistics

ROUTERS: tuple[APIRouter, ...] = (reference.router, certificates.router, providers.router, programs.router,
                                   statistics.router)

__all__ = ["ROUTERS"]
