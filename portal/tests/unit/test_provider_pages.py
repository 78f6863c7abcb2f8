"""The provider's journal page from canned API answers (the guard, the CSRF check and the
session's token replaced): the month posted in one request with an Idempotency-Key, the refused
marks' reasons in their cells, the no-JavaScript fill that posts nothing, a frozen month."""

from __future__ import annotations

import datetime as dt
import json

import httpx
from fastapi.testclient import TestClient

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, csrf_protect
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages import provider
from pfdo_portal.settings import PortalSettings

MODULE = "33333333-3333-4333-8333-333333333333"
A = "aaaaaaaa-0000-4000-8000-000000000001"
PROGRAMS = {"items": [{"id": "p1", "name": "Робототехника", "status": "certified", "modules": [
    {"id": MODULE, "name": "Группа 1", "start_date": "2026-09-01", "end_date": "2027-05-31",
     "schedule": [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"}]}]}], "next_cursor": None}
ENROLMENTS = {"items": [{"enrolment_id": A, "state": "confirmed", "starts_on": "2026-09-01", "ends_on": "2027-05-31",
                         "module_id": MODULE}], "next_cursor": None}
MARKS = {"items": [{"enrolment_id": A, "lesson_date": "2026-09-01", "status": "present"}], "next_cursor": None}


def portal(monkeypatch, sent: list[httpx.Request], *, frozen: bool = False, report: dict | None = None) -> TestClient:  # noqa: ANN001
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        path = request.url.path
        if path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {}})
        if path == "/api/registry/programs":
            return httpx.Response(200, json=PROGRAMS)
        if path == "/api/navigator/enrolments":
            return httpx.Response(200, json=ENROLMENTS)
        if path.startswith("/api/navigator/attendance/months/"):
            return httpx.Response(200, json={"month": path[-7:], "state": "frozen" if frozen else "open"})
        if path == "/api/navigator/attendance" and request.method == "GET":
            return httpx.Response(200, json=MARKS)
        if path == "/api/navigator/attendance" and request.method == "POST":
            return httpx.Response(200, json=report)
        raise AssertionError(f"unexpected {request.method} {request.url}")

    monkeypatch.setattr(provider, "access_token", lambda request: "provider-token")
    monkeypatch.setattr(provider, "_today", lambda: dt.date(2026, 9, 16))
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    app = create_app(PortalSettings(log_json=False), api=api)
    app.dependency_overrides[provider.provider_only] = lambda: PortalUser("provider-1", Role.PROVIDER, "Кванториум")
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app)


def posts(sent: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in sent if r.method == "POST"]


def test_the_month_is_posted_once_and_each_refusal_shows_in_its_cell(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    report = {"accepted": 2, "recorded": 1, "corrected": 0, "unchanged": 1, "events": 1, "rejected": [
        {"index": 2, "enrolment_id": A, "lesson_date": "2026-09-22", "reason": "future_date"}]}
    with portal(monkeypatch, sent, report=report) as client:
        page = client.get(f"/provider/groups/{MODULE}?month=2026-09")
        assert page.status_code == 200 and "Группа 1: журнал за сентябрь 2026" in page.text
        assert f'name="mark.{A}.2026-09-01"' in page.text and "01.09.2026" in page.text
        answer = client.post(f"/provider/groups/{MODULE}?month=2026-09", data={
            f"mark.{A}.2026-09-01": "present", f"mark.{A}.2026-09-08": "absent", f"mark.{A}.2026-09-22": "present",
            f"mark.{A}.2026-09-29": "", "idempotency_key": "k" * 32, "action": "save"})
    assert answer.status_code == 200
    [post] = posts(sent)
    assert post.headers["idempotency-key"] == "k" * 32 and post.headers["authorization"] == "Bearer provider-token"
    assert json.loads(post.content) == {"marks": [
        {"enrolment_id": A, "module_id": MODULE, "lesson_date": d, "status": s}
        for d, s in (("2026-09-01", "present"), ("2026-09-08", "absent"), ("2026-09-22", "present"))]}
    html = answer.text
    assert "Не принято: 1" in html
    assert 'aria-invalid="true" aria-describedby="c4-1-why"' in html
    assert '<span class="journal__refusal" id="c4-1-why">Нельзя отметить занятие, которое ещё не прошло.</span>' in html


def test_everything_accepted_goes_back_to_the_page_with_a_notice(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    report = {"accepted": 1, "recorded": 1, "corrected": 0, "unchanged": 0, "events": 1, "rejected": []}
    with portal(monkeypatch, sent, report=report) as client:
        answer = client.post(f"/provider/groups/{MODULE}?month=2026-09",
                             data={f"mark.{A}.2026-09-08": "excused", "action": "save"}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/provider/groups/{MODULE}?month=2026-09&saved=1"
    assert len(posts(sent)) == 1 and posts(sent)[0].headers["idempotency-key"]


def test_the_fill_buttons_without_javascript_fill_the_page_and_save_nothing(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with portal(monkeypatch, sent) as client:
        answer = client.post(f"/provider/groups/{MODULE}?month=2026-09",
                             data={"fill": "column:2026-09-15", "fill_status": "excused"})
    assert answer.status_code == 200 and posts(sent) == []
    assert f'<select name="mark.{A}.2026-09-15"' in answer.text
    cell = answer.text.split(f'name="mark.{A}.2026-09-15"')[1].split("</select>")[0]
    assert '<option value="excused" selected>' in cell


def test_a_frozen_month_has_no_fields_and_refuses_a_save(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with portal(monkeypatch, sent, frozen=True) as client:
        page = client.get(f"/provider/groups/{MODULE}?month=2026-09")
        assert "Месяц закрыт" in page.text and "<select name=\"mark." not in page.text
        assert "Сохранить месяц" not in page.text
        answer = client.post(f"/provider/groups/{MODULE}?month=2026-09",
                             data={f"mark.{A}.2026-09-08": "present", "action": "save"})
    assert answer.status_code == 409 and posts(sent) == []


def test_a_group_of_another_provider_is_not_found(monkeypatch) -> None:  # noqa: ANN001
    with portal(monkeypatch, []) as client:
        answer = client.get("/provider/groups/99999999-9999-4999-8999-999999999999")
    assert answer.status_code == 404
