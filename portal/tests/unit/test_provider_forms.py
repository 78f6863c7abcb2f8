"""The provider's forms as pure functions: the API's refusals placed on the fields, a module's form
to the API's body and back, what a program's status allows, the certifier's decision, payment
orders by month, disputes in order."""

from __future__ import annotations

import datetime as dt

from pfdo_portal.gateway import ApiError
from pfdo_portal.labels import LabelBook
from pfdo_portal.pages import provider_forms as forms


def test_validation_items_land_on_the_field_their_pointer_names() -> None:
    refused = ApiError(422, "validation_error", "Проверьте данные.", field_pointers=(
        ("/body/price_kopecks", "Цена — не меньше 0."), ("/body/schedule/0/starts_at", "Неверное время."),
        ("/body/modules/0/capacity", "Мест — не меньше 1."), ("/query/limit", "Слишком много.")))
    placed = forms.refusal_of(refused, forms.MODULE_FIELDS)
    assert placed.fields == {"price": ["Цена — не меньше 0."], "schedule": ["Неверное время."],
                             "capacity": ["Мест — не меньше 1."]}
    assert placed.general == ["Проверьте данные.", "Слишком много."]


def test_a_domain_error_lands_on_the_field_its_code_names() -> None:
    for code, field in (("inn_checksum", "inn"), ("ogrnip_sign", "ogrn"), ("kpp_required", "kpp"),
                        ("account_format", "settlement_account"), ("municipality_unknown", "municipality_code")):
        placed = forms.refusal_of(ApiError(422, code, "Сообщение."), forms.PROVIDER_FIELDS)
        assert placed.fields == {field: ["Сообщение."]} and placed.general == [], code
    duplicate = forms.refusal_of(ApiError(409, "provider_duplicate", "Уже есть."), forms.PROVIDER_FIELDS)
    assert duplicate.fields == {} and duplicate.general == ["Уже есть."]


def test_the_registration_form_trims_and_drops_an_empty_kpp() -> None:
    body = forms.provider_body({"name": "  ИП Иванов ", "inn": "482 601 234 567", "kpp": " ", "bik": "044 206 604"})
    assert body["name"] == "ИП Иванов" and body["inn"] == "482601234567" and body["kpp"] is None
    assert body["bik"] == "044206604" and body["address"] == ""


def test_a_module_form_reads_back_what_it_showed() -> None:
    module = {"name": "Группа 1", "funding_kind": "certificate", "min_age": 0, "max_age": 12, "capacity": 10,
              "hours": 72, "start_date": "2026-09-01", "end_date": "2027-05-31", "municipality_code": "01",
              "address": "ул. Мира, 1", "price_kopecks": 1_234_550,
              "schedule": [{"weekday": 6, "starts_at": "10:00:00", "ends_at": "11:30:00"}]}
    values = forms.module_values(module)
    assert values["price"] == "12 345,50" and values["min_age"] == "0"
    slots = forms.module_slots(module)
    form = {**values, **{f"slot-{n}-{k}": getattr(s, a) for n, s in enumerate(slots)
                         for k, a in (("weekday", "weekday"), ("starts", "starts_at"), ("ends", "ends_at"))}}
    body, refusal = forms.module_body(form)
    assert not refusal
    assert body == {k: v for k, v in module.items() if k in body}
    assert len(forms.slot_rows(slots)) == 3 and forms.slot_rows([forms.Slot("1")] * 3)[-1] == forms.Slot()


def test_a_module_form_without_a_timetable_or_numbers_is_refused_field_by_field() -> None:
    body, refusal = forms.module_body({"min_age": "семь", "price": "", "capacity": "10", "hours": "1"})
    assert set(refusal.fields) == {"min_age", "max_age", "price", "schedule"}
    assert refusal.fields["schedule"] == ["Добавьте в расписание хотя бы одно занятие."]
    assert body["capacity"] == 10


def test_what_a_program_status_allows() -> None:
    assert forms.allowed("draft") == forms.Allowed(True, True, True, True, False)
    assert forms.allowed("certified") == forms.Allowed(True, True, False, False, True)
    assert forms.allowed("submitted").submit is False and forms.allowed("rejected").submit is True
    assert forms.allowed("archived") == forms.Allowed(False, False, False, False, False)


def test_the_decision_takes_the_latest_rejection_reason() -> None:
    program = {"status": "rejected", "status_reason": None, "modules": []}
    def reject(reason: str, at: str) -> dict:
        return {"action": "reject", "to_status": "rejected", "actor_role": "municipal_operator", "reason": reason,
                "at": at}

    history = [reject("Старая причина.", "2026-08-01T10:00:00Z"), reject("Новая причина.", "2026-08-05T10:00:00Z")]
    assert forms.decision(program, history) == forms.Decision("rejected", "Новая причина.", [])
    assert forms.decision({"status": "submitted"}, history) is None
    certified = {"status": "certified", "modules": [{"name": "Г1", "normative_cost_kopecks": 5, "price_kopecks": 7}]}
    assert forms.decision(certified, []) == forms.Decision("certified", None, [("Г1", 5, 7)])
    steps = forms.history_steps(history)
    assert [s.reason for s in steps] == ["Новая причина.", "Старая причина."] and steps[0].action == "Отклонена"


def test_orders_by_month_newest_first_advance_before_final() -> None:
    orders = [{"month": "2026-09", "kind": "final", "issued_on": "2026-10-02", "amount_kopecks": 50},
              {"month": "2026-10", "kind": "advance", "issued_on": "2026-10-01", "amount_kopecks": 100},
              {"month": "2026-09", "kind": "advance", "issued_on": "2026-09-01", "amount_kopecks": 100}]
    months = forms.orders_by_month(orders)
    assert [m.month for m in months] == ["2026-10", "2026-09"]
    assert [o["kind"] for o in months[1].orders] == ["advance", "final"] and months[1].total_kopecks == 150


def test_disputes_open_first_then_newest_with_their_group() -> None:
    def dispute(n: int, state: str, opened: str) -> dict:
        return {"dispute_id": str(n), "enrolment_id": "e1", "lesson_date": "2026-09-08", "claimed_status": "present",
                "state": state, "opened_at": opened, "resolved_at": None}

    rows = forms.dispute_rows(
        [dispute(1, "rejected", "2026-09-10T00:00:00Z"), dispute(2, "open", "2026-09-09T00:00:00Z"),
         dispute(3, "upheld", "2026-09-12T00:00:00Z")],
        [{"enrolment_id": "e1", "module_id": "m1"}], {"m1": "Робототехника: Группа 1"}, {"present": "Присутствовал"})
    assert [r.dispute_id for r in rows] == ["2", "3", "1"]
    assert rows[0].group == "Робототехника: Группа 1" and rows[0].opened_at == dt.datetime(2026, 9, 9, tzinfo=dt.UTC)
    assert rows[1].outcome == "Удовлетворено: отметка исправлена на «Присутствовал»."
    assert rows[2].outcome == "Отклонено: отметка осталась прежней."


def test_the_choices_keep_the_apis_order_and_show_an_unnamed_code_as_it_is() -> None:
    book = LabelBook({"directions": {"artistic": "Художественная", "technical": "Техническая"}})
    assert forms.options(book, "directions", ("technical", "artistic", "natural_science")) == [
        ("technical", "Техническая"), ("artistic", "Художественная"), ("natural_science", "natural_science")]
    assert len(forms.DIRECTIONS) == 6
