"""The operator's money pages from canned API answers (the guard, the CSRF check and the session's
token replaced): nominals typed in roubles go to the API in kopecks, a wrong field's message
stands next to it, an API 403 reads as a sentence, only the region gets the region's buttons, the
close's progress polls while it runs and shows the totals when done, the reconciliation in words."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, csrf_protect
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages import operator_money
from pfdo_portal.settings import PortalSettings

PERIOD = "f1a8c3e6-2d9b-4f7a-8c51-3e0b7d4a2f96"
PERIODS = {"items": [{"period_id": PERIOD, "starts_on": "2026-09-01", "ends_on": "2027-08-31", "status": "draft"}],
           "next_cursor": None}
FORBIDDEN = {"type": "about:blank", "title": "Нет доступа", "status": 403, "code": "forbidden",
             "detail": "У вас нет прав на это действие."}


def progress(status: str, closed: int, total: int) -> dict:
    return {"month": "2026-10", "status": status, "contracts_closed": closed, "contracts_total": total,
            "chunks_done": 1 if closed else 0, "chunks_total": 1, "posted_kopecks": 83_447,
            "released_kopecks": 27_816, "family_invoiced_kopecks": 16_689}


class Api:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        self.answers: dict[tuple[str, str], httpx.Response] = {}
        self.close = progress("not_started", 0, 3)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        path, method = request.url.path, request.method
        if (method, path) in self.answers:
            return self.answers[(method, path)]
        if path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {"period_statuses": {"draft": "Черновик"}}})
        if path == "/api/registry/municipalities":
            return httpx.Response(200, json={"items": [{"code": "01", "name": "Липецк"}, {"code": "02", "name": "Елец"}],
                                             "next_cursor": None})
        if path == "/api/billing/periods" and method == "GET":
            return httpx.Response(200, json=PERIODS)
        if path.endswith("/nominals") and method == "PUT":
            return httpx.Response(204)
        if path == f"/api/billing/periods/{PERIOD}/nominals":
            return httpx.Response(200, json={"nominals": [
                {"municipality_code": "01", "age_min": 5, "age_max": 17, "amount_kopecks": 3_000_000}]})
        if path == f"/api/billing/periods/{PERIOD}/caps":
            return httpx.Response(200, json={"caps": [
                {"municipality_code": "01", "funding_cap": 1000, "funding_used": 7, "free_places": None,
                 "free_places_used": 0, "direction_cap": 2}]})
        if path == "/api/navigator/attendance/months/2026-10":
            return httpx.Response(200, json={"month": "2026-10", "state": "frozen", "attendance_events": 4,
                                             "frozen_on": "2026-11-05", "frozen_by": "operator"})
        if path == "/api/billing/months/2026-10/journal":
            return httpx.Response(200, json={"month": "2026-10", "frozen": True, "published_events": 4,
                                             "applied_events": 4, "closable": True, "close_status": None})
        if path == "/api/billing/months/2026-10/close" and method == "GET":
            return httpx.Response(200, json=self.close)
        if path == "/api/billing/payment-orders":
            return httpx.Response(200, json={"items": [{"amount_kopecks": 0}], "next_cursor": None})
        if path == "/api/billing/reconciliation":
            return httpx.Response(200, json={"period_id": None, "ok": True, "checks": [
                {"name": "accounts_sum_to_zero", "ok": True, "value": 0}], "outstanding": {
                "unsettled_adjustments": 0, "unsettled_charged_kopecks": 0, "unsettled_refunded_kopecks": 0,
                "oldest_unsettled_month": None, "uncovered_kopecks": 0}})
        raise AssertionError(f"unexpected {method} {request.url}")


@pytest.fixture
def api() -> Api:
    return Api()


def portal(monkeypatch, api: Api, role: Role = Role.REGIONAL_OPERATOR) -> TestClient:  # noqa: ANN001
    monkeypatch.setattr(operator_money, "access_token", lambda request: "operator-token")
    gateway = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(api.handler))
    app = create_app(PortalSettings(log_json=False), api=gateway)
    municipality = "01" if role == Role.MUNICIPAL_OPERATOR else None
    app.dependency_overrides[operator_money.operators_only] = lambda: PortalUser("op-1", role, "Оператор",
                                                                                 municipality=municipality)
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app)


def test_nominals_typed_in_roubles_reach_the_api_in_kopecks(monkeypatch, api: Api) -> None:  # noqa: ANN001
    with portal(monkeypatch, api) as client:
        page = client.get("/operator/periods")
        assert page.status_code == 200
        assert "Открыть период" in page.text and 'name="nominal_0_amount"' in page.text
        html = " ".join(page.text.split())  # every space, the no-break ones too, as one
        assert '<td>Липецк</td><td class="nowrap">5–17 лет</td><td class="nowrap">30 000,00 ₽</td>' in html
        assert "<td>7 из 1000</td> <td>без ограничения</td> <td>2</td>" in html
        assert 'id="cap_funding_cap" name="cap_funding_cap" type="text" value="1000"' in html  # the form filled
        answer = client.post(f"/operator/periods/{PERIOD}/nominals", data={
            "nominal_0_municipality": "02", "nominal_0_age_min": "5", "nominal_0_age_max": "17",
            "nominal_0_amount": "30 000,00"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].endswith("done=nominals")
    [put] = [r for r in api.sent if r.method == "PUT"]
    assert json.loads(put.content) == {"nominals": [
        {"municipality_code": "02", "age_min": 5, "age_max": 17, "amount_kopecks": 3_000_000}]}


def test_a_wrong_amount_is_told_next_to_its_field_and_nothing_is_sent(monkeypatch, api: Api) -> None:  # noqa: ANN001
    with portal(monkeypatch, api) as client:
        answer = client.post(f"/operator/periods/{PERIOD}/nominals", data={
            "nominal_0_municipality": "01", "nominal_0_age_min": "5", "nominal_0_age_max": "17",
            "nominal_0_amount": "тридцать тысяч"})
    assert answer.status_code == 422
    assert 'aria-describedby="nominal_0_amount-error" aria-invalid="true"' in " ".join(answer.text.split())
    assert 'id="nominal_0_amount-error" class="field-errors">Сумма — это рубли цифрами' in answer.text
    assert 'value="тридцать тысяч"' in answer.text
    assert not [r for r in api.sent if r.method == "PUT"]


def test_the_municipal_operator_gets_no_region_buttons_and_a_403_reads_as_a_sentence(monkeypatch, api: Api) -> None:  # noqa: ANN001
    api.answers[("POST", f"/api/billing/periods/{PERIOD}/open")] = httpx.Response(
        403, json=FORBIDDEN, headers={"content-type": "application/problem+json"})
    with portal(monkeypatch, api, Role.MUNICIPAL_OPERATOR) as client:
        page = client.get("/operator/periods")
        assert "Открыть период" not in page.text and "Открывает и закрывает период региональный оператор." in page.text
        assert '<option value="01"' in page.text and '<option value="02"' not in page.text  # own municipality only
        refused = client.post(f"/operator/periods/{PERIOD}/open", data={"idempotency_key": "k" * 32})
        months = client.get("/operator/months?month=2026-10")
    assert refused.status_code == 403
    assert "Недостаточно прав для этого действия: его выполняет региональный оператор." in refused.text
    assert "Закрыть месяц</button>" not in months.text and "Закрыть журнал месяца" not in months.text
    # its own municipality's month it closes itself (billing takes its certificates' contracts only)
    assert "Закрыть месяц по муниципалитету</button>" in months.text
    assert "Журнал месяца закрывает и авансы формирует региональный оператор." in months.text
    asked = [r for r in api.sent if r.url.path == "/api/billing/months/2026-10/close"]
    assert asked and all(dict(r.url.params) == {"municipality": "01"} for r in asked)


def test_a_running_close_polls_its_progress_and_a_done_one_shows_its_totals(monkeypatch, api: Api) -> None:  # noqa: ANN001
    api.close = progress("running", 2, 3)
    with portal(monkeypatch, api) as client:
        page = client.get("/operator/months?month=2026-10")
        assert 'hx-get="/operator/months/2026-10/progress"' in page.text and 'hx-trigger="every 1s"' in page.text
        assert "Закрыто договоров: 2 из 3 (частей: 1 из 1)." in page.text
        assert 'href="/operator/months?month=2026-10">Обновить</a>' in page.text
        api.close = progress("done", 3, 3)
        fragment = client.get("/operator/months/2026-10/progress", headers={"HX-Request": "true"})
    assert "hx-trigger" not in fragment.text and "Итоги закрытия" in fragment.text
    assert "834,47\u00a0₽" in fragment.text and "<html" not in fragment.text


def test_a_close_just_started_polls_a_few_times_before_billing_reports_it(monkeypatch, api: Api) -> None:  # noqa: ANN001
    with portal(monkeypatch, api) as client:
        fresh = client.get("/operator/months/2026-10/progress?started=3", headers={"HX-Request": "true"})
        last = client.get("/operator/months/2026-10/progress?started=1", headers={"HX-Request": "true"})
        idle = client.get("/operator/months?month=2026-10")
    assert 'hx-get="/operator/months/2026-10/progress?started=2"' in fresh.text
    assert 'hx-get="/operator/months/2026-10/progress"' in last.text  # the last poll
    assert "hx-trigger" not in idle.text  # nothing runs, nothing started: no polling


def test_the_reconciliation_in_words(monkeypatch, api: Api) -> None:  # noqa: ANN001
    with portal(monkeypatch, api) as client:
        page = client.get("/operator/reconciliation")
    assert page.status_code == 200
    assert "Все проверки сходятся." in page.text and "Сумма всех счетов равна нулю" in page.text
    assert "сходится" in page.text
