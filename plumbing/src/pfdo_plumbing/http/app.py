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
from .docs import install_docs
from .idempotency import document_idempotency, install_idempotency
from .middleware import RequestContextMiddleware
from .nul_guard import NulGuardMiddleware
from .errors import problems
from .operation_ids import operation_id_of
from .problems import DomainErrorMapper, install_problem_handlers

# what any operation may answer besides its own problems (each operation lists those: `problems(...)`)
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = problems("rate_limited", "internal_error", "temporarily_unavailable")


def _example(status: int, body: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"application/json": {"example": body}}}}


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
        # the documentation pages come from local files (install_docs), not from FastAPI's CDN links
        docs_url=None, openapi_url=f"{prefix}/openapi.json", redoc_url=None,
        responses=ERROR_RESPONSES, generate_unique_id_function=operation_id_of,
    )
    app.state.runtime = runtime
    app.state.verifier = runtime.verifier
    app.state.subject_limiter = runtime.subject_limiter
    # innermost first: Idempotency-Key handling sees the body NulGuard checked, inside the request ids
    install_idempotency(app, runtime)
    app.add_middleware(NulGuardMiddleware)
    app.add_middleware(RequestContextMiddleware, service=runtime.service)
    install_problem_handlers(app, domain_errors)

    ops = APIRouter(prefix=prefix, tags=["operations"], dependencies=[Depends(public())])

    @ops.get("/health", summary="Liveness", responses=_example(200, {"status": "ok", "service": runtime.service}),
             operation_id="getHealth",
             description="Answers 200 while the process runs.")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.service}

    @ops.get("/ready", summary="Readiness: database and Kafka answer",
             responses={**_example(200, {"status": "ready", "checks": {"database": "ok", "kafka": "ok"}}),
                        503: {"description": "Not ready", "content": {"application/json": {"example": {
                            "status": "not_ready", "checks": {"database": "ok", "kafka": "unreachable"}}}}}},
             operation_id="getReadiness",
             description="200 when the database and Kafka answer and the service has started, 503 otherwise.")
    async def ready() -> JSONResponse:
        checks = await runtime.readiness()
        ok = checks.get("database") == "ok" and checks.get("kafka") == "ok" and runtime.started
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)

    @ops.get("/metrics", summary="Prometheus metrics", response_class=Response,
             operation_id="getMetrics",
             description="Prometheus text exposition of the service's metrics.")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @ops.get("/asyncapi", summary="AsyncAPI document of this service's events",
             responses=_example(200, {"asyncapi": "3.0.0", "info": {"title": f"PFDO {runtime.service}",
                                                                    "version": "1.0.0"}, "channels": {}}),
             operation_id="getAsyncApi",
             description="The AsyncAPI document of the events this service publishes and consumes.")
    async def asyncapi() -> dict[str, Any]:
        return asyncapi_document(runtime)

    app.include_router(ops)
    install_docs(app, prefix=prefix, title=title, assets_folder=runtime.settings.docs_assets_dir,
                 asyncapi=lambda: asyncapi_document(runtime))
    for router in routers:
        app.include_router(router, prefix=prefix)
    document_idempotency(app)
    return app
