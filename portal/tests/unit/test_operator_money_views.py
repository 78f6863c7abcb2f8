"""The operator's money pages' view logic: roles, the period forms, the month, the close's progress,
the reconciliation's words."""

from __future__ import annotations

import datetime as dt

import pytest

from pfdo_portal.pages import operator_money_views as v

D = dt.date
MUNICIPALITIES = {"01": "Липецк", "02": "Елец"}


def test_only_the_region_opens_periods_and_runs_months() -> None:
    region, municipal = v.permissions("regional_operator"), v.permissions("municipal_operator")
    assert (region.manage_periods, region.open_close_periods, region.run_months) == (True, True, True)
    assert (municipal.manage_periods, municipal.open_close_periods, municipal.run_months) == (True, False, False)
    assert v.permissions("finance") == v.Permissions(False, False, False)


def test_the_notices_after_a_change() -> None:
    assert v.period_notice({"done": "opened", "credited": "12"}) == (
        "Период открыт. Номинал начислен сертификатам финансирования: 12.")
    assert v.period_notice({"done": "closed", "returned": "123456"}) == (
        "Период закрыт: неиспользованные средства возвращены в бюджет. Возвращено: 1\u202f234,56\u00a0₽.")
    assert v.period_notice({"done": "closed", "returned": "x"}) == v.PERIOD_DONE["closed"]
    assert v.period_notice({"done": "<script>"}) is None and v.period_notice({}) is None
    assert v.month_notice({"done": "advance", "issued": "3"}) == "Авансовые платёжные поручения сформированы: новых 3."
    assert v.month_notice({"done": "frozen"}) == v.MONTH_DONE["frozen"] and v.month_notice({}) is None


def test_a_period_form_reads_dates_of_either_shape() -> None:
    read = v.period_form({"starts_on": "2027-09-01", "ends_on": "31.08.2028"})
    assert read.body == {"starts_on": "2027-09-01", "ends_on": "2028-08-31"} and read.errors == {}


@pytest.mark.parametrize(("form", "errors"), [
    ({"starts_on": "", "ends_on": "2028-08-31"}, {"starts_on": "Укажите дату начала периода."}),
    ({"starts_on": "1 сентября", "ends_on": "2028-08-31"}, {"starts_on": "Дата в виде 01.09.2027."}),
    ({"starts_on": "2028-09-01", "ends_on": "2028-08-31"},
     {"ends_on": "Период не может закончиться раньше, чем начнётся."}),
])
def test_a_period_form_says_what_is_wrong_next_to_the_field(form: dict, errors: dict) -> None:
    read = v.period_form(form)
    assert read.body is None and read.errors == errors and read.values == form


def test_the_default_period_is_the_next_school_year() -> None:
    assert v.default_period(D(2026, 8, 24)) == ("01.09.2026", "31.08.2027")
    assert v.default_period(D(2026, 12, 7)) == ("01.09.2027", "31.08.2028")
    after = [{"ends_on": "2027-08-31"}, {"ends_on": "2026-08-31"}]
    assert v.default_period(D(2026, 8, 24), after) == ("01.09.2027", "31.08.2028")  # after the latest


def test_nominals_are_read_in_roubles_russian_style_and_empty_rows_left_out() -> None:
    read = v.nominals_form({
        "nominal_0_municipality": "01", "nominal_0_age_min": "5", "nominal_0_age_max": "11",
        "nominal_0_amount": "30 000,00",
        "nominal_1_municipality": "01", "nominal_1_age_min": "12", "nominal_1_age_max": "17",
        "nominal_1_amount": "25\u00a0000,5 ₽",
        "nominal_2_municipality": "02", "nominal_2_age_min": "", "nominal_2_age_max": "", "nominal_2_amount": "",
    }, MUNICIPALITIES)
    assert read.errors == {}
    assert read.body == {"nominals": [
        {"municipality_code": "01", "age_min": 5, "age_max": 11, "amount_kopecks": 3_000_000},
        {"municipality_code": "01", "age_min": 12, "age_max": 17, "amount_kopecks": 2_500_050},
    ]}


