"""Use cases raise domain errors and know nothing of HTTP; the app answers each exactly as the HTTP
problem with the catalogue's status for its code would be answered (same status, body and headers),
without the service having to map its error classes."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest
from fastapi import FastAPI

from pfdo_plumbing.domain_error import DomainError, NotFound
from pfdo_plumbing.http.errors import ErrorCode, register
from pfdo_plumbing.http.problems import ProblemError, install_problem_handlers, not_found

# a test's own codes, not published with the services' ones
register(
    ErrorCode("test_seats_taken", 409, "Мест нет[: занято {held} из {capacity}].",
              "No seats left[: {held} of {capacity} taken].", "test"),
    ErrorCode("test_bad_marks", 422, "Отметки не приняты[ за {months}].", "Marks refused[ for {months}].", "test"),
    ErrorCode("test_class_code", 409, "Код назван классом.", "The class names the code.", "test"),
)


class ClassNamedError(DomainError):
    """Like billing's errors: the class names the code, the message comes first."""

    code: ClassVar[str] = "test_class_code"  # type: ignore[misc]

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(type(self).code, message, **details)


# each pair: what a use case raises now, and the HTTP problem it used to raise
PAIRS: dict[str, tuple[Exception, Exception]] = {
    "named": (NotFound("Certificate"), not_found("Certificate")),
    "unnamed": (NotFound(message="period not found"), ProblemError(404, "not_found", "period not found")),
    "details": (DomainError("test_seats_taken", "full", held=12, capacity=12),
                ProblemError(409, "test_seats_taken", "full", details={"held": 12, "capacity": 12})),
    "items": (DomainError("test_bad_marks", "refused", months="2027-11",
                          errors=[{"index": 0, "reason": "month_closed"}, {"field": "text", "code": "test_bad_marks"}]),
              ProblemError(422, "test_bad_marks", "refused", details={"months": "2027-11"},
                           errors=[{"index": 0, "reason": "month_closed"}, {"field": "text", "code": "test_bad_marks"}])),
    "class": (ClassNamedError("as the class says"), ProblemError(409, "test_class_code", "as the class says")),
}


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)  # no class mapping given: the domain errors are answered anyway

    @application.get("/{kind}/{which}")
    async def fail(kind: str, which: int, text: str = "") -> None:
        raise PAIRS[kind][which]

    return application


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("kind", list(PAIRS))
async def test_a_domain_error_is_answered_byte_for_byte_as_its_http_problem(client, kind: str, language: str) -> None:
    headers = {"Accept-Language": language}
    domain = await client.get(f"/{kind}/0", params={"text": "x"}, headers=headers)
    http = await client.get(f"/{kind}/1", params={"text": "x"}, headers=headers)
    assert domain.status_code == http.status_code != 500
    assert domain.content == http.content
    assert domain.headers == http.headers


async def test_what_was_not_found_is_named_in_the_answers_language(client) -> None:
    assert (await client.get("/named/0")).json()["detail"] == "Не найдено: сертификат."
    assert (await client.get("/named/0", headers={"Accept-Language": "en"})).json()["detail"] == "Not found: certificate."
    assert (await client.get("/unnamed/0")).json() == {
        "type": "about:blank", "title": "Не найдено", "status": 404, "code": "not_found", "detail": "Не найдено."}


def test_a_domain_error_carries_no_transport() -> None:
    error = NotFound("Module", module_id="m-1")
    assert (error.code, error.details) == ("not_found", {"what": "Module", "module_id": "m-1"})
    assert not any(hasattr(error, name) for name in ("status", "status_code", "headers"))
