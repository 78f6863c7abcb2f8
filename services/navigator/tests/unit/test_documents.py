"""The navigator's documents: the application, the offer (before and after acceptance), the
termination notice. Each is rendered to PDF, its text read back (pdftotext) and checked against
its JSON; its first page saved as a PNG in .work/test-artefacts/documents/."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_plumbing.documents import contract_number, issue, render_pdf, to_json, verify
from pfdo_testkit.documents import assert_pdf_matches_json, pdf_text, save_pages_png, squash

from pfdo_navigator.domain.documents import (
    application_document, offer_document, termination_document, termination_effective_on,
)
from pfdo_navigator.domain.documents.facts import (
    Acceptance, ApplicationFacts, CostSplit, ModuleDetails, MonthInstalment, OfferFacts, Person, ProviderDetails,
    TerminationFacts,
)

MSK = dt.timezone(dt.timedelta(hours=3))
PROVIDER = ProviderDetails(
    name="Автономная некоммерческая организация дополнительного образования «Робототехника и программирование»",
    inn="7707083893", kpp="773601001", ogrn="1027700132195",
    address="г. Энск, ул. Садовая, д. 12, каб. 3", head="Директор Петрова Анна Викторовна",
)
MODULE = ModuleDetails(
    program="Робототехника: от конструктора к инженерному проекту", module="Первый год: основы конструирования",
    direction="техническая", address="г. Энск, ул. Садовая, д. 12, каб. 3",
    schedule=("вторник 16:00–17:30", "четверг 16:00–17:30"), starts_on=dt.date(2027, 9, 1),
    ends_on=dt.date(2028, 5, 31), hours=144,
)
PARENT = Person("Иванова Мария Сергеевна", contact="+7 900 123-45-67")
CHILD = Person("Иванов Пётр Алексеевич", birth_date=dt.date(2016, 3, 14))
MONTHS = tuple(MonthInstalment(dt.date(2027 if m > 8 else 2028, m, 1),
                               1_111_12 if i else 1_111_04, 222_23 if i else 222_16)
               for i, m in enumerate((11, 12, 1, 2, 3, 4, 5)))
COST = CostSplit(total_kopecks=sum(m.certificate_kopecks + m.family_kopecks for m in MONTHS),
                 certificate_kopecks=sum(m.certificate_kopecks for m in MONTHS),
                 family_kopecks=sum(m.family_kopecks for m in MONTHS), months=MONTHS)
SUBMITTED = dt.datetime(2027, 10, 28, 21, 30, tzinfo=dt.UTC)  # 29.10.2027 00:30 in Moscow

APPLICATION = ApplicationFacts(
    application_id="app-7f3c", submitted_at=SUBMITTED, applicant=PARENT, child=CHILD,
    certificate_number="7701000123", provider=PROVIDER, module=MODULE, starts_on=dt.date(2027, 11, 1), cost=COST,
    payment_mode="attendance",
)
OFFER = OfferFacts(
    enrolment_id="enr-7f3c", offered_on=dt.date(2027, 10, 30), accept_by=dt.date(2027, 11, 9),
    payer="Управление образования администрации г. Энска", provider=PROVIDER, parent=PARENT, child=CHILD,
    certificate_number="7701000123", module=MODULE, starts_on=dt.date(2027, 11, 1), ends_on=dt.date(2028, 5, 31),
    cost=COST, payment_mode="attendance",
)
ACCEPTED = dataclasses.replace(OFFER, acceptance=Acceptance(PARENT.full_name,
                                                            dt.datetime(2027, 10, 31, 13, 5, tzinfo=dt.UTC)))
TERMINATION = TerminationFacts(
    enrolment_id="enr-7f3c", initiated_by="parent",
    requested_at=dt.datetime(2028, 2, 10, 9, 0, tzinfo=dt.UTC), requested_on=dt.date(2028, 2, 10),
    reason="переезд в другой город", provider=PROVIDER, parent=PARENT, child=CHILD, certificate_number="7701000123",
    module=MODULE,
)


@pytest.mark.parametrize(("name", "document"), [
    ("application", application_document(APPLICATION)),
    ("offer", offer_document(OFFER)),
    ("offer-accepted", offer_document(ACCEPTED)),
    ("termination", termination_document(TERMINATION)),
])
def test_each_document_prints_its_facts(name: str, document) -> None:
    issued = issue(document)
    pdf, data = render_pdf(issued), to_json(issued)
    assert verify(data)
    assert_pdf_matches_json(pdf, data)
    assert save_pages_png(pdf, f"navigator-{name}")


def test_the_application_says_who_applies_for_whom_and_the_money() -> None:
    issued = issue(application_document(APPLICATION))
    data = json.loads(to_json(issued))
    assert data["date"] == "2027-10-29"  # the regional date of a late-evening UTC submission
    text = squash(pdf_text(render_pdf(issued)))
    for fact in ("Иванов Пётр Алексеевич", "14.03.2016", "7701000123", "по факту посещения", "29.10.2027 00:30",
                 "152-ФЗ"):
        assert squash(fact) in text
    assert squash("9 333,30 ₽") in text  # 7 777,76 + 1 555,54 = the cost
    assert COST.total_kopecks == 933_330


def test_the_accepted_offer_is_a_new_version_of_the_same_number() -> None:
    offered = issue(offer_document(OFFER))
    accepted = issue(offer_document(ACCEPTED), offered.stamp)
    assert accepted.stamp.number == offered.stamp.number
    assert accepted.stamp.version == 2
    assert accepted.stamp.number == contract_number(OFFER.enrolment_id)  # the contract's number everywhere
    assert issue(offer_document(ACCEPTED), accepted.stamp).stamp == accepted.stamp
    text = squash(pdf_text(render_pdf(accepted)))
    assert squash("оферта акцептована, договор заключён") in text
    assert squash("31.10.2027 16:05") in text  # the acceptance time, Moscow
    assert squash("ожидает акцепта") in squash(pdf_text(render_pdf(offered)))


def test_termination_takes_effect_at_the_end_of_the_month() -> None:
    data = json.loads(to_json(issue(termination_document(TERMINATION))))
    lines = {line["label"]: line["value"] for line in data["sections"][1]["lines"]}
    assert lines["Договор прекращается"] == {"date": "2028-02-29"}
    assert lines["Договор"] == contract_number("enr-7f3c")  # the accepted offer's number


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_termination_effective_on_is_the_months_last_day(day: dt.date) -> None:
    end = termination_effective_on(day)
    assert (end.year, end.month) == (day.year, day.month)
    assert (end + dt.timedelta(days=1)).day == 1


def test_cost_split_must_add_up() -> None:
    with pytest.raises(ValueError):
        CostSplit(total_kopecks=100, certificate_kopecks=60, family_kopecks=30)
