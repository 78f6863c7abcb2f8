"""The facts of the documents billing serves, read from its tables (the documents themselves are
built by the pure ``domain.documents``).

- the advance request of an advance order: the order's lines (one per contract: the month's
  certificate instalment), both sides' bank details (``service.parties``), the agreement;
- the invoice and the act of a provider, a payer and a month, once the month is closed for the
  payer: the month's final order (the latest not returned, a reissue included) and its lines —
  contract №, certificate № (``certificates.number``), the share delivered (the contract's
  month: whole, or attended ÷ planned lessons), the sum posted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.documents import contract_number

from pfdo_billing.domain.documents.facts import (
    ActFacts, AdvanceRequestFacts, AgreementRef, ContractInstalment, ContractLine, InvoiceFacts, MonthlyParties,
    Organisation,
)
from pfdo_billing.domain.payment_orders import advance

from .parties import Party, party_details


MISSING_TEXT = {"payee": "банковские реквизиты получателя", "payer": "банковские реквизиты плательщика",
                "agreement": "соглашение поставщика с плательщиком",
                "certificate": "номера сертификатов (ещё не получены из реестра)"}


class DocumentFactsMissing(Exception):
    """Billing has not received a party's bank details, or the order has no agreement."""

    def __init__(self, what: str, order_number: str) -> None:
        super().__init__(f"{what} missing for order {order_number}")
        self.what, self.order_number = what, order_number

    @property
    def what_text(self) -> str:
        return MISSING_TEXT[self.what]


class AdvanceMismatch(Exception):
    """The advance recomputed from the order's lines differs from the order (the percent changed)."""


def organisation(party: Party) -> Organisation:
    return Organisation(name=party.name, inn=party.inn, kpp=party.kpp, account=party.account, bik=party.bik,
                        corr_account=party.correspondent_account, bank=party.bank_name)


async def monthly_parties(session: AsyncSession, order: dict) -> MonthlyParties:
    """Both sides with their bank details and the agreement of an order (its ``payment_orders`` row)."""
    parties = await party_details(session, provider_id=order["provider_id"], payer_code=order["payer_code"])
    if parties.payee is None or parties.payer is None:
        raise DocumentFactsMissing("payee" if parties.payee is None else "payer", order["number"])
    agreement = (await session.execute(text(
        "SELECT number, concluded_on FROM agreements WHERE provider_id = :p AND payer_code = :payer "
        "AND period_id = :period ORDER BY concluded_on DESC, agreement_id LIMIT 1"),
        {"p": order["provider_id"], "payer": order["payer_code"], "period": order["period_id"]})).first()
    if agreement is None:
        raise DocumentFactsMissing("agreement", order["number"])
    return MonthlyParties(provider_id=str(order["provider_id"]), payer_code=order["payer_code"],
                          provider=organisation(parties.payee), payer=organisation(parties.payer),
                          agreement=AgreementRef(agreement.number, agreement.concluded_on), month=order["month"])


async def advance_request_facts(session: AsyncSession, order: dict, percent: int | Fraction) -> AdvanceRequestFacts:
    """The facts of an advance order's request (``order``: its ``payment_orders`` row)."""
    parties = await monthly_parties(session, order)
    lines = (await session.execute(text(
        "SELECT enrolment_id, amount_kopecks FROM payment_order_lines WHERE order_id = :o ORDER BY enrolment_id"),
        {"o": order["order_id"]})).all()
    facts = AdvanceRequestFacts(
        parties=parties,
        issued_on=order["issued_on"],
        instalments=tuple(ContractInstalment(contract_number(line.enrolment_id), int(line.amount_kopecks))
                          for line in lines),
        percent=percent,
    )
    recomputed = advance(str(order["provider_id"]), order["month"], (i.instalment_kopecks for i in facts.instalments),
                         percent)
    if recomputed.amount != order["amount_kopecks"]:
        raise AdvanceMismatch(f"order {order['number']}: {recomputed.amount} != {order['amount_kopecks']}")
    return facts


class MonthNotClosed(Exception):
    """The month is not closed for the payer yet: its invoice and act do not exist yet."""


class NoFinalOrder(LookupError):
    """The month is closed but the provider has no final order from this payer for it."""


async def month_closed_for(session: AsyncSession, month: dt.date, payer_code: str) -> bool:
    """Closed for the payer: by its own close or the region-wide one."""
    return (await session.execute(text(
        "SELECT 1 FROM month_closes WHERE month = :m AND municipality_code IN ('', :payer) AND status = 'done'"),
        {"m": month, "payer": payer_code})).first() is not None


