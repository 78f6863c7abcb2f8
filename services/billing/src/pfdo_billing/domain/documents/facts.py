"""The facts billing's documents and exports are built from: plain values, no database rows.

Money is in integer kopecks; months are given by their first day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Line, Party, Share


@dataclass(frozen=True)
class Organisation:
    """A payer (the municipality's authorised body) or a payee (the provider) with bank details."""

    name: str
    inn: str
    kpp: str | None
    account: str
    """Расчётный счёт, 20 digits."""
    bik: str
    corr_account: str
    """Корреспондентский счёт, 20 digits."""
    bank: str
    address: str = ""
    head: str = ""
    """Who signs for it (``Директор Петрова А. В.``)."""

    def party(self, role: str) -> Party:
        details = [Line("ИНН", self.inn)]
        if self.kpp:
            details.append(Line("КПП", self.kpp))
        details += [Line("Р/с", self.account), Line("Банк", self.bank), Line("БИК", self.bik),
                    Line("К/с", self.corr_account)]
        if self.address:
            details.append(Line("Адрес", self.address))
        return Party(role, self.name, tuple(details))


@dataclass(frozen=True)
class AgreementRef:
    """The agreement (соглашение) under which the provider works with the payer."""

    number: str
    signed_on: dt.date

    def text(self) -> str:
        return f"№ {self.number} от {ru.date(self.signed_on)}"


@dataclass(frozen=True)
class ContractLine:
    """One contract in an invoice's appendix or an act: the share of the month's service delivered
    and the sum the certificate pays for it."""

    contract_number: str
    """The contract's number: its offer's (``pfdo_plumbing.documents.contract_number(enrolment_id)``)."""
    certificate_number: str
    delivered: Fraction
    """1 for a monthly contract; attended ÷ planned lessons for an attendance contract."""
    amount_kopecks: int
    lessons: tuple[int, int] | None = None
    """(attended, planned) lessons of the month, for an attendance contract."""

    @classmethod
    def of_month(cls, contract_number: str, certificate_number: str, amount_kopecks: int, payment_mode: str,
                 planned: int, attended: int | None) -> ContractLine:
        """A contract's line from its month: the whole month for a monthly contract; attended ÷
        planned lessons for an attendance contract (none planned: nothing delivered)."""
        if payment_mode != "attendance":
            return cls(contract_number, certificate_number, Fraction(1), amount_kopecks)
        came = attended or 0
        return cls(contract_number, certificate_number, Fraction(came, planned) if planned else Fraction(0),
                   amount_kopecks, (came, planned))

    def share(self) -> Share:
        if self.lessons is None:
            return Share(self.delivered)
        attended, planned = self.lessons
        word = "занятия" if planned % 10 == 1 and planned % 100 != 11 else "занятий"
        return Share(self.delivered, f"{attended} из {planned} {word}")


@dataclass(frozen=True)
class ContractInstalment:
    """One contract's certificate instalment of a month (the base of the advance)."""

    contract_number: str
    instalment_kopecks: int


@dataclass(frozen=True)
class MonthlyParties:
    """Who, under what agreement, for which month: common to the invoice, the act, the advance request."""

    provider_id: str
    payer_code: str
    provider: Organisation
    payer: Organisation
    agreement: AgreementRef
    month: dt.date

    def identity(self) -> tuple[str, ...]:
        return (self.provider_id, self.payer_code, self.month.strftime("%Y-%m"))


@dataclass(frozen=True)
class InvoiceFacts:
    """The provider's monthly invoice to one payer, with its appendix (реестр договоров)."""

    parties: MonthlyParties
    issued_on: dt.date
    lines: tuple[ContractLine, ...]
    advance_paid_kopecks: int = 0
    carried_offset_kopecks: int = 0
    order_number: str = ""
    """The final payment order that pays it (``2026-000123``), once issued."""


@dataclass(frozen=True)
class AdvanceRequestFacts:
    """The advance request for a month: the month's certificate instalments of the provider's
    contracts paid by this payer."""

    parties: MonthlyParties
    issued_on: dt.date
    instalments: tuple[ContractInstalment, ...]
    percent: int | Fraction = 80


@dataclass(frozen=True)
class ActFacts:
    """The act (акт об оказании услуг) for a month and a payer."""

    parties: MonthlyParties
    issued_on: dt.date
    lines: tuple[ContractLine, ...]
    order_number: str = ""
    """The final payment order of the month, once issued."""
