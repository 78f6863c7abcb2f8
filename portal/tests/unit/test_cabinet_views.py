"""The parent's cabinet's view helpers: the balance chart's geometry and words, an enrolment's
state as the parent reads it, the quote's sums, the application's body, and the guard in front
of the cabinet for a visitor."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pfdo_contracts.events.billing import RejectionReason
from pfdo_contracts.events.navigator import DeclineReason, TerminationReason, WaitlistLeaveReason
from pfdo_portal.app import create_app
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages.balance_chart import WIDTH, balance_chart, period_bar
from pfdo_portal.pages.cabinet import application_body, enrolment_rows, quote_totals, start_date
from pfdo_portal.pages.enrolment_status import REASONS, reason_text, status_view
from pfdo_portal.settings import PortalSettings

NNBSP, NBSP = "\u202f", "\u00a0"


def balance(starts: str, nominal: int, available: int, reserved: int, spent: int, status: str = "open") -> dict:
    return {"period_id": "p", "starts_on": starts, "ends_on": starts[:4] + "-12-31", "period_status": status,
            "nominal": nominal, "available": available, "reserved": reserved, "spent": spent}


def test_a_bar_is_spent_then_reserved_then_available_and_its_length_is_the_nominal() -> None:
    bar = period_bar(balance("2027-09-01", 3_000_000, 1_500_000, 1_200_000, 300_000), y=0)
    assert [(s.part, s.x, s.width) for s in bar.segments] == [
        ("spent", 0.0, 60.0), ("reserved", 60.0, 240.0), ("available", 300.0, 300.0)]
    assert bar.label == "01.09.2027 – 31.12.2027"
    assert bar.summary == (f"Номинал 30{NNBSP}000,00{NBSP}₽: оплачено 3{NNBSP}000,00{NBSP}₽, "
                           f"зарезервировано 12{NNBSP}000,00{NBSP}₽, доступно 15{NNBSP}000,00{NBSP}₽")


def test_periods_are_drawn_latest_first_one_row_each_and_no_period_draws_nothing() -> None:
    chart = balance_chart([balance("2026-09-01", 100, 100, 0, 0, "closed"), balance("2027-09-01", 200, 50, 150, 0)])
    assert chart is not None
    assert [b.label[:10] for b in chart.bars] == ["01.09.2027", "01.09.2026"]
    assert [b.y for b in chart.bars] == [0, 64] and chart.height == 128
    assert balance_chart([]) is None


def test_an_empty_period_draws_an_empty_bar() -> None:
    bar = period_bar(balance("2027-09-01", 0, 0, 0, 0), y=0)
    assert all(s.width == 0 for s in bar.segments)


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_bar_never_runs_past_the_drawing_and_its_parts_do_not_overlap(nominal: int, a: int, r: int, s: int) -> None:
    bar = period_bar(balance("2027-09-01", nominal, a, r, s), y=0)
    end = 0.0
    for segment in bar.segments:
        assert segment.x == pytest.approx(end, abs=0.011) and segment.width >= 0
        end = segment.x + segment.width
    assert end <= WIDTH + 0.05


def test_the_way_to_a_contract_and_whether_to_keep_asking() -> None:
    requested = status_view({"state": "requested"})
    assert [(s.done, s.current) for s in requested.steps] == [(True, True), (False, False), (False, False),
                                                              (False, False)]
    assert requested.live and not requested.refused and requested.reason is None
    reserved = status_view({"state": "reserved"})
    assert [s.done for s in reserved.steps] == [True, True, False, False] and reserved.steps[1].current and reserved.live
    offered = status_view({"state": "offered"})  # the parent's turn: nothing changes by itself
    assert [s.done for s in offered.steps] == [True, True, True, False] and offered.steps[2].current
    assert not offered.live and not offered.refused
    withdrawn = status_view({"state": "expired", "reason": "offer_not_accepted"})
    assert withdrawn.refused and withdrawn.reason.startswith("Оферта не была принята в установленный срок")
    confirmed = status_view({"state": "confirmed"})
    assert all(s.done for s in confirmed.steps) and not confirmed.live


def test_a_refusal_says_why_in_russian_and_a_queue_says_where() -> None:
    rejected = status_view({"state": "rejected", "reason": "insufficient_balance"})
    assert rejected.refused and not rejected.live and rejected.steps == ()
    assert rejected.reason == "На сертификате недостаточно средств."
    waiting = status_view({"state": "waitlisted", "waiting_position": 3, "reason": None})
    assert waiting.waiting_position == 3 and waiting.live and waiting.reason is None
    queued = status_view({"state": "requested", "queue_position": 7})
    assert queued.queue_position == 7
    ended = status_view({"state": "terminated", "reason": "certificate_expired"})
    assert ended.reason == "Срок действия сертификата истёк." and ended.steps == ()
    assert reason_text("something_new") == "Причина: something_new." and reason_text(None) is None


@pytest.mark.parametrize("codes", [RejectionReason, DeclineReason, TerminationReason, WaitlistLeaveReason])
def test_every_reason_code_of_the_platform_has_a_russian_sentence(codes) -> None:  # noqa: ANN001
    missing = {c.value for c in codes} - set(REASONS)
    assert missing == set()
    assert all(any("а" <= ch <= "я" for ch in REASONS[c.value].lower()) for c in codes)


def test_enrolment_rows_name_the_program_the_group_and_the_child() -> None:
    e = {"enrolment_id": "e1", "certificate_id": "c1", "program_id": "p1", "module_id": "m2", "state": "reserved"}
    programs = {"p1": {"title": "Робототехника", "modules": [{"module_id": "m1", "title": "Группа 1"},
                                                            {"module_id": "m2", "title": "Группа 2"}]}}
    rows = enrolment_rows([e, {**e, "program_id": "gone"}], programs,
                          [{"id": "c1", "first_name": "Артём", "surname": "Соколов"}])
    assert (rows[0]["program_title"], rows[0]["module_title"], rows[0]["child"]) == ("Робототехника", "Группа 2",
                                                                                     "Артём Соколов")
    assert rows[1]["program_title"] == "Программа" and rows[1]["module_title"] is None


def test_the_start_date_is_the_one_asked_for_else_the_later_of_today_and_the_modules_first_day() -> None:
    module = {"start_date": "2027-09-01"}
    assert start_date(None, module, dt.date(2027, 8, 20)) == dt.date(2027, 9, 1)
    assert start_date("", module, dt.date(2027, 10, 5)) == dt.date(2027, 10, 5)
    assert start_date("2027-11-01", module, dt.date(2027, 10, 5)) == dt.date(2027, 11, 1)
    assert start_date("1.11.2027", module, dt.date(2027, 10, 5)) == dt.date(2027, 10, 5)


def test_the_quotes_schedule_sums() -> None:
    quote = {"schedule": [{"month": "2027-09", "certificate_kopecks": 100_00, "family_kopecks": 20_00,
                           "planned_lessons": 8},
                          {"month": "2027-10", "certificate_kopecks": 150_01, "family_kopecks": 0, "planned_lessons": 9}]}
    assert quote_totals(quote) == {"certificate": 250_01, "family": 20_00, "lessons": 17}
    assert quote_totals({"schedule": None}) == {"certificate": 0, "family": 0, "lessons": 0}


def test_the_application_body_from_the_form() -> None:
    body = application_body({"surname": " Соколов ", "first_name": "Артём", "patronymic": "", "birth_date": "2016-03-14",
                             "snils": "112-233-445 95", "municipality_code": "01", "applicant_role": "admin"})
    assert body == {"child": {"surname": "Соколов", "first_name": "Артём", "patronymic": None,
                              "birth_date": "2016-03-14", "snils": "112-233-445 95", "municipality_code": "01"},
                    "applicant_role": "parent"}
    assert application_body({"applicant_role": "guardian"})["applicant_role"] == "guardian"


def test_a_visitor_is_sent_to_sign_in_and_back_to_the_cabinet() -> None:
    def nothing(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/registry/labels":  # the error page's names
            return httpx.Response(200, json={"language": "ru", "labels": {}})
        raise AssertionError(f"no API call expected: {request.url}")

    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(nothing))
    with TestClient(create_app(PortalSettings(log_json=False), api=api)) as client:
        for path in ("/cabinet", "/cabinet/apply", "/cabinet/enrolments/00000000-0000-4000-8000-000000000000"):
            answer = client.get(path, follow_redirects=False)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/auth/login?next=" + path.replace("/", "%2F")
        # a form post without a session (so without its CSRF token): refused, nothing sent to the API
        answer = client.post("/cabinet/apply", data={"surname": "x"}, follow_redirects=False)
        assert answer.status_code == 403 and "Форма устарела" in answer.text


# ---- the pages from canned API answers (the guard and the session's token replaced) ----------

CERT = {"id": "11111111-1111-4111-8111-111111111111", "number": "4801000001", "child_id": "c", "municipality_code": "01",
        "status": "active", "usage_kind": "accounting", "issued_on": "2026-12-01", "valid_until": "2034-12-06",
        "surname": "Соколов", "first_name": "Артём", "birth_date": "2016-12-07"}
PROGRAM_ID, MODULE_ID = "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"
ENROLMENT_ID = "44444444-4444-4444-8444-444444444444"
ENROLMENT = {"enrolment_id": ENROLMENT_ID, "certificate_id": CERT["id"], "module_id": MODULE_ID,
             "program_id": PROGRAM_ID, "state": "requested", "payment_mode": "monthly", "starts_on": "2026-12-07",
             "ends_on": "2027-04-30", "reason": None, "queue_position": None, "total_cost_kopecks": None,
             "family_kopecks": None, "reserved_kopecks": None, "released_kopecks": 0}
PROGRAM = {"program_id": PROGRAM_ID, "title": "Робототехника",
           "modules": [{"module_id": MODULE_ID, "title": "Группа 1", "start_date": "2026-12-07",
                        "end_date": "2027-04-30", "price_kopecks": 1_800_000}]}


def signed_in_portal(monkeypatch, answers: dict[str, object], sent: list[httpx.Request]) -> TestClient:  # noqa: ANN001
    from pfdo_plumbing.auth.principal import Role
    from pfdo_portal.auth import PortalUser
    from pfdo_portal.pages import cabinet

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {
                "enrolment_states": {"requested": "Заявка подана", "confirmed": "Договор заключён"},
                "certificate_kinds": {"accounting": "Сертификат учёта", "funding": "Сертификат финансирования"}}})
        answer = answers.get(request.url.path)
        if answer is None:
            return httpx.Response(404, json={"status": 404, "code": "not_found", "detail": "Не найдено."},
                                  headers={"content-type": "application/problem+json"})
        return httpx.Response(200, json=answer)

    monkeypatch.setattr(cabinet, "access_token", lambda request: "parent-token")
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    app = create_app(PortalSettings(log_json=False), api=api)
    app.dependency_overrides[cabinet.parent_only] = lambda: PortalUser("parent-1", Role.PARENT, "Мама")
    return TestClient(app)


def test_an_enrolment_that_may_change_asks_again_and_a_settled_one_stops(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    answers: dict[str, object] = {f"/api/navigator/enrolments/{ENROLMENT_ID}": ENROLMENT,
                                  f"/api/navigator/programs/{PROGRAM_ID}": PROGRAM,
                                  "/api/registry/certificates": {"items": [CERT], "next_cursor": None}}
    with signed_in_portal(monkeypatch, answers, sent) as client:
        page = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}")
        assert page.status_code == 200
        assert "Робототехника" in page.text and "Группа 1" in page.text and "Артём Соколов" in page.text
        assert f'hx-get="/cabinet/enrolments/{ENROLMENT_ID}" hx-trigger="every 2s"' in page.text
        assert 'aria-current="step"' in page.text
        answers[f"/api/navigator/enrolments/{ENROLMENT_ID}"] = {**ENROLMENT, "state": "confirmed"}
        fragment = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}", headers={"HX-Request": "true"})
        assert fragment.text.lstrip().startswith('<section id="status"') and "<html" not in fragment.text
        assert "hx-trigger" not in fragment.text and "Договор заключён" in fragment.text
    assert all(r.headers.get("authorization") == "Bearer parent-token" for r in sent
               if r.url.path != "/api/registry/labels")


def test_the_cabinet_shows_an_accounting_certificate_without_a_chart(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    answers = {"/api/registry/certificates": {"items": [CERT], "next_cursor": None},
               "/api/registry/applications": {"items": [], "next_cursor": None},
               "/api/navigator/me/enrolments": {"items": [], "next_cursor": None},
               f"/api/billing/certificates/{CERT['id']}/balance": {
                   "certificate_id": CERT["id"], "status": "active", "usage_kind": "accounting", "balances": []}}
    with signed_in_portal(monkeypatch, answers, sent) as client:
        page = client.get("/cabinet")
    assert page.status_code == 200
    assert "4801000001" in page.text and "06.12.2034" in page.text and "Сертификат учёта" in page.text
    assert "<svg" not in page.text and "Записей пока нет" in page.text


def test_a_funding_certificate_has_its_chart_and_the_table_screen_readers_read(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    period = {"period_id": "p", "starts_on": "2026-09-01", "ends_on": "2027-08-31", "period_status": "open",
              "nominal": 2_250_000, "available": 900_000, "reserved": 1_350_000, "spent": 0}
    answers = {"/api/registry/certificates": {"items": [CERT], "next_cursor": None},
               "/api/registry/applications": {"items": [], "next_cursor": None},
               "/api/navigator/me/enrolments": {"items": [{**ENROLMENT, "state": "rejected",
                                                           "reason": "direction_cap_reached"}], "next_cursor": None},
               f"/api/navigator/programs/{PROGRAM_ID}": PROGRAM,
               f"/api/billing/certificates/{CERT['id']}/balance": {
                   "certificate_id": CERT["id"], "status": "active", "usage_kind": "funding", "balances": [period]}}
    with signed_in_portal(monkeypatch, answers, sent) as client:
        html = client.get("/cabinet").text
    assert "Сертификат финансирования" in html
    assert '<svg class="balance__chart" viewBox="0 0 600 28" preserveAspectRatio="none" aria-hidden="true"' in html
    assert 'class="bar bar--reserved" x="0.0" y="0" width="360.0"' in html  # 1 350 000 of 2 250 000
    assert 'class="bar bar--available" x="360.0" y="0" width="240.0"' in html
    assert "bar--spent" not in html.split("<table")[0].split("balance__legend")[1].split("</ul>")[1]
    assert f"<th scope=\"row\">Зарезервировано</th><td>13{NNBSP}500,00{NBSP}₽</td>" in html
    assert "Исчерпан лимит сертификата на эту направленность." in html
    assert 'hx-trigger="every 3s"' not in html  # nothing left that changes by itself


def test_a_programs_page_leads_a_visitor_to_sign_in_and_back_to_the_modules_enrolment() -> None:
    page = {**PROGRAM, "description": "", "direction": "technical", "municipality_code": "01", "venue_address": "Липецк",
            "age_min": 7, "age_max": 17, "funding_kind": "certificate", "certified_on": "2026-12-01",
            "provider": {"provider_id": "p", "rating_score": None, "rating_count": 0}, "rating": None,
            "modules": [{**PROGRAM["modules"][0], "schedule": [], "lessons_per_week": 2, "hours": 72, "capacity": 12,
                         "free_seats": 12, "normative_cost_kopecks": 1_350_000}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {}})
        assert request.url.path == f"/api/navigator/programs/{PROGRAM_ID}"
        return httpx.Response(200, json=page)

    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    with TestClient(create_app(PortalSettings(log_json=False), api=api)) as client:
        html = client.get(f"/programs/{PROGRAM_ID}").text
    target = f"/cabinet/enrol/{MODULE_ID}?program={PROGRAM_ID}"
    href = "/auth/login?next=" + target.replace("?", "%3F").replace("=", "%3D")  # back to the enrolment
    assert f'href="{href}"' in html and "Войдите, чтобы записать ребёнка" in html
