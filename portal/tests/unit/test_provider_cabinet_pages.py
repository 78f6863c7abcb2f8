"""The provider's organisation, programs, payment orders and disputes pages from canned API answers
(the guard, the CSRF check and the session's token replaced): what each page sends to the API and
where the API's refusals land on the forms."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser, csrf_protect
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages import provider, provider_disputes, provider_orders, provider_profile, provider_programs
from pfdo_portal.settings import PortalSettings

ME = "11111111-1111-4111-8111-111111111111"
PROGRAM = "22222222-2222-4222-8222-222222222222"
MODULE = "33333333-3333-4333-8333-333333333333"
ORDER = "44444444-4444-4444-8444-444444444444"
ENROLMENT = "55555555-5555-4555-8555-555555555555"
LABELS = {"directions": {"technical": "Техническая", "artistic": "Художественная"},
          "program_statuses": {"draft": "Черновик", "certified": "Сертифицирована", "rejected": "Отклонена"},
          "provider_statuses": {"new": "Новый", "refused": "Отказано"},
          "provider_types": {"private_org": "Частная организация"},
          "funding_kinds": {"certificate": "Оплата сертификатом"},
          "payment_order_kinds": {"advance": "Аванс", "final": "Окончательный расчёт"},
          "dispute_states": {"open": "На рассмотрении", "upheld": "Удовлетворено"},
          "mark_statuses": {"present": "Присутствовал", "absent": "Отсутствовал"}}
MODULE_OUT = {"id": MODULE, "name": "Группа 1", "min_age": 7, "max_age": 12, "municipality_code": "01",
              "address": "ул. Гагарина, 10", "hours": 72, "start_date": "2026-09-01", "end_date": "2027-05-31",
              "capacity": 12, "price_kopecks": 1_800_000, "funding_kind": "certificate", "normative_cost_kopecks": None,
              "schedule": [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"}]}
ORGANISATION = {"id": ME, "provider_type": "private_org", "name": "ООО «Кванториум»", "inn": "4826012345",
                "ogrn": "1024840836123", "kpp": "482601001", "municipality_code": "01", "address": "Липецк",
                "bank_name": "Банк", "bik": "044206604", "settlement_account": "40702810435000001234",
                "status": "refused", "status_reason": "Не хватает документов.", "registered_on": "2026-08-20"}
Handler = Callable[[httpx.Request], httpx.Response | None]


def program_out(status: str = "draft", **more: object) -> dict:
    return {"id": PROGRAM, "provider_id": ME, "name": "Робототехника", "description": "Роботы.",
            "direction": "technical", "status": status, "status_reason": None, "revision": 1,
            "certified_before": False, "modules": [MODULE_OUT], **more}


def page(items: list) -> dict:
    return {"items": items, "next_cursor": None}


def portal(monkeypatch, sent: list[httpx.Request], answer: Handler) -> TestClient:  # noqa: ANN001
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        path = request.url.path
        if path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": LABELS})
        if path == "/api/registry/municipalities":
            return httpx.Response(200, json=page([{"code": "01", "name": "Липецк"}]))
        found = answer(request)
        if found is None:
            raise AssertionError(f"unexpected {request.method} {request.url}")
        return found

    for module in (provider, provider_profile, provider_programs, provider_orders, provider_disputes):
        monkeypatch.setattr(module, "access_token", lambda request: "provider-token")
    api = GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler))
    app = create_app(PortalSettings(log_json=False), api=api)
    app.dependency_overrides[provider.provider_only] = lambda: PortalUser(
        "provider-1", Role.PROVIDER, "Кванториум", provider_id=ME)
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app)


def problem(status: int, code: str, detail: str, errors: list | None = None) -> httpx.Response:
    body = {"type": "about:blank", "title": "Ошибка", "status": status, "code": code, "detail": detail}
    if errors:
        body["errors"] = errors
    return httpx.Response(status, json=body, headers={"content-type": "application/problem+json"})


def changes(sent: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in sent if r.method != "GET"]


def test_an_unregistered_organisation_gets_the_form_and_the_inn_refusal_next_to_it(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/providers/{ME}":
            return problem(404, "not_found", "Поставщик не найден.")
        if request.url.path == "/api/registry/providers" and request.method == "POST":
            return problem(422, "inn_checksum", "Контрольная цифра ИНН не сходится.")
        return None

    with portal(monkeypatch, sent, answer) as client:
        form = client.get("/provider/profile")
        assert form.status_code == 200 and "Регистрация организации" in form.text
        assert '<option value="01"' in form.text and "Частная организация" in form.text
        refused = client.post("/provider/profile", data={
            "provider_type": "private_org", "name": " ООО «Кванториум» ", "inn": "4826 012 340", "kpp": "",
            "ogrn": "1024840836123", "municipality_code": "01", "bik": "044206604",
            "settlement_account": "40702810235000001234", "correspondent_account": "3010 1810 8000 0000 0604",
            "idempotency_key": "k" * 32})
    assert refused.status_code == 422
    [post] = changes(sent)
    assert post.headers["idempotency-key"] == "k" * 32
    body = json.loads(post.content)
    assert body["inn"] == "4826012340" and body["kpp"] is None and body["name"] == "ООО «Кванториум»"
    assert body["correspondent_account"] == "30101810800000000604"
    assert '<p id="inn-error" class="field__error">Контрольная цифра ИНН не сходится.</p>' in refused.text
    inn = refused.text.split('id="inn"')[1].split(">")[0]
    assert 'aria-invalid="true"' in inn and "inn-error" in inn
    assert 'value="4826 012 340"' in refused.text  # what was typed stays in the form


def test_a_registered_organisation_shows_its_moderation_state_and_reason(monkeypatch) -> None:  # noqa: ANN001
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/providers/{ME}":
            return httpx.Response(200, json=ORGANISATION)
        return None

    with portal(monkeypatch, [], answer) as client:
        shown = client.get("/provider/profile")
    assert shown.status_code == 200
    assert "Модерация: Отказано" in shown.text and "Не хватает документов." in shown.text
    assert "4826012345" in shown.text and "40702810435000001234" in shown.text


def test_a_module_is_added_with_its_price_in_kopecks_and_its_timetable(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == f"/api/registry/programs/{PROGRAM}" and request.method == "GET":
            return httpx.Response(200, json=program_out())
        if path == f"/api/registry/providers/{ME}":
            return httpx.Response(200, json=ORGANISATION)
        if path == f"/api/registry/programs/{PROGRAM}/modules" and request.method == "POST":
            return httpx.Response(201, json=program_out())
        return None

    form = {"name": "Группа 2", "funding_kind": "certificate", "min_age": "7", "max_age": "12", "capacity": "10",
            "hours": "72", "start_date": "2026-09-01", "end_date": "2027-05-31", "municipality_code": "01",
            "address": "ул. Гагарина, 10", "price": "1 800,00", "slot-0-weekday": "2", "slot-0-starts": "16:00",
            "slot-0-ends": "17:30", "slot-1-weekday": "4", "slot-1-starts": "16:00", "slot-1-ends": "17:30",
            "idempotency_key": "m" * 32}
    with portal(monkeypatch, sent, answer) as client:
        empty = client.get(f"/provider/programs/{PROGRAM}/modules/new")
        assert empty.status_code == 200 and 'id="slot-2-weekday"' in empty.text
        done = client.post(f"/provider/programs/{PROGRAM}/modules/new", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/provider/programs/{PROGRAM}?done=module_added#modules"
    [post] = changes(sent)
    body = json.loads(post.content)
    assert body["price_kopecks"] == 180_000 and body["capacity"] == 10 and body["min_age"] == 7
    assert body["schedule"] == [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"},
                                {"weekday": 4, "starts_at": "16:00:00", "ends_at": "17:30:00"}]
    assert post.headers["idempotency-key"] == "m" * 32


def test_a_price_that_is_not_an_amount_is_refused_before_the_api_is_asked(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/programs/{PROGRAM}":
            return httpx.Response(200, json=program_out())
        if request.url.path == f"/api/registry/providers/{ME}":
            return httpx.Response(200, json=ORGANISATION)
        return None

    with portal(monkeypatch, sent, answer) as client:
        refused = client.post(f"/provider/programs/{PROGRAM}/modules/{MODULE}", data={
            "name": "Группа 1", "min_age": "7", "max_age": "12", "capacity": "12", "hours": "72",
            "price": "1 800,005", "slot-0-weekday": "2", "slot-0-starts": "16:00"})
    assert refused.status_code == 422 and changes(sent) == []
    assert "не больше двух цифр копеек" in refused.text.split('id="price-error"')[1].split("</p>")[0]
    assert "укажите день недели, начало и конец" in refused.text.split('id="schedule-error"')[1].split("</p>")[0]
    assert 'value="1 800,005"' in refused.text


def test_the_apis_refusal_of_a_module_lands_on_its_fields(monkeypatch) -> None:  # noqa: ANN001
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/programs/{PROGRAM}" and request.method == "GET":
            return httpx.Response(200, json=program_out())
        if request.url.path == f"/api/registry/providers/{ME}":
            return httpx.Response(200, json=ORGANISATION)
        if request.method == "PUT":
            return problem(422, "module_dates_invalid", "Дата окончания модуля должна быть позже даты начала.")
        return None

    with portal(monkeypatch, [], answer) as client:
        refused = client.post(f"/provider/programs/{PROGRAM}/modules/{MODULE}", data={
            "name": "Группа 1", "min_age": "7", "max_age": "12", "capacity": "12", "hours": "72", "price": "18000",
            "start_date": "2027-05-31", "end_date": "2026-09-01", "slot-0-weekday": "2", "slot-0-starts": "16:00",
            "slot-0-ends": "17:30"})
    assert refused.status_code == 422
    assert "позже даты начала" in refused.text.split('id="end_date-error"')[1].split("</p>")[0]


def test_a_certified_program_shows_its_normative_costs_a_rejected_one_its_reason(monkeypatch) -> None:  # noqa: ANN001
    state = {"program": program_out("certified", modules=[{**MODULE_OUT, "normative_cost_kopecks": 1_500_000}])}
    history = page([
        {"id": 1, "action": "submit", "from_status": "draft", "to_status": "submitted", "revision": 1,
         "actor_sub": "provider-1", "actor_role": "provider", "reason": None, "at": "2026-08-21T10:00:00Z"},
        {"id": 2, "action": "reject", "from_status": "submitted", "to_status": "rejected", "revision": 1,
         "actor_sub": "op", "actor_role": "municipal_operator", "reason": "Нет учебного плана.",
         "at": "2026-08-22T10:00:00Z"}])

    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/programs/{PROGRAM}":
            return httpx.Response(200, json=state["program"])
        if request.url.path == f"/api/registry/programs/{PROGRAM}/history":
            return httpx.Response(200, json=history)
        return None

    with portal(monkeypatch, [], answer) as client:
        certified = client.get(f"/provider/programs/{PROGRAM}")
        state["program"] = program_out("rejected", status_reason="Нет учебного плана.")
        rejected = client.get(f"/provider/programs/{PROGRAM}")
    assert "Программа сертифицирована" in certified.text
    costs = certified.text.split('id="costs-caption"')[1].split("</table>")[0]
    assert "18\u202f000,00\u00a0₽" in costs and "15\u202f000,00\u00a0₽" in costs
    assert "Отправить на сертификацию" not in certified.text
    assert "В сертификации отказано" in rejected.text and "Причина:</strong> Нет учебного плана." in rejected.text
    assert "Отправить на сертификацию" in rejected.text
    assert "Уполномоченный орган муниципалитета" in rejected.text  # who rejected, in the history


def test_a_submission_refused_by_the_registry_is_said_on_the_programs_page(monkeypatch) -> None:  # noqa: ANN001
    def answer(request: httpx.Request) -> httpx.Response | None:
        if request.url.path == f"/api/registry/programs/{PROGRAM}":
            return httpx.Response(200, json=program_out())
        if request.url.path == f"/api/registry/programs/{PROGRAM}/history":
            return httpx.Response(200, json=page([]))
        if request.url.path.endswith("/submit"):
            return problem(422, "provider_not_active", "Подавать программы может только действующий поставщик.")
        return None

    with portal(monkeypatch, [], answer) as client:
        refused = client.post(f"/provider/programs/{PROGRAM}/submit", data={})
    assert refused.status_code == 422
    assert 'role="alert"><p>Подавать программы может только действующий поставщик.</p>' in refused.text


def test_payment_orders_are_own_only_by_month_with_their_lines(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    order = {"order_id": ORDER, "provider_id": ME, "period_id": PROGRAM, "month": "2026-09", "kind": "advance",
             "base_kopecks": 200_000, "advance_paid_kopecks": 0, "offset_applied_kopecks": 0,
             "amount_kopecks": 200_000, "offset_carried_kopecks": 0, "contract_count": 1, "issued_on": "2026-09-01"}

    def answer(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == "/api/billing/payment-orders":
            return httpx.Response(200, json=page([order]))
        if path == f"/api/billing/payment-orders/{ORDER}":
            return httpx.Response(200, json={**order, "lines": [
                {"enrolment_id": ENROLMENT, "certificate_id": PROGRAM, "amount_kopecks": 200_000}], "adjustments": []})
        if path == "/api/navigator/enrolments":
            return httpx.Response(200, json=page([{"enrolment_id": ENROLMENT, "module_id": MODULE,
                                                   "starts_on": "2026-09-01"}]))
        if path == "/api/registry/programs":
            return httpx.Response(200, json=page([program_out("certified")]))
        return None

    with portal(monkeypatch, sent, answer) as client:
        listed = client.get("/provider/orders")
        shown = client.get(f"/provider/orders/{ORDER}")
    [listing] = [r for r in sent if r.url.path == "/api/billing/payment-orders"]
    assert listing.url.params["provider_id"] == ME
    assert "Сентябрь 2026" in listed.text and "Аванс" in listed.text and "2\u202f000,00\u00a0₽" in listed.text
    assert shown.status_code == 200 and "Робототехника: Группа 1" in shown.text and "01.09.2026" in shown.text
    [programs] = {r.url.params["provider_id"] for r in sent if r.url.path == "/api/registry/programs"}
    assert programs == ME  # a provider is shown every certified program unless it asks for its own


def test_disputes_show_the_group_and_the_outcome(monkeypatch) -> None:  # noqa: ANN001
    def answer(request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == "/api/navigator/disputes":
            return httpx.Response(200, json=page([{
                "dispute_id": ORDER, "mark_id": ORDER, "enrolment_id": ENROLMENT, "lesson_date": "2026-09-08",
                "mark_version": 1, "state": "upheld", "claimed_status": "absent", "opened_at": "2026-09-09T08:00:00Z",
                "resolved_at": "2026-09-10T08:00:00Z"}]))
        if path == "/api/navigator/enrolments":
            return httpx.Response(200, json=page([{"enrolment_id": ENROLMENT, "module_id": MODULE}]))
        if path == "/api/registry/programs":
            return httpx.Response(200, json=page([program_out("certified")]))
        return None

    with portal(monkeypatch, [], answer) as client:
        shown = client.get("/provider/disputes")
    assert shown.status_code == 200
    assert "08.09.2026" in shown.text and "Робототехника: Группа 1" in shown.text
    assert "Удовлетворено: отметка исправлена на «Отсутствовал»." in shown.text
