"""The FastAPI application of a service: its routers under /api/<service>, health, readiness,
metrics, the AsyncAPI document, problem+json errors, request ids, and the runtime's lifespan."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..auth.policy import public
from ..runtime import ServiceRuntime
from .middleware import RequestContextMiddleware
from .nul_guard import NulGuardMiddleware
from .problems import DomainErrorMapper, Problem, install_problem_handlers

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Bad request"},
    401: {"model": Problem, "description": "Missing or invalid token"},
    403: {"model": Problem, "description": "Not allowed for this role"},
    404: {"model": Problem, "description": "Not found (or not yours)"},
    409: {"model": Problem, "description": "Conflicts with the current state"},
    422: {"model": Problem, "description": "Invalid input"},
}


def asyncapi_document(runtime: ServiceRuntime) -> dict[str, Any]:
    try:
        from pfdo_contracts.asyncapi import document  # generated from the contracts

        return document(runtime.service)
    except (ImportError, AttributeError):
        from faststream.specification import AsyncAPI

        return AsyncAPI(runtime.broker, title=f"PFDO {runtime.service}").to_specification().to_jsonable()


def create_app(
    runtime: ServiceRuntime,
    *,
    title: str,
    description: str = "",
    routers: Iterable[APIRouter] = (),
    domain_errors: DomainErrorMapper | None = None,
    consume: bool = True,
    version: str = "1.0.0",
) -> FastAPI:
    prefix = f"/api/{runtime.service}"

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await runtime.start(consume=consume)
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title, description=description, version=version, lifespan=lifespan,
        docs_url=f"{prefix}/docs", openapi_url=f"{prefix}/openapi.json", redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    app.state.runtime = runtime
    app.state.verifier = runtime.verifier
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(RequestContextMiddleware, service=runtime.service)
    install_problem_handlers(app, domain_errors)

    ops = APIRouter(prefix=prefix, tags=["operations"], dependencies=[Depends(public())])

    @ops.get("/health", summary="Liveness")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.service}

    @ops.get("/ready", summary="Readiness: database and Kafka answer", responses={503: {"description": "Not ready"}})
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = checks.get("database") == "ok" and checks.get("kafka") == "ok" and runtime.started
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @ops.get("/asyncapi", summary="AsyncAPI document of this service's events")
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document(runtime)

    app.include_router(ops)
    for router in routers:
        app.include_router(router, prefix=prefix)
    return app
