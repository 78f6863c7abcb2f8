"""An enrolment's page beyond its state: the months of marks and debits, the dispute window,
cancel or terminate, the rating form; and the navigator's cost to the family (pure functions, and
the pages from canned API answers)."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from pfdo_portal.app import create_app
from pfdo_portal.gateway import GatewayApi

from pfdo_portal.pages.enrolment_record import (
    end_action, last_day_of_month, latest_disputes, mark_row, month_key, month_records, rating_body, rating_view,
    record_totals,
)
from pfdo_portal.pages.family_cost import BATCH_LIMIT, active_children, chosen_child, family_cost, start_groups
from pfdo_portal.settings import PortalSettings

from .test_cabinet_views import CERT, ENROLMENT, ENROLMENT_ID, PROGRAM, PROGRAM_ID, signed_in_portal

D = dt.date
NNBSP, NBSP = "\u202f", "\u00a0"
E = ENROLMENT_ID
OTHER = "55555555-5555-4555-8555-555555555555"


def mark(day: str, status: str = "present", deadline: str | None = None, mark_id: str | None = None,
         open_dispute: str | None = None, enrolment: str = E) -> dict:
    return {"mark_id": mark_id or f"m-{day}", "enrolment_id": enrolment, "lesson_date": day, "status": status,
            "revision": 1, "marked_on": day, "dispute_deadline": deadline or day, "open_dispute_id": open_dispute}


def move(kind: str, amount: int, month: str | None, enrolment: str | None = E) -> dict:
    return {"transfer_id": f"{kind}:{month}", "kind": kind, "effect": "", "period_id": "p", "amount": amount,
            "enrolment_id": enrolment, "month": month, "created_at": "2026-10-01T00:00:00Z"}


def dispute(mark_id: str, state: str, opened: str, claimed: str = "absent", enrolment: str = E) -> dict:
    return {"dispute_id": f"d-{opened}", "mark_id": mark_id, "enrolment_id": enrolment, "lesson_date": "2026-09-01",
            "mark_version": 1, "state": state, "claimed_status": claimed, "opened_at": opened, "resolved_at": None}


def test_a_month_key_from_a_date_an_iso_day_or_a_month() -> None:
    assert month_key(D(2026, 9, 3)) == month_key("2026-09-03") == month_key("2026-09") == "2026-09"


def test_the_months_gather_marks_instalments_and_the_debits_of_this_enrolment_only() -> None:
    enrolment = {**ENROLMENT, "instalments": [
        {"month": "2026-09", "certificate_kopecks": 302_638, "family_kopecks": 100_880, "planned_lessons": 9},
        {"month": "2026-10", "certificate_kopecks": 302_638, "family_kopecks": 100_878, "planned_lessons": 9}]}
    marks = [mark("2026-09-03"), mark("2026-09-01"), mark("2026-09-08", "absent"),
             mark("2026-10-01", deadline="2026-10-08"), mark("2026-09-10", enrolment=OTHER)]
    history = [move("credit_nominal", 3_000_000, None, None), move("reserve", 302_638, "2026-09-01"),
               move("post", 269_011, "2026-09-01"), move("release", 33_627, "2026-09-01"),
               move("invoice_family", 89_671, "2026-09-01"), move("post", 1, "2026-09-01", OTHER),
               move("late_refund", 33_626, "2026-09-01"), move("late_credit", 11_209, "2026-09-01")]
    records = month_records(enrolment, marks, history, [], D(2026, 10, 2))
    assert [r.month for r in records] == ["2026-09", "2026-10"]
    september, october = records
    assert [m.lesson_date.day for m in september.marks] == [1, 3, 8]  # the other child's mark is not here
    assert (september.present, september.planned_lessons) == (2, 9)
    # posted less the refund after a dispute; invoiced less the family's credit
    assert (september.certificate_debited, september.family_invoiced, september.released) == (
        269_011 - 33_626, 89_671 - 11_209, 33_627)
    assert september.billed and (september.planned_certificate, september.planned_family) == (302_638, 100_880)
    assert not october.billed and october.certificate_debited == 0 and october.family_invoiced == 0
    assert record_totals(records) == {"certificate": 235_385, "family": 78_462, "lessons": 4, "present": 3}


def test_a_mark_may_be_disputed_through_its_deadline_and_not_while_a_dispute_is_open() -> None:
    assert mark_row(mark("2026-09-01", deadline="2026-09-08"), None, D(2026, 9, 8)).disputable  # the last day
    assert not mark_row(mark("2026-09-01", deadline="2026-09-08"), None, D(2026, 9, 9)).disputable
    assert not mark_row(mark("2026-09-01", deadline="2026-09-08", open_dispute="d"), None, D(2026, 9, 2)).disputable
    row = mark_row(mark("2026-09-01", "absent", deadline="2026-09-08"), None, D(2026, 9, 2))
    assert row.claims == ("present", "excused")  # the claim must differ from the mark


def test_a_marks_latest_dispute_is_shown_and_a_decided_one_allows_another_within_the_window() -> None:
    disputes = [dispute("m-2026-09-01", "rejected", "2026-09-02T10:00:00Z"),
                dispute("m-2026-09-01", "open", "2026-09-03T10:00:00Z", claimed="excused")]
    latest = latest_disputes(disputes)
    assert latest["m-2026-09-01"].state == "open" and latest["m-2026-09-01"].claimed_status == "excused"
    rows = month_records(ENROLMENT, [mark("2026-09-01", deadline="2026-09-08")], [], disputes, D(2026, 9, 4))
    assert rows[0].marks[0].dispute.state == "open" and not rows[0].marks[0].disputable
    decided = month_records(ENROLMENT, [mark("2026-09-01", deadline="2026-09-08")], [], disputes[:1], D(2026, 9, 4))
    assert decided[0].marks[0].dispute.state == "rejected" and decided[0].marks[0].disputable


@pytest.mark.parametrize(("state", "starts", "today", "expected"), [
    ("requested", "2026-09-01", D(2026, 8, 24), "cancel"),
    ("reserved", "2026-09-01", D(2026, 9, 5), "cancel"),
    ("waitlisted", "2026-09-01", D(2026, 9, 5), "cancel"),
    ("confirmed", "2026-09-01", D(2026, 8, 31), "cancel"),  # before the contract starts
    ("confirmed", "2026-09-01", D(2026, 9, 1), "terminate"),
    ("confirmed", "2026-09-01", D(2027, 6, 1), None),  # over
    ("terminated", "2026-09-01", D(2026, 10, 5), None),
    ("ended", "2026-09-01", D(2026, 10, 5), None),
])
def test_cancel_before_the_start_terminate_a_running_contract(state: str, starts: str, today: D,
                                                              expected: str | None) -> None:
    action = end_action({**ENROLMENT, "state": state, "starts_on": starts, "ends_on": "2027-05-31"}, today)
    assert (action.action if action else None) == expected


def test_a_terminated_contract_ends_at_the_end_of_this_month_or_its_own_end() -> None:
    running = {**ENROLMENT, "state": "confirmed", "starts_on": "2026-09-01", "ends_on": "2027-05-31"}
    assert end_action(running, D(2026, 12, 10)).ends_on == D(2026, 12, 31)
    assert end_action({**running, "ends_on": "2027-02-14"}, D(2027, 2, 3)).ends_on == D(2027, 2, 14)
    assert last_day_of_month(D(2028, 2, 3)) == D(2028, 2, 29)


def test_the_rating_new_editable_for_30_days_then_final() -> None:
    now = dt.datetime(2027, 1, 10, tzinfo=dt.UTC)
    assert rating_view(None, now) is None
    assert rating_view({"can_rate": True, "rating": None}, now).mode == "new"
    given = {"can_rate": False, "rating": {"scores": {"results": 90, "teachers_and_group": 100,
                                                      "materials_and_equipment": 80, "overall_satisfaction": 90},
                                           "comment": "Хорошо", "editable_until": "2027-02-01T09:00:00Z", "final": False}}
    view = rating_view(given, now)
    assert view.mode == "edit" and view.scores["teachers_and_group"] == 100 and view.comment == "Хорошо"
    assert rating_view(given, dt.datetime(2027, 2, 1, 9, tzinfo=dt.UTC)).mode == "final"
    assert rating_view({**given, "rating": {**given["rating"], "final": True}}, now).mode == "final"


def test_the_rating_body_needs_every_scale_in_steps_of_ten() -> None:
    body, missing = rating_body({"results": "90", "teachers_and_group": "100", "materials_and_equipment": "85",
                                 "comment": "  Спасибо  "})
    assert body == {"scores": {"results": 90, "teachers_and_group": 100}, "comment": "Спасибо"}
    assert missing == ["materials_and_equipment", "overall_satisfaction"]
    body, missing = rating_body({s: "0" for s in ("results", "teachers_and_group", "materials_and_equipment",
                                                  "overall_satisfaction")})
    assert missing == [] and body["comment"] is None and set(body["scores"].values()) == {0}


# ---- the navigator's cost to the family ------------------------------------------------------

def test_modules_are_quoted_from_the_later_of_today_and_their_start_in_batches_of_a_hundred() -> None:
    today = D(2026, 9, 10)
    modules = [("a", "2026-09-01"), ("b", D(2026, 10, 1)), ("c", "2026-09-05"), ("a", "2026-09-01")]
    assert start_groups(modules, today) == {today: [["a", "c"]], D(2026, 10, 1): [["b"]]}
    many = start_groups(((f"m{i}", "2026-09-01") for i in range(BATCH_LIMIT + 1)), today)
    assert [len(batch) for batch in many[today]] == [BATCH_LIMIT, 1]


def test_the_familys_cost_per_month_and_in_total_or_why_there_is_none() -> None:
    start = D(2026, 9, 1)
    quote = {"module_id": "m", "cost_kopecks": 2_017_582, "certificate_kopecks": 1_513_190, "family_kopecks": 504_392,
             "free_place": False, "schedule": [{"month": "2026-09", "family_kopecks": 100_880},
                                               {"month": "2026-10", "family_kopecks": 100_878}]}
    cost = family_cost(quote, start)
    assert (cost.total, cost.monthly_min, cost.monthly_max, cost.months, cost.certificate) == (
        504_392, 100_878, 100_880, 2, 1_513_190)
    refused = family_cost({"module_id": "m", "error": {"code": "period_not_open", "detail": "Период не открыт."}}, start)
    assert refused.total is None and refused.error == "Период не открыт."


def test_only_children_with_an_active_certificate_are_offered() -> None:
    children = active_children([CERT, {**CERT, "id": "x", "status": "suspended"}])
    assert [c["id"] for c in children] == [CERT["id"]]
    assert chosen_child(children, CERT["id"]) is children[0] and chosen_child(children, "x") is None


# ---- the pages ---------------------------------------------------------------------------------

MARK_ID = "66666666-6666-4666-8666-666666666666"


def running_answers(today: D) -> dict[str, object]:
    confirmed = {**ENROLMENT, "state": "confirmed", "starts_on": "2026-09-01", "ends_on": "2027-05-31",
                 "instalments": [{"month": "2026-09", "certificate_kopecks": 302_638, "family_kopecks": 100_880,
                                  "planned_lessons": 9}]}
    return {
        f"/api/navigator/enrolments/{ENROLMENT_ID}": confirmed, f"/api/navigator/programs/{PROGRAM_ID}": PROGRAM,
        "/api/registry/certificates": {"items": [CERT], "next_cursor": None},
        "/api/navigator/attendance": {"items": [mark("2026-09-29", mark_id=MARK_ID, deadline=(
            today + dt.timedelta(days=1)).isoformat())], "next_cursor": None},
        f"/api/billing/certificates/{CERT['id']}/history": {"items": [
            move("post", 269_011, "2026-09-01"), move("invoice_family", 89_671, "2026-09-01")], "next_cursor": None},
        "/api/navigator/disputes": {"items": [], "next_cursor": None},
    }


def test_the_enrolment_page_shows_the_months_a_dispute_form_and_the_way_to_terminate(monkeypatch) -> None:  # noqa: ANN001
    from pfdo_portal.pages import cabinet

    today = D(2026, 10, 2)
    monkeypatch.setattr(cabinet, "today", lambda: today)
    sent: list[httpx.Request] = []
    with signed_in_portal(monkeypatch, running_answers(today), sent) as client:
        page = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}")
        assert page.status_code == 200, page.text
        text = page.text
        assert "Сентябрь 2026" in text and "29.09.2026" in text
        assert f"2{NNBSP}690,11{NBSP}₽" in text and f"896,71{NBSP}₽" in text  # debited; the family's part
        link = f'href="/cabinet/enrolments/{ENROLMENT_ID}?dispute={MARK_ID}#dispute"'
        assert link in text and 'name="claimed_status"' not in text  # the form once the mark is chosen
        chosen = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}", params={"dispute": MARK_ID}).text
        assert 'id="dispute"' in chosen and f'name="mark_id" value="{MARK_ID}"' in chosen
        assert 'name="claimed_status" value="absent"' in chosen and 'value="present"' not in chosen
        assert f'href="/cabinet/enrolments/{ENROLMENT_ID}/end"' in text and "Расторгнуть договор" in text
        confirm = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}/end")
        assert confirm.status_code == 200 and 'name="action" value="terminate"' in confirm.text
        assert "31.10.2026" in confirm.text  # the last day: the end of this month
    attendance = next(r for r in sent if r.url.path == "/api/navigator/attendance")
    assert attendance.url.params["enrolment_id"] == ENROLMENT_ID


def test_the_search_offers_a_parents_children_and_shows_the_familys_cost(monkeypatch) -> None:  # noqa: ANN001
    from pfdo_portal.pages import navigator

    module_id = PROGRAM["modules"][0]["module_id"]
    hit = {"program_id": PROGRAM_ID, "title": "Робототехника", "module_id": module_id, "module_title": "Группа 1",
           "direction": "technical", "age_min": 7, "age_max": 12, "funding_kind": "certificate",
           "venue_address": "Липецк", "schedule": [], "price_kopecks": 1_800_000, "free_seats": 3, "capacity": 10,
           "rating_score": None, "rating_count": 0, "start_date": "2026-12-07", "end_date": "2027-04-30"}
    quotes: list[dict] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {}})
        if path == "/api/registry/municipalities":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        if path == "/api/navigator/programs":
            return httpx.Response(200, json={"items": [hit], "next_cursor": None, "total": 1, "facets": {}})
        if path == "/api/registry/certificates":
            return httpx.Response(200, json={"items": [CERT], "next_cursor": None})
        if path == "/api/billing/quotes:batch":
            quotes.append(json.loads(request.content))
            return httpx.Response(200, json={"certificate_id": CERT["id"], "start_date": "2026-12-07", "quotes": [
                {"module_id": module_id, "cost_kopecks": 1_800_000, "certificate_kopecks": 1_350_000,
                 "family_kopecks": 450_000, "free_place": False,
                 "schedule": [{"month": "2026-12", "family_kopecks": 90_000, "certificate_kopecks": 270_000,
                               "planned_lessons": 6}] * 5}]})
        return httpx.Response(404, json={"status": 404, "code": "not_found", "detail": "Не найдено."})

    monkeypatch.setattr(navigator, "access_token", lambda request: "parent-token")
    monkeypatch.setattr(navigator, "_parent_token", lambda request: "parent-token")
    monkeypatch.setattr(navigator.clock, "today", lambda tz=None: D(2026, 12, 1))
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    with TestClient(create_app(PortalSettings(log_json=False), api=api)) as client:
        plain = client.get("/")
        assert 'id="child"' in plain.text and "Артём Соколов" in plain.text and "Семья платит" not in plain.text
        page = client.get("/", params={"child": CERT["id"]})
        assert f"900,00{NBSP}₽" in page.text and f"4{NNBSP}500,00{NBSP}₽" in page.text
        assert "Семья платит в месяц" in page.text
    # the module starts after today: quoted from its first day
    assert quotes == [{"certificate_id": CERT["id"], "start_date": "2026-12-07", "module_ids": [module_id]}]


def test_months_after_a_terminated_contracts_end_are_not_shown_unless_billed() -> None:
    terminated = {**ENROLMENT, "state": "terminated", "starts_on": "2026-09-01", "ends_on": "2026-10-31",
                  "instalments": [{"month": m, "certificate_kopecks": 1, "family_kopecks": 1, "planned_lessons": 8}
                                  for m in ("2026-09", "2026-10", "2026-11", "2026-12")]}
    assert [r.month for r in month_records(terminated, [], [], [], D(2026, 10, 5))] == ["2026-09", "2026-10"]


def test_a_refused_dispute_is_shown_next_to_its_form_with_what_was_written(monkeypatch) -> None:  # noqa: ANN001
    from pfdo_plumbing.auth.principal import Role
    from pfdo_portal.auth import PortalUser, csrf_protect
    from pfdo_portal.pages import cabinet

    today = D(2026, 10, 2)
    answers = running_answers(today)
    monkeypatch.setattr(cabinet, "today", lambda: today)
    monkeypatch.setattr(cabinet, "access_token", lambda request: "parent-token")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/navigator/disputes":
            return httpx.Response(409, json={"status": 409, "code": "dispute_window_closed",
                                             "detail": "Срок оспаривания отметки истёк."},
                                  headers={"content-type": "application/problem+json"})
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {}})
        answer = answers.get(request.url.path)
        return httpx.Response(200, json=answer) if answer is not None else httpx.Response(404, json={})

    app = create_app(PortalSettings(log_json=False),
                     api=GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler)))
    app.dependency_overrides[cabinet.parent_only] = lambda: PortalUser("parent-1", Role.PARENT, "Мама")
    app.dependency_overrides[csrf_protect] = lambda: None
    with TestClient(app) as client:
        page = client.post(f"/cabinet/enrolments/{ENROLMENT_ID}/disputes", data={
            "mark_id": MARK_ID, "claimed_status": "excused", "comment": "Болел", "idempotency_key": "k"})
    assert page.status_code == 409
    form = page.text[page.text.index('id="dispute"'):]
    assert "Срок оспаривания отметки истёк." in form and ">Болел</textarea>" in form
    assert 'value="excused" checked' in form


def test_the_page_says_when_the_marks_or_the_debits_cannot_be_read(monkeypatch) -> None:  # noqa: ANN001
    from pfdo_portal.pages import cabinet

    today = D(2026, 10, 2)
    monkeypatch.setattr(cabinet, "today", lambda: today)
    answers = running_answers(today)
    del answers[f"/api/billing/certificates/{CERT['id']}/history"]  # billing does not know it yet: nothing debited
    with signed_in_portal(monkeypatch, answers, []) as client:
        page = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}")
        assert page.status_code == 200 and "Сейчас не удалось получить" not in page.text
        del answers["/api/navigator/attendance"]  # the navigator refuses: the page says so
        page = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}")
        assert page.status_code == 200 and "Сейчас не удалось получить отметки о занятиях" in page.text
