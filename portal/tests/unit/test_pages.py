"""The navigator's pages rendered from canned API answers (the gateway replaced by a mock
transport): what a visitor reads, the query the form makes, and the answers without the API."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from pfdo_portal.app import create_app
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.settings import PortalSettings

PROGRAM = "7d4e1a2b-9c3f-4e58-b0a1-6f2d8c4e9b13"
LABELS = {"language": "ru", "labels": {
    "directions": {"technical": "Техническая", "artistic": "Художественная"},
    "funding_kinds": {"certificate": "Оплата сертификатом", "municipal_task": "Бесплатное место"},
    "rating_scales": {"results": "Достижение результатов", "teachers_and_group": "Педагоги и наполняемость группы",
                      "materials_and_equipment": "Материально-техническая база",
                      "overall_satisfaction": "Общая удовлетворённость"},
}}
HIT = {"program_id": PROGRAM, "title": "Робототехника <для начинающих>", "description": "Роботы",
       "direction": "technical", "municipality_code": "01", "venue_address": "г. Липецк, ул. Советская, д. 10",
       "age_min": 9, "age_max": 12, "funding_kind": "certificate", "certified_on": "2027-08-20",
       "module_id": "c81e4a7d-5f2b-4c9e-8a3d-0b6f1e2d7c59", "provider_id": "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48",
       "module_title": "Группа 1", "start_date": "2027-09-01", "end_date": "2028-05-31",
       "schedule": [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"}], "lessons_per_week": 2,
       "hours": 72, "capacity": 15, "free_seats": 3, "price_kopecks": 1_234_56 * 10, "rating_score": 86.5,
       "rating_count": 14, "relevance": None, "quote": None, "quote_error": None}
PAGE = {"program_id": PROGRAM, "title": "Робототехника", "description": "Конструирование роботов",
        "direction": "technical", "municipality_code": "01", "venue_address": "г. Липецк, ул. Советская, д. 10",
        "age_min": 9, "age_max": 12, "funding_kind": "certificate", "certified_on": "2027-08-20",
        "provider": {"provider_id": HIT["provider_id"], "rating_score": None, "rating_count": 0},
        "rating": {"score": 86.5, "count": 14, "means": {"results": 90.0, "teachers": 85.0, "materials": 80.0,
                                                         "satisfaction": 91.0}},
        "modules": [{"module_id": HIT["module_id"], "title": "Группа 1", "start_date": "2027-09-01",
                     "end_date": "2028-05-31", "schedule": HIT["schedule"], "lessons_per_week": 2, "hours": 72,
                     "capacity": 15, "free_seats": 0, "price_kopecks": 1_500_000,
                     "normative_cost_kopecks": 1_200_000}]}


def portal(handler) -> TestClient:  # noqa: ANN001
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    return TestClient(create_app(PortalSettings(region_name="Липецкая область", log_json=False), api=api))


def catalogue(requests: list[httpx.Request]):  # noqa: ANN201
    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json=LABELS)
        if request.url.path == "/api/navigator/programs":
            return httpx.Response(200, json={"items": [HIT], "next_cursor": "c2", "total": 21,
                                             "facets": {"direction": {"technical": 21}, "municipality": {"01": 21},
                                                        "funding_kind": {"certificate": 21}}})
        if request.url.path == f"/api/navigator/programs/{PROGRAM}":
            return httpx.Response(200, json=PAGE)
        return httpx.Response(404, json={"status": 404, "code": "not_found", "detail": "Программа не найдена."},
                              headers={"content-type": "application/problem+json"})
    return handler


def test_search_page_shows_the_results_facets_and_the_next_page() -> None:
    requests: list[httpx.Request] = []
    with portal(catalogue(requests)) as client:
        page = client.get("/", params=[("q", "робот"), ("direction", "technical"), ("age", "10"),
                                       ("weekday", "2"), ("weekday", "4"), ("free", "1"), ("sort", "rating")])
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ru">' in html and "Липецкая область" in html and 'href="#main"' in html
    assert "Робототехника &lt;для начинающих&gt;" in html  # escaped
    assert "12\u202f345,60\u00a0₽" in html and "3 из 15" in html and "86,5" in html and "14 оценок" in html
    assert "01.09.2027 – 31.05.2028" in html and "вт 16:00–17:30" in html and "9–12 лет" in html
    assert "Найдено: 21 группа" in html and "Техническая (21)" in html
    assert '<option value="01">Код 01 (21)</option>' in html  # no names for an anonymous visitor
    assert 'href="/?q=%D1%80%D0%BE%D0%B1%D0%BE%D1%82&amp;direction=technical&amp;age=10&amp;weekday=2&amp;weekday=4&amp;free=1&amp;sort=rating&amp;cursor=c2"' in html
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    search = next(r for r in requests if r.url.path == "/api/navigator/programs")
    assert dict(search.url.params.multi_items()) | {"weekday": None} == {
        "limit": "20", "text": "робот", "direction": "technical", "child_age": "10", "sort": "rating",
        "free_seats_only": "true", "weekday": None}
    assert search.url.params.get_list("weekday") == ["2", "4"]


def test_htmx_gets_the_results_only() -> None:
    with portal(catalogue([])) as client:
        part = client.get("/", params={"q": "робот"}, headers={"HX-Request": "true"})
    assert part.status_code == 200
    assert part.text.lstrip().startswith('<section id="results"') and "<html" not in part.text
    # the count for screen readers, swapped into the page's status line
    assert re.search(r'<p id="search-status" [^>]*role="status" hx-swap-oob="true">Найдено: 21 группа</p>', part.text)


def test_the_apis_refusal_of_a_filter_is_shown_beside_the_form() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json=LABELS)
        return httpx.Response(422, headers={"content-type": "application/problem+json"}, json={
            "status": 422, "code": "validation_error", "detail": "Запрос не прошёл проверку.",
            "errors": [{"pointer": "/query/child_age", "message": "Значение должно быть не больше 18."}]})

    with portal(refuse) as client:
        page = client.get("/", params={"age": "40"})
    assert page.status_code == 200
    assert "Запрос не прошёл проверку." in page.text and "Значение должно быть не больше 18." in page.text
    assert 'value="40"' in page.text


def test_program_page_shows_modules_schedule_seats_costs_and_rating() -> None:
    with portal(catalogue([])) as client:
        page = client.get(f"/programs/{PROGRAM}")
    assert page.status_code == 200
    html = page.text
    for text in ("Робототехника", "г. Липецк, ул. Советская, д. 10", "вторник, 16:00–17:30", "нет (0 из 15)",
                 "12\u202f000,00\u00a0₽", "15\u202f000,00\u00a0₽", "72 часа", "2 занятия в неделю",
                 "Педагоги и наполняемость группы", "91,0", "20.08.2027", "нет оценок", "Код 01"):
        assert text in html, text


def test_a_missing_program_and_a_malformed_address_are_404_pages() -> None:
    with portal(catalogue([])) as client:
        missing = client.get("/programs/00000000-0000-0000-0000-000000000000")
        malformed = client.get("/programs/not-a-uuid")
        unknown = client.get("/nowhere")
    assert missing.status_code == 404 and "Программа не найдена." in missing.text
    assert malformed.status_code == 404 and unknown.status_code == 404
    assert "Страница не найдена" in unknown.text and unknown.headers["content-type"].startswith("text/html")


def test_without_the_api_the_page_says_so() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with portal(down) as client:
        page = client.get("/")
    assert page.status_code == 503 and "Сервис временно недоступен" in page.text


def test_without_the_labels_a_code_is_shown_as_it_is() -> None:
    answer = catalogue([])

    def labels_down(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/registry/labels":
            return httpx.Response(503, json={"status": 503, "code": "bad_gateway"})
        return answer(request)

    with portal(labels_down) as client:
        page = client.get("/")
    assert page.status_code == 200 and '<span class="tag">technical</span>' in page.text


def test_static_files_are_the_portals_own_and_htmx_from_the_lock() -> None:
    with portal(catalogue([])) as client:
        css = client.get("/static/portal.css")
        htmx = client.get("/static/vendor/htmx.min.js")
        other = client.get("/static/vendor/htmx.js")
        outside = client.get("/static/..%2Fapp.py")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert htmx.status_code == 200 and b"htmx" in htmx.content[:2000]
    assert other.status_code == 404 and outside.status_code == 404
