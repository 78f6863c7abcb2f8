"""The facts of the documents billing serves, read from its tables (the documents themselves are
built by the pure ``domain.documents``).

- the advance request of an advance order: the order's lines (one per contract: the month's
  certificate instalment), both sides' bank details (``service.parties``), the agreement.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.documents import contract_number

from pfdo_billing.domain.documents.facts import (
    AdvanceRequestFacts, AgreementRef, ContractInstalment, MonthlyParties, Organisation,
)
from pfdo_billing.domain.payment_orders import advance

from .parties import Party, party_details


MISSING_TEXT = {"payee": "банковские реквизиты получателя", "payer": "банковские реквизиты плательщика",
                "agreement": "соглашение поставщика с плательщиком"}


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


async def advance_request_facts(session: AsyncSession, order: dict, percent: int | Fraction) -> AdvanceRequestFacts:
    """The facts of an advance order's request (``order``: its ``payment_orders`` row)."""
    parties = await party_details(session, provider_id=order["provider_id"], payer_code=order["payer_code"])
    if parties.payee is None or parties.payer is None:
        raise DocumentFactsMissing("payee" if parties.payee is None else "payer", order["number"])
    agreement = (await session.execute(text(
        "SELECT number, concluded_on FROM agreements WHERE provider_id = :p AND payer_code = :payer "
        "AND period_id = :period ORDER BY concluded_on DESC, agreement_id LIMIT 1"),
        {"p": order["provider_id"], "payer": order["payer_code"], "period": order["period_id"]})).first()
    if agreement is None:
        raise DocumentFactsMissing("agreement", order["number"])
    lines = (await session.execute(text(
        "SELECT enrolment_id, amount_kopecks FROM payment_order_lines WHERE order_id = :o ORDER BY enrolment_id"),
        {"o": order["order_id"]})).all()
    facts = AdvanceRequestFacts(
        parties=MonthlyParties(provider_id=str(order["provider_id"]), payer_code=order["payer_code"],
                               provider=organisation(parties.payee), payer=organisation(parties.payer),
                               agreement=AgreementRef(agreement.number, agreement.concluded_on), month=order["month"]),
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
