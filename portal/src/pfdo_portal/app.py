"""The portal's composition root: ``create_app(settings)`` builds the FastAPI application (pages,
static files, error pages); ``app`` is the one uvicorn runs (settings from the environment).

The portal reads and changes data only through the gateway's public API (:mod:`.gateway`): it
has no database of the services and no Kafka.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from pfdo_plumbing.http.middleware import RequestContextMiddleware
from pfdo_plumbing.logging import configure_logging, get_logger

from . import assets
from .auth import close_auth, install_auth, sign_in_again
from .gateway import ApiError, GatewayApi
from .gateway.visitor import VisitorMiddleware
from .labels import Labels
from .pages import cabinet, navigator, provider
from .pages import operator_registry
from .pages import operator_money
from .pages import operator_agreements
from .pages import finance, operator_dashboard, operator_disputes
from .pages import provider_disputes, provider_orders, provider_profile, provider_programs
from .pages import documents
from .rendering import render, templates
from .settings import PortalSettings

log = get_logger(__name__)

SERVICE = "portal"


def create_app(settings: PortalSettings | None = None, *, api: GatewayApi | None = None) -> FastAPI:
    """The portal. ``api`` replaces the gateway client (tests); by default one is made from the settings."""
    settings = settings or PortalSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await app.state.api.aclose()
            await close_auth(app)

    app = FastAPI(title="Портал ПФДО", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.api = api or GatewayApi(settings.api_url, timeout=settings.api_timeout_s,
                                      source_address=settings.api_source_address)
    app.state.labels = Labels(app.state.api.labels, ttl_s=settings.labels_ttl_s,
                              municipality_names=app.state.api.municipality_names)
    app.state.templates = templates()
    app.add_middleware(RequestContextMiddleware, service=SERVICE)
    app.add_middleware(VisitorMiddleware)  # the visitor's address goes with the page's API calls

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.include_router(assets.router(settings.assets_dir))
    app.include_router(navigator.router)
    app.include_router(cabinet.router)  # the parent's cabinet (/cabinet...)
    app.include_router(provider.router)  # the provider's cabinet and attendance journal (/provider...)
    app.include_router(provider_profile.router)  # the provider's organisation (/provider/profile)
    app.include_router(provider_programs.router)  # the provider's programs and modules (/provider/programs...)
    app.include_router(provider_orders.router)  # the provider's payment orders (/provider/orders...)
    app.include_router(provider_disputes.router)  # disputes on the provider's marks (/provider/disputes)
    app.include_router(operator_registry.router)  # the operator's applications, providers, programs
    app.include_router(operator_money.router)  # the operator's periods, month close, reconciliation
    app.include_router(operator_agreements.router)  # agreements with payers (/operator/agreements, /provider/agreements)
    app.include_router(operator_dashboard.router)  # the operator's dashboard (/operator)
    app.include_router(operator_disputes.router)  # disputes for the operator to decide (/operator/disputes)
    app.include_router(finance.router)  # the finance register of payment orders and its export (/finance...)
    app.include_router(documents.router)  # billing's documents downloaded by their parties (/documents/...)
    install_auth(app, settings)  # sessions, sign-in and sign-out (/auth/...)

    @app.exception_handler(ApiError)
    async def api_error_page(request: Request, exc: ApiError) -> Response:
        log.info("api_refused", status=exc.status, code=exc.code, api_request_id=exc.request_id)
        if exc.status == 401:  # the session's token is no longer accepted: sign in again
            return await sign_in_again(request)
        status = exc.status if exc.status < 500 else 503
        return await error_page(request, status, exc.message, exc.field_messages)

    @app.exception_handler(StarletteHTTPException)
    async def http_error_page(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Такой страницы нет." if exc.status_code == 404 else str(exc.detail)
        return await error_page(request, exc.status_code, message, ())

    @app.exception_handler(RequestValidationError)
    async def malformed_request(request: Request, exc: RequestValidationError) -> Response:
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in exc.errors()):
            # a page's address with a part that cannot be (a program id that is not a UUID...)
            return await error_page(request, 404, "Такой страницы нет.", ())
        return await error_page(request, 422, "Проверьте введённые данные.", ())

    return app


ERROR_TITLES = {401: "Нужно войти", 403: "Нет доступа", 404: "Страница не найдена", 503: "Сервис недоступен"}


async def error_page(request: Request, status: int, message: str, fields: tuple[str, ...]) -> Response:
    labels = await request.app.state.labels.book()
    title = ERROR_TITLES.get(status, "Запрос не выполнен")
    return render(request, "error.html", {"title": title, "message": message, "fields": fields},
                  labels=labels, status_code=status)


def __getattr__(name: str) -> FastAPI:
    # ``pfdo_portal.app:app`` for uvicorn, built on first use (importing the module builds nothing)
    if name == "app":
        built = globals()["app"] = create_app()
        return built
    raise AttributeError(name)
