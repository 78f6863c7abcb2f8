"""The pure parts of billing's stored documents: a contract's share of the month delivered, as the
invoice and the act print it, and the final order's number on both."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing.documents import issue, next_stamp, render_pdf, to_json
from pfdo_testkit.documents import pdf_text, squash

from pfdo_billing.domain.documents import act_document, invoice_document
from pfdo_billing.domain.documents.facts import ContractLine

from .document_facts import ACT, INVOICE, PROVIDER


def test_a_monthly_contract_delivers_the_whole_month() -> None:
    line = ContractLine.of_month("ДО-1", "4801000001", 1_000_00, "monthly", 9, None)
    assert line.delivered == 1 and line.lessons is None and line.share().detail == ""


def test_an_attendance_contract_delivers_the_lessons_attended() -> None:
    line = ContractLine.of_month("ДО-1", "4801000001", 777_77, "attendance", 9, 7)
    assert line.delivered == Fraction(7, 9) and line.share().detail == "7 из 9 занятий"
    assert ContractLine.of_month("ДО-1", "4801000001", 0, "attendance", 0, None).delivered == 0


@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=40))
def test_the_share_delivered_is_never_above_the_whole(planned: int, attended: int) -> None:
    attended = min(attended, planned)
    line = ContractLine.of_month("ДО-1", "4801000001", 1, "attendance", planned, attended)
    assert 0 <= line.delivered <= 1


def test_the_invoice_and_the_act_name_the_final_order() -> None:
    for document in (invoice_document(dataclasses.replace(INVOICE, order_number="2027-000042")),
                     act_document(dataclasses.replace(ACT, order_number="2027-000042"))):
        text = squash(pdf_text(render_pdf(issue(document))))
        assert "№2027-000042" in text  # squashed: no spaces
        assert b"2027-000042" in to_json(issue(document))


def test_changed_payee_details_make_the_next_version_of_the_same_number() -> None:
    first = issue(invoice_document(INVOICE)).stamp
    moved = dataclasses.replace(INVOICE, parties=dataclasses.replace(
        INVOICE.parties, provider=dataclasses.replace(PROVIDER, account="40703810938000099999")))
    second = next_stamp(invoice_document(moved), first)
    assert (second.number, second.version) == (first.number, 2) and second.content_hash != first.content_hash
    assert next_stamp(invoice_document(INVOICE), first) == first