def test_each_wrong_nominal_field_gets_its_own_message() -> None:
    read = v.nominals_form({
        "nominal_0_municipality": "99", "nominal_0_age_min": "12", "nominal_0_age_max": "7",
        "nominal_0_amount": "30 000,555",
        "nominal_1_municipality": "01", "nominal_1_age_min": "пять", "nominal_1_age_max": "19",
        "nominal_1_amount": "",
    }, MUNICIPALITIES)
    assert read.body is None
    assert read.errors == {
        "nominal_0_municipality": "Выберите муниципалитет.",
        "nominal_0_age_max": "Возраст «до» не может быть меньше возраста «от».",
        "nominal_0_amount": "После запятой — не больше двух цифр копеек: например 1 800,50.",
        "nominal_1_age_min": "Возраст «от»: целое число цифрами.",
        "nominal_1_age_max": "Возраст «до»: от 0 до 18.",
        "nominal_1_amount": "Укажите сумму в рублях, например 1 800,00.",
    }
    assert read.values["nominal_0_amount"] == "30 000,555"  # drawn back as typed


def test_an_empty_nominals_form_asks_for_one_row() -> None:
    read = v.nominals_form({}, MUNICIPALITIES)
    assert read.body is None and list(read.errors) == ["nominal_0_amount"]


def test_a_municipal_operator_sets_nominals_of_its_own_municipality_only() -> None:
    read = v.nominals_form({"nominal_0_municipality": "02", "nominal_0_age_min": "5", "nominal_0_age_max": "17",
                            "nominal_0_amount": "1000"}, {"01": "Липецк"})
    assert read.errors == {"nominal_0_municipality": "Выберите муниципалитет."}


def test_caps_empty_means_no_cap() -> None:
    read = v.caps_form({"cap_municipality": "01", "cap_funding_cap": "1 200", "cap_free_places": "",
                        "cap_direction_cap": "2"}, MUNICIPALITIES)
    assert read.body == {"caps": [{"municipality_code": "01", "funding_cap": 1200, "free_places": None,
                                   "direction_cap": 2}]}


def test_the_caps_form_is_filled_with_the_caps_set() -> None:
    caps = [{"municipality_code": "02", "funding_cap": 5, "free_places": None, "direction_cap": 1},
            {"municipality_code": "01", "funding_cap": None, "free_places": 3, "direction_cap": None}]
    assert v.caps_values(caps, {"01": "Липецк"}) == {"cap_municipality": "01", "cap_funding_cap": "",
                                                     "cap_free_places": "3", "cap_direction_cap": ""}
    assert v.caps_values([], MUNICIPALITIES) == {}


def test_caps_out_of_range() -> None:
    read = v.caps_form({"cap_municipality": "01", "cap_funding_cap": "-1", "cap_free_places": "10",
                        "cap_direction_cap": "0"}, MUNICIPALITIES)
    assert read.body is None
    assert read.errors == {"cap_funding_cap": "Сертификатов финансирования: целое число цифрами.",
                           "cap_direction_cap": "Записей на одну направленность: от 1 до 1000."}


def test_the_api_refused_fields_land_next_to_the_form_fields() -> None:
    assert v.api_field_errors((("/body/nominals/1/amount_kopecks", "слишком много"),
                               ("/body/caps/0/direction_cap", "не меньше 1"), ("/body/ends_on", "не дата"),
                               ("/query/limit", "не то"))) == {
        "nominal_1_amount": "слишком много", "cap_direction_cap": "не меньше 1", "ends_on": "не дата"}


def test_the_chosen_period() -> None:
    periods = [{"period_id": "a", "status": "closed"}, {"period_id": "b", "status": "open"},
               {"period_id": "c", "status": "closed"}]
    assert v.chosen_period(periods, "c")["period_id"] == "c"
    assert v.chosen_period(periods, "zz")["period_id"] == "b"
    assert v.chosen_period(periods[:1], None)["period_id"] == "a"
    assert v.chosen_period([], None) is None