async def final_order(session: AsyncSession, provider_id: uuid.UUID, payer_code: str, month: dt.date) -> dict | None:
    """The month's final order of the provider and payer in force: the latest not returned (a
    reissue replaces the returned order), else the latest."""
    row = (await session.execute(text(
        "SELECT * FROM payment_orders WHERE provider_id = :p AND payer_code = :payer AND month = :m AND kind = 'final' "
        "ORDER BY (status = 'returned'), issued_on DESC, created_at DESC LIMIT 1"),
        {"p": provider_id, "payer": payer_code, "m": month})).mappings().first()
    return None if row is None else dict(row)


@dataclass(frozen=True)
class MonthlyFacts:
    """What the invoice and the act of a month are built from."""

    order: dict
    invoice: InvoiceFacts
    act: ActFacts


async def contract_lines(session: AsyncSession, order: dict) -> tuple[ContractLine, ...]:
    rows = (await session.execute(text(
        "SELECT l.enrolment_id, l.amount_kopecks, cert.number AS certificate_number, "
        "COALESCE(c.payment_mode, 'monthly') AS payment_mode, COALESCE(cm.planned_lessons, 0) AS planned, "
        "cm.attended_lessons AS attended FROM payment_order_lines l "
        "LEFT JOIN certificates cert ON cert.certificate_id = l.certificate_id "
        "LEFT JOIN contracts c ON c.enrolment_id = l.enrolment_id "
        "LEFT JOIN contract_months cm ON cm.enrolment_id = l.enrolment_id AND cm.month = :m "
        "WHERE l.order_id = :o ORDER BY l.enrolment_id"), {"o": order["order_id"], "m": order["month"]})).all()
    if any(r.certificate_number is None for r in rows):
        raise DocumentFactsMissing("certificate", order["number"])
    return tuple(ContractLine.of_month(contract_number(r.enrolment_id), r.certificate_number, int(r.amount_kopecks),
                                       r.payment_mode, int(r.planned), r.attended) for r in rows)


async def monthly_facts(session: AsyncSession, provider_id: uuid.UUID, payer_code: str,
                        month: dt.date) -> MonthlyFacts:
    """The invoice's and the act's facts (``MonthNotClosed``, ``NoFinalOrder``, ``DocumentFactsMissing``)."""
    if not await month_closed_for(session, month, payer_code):
        raise MonthNotClosed(f"{month:%Y-%m} is not closed for payer {payer_code}")
    order = await final_order(session, provider_id, payer_code, month)
    if order is None:
        raise NoFinalOrder(f"no final order of {provider_id} from {payer_code} for {month:%Y-%m}")
    parties = await monthly_parties(session, order)
    lines = await contract_lines(session, order)
    invoice = InvoiceFacts(parties, order["issued_on"], lines, advance_paid_kopecks=int(order["advance_paid_kopecks"]),
                           carried_offset_kopecks=int(order["offset_applied_kopecks"]), order_number=order["number"])
    return MonthlyFacts(order, invoice, ActFacts(parties, order["issued_on"], lines, order_number=order["number"]))


async def invoices_for_export(session: AsyncSession, *, provider_id: uuid.UUID | None, payer_code: str | None,
                              month: dt.date | None, limit: int = 2_000) -> list[InvoiceFacts]:
    """The invoices of the months closed for their payers (the filters' final orders)."""
    keys = (await session.execute(text(
        "SELECT DISTINCT o.provider_id, o.payer_code, o.month FROM payment_orders o "
        "WHERE o.kind = 'final' AND (CAST(:p AS uuid) IS NULL OR o.provider_id = :p) "
        "AND (CAST(:payer AS text) IS NULL OR o.payer_code = :payer) AND (CAST(:m AS date) IS NULL OR o.month = :m) "
        "AND EXISTS (SELECT 1 FROM month_closes mc WHERE mc.month = o.month AND mc.status = 'done' "
        "  AND mc.municipality_code IN ('', o.payer_code)) "
        "ORDER BY o.month, o.payer_code, o.provider_id LIMIT :l"),
        {"p": provider_id, "payer": payer_code, "m": month, "l": limit})).all()
    return [(await monthly_facts(session, k.provider_id, k.payer_code, k.month)).invoice for k in keys]
