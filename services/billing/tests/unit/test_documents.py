"""Billing's documents: the monthly invoice per payer with its appendix, the advance request, the
act. Each is rendered to PDF, its text read back (pdftotext) and checked against its JSON; its
first page saved as a PNG in .work/test-artefacts/documents/."""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing.documents import issue, render_pdf, to_json, verify
from pfdo_testkit.documents import assert_pdf_matches_json, pdf_page_count, pdf_text, save_pages_png, squash

from pfdo_billing.domain.documents import act_document, advance_request_document, invoice_document
from pfdo_billing.domain.documents.appendix import appendix_total, contracts_register
from pfdo_billing.domain.documents.facts import ContractLine

from .document_facts import ACT, ADVANCE_REQUEST, INVOICE, contract_lines


@pytest.mark.parametrize(("name", "document"), [
    ("invoice", invoice_document(INVOICE)),
    ("advance-request", advance_request_document(ADVANCE_REQUEST)),
    ("act", act_document(ACT)),
])
def test_each_document_prints_its_facts(name: str, document) -> None:
    issued = issue(document)
    pdf, data = render_pdf(issued), to_json(issued)
    assert verify(data)
    assert_pdf_matches_json(pdf, data)
    assert save_pages_png(pdf, f"billing-{name}", last=pdf_page_count(pdf))


def _lines_of(data: dict, label: str) -> dict:
    section = next(s for s in data["sections"] if s.get("heading") == label)
    return {line["label"]: line["value"] for line in section["lines"]}


def test_the_invoice_deducts_the_advance_and_its_appendix_adds_up() -> None:
    data = json.loads(to_json(issue(invoice_document(INVOICE))))
    register = next(s for s in data["appendix"] if s["heading"] == "Реестр договоров")
    total = sum(row[4]["kopecks"] for row in register["rows"])
    assert register["totals"][4] == {"kopecks": total} == {"kopecks": appendix_total(INVOICE.lines)}
    assert len(register["rows"]) == 14
    money = _lines_of(data, "Расчёт суммы к оплате")
    assert money["Перечислен аванс"] == {"kopecks": 10_500_00}
    assert money["К оплате"] == {"kopecks": total - 10_500_00}
    assert register["rows"][2][3] == {"share": "2/3", "detail": "6 из 9 занятий"}
    text = squash(pdf_text(render_pdf(issue(invoice_document(INVOICE)))))
    assert squash("66,67 % (6 из 9 занятий)") in text and squash("ноябрь 2027") in text


def test_the_advance_request_is_80_percent_rounded_down() -> None:
    data = json.loads(to_json(issue(advance_request_document(ADVANCE_REQUEST))))
    lines = _lines_of(data, "Расчёт аванса")
    assert lines["Ежемесячные платежи по сертификатам"] == {"kopecks": 14 * 1_111_12}
    assert lines["Сумма аванса"] == {"kopecks": 14 * 1_111_12 * 80 // 100}
    assert lines["Доля аванса"] == "80\u00a0%"


def test_the_same_month_is_the_same_number_and_a_changed_fact_the_next_version() -> None:
    first = issue(invoice_document(INVOICE))
    assert issue(invoice_document(INVOICE), first.stamp).stamp == first.stamp
    corrected = dataclasses.replace(INVOICE, lines=INVOICE.lines[:-1])
    second = issue(invoice_document(corrected), first.stamp)
    assert (second.stamp.number, second.stamp.version) == (first.stamp.number, 2)
    assert second.stamp.content_hash != first.stamp.content_hash
    other_payer = issue(invoice_document(dataclasses.replace(
        INVOICE, parties=dataclasses.replace(INVOICE.parties, payer_code="02"))))
    assert other_payer.stamp.number != first.stamp.number


def test_a_long_appendix_runs_over_pages_with_its_total_at_the_end() -> None:
    issued = issue(invoice_document(dataclasses.replace(INVOICE, lines=contract_lines(120))))
    pdf = render_pdf(issued)
    assert pdf_page_count(pdf) >= 3
    assert_pdf_matches_json(pdf, to_json(issued))
    save_pages_png(pdf, "billing-invoice-long", first=2, last=2)


line_st = st.builds(
    lambda n, amount, planned, attended: ContractLine(f"ДО-{n}", f"77{n:08d}", Fraction(min(attended, planned), planned),
                                                      amount, (min(attended, planned), planned)),
    st.integers(0, 10**6), st.integers(0, 10**9), st.integers(1, 31), st.integers(0, 31),
)


@given(st.lists(line_st, max_size=40))
def test_the_appendix_total_is_the_sum_of_its_lines(lines: list[ContractLine]) -> None:
    table = contracts_register(tuple(lines), "Реестр")
    assert table.totals()[4].kopecks == sum(line.amount_kopecks for line in lines) == appendix_total(tuple(lines))
    assert [row[0] for row in table.rows] == list(range(1, len(lines) + 1))


@given(st.lists(line_st, max_size=12), st.integers(0, 10**10), st.integers(0, 10**10))
def test_the_invoice_settles_what_the_appendix_adds_up_to(lines: list[ContractLine], advance: int, offset: int) -> None:
    facts = dataclasses.replace(INVOICE, lines=tuple(lines), advance_paid_kopecks=advance, carried_offset_kopecks=offset)
    data = json.loads(to_json(issue(invoice_document(facts))))
    money = {k: v["kopecks"] for k, v in _lines_of(data, "Расчёт суммы к оплате").items() if isinstance(v, dict)}
    total = data["appendix"][0]["totals"][4]["kopecks"]
    assert money["Оказано услуг за месяц"] == total == sum(line.amount_kopecks for line in lines)
    assert money["К оплате"] - money["Переплата к зачёту в следующем месяце"] == total - advance - offset
    assert min(money["К оплате"], money["Переплата к зачёту в следующем месяце"]) == 0
