"""The facts the navigator's documents are built from: plain values, no database rows.

Money is in kopecks, dates are regional calendar dates, timestamps are aware (UTC).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from pfdo_plumbing.documents import Line, Party

PaymentMode = Literal["monthly", "attendance"]
PAYMENT_MODE_TEXT = {"monthly": "помесячно", "attendance": "по факту посещения"}


@dataclass(frozen=True)
class Person:
    """A parent or a child, as the documents name them."""

    full_name: str
    birth_date: dt.date | None = None
    contact: str = ""


@dataclass(frozen=True)
class ProviderDetails:
    """The provider as a party to the contract."""

    name: str
    inn: str
    ogrn: str
    kpp: str | None = None
    address: str = ""
    head: str = ""
    """Who signs for the provider (``Директор Петрова А. В.``)."""

    def party(self, role: str = "Исполнитель") -> Party:
        details = [Line("ИНН", self.inn)]
        if self.kpp:
            details.append(Line("КПП", self.kpp))
        details.append(Line("ОГРНИП" if len(self.ogrn) == 15 else "ОГРН", self.ogrn))
        if self.address:
            details.append(Line("Адрес", self.address))
        return Party(role, self.name, tuple(details))


@dataclass(frozen=True)
class ModuleDetails:
    """What is taught, where and when."""

    program: str
    module: str
    direction: str
    address: str
    schedule: tuple[str, ...]
    """Human lines of the timetable: ``вторник 16:00–17:30``."""
    starts_on: dt.date
    ends_on: dt.date
    hours: int | None = None


@dataclass(frozen=True)
class MonthInstalment:
    month: dt.date
    certificate_kopecks: int
    family_kopecks: int


@dataclass(frozen=True)
class CostSplit:
    """The quote: the cost of the enrolment, the certificate's part and the family's part, per month."""

    total_kopecks: int
    certificate_kopecks: int
    family_kopecks: int
    months: tuple[MonthInstalment, ...] = ()

    def __post_init__(self) -> None:
        if self.certificate_kopecks + self.family_kopecks != self.total_kopecks:
            raise ValueError("the certificate's and the family's parts must add up to the cost")
        if self.months:
            if sum(m.certificate_kopecks for m in self.months) != self.certificate_kopecks:
                raise ValueError("the monthly certificate instalments must add up to the certificate's part")
            if sum(m.family_kopecks for m in self.months) != self.family_kopecks:
                raise ValueError("the monthly family instalments must add up to the family's part")


@dataclass(frozen=True)
class ApplicationFacts:
    """An application for enrolment (заявка на обучение) as the parent submitted it."""

    application_id: str
    submitted_at: dt.datetime
    applicant: Person
    child: Person
    certificate_number: str
    provider: ProviderDetails
    module: ModuleDetails
    starts_on: dt.date
    cost: CostSplit
    payment_mode: PaymentMode
    applicant_is_child: bool = False
    """A child of 14 or more may apply alone."""


@dataclass(frozen=True)
class Acceptance:
    """Who accepted the offer, and when."""

    accepted_by: str
    accepted_at: dt.datetime


@dataclass(frozen=True)
class OfferFacts:
    """The contract as an offer (договор-оферта), and its acceptance once given."""

    enrolment_id: str
    offered_on: dt.date
    accept_by: dt.date
    payer: str
    """The municipality paying the certificate's part (уполномоченный орган)."""
    provider: ProviderDetails
    parent: Person
    child: Person
    certificate_number: str
    module: ModuleDetails
    starts_on: dt.date
    ends_on: dt.date
    cost: CostSplit
    payment_mode: PaymentMode
    acceptance: Acceptance | None = None


@dataclass(frozen=True)
class TerminationFacts:
    """A termination notice: who ends the contract, when asked, and why."""

    enrolment_id: str
    """The contract's number is its offer's (``pfdo_plumbing.documents.contract_number``)."""
    initiated_by: Literal["parent", "provider"]
    requested_at: dt.datetime
    requested_on: dt.date
    """The regional date of the request; the contract ends at the end of that month."""
    reason: str
    provider: ProviderDetails
    parent: Person
    child: Person
    certificate_number: str
    module: ModuleDetails
