"""The operator's agreement form read into billing's body, a Russian message next to each wrong field."""

from __future__ import annotations

from pfdo_portal.pages.operator_agreements import agreement_form

PROVIDERS, PAYERS, PERIODS = {"p1": "ООО «Кванториум»"}, {"01": "Липецк"}, {"y1": "01.09.2026 – 31.08.2027"}


def read(**typed: str):  # noqa: ANN201
    form = {"number": "С-17", "provider_id": "p1", "payer_code": "01", "period_id": "y1", "limit": "1 500 000,00",
            "concluded_on": "", **typed}
    return agreement_form(form, providers=PROVIDERS, payers=PAYERS, periods=PERIODS)


def test_a_filled_form_is_the_api_body_in_kopecks() -> None:
    assert read().body == {"number": "С-17", "provider_id": "p1", "payer_code": "01", "period_id": "y1",
                           "limit_kopecks": 150_000_000, "concluded_on": None}
    assert read(concluded_on="25.08.2026").body["concluded_on"] == "2026-08-25"


def test_each_wrong_field_is_told_in_russian_and_kept() -> None:
    wrong = read(number=" ", provider_id="p2", payer_code="02", period_id="", limit="сто", concluded_on="2026-08-25")
    assert wrong.body is None
    assert set(wrong.errors) == {"number", "provider_id", "payer_code", "period_id", "limit", "concluded_on"}
    assert wrong.errors["payer_code"] == "Выберите муниципалитет из списка."
    assert wrong.values["limit"] == "сто"
    assert read(number="С" * 41).errors == {"number": "Номер — не длиннее 40 знаков."}
