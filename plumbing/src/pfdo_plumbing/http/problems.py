"""Errors as RFC 9457 problem+json with a machine-readable ``code``.

The human ``title`` and ``detail`` are in the request's language (Russian by default, English on
``Accept-Language: en``): the detail is the error catalogue's text for the code (``errors.py``),
filled from the error's details; validation errors list ``{pointer, code, message}`` items
(``validation.py``). The code never changes with the language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..domain_error import DomainError
from ..kafka.errors import is_transient
from ..logging import get_logger
from .errors import Text, lookup
from .language import request_language
from .problem_model import PROBLEM_JSON, Problem, status_title
from .validation import field_message, pointer, validation_items

log = get_logger(__name__)


class ProblemError(Exception):
    """Raise from a route or a use case to answer with a problem.

    The human text comes from the error catalogue (the code's template in the request's language,
    filled from ``details``); ``detail`` is the fallback for a code the catalogue does not know and
    what the log shows.
    """

    def __init__(
        self, status: int, code: str, detail: str = "", *, title: str | None = None,
        errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or code)
        self.status = status
        self.code = code
        self.detail = detail or code
        self.title = title
        self.errors = errors
        self.headers = headers
        self.details: dict[str, Any] = dict(details or {})


# English names of what a route looks up, with their Russian words (a parent reads them)
_THINGS: dict[str, Text] = {
    "certificate": Text("сертификат", "certificate"),
    "module": Text("модуль программы", "module"),
    "program": Text("программа", "program"),
    "provider": Text("поставщик образовательных услуг", "provider"),
    "application": Text("заявление на сертификат", "application"),
    "enrolment": Text("заявка на обучение", "enrolment"),
    "mark": Text("отметка посещаемости", "attendance mark"),
    "dispute": Text("спор об отметке", "dispute"),
    "payment order": Text("платёжное поручение", "payment order"),
    "period": Text("период реализации программ", "period"),
    "agreement": Text("соглашение с уполномоченным органом", "agreement"),
    "municipality": Text("муниципалитет", "municipality"),
    "rating": Text("оценка", "rating"),
}


def thing(what: str) -> Text:
    """The Russian and English name of a thing a route looks up (unknown names stay as given)."""
    return _THINGS.get(what.strip().lower().rstrip("."), Text(what, what))


def not_found(what: str) -> ProblemError:
    return ProblemError(404, "not_found", f"{what} not found", details={"what": thing(what)})


def _field_pointer(request: Request, field: str) -> str:
    parts = [p for p in str(field).split(".") if p != ""]
    where = "query" if parts and parts[0] in request.query_params else "body"
    return pointer([where, *parts])


def localise_items(request: Request, language: str, errors: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Per-item reasons in the answer's language: an item naming a ``field`` becomes
    ``{pointer, code, message}``; an item with a ``code`` gains its ``message``; others stay as given."""
    if errors is None:
        return None
    items: list[dict[str, Any]] = []
    for item in errors:
        if not isinstance(item, dict) or "code" not in item:
            items.append(item)
            continue
        item = dict(item)
        if "field" in item and "pointer" not in item:
            item = {"pointer": _field_pointer(request, item.pop("field")), **item}
        if "message" not in item:
            context = {k: v for k, v in item.items() if k not in ("pointer", "code")}
            item["message"] = field_message(str(item["code"]), language, context, service=service_of(request))
        items.append(item)
    return items


def service_of(request: Request) -> str | None:
    """The service answering (its code variants win over another service's), when the app says."""
    app = request.scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    return getattr(runtime, "service", None)


def localised_detail(request: Request, code: str, fallback: str, service: str | None = None) -> str:
    """The catalogue's text of ``code`` in the request's language (for a reason inside a 200 answer,
    e.g. a module a batch quote could not price); ``fallback`` for a code the catalogue does not know."""
    known = lookup(code, service or service_of(request))
    return known.message(request_language(request)) if known is not None else fallback


def problem_response(request: Request, status: int, code: str, detail: str | None = None, *, title: str | None = None,
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                     details: Mapping[str, Any] | None = None) -> JSONResponse:
    """A problem+json answer in the request's language: the catalogue's text for ``code`` filled from
    ``details``, else ``detail`` as given."""
    language = request_language(request)
    known = lookup(code, service_of(request))
    text = known.message(language, details or {}) if known is not None else detail
    body = Problem(
        title=title or status_title(status, language), status=status, code=code, detail=text,
        request_id=getattr(request.state, "request_id", None), errors=localise_items(request, language, errors),
    )
    answer_headers = {"Content-Language": language, "Vary": "Accept-Language", **(headers or {})}
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON,
                        headers=answer_headers)


DomainErrorMapper = dict[type[Exception], int]

# the status of a domain error whose code the catalogue does not know (a service may map its classes
# to another one); every code a service raises is in the catalogue, so this is the last resort
DOMAIN_ERROR_STATUS = 422


def domain_problem(request: Request, exc: Exception, fallback_status: int = DOMAIN_ERROR_STATUS) -> JSONResponse:
    """A domain error (``code``, ``message``, ``details``) as problem+json: the catalogue's status and
    text for its code; ``details["errors"]`` become the per-item reasons; the English name of what was
    not found (``NotFound("Module")``) is shown in the request's language."""
    code = getattr(exc, "code", "domain_error")
    known = lookup(code, service_of(request))
    details = dict(getattr(exc, "details", None) or {})
    errors = details.pop("errors", None)
    if code == "not_found" and isinstance(details.get("what"), str):
        details["what"] = thing(details["what"])
    return problem_response(request, known.status if known else fallback_status, code,
                            str(getattr(exc, "message", None) or exc), details=details,
                            errors=errors if isinstance(errors, list) else None)


def install_problem_handlers(app: FastAPI, domain_errors: DomainErrorMapper | None = None) -> None:
    """Every failure leaves as problem+json. Domain errors (:class:`DomainError` and what ``domain_errors``
    adds, each with a ``.code``) take the catalogue's status for their code, else the status mapped to
    their class: the use cases raise them and know nothing of HTTP."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.code, exc.detail, title=exc.title, errors=exc.errors,
                                headers=exc.headers, details=exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_items(exc.errors(), request_language(request))
        return problem_response(request, 422, "validation_error", "The request is not valid.", errors=errors,
                                details={"count": len(errors)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}.get(
            exc.status_code, "http_error"
        )
        return problem_response(request, exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None),
                                details={"what": Text("такой адрес", "this address")} if code == "not_found" else None)

    for error_type, status in {DomainError: DOMAIN_ERROR_STATUS, **(domain_errors or {})}.items():

        async def _domain(request: Request, exc: Exception, _status: int = status) -> JSONResponse:
            return domain_problem(request, exc, _status)

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
