"""Every route of every service, from its composition root (``build_app(settings).routes``),
with the action it declares in the one policy table."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastapi.routing

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute

from pfdo_plumbing.auth.policy import ANONYMOUS_READ, POLICY, declared_action
from pfdo_plumbing.auth.principal import Role
from pfdo_plumbing.settings import ServiceSettings

OPS_PUBLIC = {"/health", "/ready", "/metrics", "/asyncapi", "/labels"}
"""The only routes allowed to be public (under /api/<service>)."""


@dataclass(frozen=True)
class RouteInfo:
    service: str
    method: str
    path: str  # as mounted, e.g. /api/registry/certificates/{certificate_id}
    action: str | None
    route: Any  # an APIRoute or FastAPI's effective route context (path, methods, dependant)

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [p.name for p in self.route.dependant.path_params]

    @property
    def allowed(self) -> frozenset[Role]:
        return POLICY.get(self.action or "", frozenset())

    @property
    def is_public(self) -> bool:
        return self.action == "public"

    @property
    def is_anonymous_read(self) -> bool:
        """Open without a token too (the public catalogue); a token is still checked."""
        return self.action in ANONYMOUS_READ

    @property
    def is_stream(self) -> bool:
        """Answers with an endless stream (Server-Sent Events): read its status and headers only."""
        original = getattr(self.route, "original_route", self.route)
        return getattr(original, "response_class", None) is StreamingResponse


@cache
def service_app(service: str) -> FastAPI:
    """The app as its composition root builds it (not started: no connection is made)."""
    main = importlib.import_module(f"pfdo_{service}.main")
    settings = ServiceSettings(
        service_name=service, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        kafka_bootstrap="127.0.0.1:1", jwks_url="/nonexistent/jwks.json",
    )
    return main.build_app(settings)


def effective_routes(app: FastAPI) -> list[Any]:
    """Routes with their full path and every dependency (router-level ones included).

    FastAPI >= 0.165 keeps included routers lazily (``app.routes`` holds the routers, not their
    routes); ``iter_route_contexts`` yields the effective routes as OpenAPI sees them."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    if iterate is None:
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [ctx for ctx in iterate(app.routes) if isinstance(ctx.original_route, APIRoute)]


def routes_of(service: str) -> list[RouteInfo]:
    out = []
    for route in effective_routes(service_app(service)):
        for method in sorted(set(route.methods) - {"HEAD", "OPTIONS"}):
            out.append(RouteInfo(service, method, route.path, declared_action(route), route))
    return out
