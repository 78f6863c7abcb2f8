"""The gateway client: the calls it makes (path, token, language, correlation id) and how the
API's refusals become the Russian messages a page shows."""

from __future__ import annotations

import json

import httpx
import pytest

from pfdo_portal.gateway import ApiError, GatewayApi
from pfdo_portal.gateway.problems import UNREACHABLE

PROBLEM = "application/problem+json"


def api(handler) -> GatewayApi:  # noqa: ANN001
    return GatewayApi("http://gateway.test/api", transport=httpx.MockTransport(handler))


async def test_calls_go_under_the_api_root_with_russian_and_the_token_when_there_is_one() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"items": [], "next_cursor": None, "total": 0, "facets": {}})

    client = api(handler)
    await client.search_programs({"text": "шахматы", "weekday": [2, 4], "limit": 20})
    await client.program_page("7d4e1a2b-9c3f-4e58-b0a1-6f2d8c4e9b13", token="tok-1")
    await client.aclose()
    anonymous, signed_in = seen
    assert anonymous.url.path == "/api/navigator/programs"
    assert anonymous.url.params.get_list("weekday") == ["2", "4"] and anonymous.url.params["text"] == "шахматы"
    assert "authorization" not in anonymous.headers
    assert anonymous.headers["accept-language"] == "ru" and anonymous.headers["x-correlation-id"]
    assert signed_in.url.path == "/api/navigator/programs/7d4e1a2b-9c3f-4e58-b0a1-6f2d8c4e9b13"
    assert signed_in.headers["authorization"] == "Bearer tok-1"


async def test_a_path_part_cannot_leave_its_place() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json={})

    client = api(handler)
    await client.program_page("../../registry/children")
    await client.aclose()
    assert paths == ["/api/navigator/programs/..%2F..%2Fregistry%2Fchildren"]


async def test_a_problem_shows_the_apis_russian_detail_and_field_messages() -> None:
    body = {"type": "about:blank", "title": "Ошибка проверки", "status": 422, "code": "validation_error",
            "detail": "Запрос не прошёл проверку.", "request_id": "req-12345678",
            "errors": [{"pointer": "/query/child_age", "code": "less_than_equal",
                        "message": "Значение должно быть не больше 18."}]}
    client = api(lambda r: httpx.Response(422, json=body, headers={"content-type": PROBLEM}))
    with pytest.raises(ApiError) as caught:
        await client.search_programs({"child_age": 40})
    await client.aclose()
    error = caught.value
    assert (error.status, error.code, error.message) == (422, "validation_error", "Запрос не прошёл проверку.")
    assert error.field_messages == ("Значение должно быть не больше 18.",)
    assert error.request_id == "req-12345678"


@pytest.mark.parametrize(("status", "expected"), [
    (404, "Не найдено: возможно, страница удалена или адрес набран с ошибкой."),
    (401, "Чтобы продолжить, войдите в личный кабинет."),
    (403, "Недостаточно прав для этого действия."),
    (429, "Слишком много запросов. Повторите попытку через минуту."),
    (500, UNREACHABLE),
    (502, UNREACHABLE),
])
async def test_an_answer_without_a_readable_problem_gets_the_general_words_of_its_status(status: int, expected: str) -> None:
    client = api(lambda r: httpx.Response(status, text="<html>upstream</html>", headers={"content-type": "text/html"}))
    with pytest.raises(ApiError) as caught:
        await client.get("navigator/programs")
    await client.aclose()
    assert (caught.value.status, caught.value.code, caught.value.message) == (status, f"http_{status}", expected)


async def test_a_5xx_problem_detail_is_not_shown_to_people() -> None:
    body = {"status": 504, "code": "gateway_timeout", "detail": "Сервис не ответил вовремя; повторите чуть позже."}
    client = api(lambda r: httpx.Response(504, content=json.dumps(body), headers={"content-type": PROBLEM}))
    with pytest.raises(ApiError) as caught:
        await client.get("navigator/programs")
    await client.aclose()
    assert (caught.value.code, caught.value.message) == ("gateway_timeout", UNREACHABLE)


async def test_no_answer_at_all_is_a_503_with_the_general_words() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = api(refuse)
    with pytest.raises(ApiError) as caught:
        await client.get("registry/labels")
    await client.aclose()
    assert (caught.value.status, caught.value.code, caught.value.message) == (503, "api_unreachable", UNREACHABLE)


async def test_municipality_names_are_read_page_after_page_with_the_token() -> None:
    seen: list[httpx.Request] = []
    pages = {None: {"items": [{"code": "01", "name": "Липецк", "region_code": "48"}], "next_cursor": "c2"},
             "c2": {"items": [{"code": "02", "name": "Елец", "region_code": "48"}], "next_cursor": None}}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    client = api(handler)
    assert await client.municipality_names("tok-2") == {"01": "Липецк", "02": "Елец"}
    await client.aclose()
    assert [r.url.path for r in seen] == ["/api/registry/municipalities"] * 2
    assert all(r.headers["authorization"] == "Bearer tok-2" for r in seen)


async def test_the_visitors_forwarded_address_goes_with_the_calls_of_their_page_only() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from pfdo_portal.gateway.visitor import VisitorMiddleware

    seen: list[httpx.Request] = []
    client = api(lambda request: seen.append(request) or httpx.Response(200, json={"labels": {}}))

    async def page(request):  # noqa: ANN001, ANN202
        await client.labels()
        return PlainTextResponse("ok")

    portal = VisitorMiddleware(Starlette(routes=[Route("/", page)]))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal), base_url="http://portal") as browser:
        await browser.get("/", headers={"X-Forwarded-For": "198.51.100.7"})
        await browser.get("/")
    await client.labels()  # outside any page request
    await client.aclose()
    assert [r.headers.get("x-forwarded-for") for r in seen] == ["198.51.100.7", None, None]
