"""Errors as RFC 9457 problem+json with a machine-readable ``code``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..kafka.errors import is_transient
from ..logging import get_logger

log = get_logger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """The body of every error answer."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    code: str = Field(description="Machine-readable error code, stable across versions.")
    detail: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = Field(default=None, description="Per-field or per-item reasons.")


class ProblemError(Exception):
    """Raise from a route or a use case to answer with a problem."""

    def __init__(
        self, status: int, code: str, detail: str, *, title: str | None = None,
        errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or code.replace("_", " ").capitalize()
        self.errors = errors
        self.headers = headers


def not_found(what: str) -> ProblemError:
    return ProblemError(404, "not_found", f"{what} not found")


def problem_response(request: Request, status: int, code: str, detail: str | None, *, title: str | None = None,
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(
        title=title or code.replace("_", " ").capitalize(), status=status, code=code, detail=detail,
        request_id=getattr(request.state, "request_id", None), errors=errors,
    )
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers)


DomainErrorMapper = dict[type[Exception], int]


def install_problem_handlers(app: FastAPI, domain_errors: DomainErrorMapper | None = None) -> None:
    """Every failure leaves as problem+json; domain errors (with ``.code``) map to a status."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": str(e.get("type"))}
            for e in exc.errors()
        ]
        return problem_response(request, 422, "validation_error", "The request is not valid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))

    for error_type, status in (domain_errors or {}).items():

        async def _domain(request: Request, exc: Exception, _status: int = status) -> JSONResponse:
            code = getattr(exc, "code", "domain_error")
            return problem_response(request, _status, code, str(getattr(exc, "message", None) or exc))

        app.add_exception_handler(error_type, _domain)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        if is_transient(exc):  # the database or Kafka dropped out under us: nothing was committed
            log.warning("backing_service_unavailable", path=request.url.path, error_type=type(exc).__name__,
                        error=str(exc)[:300])
            return problem_response(request, 503, "temporarily_unavailable",
                                    "A backing service is briefly unavailable and nothing was changed; "
                                    "retry in a moment.", headers={"Retry-After": "1"})
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(request, 500, "internal_error", "Something went wrong; the request id helps support find it.")
