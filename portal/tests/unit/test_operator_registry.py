"""The operator's registry pages: the Russian amount typed for a normative cost read as kopecks,
what each operator may do to a provider, the costs read from the form, the history's names; and
the pages from canned API answers (the guard, the CSRF check and the session's token replaced):
a decision posted with its Idempotency-Key and a 303 back with a notice, a missing reason refused
before any call, the API's refusal shown on the page."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, csrf_protect
from pfdo_portal.gateway import ApiError, GatewayApi
from pfdo_portal.money_input import MOST_KOPECKS, parse_roubles, roubles_for_input
from pfdo_portal.pages import operator_registry as pages
from pfdo_portal.settings import PortalSettings

NNBSP, NBSP = "\u202f", "\u00a0"
MUNICIPAL = PortalUser("operator-01", Role.MUNICIPAL_OPERATOR, "Оператор Липецка", municipality="01")
REGIONAL = PortalUser("region-1", Role.REGIONAL_OPERATOR, "Региональный оператор")


# ---- the normative cost typed in Russian (pfdo_portal.money_input; its cases: test_money_input.py) ----

@given(st.integers(min_value=0, max_value=MOST_KOPECKS))
def test_a_known_cost_written_in_its_field_reads_back_the_same(kopecks: int) -> None:
    assert parse_roubles(roubles_for_input(kopecks)) == kopecks


# ---- who may do what --------------------------------------------------------------------------------

def test_a_municipal_operator_acts_in_its_municipality_a_regional_one_everywhere() -> None:
    assert pages.may_act(MUNICIPAL, "01") and not pages.may_act(MUNICIPAL, "02") and not pages.may_act(MUNICIPAL, None)
    assert pages.may_act(REGIONAL, "02")
    finance = PortalUser("f", Role.FINANCE, "Казначейство", municipality="01")
    assert not pages.may_act(finance, "01")


@pytest.mark.parametrize(("status", "actions"), [
    ("new", ["approve", "refuse"]), ("active", ["suspend", "exclude"]), ("suspended", ["reinstate", "exclude"]),
    ("refused", []), ("excluded", []),
])
def test_moderation_offers_what_the_providers_state_allows(status: str, actions: list[str]) -> None:
    provider = {"status": status, "municipality_code": "01"}
    assert [a.code for a in pages.provider_actions(MUNICIPAL, provider)] == actions
    assert [a.code for a in pages.provider_actions(REGIONAL, provider)] == actions
    assert pages.provider_actions(MUNICIPAL, {**provider, "municipality_code": "02"}) == ()
    assert {a.code for a in pages.provider_actions(REGIONAL, provider) if a.needs_reason} <= pages.NEEDS_REASON
    assert pages.NEEDS_REASON == {"refuse", "suspend", "exclude"}


def test_a_lists_filter_is_one_of_its_states_or_all_else_the_default() -> None:
    assert pages.chosen(None, ("pending", "refused"), "pending") == "pending"
    assert pages.chosen("refused", ("pending", "refused"), "pending") == "refused"
    assert pages.chosen("", ("pending",), "pending") == ""
    assert pages.chosen("<script>", ("pending",), "pending") == "pending"
    assert pages.filter_query("new", ("new",)) == "status=new&" and pages.filter_query("", ("new",)) == "status=&"
    assert pages.filter_query("x&y", ("new",)) == "" and pages.filter_query(None, ("new",)) == ""


def test_the_apis_refusals_become_sentences_for_the_operator() -> None:
    assert pages.refusal_message(ApiError(403, "forbidden", "У вас нет прав на это действие.")).startswith(
        "Недостаточно прав для этого действия. У вас нет прав")
    assert "другому муниципалитету" in pages.refusal_message(ApiError(404, "not_found", "Не найдено."))
    conflict = pages.refusal_message(ApiError(409, "illegal_transition", "Заявление в статусе «Одобрено»: действие недоступно."))
    assert conflict.startswith("Заявление в статусе «Одобрено»") and "Обновите страницу" in conflict
    assert pages.refusal_message(ApiError(422, "reason_required", "Укажите причину.")) == "Укажите причину."


MODULES = [{"id": "m1", "name": "Группа 1", "normative_cost_kopecks": None},
           {"id": "m2", "name": "Группа 2", "normative_cost_kopecks": 120_000}]


def test_the_costs_typed_are_sent_only_when_they_change_and_each_bad_one_is_named() -> None:
    changed, errors = pages.read_costs(MODULES, {"cost.m1": "1 350,00", "cost.m2": "1 200,00"}, certifying=False)
    assert changed == {"m1": 135_000} and errors == {}
    changed, errors = pages.read_costs(MODULES, {"cost.m1": "", "cost.m2": "12 000"}, certifying=False)
    assert changed == {"m2": 1_200_000} and errors == {}
    changed, errors = pages.read_costs(MODULES, {"cost.m1": "", "cost.m2": "дорого"}, certifying=True)
    assert changed == {}
    assert errors["m1"].startswith("Укажите нормативную стоимость модуля") and "рубли цифрами" in errors["m2"]
    changed, errors = pages.read_costs(MODULES, {"cost.m1": f"13{NNBSP}500,00 ₽", "cost.m2": "1 200"}, certifying=True)
    assert changed == {"m1": 1_350_000} and errors == {}  # m2 keeps its 1 200,00


def test_the_modules_fields_show_what_was_typed_else_the_known_cost() -> None:
    rows = pages.module_rows(MODULES, {"cost.m1": "13 50"}, {"m1": "Сумма — это рубли цифрами"})
    assert [(r["field"], r["value"], r["error"]) for r in rows] == [
        ("cost.m1", "13 50", "Сумма — это рубли цифрами"), ("cost.m2", "1 200,00", None)]


def test_the_history_is_latest_first_in_the_regions_time_with_russian_names() -> None:
    steps = [{"id": 1, "action": "submit", "from_status": "draft", "to_status": "submitted", "actor_role": "provider",
              "actor_sub": "p", "reason": None, "revision": 2, "at": "2026-12-07T09:30:00Z"},
             {"id": 2, "action": "reject", "from_status": "submitted", "to_status": "rejected",
              "actor_role": "municipal_operator", "actor_sub": "o", "reason": "Нет программы", "revision": 3,
              "at": "2026-12-07T21:05:00+00:00"}]
    rows = pages.history_rows(steps)
    assert [(r["when"], r["action_name"], r["role_name"]) for r in rows] == [
        ("08.12.2026 00:05", "Отклонена", "Муниципальный оператор"),
        ("07.12.2026 12:30", "Отправлена на сертификацию", "Организация")]


# ---- the pages from canned answers ----------------------------------------------------------------

APP_ID = "11111111-1111-4111-8111-111111111111"
PROVIDER_ID = "22222222-2222-4222-8222-222222222222"
PROGRAM_ID = "33333333-3333-4333-8333-333333333333"
MODULE_ID = "44444444-4444-4444-8444-444444444444"
APPLICATION = {"id": APP_ID, "child_id": "c", "applicant_role": "parent", "municipality_code": "01", "status": "pending",
               "reason": None, "applied_on": "2026-12-01", "decided_on": None, "certificate_id": None,
               "certificate_number": None, "surname": "Соколов", "first_name": "Артём", "birth_date": "2016-03-14",
               "possible_duplicate": True, "duplicate_reason": "pending_application"}
PROVIDER = {"id": PROVIDER_ID, "provider_type": "private_org", "name": "ООО «Кванториум»", "inn": "4826000000",
            "ogrn": "1024800000000", "kpp": "482601001", "municipality_code": "01", "address": "Липецк, ул. Гагарина, 10",
            "bank_name": "Отделение Липецк", "bik": "044206001", "settlement_account": "40702810000000000001",
            "status": "new", "status_reason": None, "registered_on": "2026-12-01"}
ELSEWHERE = {**PROVIDER, "id": "55555555-5555-4555-8555-555555555555", "name": "АНО «Река»", "municipality_code": "02",
             "status": "active"}
PROGRAM = {"id": PROGRAM_ID, "provider_id": PROVIDER_ID, "name": "Робототехника", "description": "Роботы.",
           "direction": "technical", "status": "submitted", "status_reason": None, "revision": 2, "certified_before": False,
           "modules": [{"id": MODULE_ID, "name": "Группа 1", "min_age": 7, "max_age": 17, "municipality_code": "01",
                        "address": "Липецк", "schedule": [], "hours": 144, "start_date": "2026-12-07",
                        "end_date": "2027-05-31", "capacity": 12, "price_kopecks": 1_800_000,
                        "funding_kind": "certificate", "normative_cost_kopecks": None}]}


def problem(status: int, code: str, detail: str) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "code": code, "detail": detail},
                          headers={"content-type": "application/problem+json"})


def operator_portal(monkeypatch, sent: list[httpx.Request], refusals: dict[str, httpx.Response] | None = None,  # noqa: ANN001
                    user: PortalUser = MUNICIPAL) -> TestClient:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        path = request.url.path.removeprefix("/api/")
        if f"{request.method} {path}" in (refusals or {}):
            return refusals[f"{request.method} {path}"]
        if path == "registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {
                "application_statuses": {"pending": "На рассмотрении", "approved": "Одобрено", "refused": "Отказано"},
                "provider_statuses": {"new": "Новый", "active": "Действует"},
                "program_statuses": {"submitted": "На сертификации", "certified": "Сертифицирована"}}})
        if path == "registry/municipalities":
            return httpx.Response(200, json={"items": [{"code": "01", "name": "Липецк"}, {"code": "02", "name": "Елец"}],
                                             "next_cursor": None})
        if path == "registry/applications":
            return httpx.Response(200, json={"items": [APPLICATION], "next_cursor": None})
        if path == "registry/providers":
            return httpx.Response(200, json={"items": [PROVIDER, ELSEWHERE], "next_cursor": None})
        if path == f"registry/providers/{PROVIDER_ID}" and request.method == "GET":
            return httpx.Response(200, json=PROVIDER)
        if path == f"registry/programs/{PROGRAM_ID}" and request.method == "GET":
            return httpx.Response(200, json=PROGRAM)
        if path == f"registry/programs/{PROGRAM_ID}/history":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        if request.method in ("POST", "PUT"):
            return httpx.Response(200, json={})
        raise AssertionError(f"unexpected {request.method} {request.url}")

    monkeypatch.setattr(pages, "access_token", lambda request: "operator-token")
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    app = create_app(PortalSettings(log_json=False), api=api)
    app.dependency_overrides[pages.operators_only] = lambda: user
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app, follow_redirects=False)


def changes(sent: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in sent if r.method in ("POST", "PUT")]


def test_the_queue_shows_the_child_and_a_refusal_without_a_reason_calls_nothing(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        page = client.get("/operator/applications")
        assert page.status_code == 200
        for text in ("Соколов Артём", "14.03.2016", "Липецк", "01.12.2026", "На рассмотрении",
                     "На ребёнка с этим СНИЛС подано ещё одно заявление.", 'aria-current="page">Заявления на сертификат'):
            assert text in page.text, text
        assert [r.url.params.get("status") for r in sent if r.url.path == "/api/registry/applications"] == ["pending"]
        refused = client.post(f"/operator/applications/{APP_ID}/refuse?status=pending", data={"reason": "  "})
    assert refused.status_code == 422 and changes(sent) == []
    assert "Отказ не отправлен: не указана причина." in refused.text
    assert f'aria-describedby="reason-{APP_ID}-error"' in refused.text


def test_a_decision_carries_its_key_and_returns_with_a_notice(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        approved = client.post(f"/operator/applications/{APP_ID}/approve?status=pending",
                               data={"idempotency_key": "k" * 36})
        refused = client.post(f"/operator/applications/{APP_ID}/refuse?status=pending",
                              data={"idempotency_key": "r" * 36, "reason": " Нет документов "})
        page = client.get("/operator/applications?status=pending&done=refused")
    assert approved.status_code == 303 and approved.headers["location"] == "/operator/applications?status=pending&done=approved"
    assert refused.headers["location"] == "/operator/applications?status=pending&done=refused"
    approve, refuse = changes(sent)
    assert approve.url.path == f"/api/registry/applications/{APP_ID}/approve" and approve.headers["idempotency-key"] == "k" * 36
    assert approve.headers["authorization"] == "Bearer operator-token"
    assert json.loads(refuse.content) == {"reason": "Нет документов"} and refuse.headers["idempotency-key"] == "r" * 36
    assert "Заявителю отказано; причина отправлена ему." in page.text


def test_the_apis_refusal_is_shown_on_the_page_with_what_was_typed(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    refusals = {f"POST registry/applications/{APP_ID}/refuse": problem(
        409, "illegal_transition", "Заявление в статусе «Одобрено»: действие «Отказать» сейчас недоступно.")}
    with operator_portal(monkeypatch, sent, refusals) as client:
        page = client.post(f"/operator/applications/{APP_ID}/refuse", data={"reason": "Нет документов"})
    assert page.status_code == 409
    assert "Заявление в статусе «Одобрено»: действие «Отказать» сейчас недоступно. Обновите страницу" in page.text
    assert ">Нет документов</textarea>" in page.text and "registry-item--failed" in page.text
    assert f'<a href="#application-{APP_ID}">Перейти к записи</a>' in page.text


def test_a_long_queue_leads_to_its_next_page_with_the_same_filter(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    refusals = {"GET registry/applications": httpx.Response(200, json={"items": [APPLICATION], "next_cursor": "c/2+"})}
    with operator_portal(monkeypatch, sent, refusals) as client:
        first = client.get("/operator/applications?status=refused")
        second = client.get("/operator/applications?status=refused&cursor=c/2%2B")
    assert 'href="/operator/applications?status=refused&amp;cursor=c/2%2B">Следующая страница</a>' in first.text
    assert "В начало списка" not in first.text and "В начало списка" in second.text
    asked = [dict(r.url.params) for r in sent if r.url.path == "/api/registry/applications"]
    assert asked == [{"limit": "50", "status": "refused"}, {"limit": "50", "status": "refused", "cursor": "c/2+"}]


def test_moderation_is_offered_in_the_operators_municipality_only(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        page = client.get("/operator/providers?status=")
        answer = client.post(f"/operator/providers/{PROVIDER_ID}?status=new", data={"action": "approve"})
        no_reason = client.post(f"/operator/providers/{PROVIDER_ID}", data={"action": "refuse", "reason": ""})
        unknown = client.post(f"/operator/providers/{PROVIDER_ID}", data={"action": "delete"})
    html = page.text
    ours, theirs = html.split('id="provider-')[1], html.split('id="provider-')[2]
    assert "4826000000" in ours and "40702810000000000001" in ours and 'value="approve"' in ours and 'value="refuse"' in ours
    assert "АНО «Река»" in theirs and "<form" not in theirs and "другого муниципалитета" in theirs
    assert answer.status_code == 303 and answer.headers["location"] == "/operator/providers?status=new&done=provider_approve"
    assert no_reason.status_code == 422 and unknown.status_code == 422
    [approve] = changes(sent)
    assert approve.url.path == f"/api/registry/providers/{PROVIDER_ID}/approve" and json.loads(approve.content) == {}


def test_a_403_of_the_api_is_a_clear_message_not_an_error_page(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    refusals = {f"POST registry/providers/{PROVIDER_ID}/suspend": problem(403, "forbidden", "У вас нет прав на это действие.")}
    with operator_portal(monkeypatch, sent, refusals, user=REGIONAL) as client:
        page = client.post(f"/operator/providers/{PROVIDER_ID}", data={"action": "suspend", "reason": "Проверка"})
    assert page.status_code == 403 and "Недостаточно прав для этого действия. У вас нет прав на это действие." in page.text
    assert "<h1>Организации</h1>" in page.text


def test_costs_typed_badly_are_named_beside_their_field_and_nothing_is_sent(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        page = client.post(f"/operator/programs/{PROGRAM_ID}/costs", data={f"cost.{MODULE_ID}": "13 50", "action": "certify"})
    assert page.status_code == 422 and changes(sent) == []
    assert f'aria-describedby="cost-{MODULE_ID}-error" aria-invalid="true"' in page.text
    assert 'value="13 50"' in page.text and "Сумма — это рубли цифрами" in page.text


def test_costs_are_put_in_kopecks_then_the_program_is_certified_with_its_key(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        page = client.get(f"/operator/programs/{PROGRAM_ID}")
        answer = client.post(f"/operator/programs/{PROGRAM_ID}/costs",
                             data={f"cost.{MODULE_ID}": "13 500,00", "action": "certify", "idempotency_key": "c" * 36})
    assert "ООО «Кванториум»" in page.text and f"18{NNBSP}000,00{NBSP}₽" in page.text
    assert f'name="cost.{MODULE_ID}"' in page.text and "Сохранить и сертифицировать" in page.text
    assert answer.status_code == 303 and answer.headers["location"] == f"/operator/programs/{PROGRAM_ID}?done=certified"
    put, certify = changes(sent)
    assert put.method == "PUT" and put.url.path.endswith(f"/modules/{MODULE_ID}/normative-cost")
    assert json.loads(put.content) == {"normative_cost_kopecks": 1_350_000}
    assert certify.url.path == f"/api/registry/programs/{PROGRAM_ID}/certify" and certify.headers["idempotency-key"] == "c" * 36


def test_a_certification_the_api_refuses_says_the_costs_were_kept(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    refusals = {f"POST registry/programs/{PROGRAM_ID}/certify": problem(
        422, "normative_cost_missing", "Сначала укажите нормативную стоимость каждого модуля.")}
    with operator_portal(monkeypatch, sent, refusals) as client:
        page = client.post(f"/operator/programs/{PROGRAM_ID}/costs", data={f"cost.{MODULE_ID}": "1350", "action": "certify"})
    assert page.status_code == 422
    assert ("Нормативная стоимость сохранена, но программа не сертифицирована. "
            "Сначала укажите нормативную стоимость каждого модуля.") in page.text


def test_a_rejection_needs_a_reason(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with operator_portal(monkeypatch, sent) as client:
        empty = client.post(f"/operator/programs/{PROGRAM_ID}/reject", data={"reason": ""})
        rejected = client.post(f"/operator/programs/{PROGRAM_ID}/reject", data={"reason": "Нет учебного плана"})
    assert empty.status_code == 422 and 'aria-describedby="reject-reason-error"' in empty.text
    assert rejected.headers["location"] == f"/operator/programs/{PROGRAM_ID}?done=rejected"
    [reject] = changes(sent)
    assert json.loads(reject.content) == {"reason": "Нет учебного плана"}
