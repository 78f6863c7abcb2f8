"""Error answers speak the client's language: Russian by default, English on Accept-Language: en;
validation errors point at the field (RFC 6901) with a machine code and a human message."""

from __future__ import annotations

from typing import Annotated, Literal

import httpx
import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from pfdo_plumbing.domain_error import DomainError
from pfdo_plumbing.http.errors import ErrorCode, Text, catalogue, lookup, problems, register, render
from pfdo_plumbing.http.language import negotiate
from pfdo_plumbing.http.problems import ProblemError, install_problem_handlers, not_found
from pfdo_plumbing.http.validation import item_code, pointer

register(
    ErrorCode("test_group_full", 409, "Группа заполнена[: мест {capacity}].", "The group is full[: {capacity} seats].",
              "test"),
    ErrorCode("test_rule", 409, "Правило нарушено.", "A rule is broken.", "test"),
)


@pytest.mark.parametrize(("header", "expected"), [
    (None, "ru"), ("", "ru"), ("en", "en"), ("EN-gb", "en"), ("en-US,en;q=0.9", "en"),
    ("ru-RU,ru;q=0.9,en;q=0.8", "ru"), ("en;q=0.5, ru;q=0.4", "en"), ("de, en;q=0.3", "en"), ("de, fr", "ru"),
    ("*", "ru"), ("fr, *;q=0.5", "ru"), ("ru;q=0", "en"), ("en;q=0", "ru"), ("en;q=abc", "ru"),
    ("ru;q=0.8, en;q=0.8", "ru"), ("en;q=0.8, ru;q=0.8", "en"), ("en;q=1.5", "ru"), ("en ; q=0.7 , ru;q=0.6", "en"),
])
def test_accept_language_is_negotiated_by_weight(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_templates_fill_details_and_drop_optional_parts_without_them() -> None:
    assert render("Группа заполнена[: мест {capacity}].", {}) == "Группа заполнена."
    assert render("Группа заполнена[: мест {capacity}].", {"capacity": 5}) == "Группа заполнена: мест 5."
    assert render("Не больше {limit}.", {}) == "Не больше ….", "a required value that is missing never breaks the text"
    assert render("Не найдено: {what}.", {"what": Text("сертификат", "certificate")}, "en") == "Не найдено: certificate."
    assert render("{a} {b}", {"a": [1, 2], "b": True}) == "1, 2 да"


@pytest.mark.parametrize(("location", "expected"), [
    (("query", "page_size"), "/query/page_size"),
    (("body", "marks", 3, "status"), "/body/marks/3/status"),
    (("body",), "/body"),
    (("path", "a/b~c"), "/path/a~1b~0c"),
])
def test_pointers_follow_rfc_6901(location: tuple, expected: str) -> None:
    assert pointer(location) == expected


def test_pydantic_types_map_to_stable_codes() -> None:
    assert [item_code(t) for t in ("missing", "int_parsing", "string_too_long", "literal_error", "custom_thing")] == [
        "missing", "not_integer", "too_long", "enum", "custom_thing"]


def test_problems_lists_codes_per_status_with_examples() -> None:
    answers = problems("not_found", "test_group_full", "test_rule")
    assert set(answers) == {404, 409}
    assert "`test_group_full`" in answers[409]["description"] and "`test_rule`" in answers[409]["description"]
    examples = answers[409]["content"]["application/problem+json"]["examples"]
    assert examples["test_rule"]["value"]["detail"] == "Правило нарушено."
    with pytest.raises(KeyError):
        problems("no_such_code_anywhere")


def test_a_code_registered_again_with_other_text_is_refused() -> None:
    with pytest.raises(ValueError):
        register(ErrorCode("test_rule", 409, "Другое.", "Other.", "test"))
    register(ErrorCode("test_rule", 409, "Правило нарушено.", "A rule is broken.", "test"))  # the same: fine
    assert lookup("test_rule") == catalogue()["test_rule"]


class Mark(BaseModel):
    status: Literal["present", "absent", "excused"]


class Marks(BaseModel):
    marks: list[Mark] = Field(max_length=5)
    note: str = Field(default="", max_length=3)


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application, {DomainError: 422})

    @application.get("/items")
    async def items(page_size: Annotated[int, Query(ge=1, le=100)] = 20) -> dict:
        return {"page_size": page_size}

    @application.post("/marks")
    async def marks(body: Marks) -> dict:
        return {"n": len(body.marks)}

    @application.get("/full")
    async def full() -> None:
        raise DomainError("test_group_full", "the group is full", capacity=12)

    @application.get("/search")
    async def search(text: str = "") -> None:
        raise DomainError("test_rule", "bad search", errors=[{"field": "text", "code": "test_rule"}])

    @application.get("/unknown-code")
    async def unknown_code() -> None:
        raise ProblemError(418, "not_in_the_catalogue", "As raised.")

    @application.get("/certificate")
    async def certificate() -> None:
        raise not_found("Certificate")

    return application


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_a_query_out_of_range_points_at_the_parameter_in_russian_by_default(client) -> None:
    answer = await client.get("/items", params={"page_size": 0})
    body = answer.json()
    assert (answer.status_code, body["code"]) == (422, "validation_error")
    assert answer.headers["content-language"] == "ru"
    assert body["title"] == "Неверные данные" and body["detail"].startswith("Запрос заполнен неверно")
    assert body["errors"] == [{"pointer": "/query/page_size", "code": "greater_than_equal",
                               "message": "Значение должно быть не меньше 1."}]


