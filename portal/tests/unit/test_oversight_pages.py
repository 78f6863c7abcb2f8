"""The operator's dashboard and disputes and the finance register: the pure view logic (charts'
geometry, the share of children covered, the disputes' window, the register's rows, totals, CSV
and XLSX read back), and the pages rendered from canned API answers (the gateway replaced by a
mock transport)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, csrf_protect
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages import finance, operator_dashboard, operator_disputes
from pfdo_portal.pages import finance_register as register
from pfdo_portal.pages.dashboard_charts import PLOT_HEIGHT, WIDTH, Series, column_chart, coverage, total_coverage
from pfdo_portal.settings import PortalSettings

P1, P2 = "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48", "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
DISPUTE = "5b0c1d2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e"
ENROLMENT = "e4b2d9a1-6c7f-4e3b-9a58-2d1c0f8e7b36"


# ---- the charts ------------------------------------------------------------------------------

def test_columns_share_one_scale_and_sit_side_by_side_in_their_day() -> None:
    chart = column_chart([{"day": "2027-10-01", "a": 2, "b": 4}, {"day": "2027-10-02", "a": 0, "b": 1}],
                         (Series("a", "A"), Series("b", "B")), label="day")
    assert chart.top == 4 and chart.totals == {"a": 2, "b": 5} and not chart.empty
    first, second = chart.categories
    assert [c.height for c in first.columns] == [PLOT_HEIGHT / 2, PLOT_HEIGHT]
    assert [c.y for c in first.columns] == [PLOT_HEIGHT / 2, 0]
    assert first.columns[1].x == first.columns[0].x + first.columns[0].width  # side by side
    assert second.columns[0].height == 0 and second.columns[0].x >= WIDTH / 2
    assert all(c.x + c.width <= WIDTH for cat in chart.categories for c in cat.columns)


def test_a_chart_of_zeros_is_empty_and_draws_nothing() -> None:
    chart = column_chart([{"month": "2027-10", "x": 0}], (Series("x", "X"),), label="month")
    assert chart.empty and chart.categories[0].columns[0].height == 0


def test_the_share_of_children_covered_says_no_data_without_the_number_of_children() -> None:
    rows = coverage([{"code": "01", "name": "Липецк", "children_count": 800, "certificates_active": 100},
                     {"code": "02", "name": "Елец", "children_count": None, "certificates_active": 7},
                     {"code": "03", "name": "Данков", "children_count": 10, "certificates_active": 12}])
    assert [r.percent for r in rows] == ["12,5\u00a0%", "нет данных", "120,0\u00a0%"]
    assert rows[0].width == WIDTH / 8 and rows[1].width == 0 and rows[2].width == WIDTH  # drawn full at most
    whole = total_coverage(rows)
    assert whole is not None and (whole.children, whole.certificates) == (810, 112)  # Елец left out
    assert total_coverage(rows[:1]) is None


def test_daily_rows_put_both_services_figures_on_one_day() -> None:
    rows = operator_dashboard.daily_rows(
        [{"day": "2027-10-01", "applications": 3, "certificates_issued": 1}],
        [{"day": "2027-10-01", "requested": 2}, {"day": "2027-10-02", "requested": 5}])
    assert rows == [{"day": "2027-10-01", "applications": 3, "certificates_issued": 1, "requested": 2},
                    {"day": "2027-10-02", "applications": 0, "certificates_issued": 0, "requested": 5}]


def test_a_municipal_operator_sees_its_own_municipality_whatever_is_asked() -> None:
    known = {"01": "Липецк", "02": "Елец"}
    mo = PortalUser("mo", Role.MUNICIPAL_OPERATOR, "МО", municipality="01")
    ro = PortalUser("ro", Role.REGIONAL_OPERATOR, "РО")
    assert operator_dashboard.chosen_municipality(mo, "02", known) == "01"
    assert operator_dashboard.chosen_municipality(ro, "02", known) == "02"
    assert operator_dashboard.chosen_municipality(ro, "99", known) is None


# ---- disputes --------------------------------------------------------------------------------

def dispute(**changes: object) -> dict:
    return {"dispute_id": DISPUTE, "mark_id": "m", "enrolment_id": ENROLMENT, "lesson_date": "2027-10-05",
            "mark_version": 1, "state": "open", "claimed_status": "absent", "opened_at": "2027-10-12T20:30:00Z",
            "resolved_at": None, "comment": "Сын болел", "resolution_note": None, "mark_status": "present",
            "marked_on": "2027-10-05", **changes}


def test_the_window_runs_seven_days_from_the_recording_in_the_regions_calendar() -> None:
    d = operator_disputes.dispute_view(dispute())
    assert d.window_ends == dt.date(2027, 10, 12)
    assert d.opened_on == dt.date(2027, 10, 12) and d.opened_in_window  # 23:30 in Moscow
    late = operator_disputes.dispute_view(dispute(opened_at="2027-10-12T21:30:00Z"))  # 00:30 on the 13th
    assert late.opened_on == dt.date(2027, 10, 13) and late.opened_in_window is False
    assert operator_disputes.dispute_view(dispute(marked_on=None)).window_ends is None


def test_open_disputes_come_oldest_first_and_decided_ones_newest_first() -> None:
    views = [operator_disputes.dispute_view(dispute(dispute_id=str(i), **kw)) for i, kw in enumerate([
        {"opened_at": "2027-10-12T10:00:00Z"}, {"opened_at": "2027-10-11T10:00:00Z"},
        {"state": "upheld", "resolved_at": "2027-10-13T10:00:00Z"},
        {"state": "rejected", "resolved_at": "2027-10-14T10:00:00Z"}])]
    waiting, decided = operator_disputes.split(views)
    assert [d.dispute_id for d in waiting] == ["1", "0"] and [d.dispute_id for d in decided] == ["3", "2"]


def test_a_decision_needs_its_choice_and_a_note_of_at_most_2000_characters() -> None:
    assert operator_disputes.decision_of({"decision": "upheld", "note": "  Подтверждено справкой "}) == (
        True, "Подтверждено справкой", [])
    assert operator_disputes.decision_of({"decision": "rejected"}) == (False, None, [])
    assert operator_disputes.decision_of({})[2] == ["Выберите решение: удовлетворить спор или отклонить."]
    assert operator_disputes.decision_of({"decision": "upheld", "note": "я" * 2001})[2] == [
        "Комментарий к решению — не длиннее 2000 знаков."]


# ---- the finance register ----------------------------------------------------------------------

def order(**changes: object) -> dict:
    return {"order_id": "b7e2a9d4-3c6f-4a81-9d0e-4f5c1b8a3e72", "provider_id": P1, "period_id": "p", "month": "2027-10",
            "kind": "advance", "base_kopecks": 1_500_000, "advance_paid_kopecks": 0, "offset_applied_kopecks": 0,
            "amount_kopecks": 1_200_050, "offset_carried_kopecks": 0, "contract_count": 3, "issued_on": "2027-10-01",
            **changes}


ORDERS = [order(), order(order_id="c1", kind="final", amount_kopecks=299_950, advance_paid_kopecks=1_200_050,
                         issued_on="2027-11-02"),
          order(order_id="c2", provider_id=P2, month="2027-11", amount_kopecks=123_456_789)]
NAMES = {P1: "ООО «Кванториум»", P2: "АНО «Алые паруса»"}


def test_the_filters_are_read_from_the_address_and_a_wrong_one_is_told_and_dropped() -> None:
    assert register.read_filters({"month": "2027-10", "kind": "final", "provider": P1.upper()}) == (
        register.Filters("2027-10", "final", P1), [])
    filters, errors = register.read_filters({"month": "10.2027", "kind": "bonus", "provider": "x"})
    assert filters == register.Filters() and len(errors) == 3
    assert register.Filters("2027-10", None, P1).query == f"month=2027-10&provider={P1}"


def test_the_rows_come_newest_month_first_with_provider_names_and_the_totals_add_up() -> None:
    rows = register.order_rows(ORDERS, NAMES)
    assert [(r.month, r.provider, r.kind_name) for r in rows] == [
        ("2027-11", "АНО «Алые паруса»", "Аванс"), ("2027-10", "ООО «Кванториум»", "Аванс"),
        ("2027-10", "ООО «Кванториум»", "Окончательный расчёт")]
    t = register.totals(rows)
    assert (t.orders, t.advances, t.finals) == (3, 2, 1)
    assert (t.amount_kopecks, t.advance_kopecks, t.final_kopecks) == (124_956_789, 124_656_839, 299_950)
    assert register.order_rows([order(provider_id="unknown")], NAMES)[0].provider == "unknown"


def test_the_csv_is_what_a_russian_excel_opens_utf8_bom_semicolons_decimal_commas() -> None:
    body = register.csv_bytes(register.order_rows(ORDERS, NAMES))
    assert body.startswith(b"\xef\xbb\xbf")
    lines = body.decode("utf-8-sig").split("\r\n")
    assert lines[0].split(";")[:4] == ["Месяц", "Организация", "Вид поручения", "Дата формирования"]
    assert lines[1].split(";") == ["11.2027", "АНО «Алые паруса»", "Аванс", "01.10.2027", "3", "15000,00", "0,00",
                                   "0,00", "1234567,89", "0,00", "c2"]
    assert lines[3].split(";")[2:9] == ["Окончательный расчёт", "02.11.2027", "3", "15000,00", "12000,50", "0,00",
                                        "2999,50"]
    assert lines[4].split(";")[:9] == ["Итого", "", "", "", "9", "45000,00", "12000,50", "0,00", "1249567,89"]
    assert lines[5] == ""
    assert register.roubles_text(-5) == "-0,05"


def test_the_xlsx_read_back_has_numbers_in_roubles_and_dates_as_dates() -> None:
    rows = register.order_rows(ORDERS, NAMES)
    sheet = load_workbook(io.BytesIO(register.xlsx_bytes(rows))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == register.COLUMNS
    first = values[1]
    assert first[0] == dt.datetime(2027, 11, 1) and first[3] == dt.datetime(2027, 10, 1)
    assert first[1:3] == ("АНО «Алые паруса»", "Аванс") and first[4] == 3
    assert Decimal(str(first[8])) == Decimal("1234567.89") and isinstance(first[8], float)
    assert values[-1][0] == "Итого" and Decimal(str(values[-1][8])) == Decimal("1249567.89")
    assert sheet["I2"].number_format == register.ROUBLE_FORMAT and sheet["D2"].number_format == "DD.MM.YYYY"
    assert register.export_name(register.Filters("2027-10", "final"), "xlsx") == "payment-orders-2027-10-final.xlsx"


# ---- the pages ---------------------------------------------------------------------------------

LABELS = {"language": "ru", "labels": {
    "mark_statuses": {"present": "Присутствовал", "absent": "Отсутствовал"},
    "dispute_states": {"open": "На рассмотрении", "upheld": "Удовлетворено", "rejected": "Отклонено"},
    "enrolment_states": {"confirmed": "Договор заключён"}}}


class Api:
    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []
        self.resolve_answer = httpx.Response(200, json=dispute(state="upheld"))

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        path = request.url.path
        answers = {
            "/api/registry/labels": LABELS,
            "/api/registry/municipalities": {"items": [{"code": "01", "name": "Липецк", "region_code": "48",
                                                        "children_count": 800}], "next_cursor": None},
            "/api/registry/statistics": {"from_date": "2027-10-01", "to_date": "2027-10-02", "municipality_code": "01",
                                         "days": [{"day": "2027-10-01", "applications": 3, "certificates_issued": 2},
                                                  {"day": "2027-10-02", "applications": 1, "certificates_issued": 0}],
                                         "municipalities": [{"code": "01", "name": "Липецк", "children_count": 800,
                                                             "certificates_active": 100, "certificates_issued": 101}]},
            "/api/navigator/statistics/enrolments": {"from_date": "2027-10-01", "to_date": "2027-10-02",
                                                     "municipality_code": "01", "by_state": {"confirmed": 4},
                                                     "days": [{"day": "2027-10-02", "requested": 5}]},
            "/api/billing/statistics/months": {"municipality_code": "01", "months": [
                {"month": "2027-10", "reserved_kopecks": 1_000_000, "spent_kopecks": 250_050, "released_kopecks": 0,
                 "contracts": 2}]},
            "/api/navigator/disputes": {"items": [dispute(), dispute(dispute_id="d2", state="rejected",
                                                                     resolved_at="2027-10-14T10:00:00Z",
                                                                     resolution_note="Журнал подтверждён")],
                                        "next_cursor": None},
            f"/api/navigator/enrolments/{ENROLMENT}": {"enrolment_id": ENROLMENT, "program_id": "prog",
                                                       "module_id": "mod"},
            "/api/navigator/programs/prog": {"title": "Робототехника", "modules": [{"module_id": "mod",
                                                                                   "title": "Группа 1"}]},
            "/api/billing/payment-orders": {"items": ORDERS, "next_cursor": None},
            "/api/registry/providers": {"items": [{"id": P1, "name": NAMES[P1]}, {"id": P2, "name": NAMES[P2]}],
                                        "next_cursor": None},
        }
        if path.startswith("/api/navigator/disputes/") and path.endswith("/resolve"):
            return self.resolve_answer
        if path in answers:
            return httpx.Response(200, json=answers[path])
        raise AssertionError(f"unexpected {request.method} {request.url}")


def portal(monkeypatch, api: Api, user: PortalUser) -> TestClient:  # noqa: ANN001
    for module in (operator_disputes, operator_dashboard, finance):
        monkeypatch.setattr(module, "access_token", lambda request: "token")
    app = create_app(PortalSettings(log_json=False),
                     api=GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(api.handler)))
    app.dependency_overrides[operator_dashboard.operators_only] = lambda: user
    app.dependency_overrides[operator_disputes.operators_only] = lambda: user
    app.dependency_overrides[finance.finance_only] = lambda: user
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app)


def squeeze(text: str) -> str:
    """The page with its runs of spaces and line breaks made one space (the money's narrow spaces kept)."""
    return re.sub(r"[ \t\r\n]+", " ", text)


MO = PortalUser("mo", Role.MUNICIPAL_OPERATOR, "Оператор", municipality="01")


def test_the_dashboard_shows_the_figures_in_words_tables_and_drawings(monkeypatch) -> None:  # noqa: ANN001
    api = Api()
    with portal(monkeypatch, api, MO) as client:
        page = client.get("/operator?municipality=02")
    assert page.status_code == 200, page.text
    html = squeeze(page.text)
    assert "<h1>Сводка: Липецк</h1>" in html and 'aria-current="page">Сводка' in html
    assert "заявления на сертификат — <strong>4</strong>; выдано сертификатов — <strong>2</strong>; " \
           "заявки на запись в группы — <strong>5</strong>" in html
    assert "зарезервировано — <strong>10\u202f000,00\u00a0₽</strong>, оплачено — <strong>2\u202f500,50\u00a0₽</strong>" in html
    assert "12,5\u00a0%" in html and "800 детей" in html and "Договор заключён: <strong>4</strong>" in html
    assert html.count('class="column-chart"') == 2 and 'aria-hidden="true"' in html
    calls = {r.url.path: dict(r.url.params) for r in api.sent}
    assert calls["/api/registry/statistics"] == {"days": "30", "municipality": "01"}
    assert calls["/api/billing/statistics/months"] == {"months": "12", "municipality": "01"}


def test_the_operator_decides_a_dispute_with_a_note_and_the_api_refusal_is_shown(monkeypatch) -> None:  # noqa: ANN001
    api = Api()
    with portal(monkeypatch, api, MO) as client:
        page = client.get("/operator/disputes")
        assert page.status_code == 200
        html = squeeze(page.text)
        assert "Занятие 05.10.2027 · Робототехника: Группа 1" in html and "Сын болел" in html
        assert "отметка от 05.10.2027, оспорить до 12.10.2027 — подан в срок" in html
        assert "Журнал подтверждён" in html and "Отклонено" in html
        answer = client.post(f"/operator/disputes/{DISPUTE}/resolve", follow_redirects=False,
                             data={"decision": "upheld", "note": "Справка", "idempotency_key": "k" * 36})
        assert answer.status_code == 303 and answer.headers["location"] == "/operator/disputes?done=upheld"
        [sent] = [r for r in api.sent if r.method == "POST"]
        assert json.loads(sent.content) == {"upheld": True, "note": "Справка"}
        assert sent.headers["idempotency-key"] == "k" * 36
        api.resolve_answer = httpx.Response(409, json={"status": 409, "code": "illegal_transition",
                                                       "detail": "Спор уже решён иначе."},
                                            headers={"content-type": "application/problem+json"})
        refused = client.post(f"/operator/disputes/{DISPUTE}/resolve", data={"decision": "rejected", "note": "x"})
        assert refused.status_code == 409 and "Спор уже решён иначе." in refused.text
        missing = client.post(f"/operator/disputes/{DISPUTE}/resolve", data={"note": "x"})
        assert missing.status_code == 422 and "Выберите решение" in missing.text
        api.resolve_answer = httpx.Response(404, json={"status": 404, "code": "not_found", "detail": "Спор не найден."},
                                            headers={"content-type": "application/problem+json"})
        elsewhere = client.post("/operator/disputes/0b6f1c1e-7a43-4c36-9d0a-5b1d2f7e8a91/resolve",
                                data={"decision": "upheld"})
        assert elsewhere.status_code == 404 and "Решение не принято." in elsewhere.text


@pytest.mark.parametrize("path", ["/finance", "/finance/orders.csv", "/finance/orders.xlsx"])
def test_the_register_and_its_files_pass_the_same_filters_to_the_api(monkeypatch, path: str) -> None:  # noqa: ANN001
    api = Api()
    with portal(monkeypatch, api, PortalUser("f", Role.FINANCE, "Казначейство")) as client:
        answer = client.get(path, params={"month": "2027-10", "kind": "advance", "provider": P1})
    assert answer.status_code == 200
    [orders] = [r for r in api.sent if r.url.path == "/api/billing/payment-orders"]
    assert dict(orders.url.params) == {"month": "2027-10", "kind": "advance", "provider_id": P1, "limit": "1000"}
    if path.endswith(".csv"):
        assert answer.headers["content-disposition"] == 'attachment; filename="payment-orders-2027-10-advance.csv"'
        assert answer.content.startswith(b"\xef\xbb\xbf")
    elif path.endswith(".xlsx"):
        assert answer.headers["content-type"] == finance.XLSX
    else:
        html = squeeze(answer.text)
        assert "1\u202f249\u202f567,89\u00a0₽" in html and "Авансы (2)" in html
        assert f'href="/finance/orders.csv?month=2027-10&amp;kind=advance&amp;provider={P1}"' in html


# ---- the treasury's status of an order (finance) ---------------------------------------------

def test_the_register_shows_number_payer_and_status_and_a_reissue_counts_once() -> None:
    rows = register.order_rows([
        order(number="2027-000001", payer_code="01", status="returned", return_reason="Неверный счёт",
              reissued_as="c9"),
        order(order_id="c9", number="2027-000007", payer_code="01")], NAMES)
    assert [(r.number, r.payer_code, r.status, r.reissued, r.may_be_marked) for r in rows] == [
        ("2027-000001", "01", "returned", True, False), ("2027-000007", "01", "issued", False, True)]
    assert register.totals(rows).amount_kopecks == 1_200_050  # the returned order's money is in its reissue


def test_a_status_needs_its_choice_a_date_and_a_reason_for_a_return() -> None:
    today = dt.date(2027, 10, 5)
    assert register.treasury_status_body({"status": "paid", "treasury_reference": " ПП-1 "}, today) == (
        {"status": "paid", "status_on": "2027-10-05", "treasury_reference": "ПП-1", "reason": None}, [])
    assert register.treasury_status_body({"status": "returned"}, today)[1] == ["Укажите причину возврата."]
    body, errors = register.treasury_status_body({"status": "issued", "status_on": "5 октября"}, today)
    assert body is None and len(errors) == 2


class TreasuryApi(Api):
    def __init__(self) -> None:
        super().__init__()
        self.status_answer = httpx.Response(200, json={"order_id": ORDERS[0]["order_id"], "number": "2027-000001",
                                                       "status": "paid", "outcome": "applied"})

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/treasury-status"):
            self.sent.append(request)
            return self.status_answer
        return super().handler(request)


def test_the_finance_user_marks_an_order_paid_and_the_api_refusal_is_shown(monkeypatch) -> None:  # noqa: ANN001
    api = TreasuryApi()
    order_id = ORDERS[0]["order_id"]
    with portal(monkeypatch, api, PortalUser("f", Role.FINANCE, "Казначейство")) as client:
        page = squeeze(client.get("/finance").text)
        assert f'action="/finance/orders/{order_id}/status"' in page and "Сформировано" in page
        answer = client.post(f"/finance/orders/{order_id}/status", follow_redirects=False,
                             data={"status": "paid", "status_on": "2027-10-05", "back": "month=2027-10"})
        assert answer.status_code == 303 and answer.headers["location"] == "/finance?month=2027-10&done=status"
        [sent] = [r for r in api.sent if r.method == "POST"]
        assert sent.url.path == f"/api/billing/payment-orders/{order_id}/treasury-status"
        assert json.loads(sent.content) == {"status": "paid", "status_on": "2027-10-05", "treasury_reference": None,
                                            "reason": None}
        api.status_answer = httpx.Response(409, json={"status": 409, "code": "treasury_status_conflict",
                                                      "detail": "Платёжное поручение уже оплачено или возвращено."},
                                           headers={"content-type": "application/problem+json"})
        refused = client.post(f"/finance/orders/{order_id}/status", data={"status": "returned", "reason": "x"})
        assert refused.status_code == 422 and "уже оплачено или возвращено" in refused.text
        missing = client.post(f"/finance/orders/{order_id}/status", data={"status": "returned"})
        assert missing.status_code == 422 and "Укажите причину возврата." in missing.text