def test_months() -> None:
    assert v.default_month(D(2026, 11, 2)) == "2026-10"
    assert v.default_month(D(2027, 1, 15)) == "2026-12"
    assert v.shift_month("2026-12", 1) == "2027-01" and v.shift_month("2027-01", -1) == "2026-12"
    assert v.parse_month("2026-10") == "2026-10"
    assert v.month_choices(D(2026, 10, 2), "2026-09")[:3] == ["2026-10", "2026-09", "2026-08"]
    assert len(v.month_choices(D(2026, 10, 2), "2026-09")) == 24
    assert v.month_choices(D(2026, 10, 2), "2030-01")[0] == "2030-01"  # a month asked for is offered too
    assert v.parse_month("2026-13") is None and v.parse_month(None) is None and v.parse_month("x") is None


def _answer(status: str, closed: int, total: int, **more: int) -> dict:
    return {"month": "2026-10", "status": status, "contracts_closed": closed, "contracts_total": total,
            "chunks_done": more.get("chunks_done", 0), "chunks_total": more.get("chunks_total", 0),
            "posted_kopecks": 0, "released_kopecks": 0, "family_invoiced_kopecks": 0}


def test_the_close_progress() -> None:
    running = v.progress(_answer("running", 2, 3, chunks_done=1, chunks_total=2))
    assert (running.running, running.done, running.percent, running.state) == (True, False, 66, "идёт")
    assert running.summary == "Закрыто договоров: 2 из 3 (частей: 1 из 2)."
    assert v.progress(_answer("done", 0, 0)).percent == 100  # a month without contracts
    assert v.progress(_answer("not_started", 0, 0)).percent == 0
    assert v.progress(_answer("not_started", 0, 5)).state == "не начато"


def test_the_polls_of_a_close_just_started_count_down() -> None:
    assert [v.polls_left(x) for x in ("10", "99", "0", "", None, "-1", "x")] == [10, 10, 0, 0, 0, 0, 0]


def test_the_month_state() -> None:
    state = v.month_state({"state": "frozen", "frozen_on": "2026-11-05"},
                          {"frozen": True, "published_events": 4, "applied_events": 3, "closable": False})
    assert (state.frozen, state.closable, state.applied_text) == (True, False, "3 из 4")
    open_month = v.month_state({"state": "open"}, {"frozen": False, "published_events": None, "applied_events": 2,
                                                    "closable": False})
    assert (open_month.frozen, open_month.applied_text) == (False, "2 (сколько всего — станет известно, когда журнал закроют)")


def test_reconciliation_checks_in_russian_with_their_figures() -> None:
    rows = v.check_rows({"checks": [
        {"name": "accounts_sum_to_zero", "ok": True, "value": 0},
        {"name": "nominal_equals_available_reserved_spent", "ok": False, "value": 2},
        {"name": "spent_equals_provider_payable", "ok": True,
         "value": {"spent": 8_344_700, "provider_payable": 8_344_700, "budget_outlay": 8_344_700}},
        {"name": "payment_orders_equal_postings", "ok": True,
         "value": {"paid_kopecks": 100, "offset_carried_kopecks": 0, "posted_kopecks": 100,
                   "late_adjusted_kopecks": 0, "providers_off": 0}},
        {"name": "a_new_check", "ok": True, "value": None},
    ]})
    assert [(r.name, r.verdict) for r in rows] == [
        ("Сумма всех счетов равна нулю", "сходится"),
        ("Номинал = доступно + зарезервировано + списано", "нарушено"),
        ("Списано = к оплате поставщикам = расход бюджета", "сходится"),
        ("Платёжные поручения = списания", "сходится"),
        ("a_new_check", "сходится"),
    ]
    assert rows[0].figures == ("сумма: 0,00\u00a0₽",)
    assert rows[1].figures == ("2 сертификата с расхождением",)
    assert rows[2].figures[0] == "списано с сертификатов: 83\u202f447,00\u00a0₽"
    assert rows[3].figures[-1] == "0 поставщиков с расхождением"
    assert rows[4].figures == ()