async def test_english_on_accept_language_en_with_the_same_codes(client) -> None:
    answer = await client.get("/items", params={"page_size": "x"}, headers={"Accept-Language": "en-GB,en;q=0.9"})
    body = answer.json()
    assert answer.headers["content-language"] == "en"
    assert body["code"] == "validation_error" and body["title"] == "Unprocessable content"
    assert body["errors"] == [{"pointer": "/query/page_size", "code": "not_integer", "message": "Must be a whole number."}]


async def test_body_errors_point_into_lists_and_keep_their_context(client) -> None:
    answer = await client.post("/marks", json={"marks": [{"status": "present"}] * 3 + [{"status": "late"}],
                                               "note": "long", "extra": 1})
    items = {e["pointer"]: e for e in answer.json()["errors"]}
    assert items["/body/marks/3/status"]["code"] == "enum"
    assert "present" in items["/body/marks/3/status"]["message"]
    assert items["/body/note"] == {"pointer": "/body/note", "code": "too_long",
                                   "message": "Слишком длинно: не больше 3 (символов или элементов)."}
    missing = await client.post("/marks", json={})
    assert missing.json()["errors"] == [{"pointer": "/body/marks", "code": "missing",
                                         "message": "Обязательное поле не заполнено."}]
    broken = await client.post("/marks", content=b"{not json", headers={"content-type": "application/json"})
    assert broken.json()["errors"][0]["code"] == "invalid_json"


async def test_a_domain_error_takes_the_catalogue_status_and_text_filled_from_details(client) -> None:
    ru = await client.get("/full")
    en = await client.get("/full", headers={"Accept-Language": "en"})
    assert ru.status_code == en.status_code == 409  # the catalogue's status, not the mapped 422
    assert ru.json()["detail"] == "Группа заполнена: мест 12."
    assert en.json()["detail"] == "The group is full: 12 seats."
    assert ru.json()["code"] == en.json()["code"] == "test_group_full"


async def test_a_field_reason_of_a_domain_error_gets_a_pointer_and_a_message(client) -> None:
    body = (await client.get("/search", params={"text": "x"})).json()
    assert body["errors"] == [{"pointer": "/query/text", "code": "test_rule", "message": "Правило нарушено."}]


async def test_a_code_outside_the_catalogue_keeps_the_raise_sites_text(client) -> None:
    answer = await client.get("/unknown-code")
    assert (answer.status_code, answer.json()["detail"]) == (418, "As raised.")


async def test_not_found_names_the_thing_in_the_answers_language(client) -> None:
    assert (await client.get("/certificate")).json()["detail"] == "Не найдено: сертификат."
    en = await client.get("/certificate", headers={"Accept-Language": "en"})
    assert en.json()["detail"] == "Not found: certificate."
    route = await client.get("/nowhere", headers={"Accept-Language": "ru"})
    assert (route.status_code, route.json()["code"]) == (404, "not_found")


async def test_a_code_two_services_share_reads_as_the_answering_services() -> None:
    from types import SimpleNamespace

    register(ErrorCode("test_twice", 409, "Как у альфы.", "As alpha says.", "alpha"),
             ErrorCode("test_twice", 422, "Как у беты.", "As beta says.", "beta"))
    application = FastAPI()
    application.state.runtime = SimpleNamespace(service="beta")
    install_problem_handlers(application, {DomainError: 400})

    @application.get("/twice")
    async def twice() -> None:
        raise DomainError("test_twice", "shared")

    transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        answer = await c.get("/twice")
    assert (answer.status_code, answer.json()["detail"]) == (422, "Как у беты.")
    assert set(problems("test_twice")) == {409, 422} and set(problems("test_twice", service="alpha")) == {409}
