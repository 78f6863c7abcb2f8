"""Payment orders to providers (docs/domain-rules.md, "Payment orders").

Per provider, payer (the municipality whose certificates the money is for) and month:
- an **advance** at the start of the month: ``percent`` (80 by default, configurable) of the sum
  of the month's certificate instalments of the provider's contracts, rounded down (the
  percentage is applied once to the provider's total, not per contract);
- a **final settlement** after month close: actual posted − advance − offset carried from the
  previous month. When that is negative the final is 0 and the shortfall is carried as an offset
  against the next month's settlement.

Over any run of months: advances + finals == postings + the offset still carried at the end,
for each (provider, payer) on its own: one payer's shortfall is never offset against another's
money (:func:`settle_per_payer`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from pfdo_billing.domain.money import percent_of, require_kopecks

DEFAULT_ADVANCE_PERCENT = 80


@dataclass(frozen=True)
class Advance:
    """The advance part of a provider's payment order for ``month``."""

    provider_id: str
    month: date
    instalments_total: int
    percent: int | Fraction
    amount: int


def advance(
    provider_id: str,
    month: date,
    certificate_instalments: Iterable[int],
    percent: int | Fraction = DEFAULT_ADVANCE_PERCENT,
) -> Advance:
    """The advance: ``percent`` % of the month's certificate instalments, rounded down."""
    total = sum(require_kopecks(amount, "instalment") for amount in certificate_instalments)
    return Advance(provider_id, month, total, percent, percent_of(total, percent))


@dataclass(frozen=True)
class FinalSettlement:
    """The final part of a provider's payment order for ``month``, after month close.

    ``amount = max(0, posted − advance − offset_in)``; ``offset_out`` is the shortfall carried
    to the next month (0 when ``amount`` > 0).
    """

    provider_id: str
    month: date
    posted: int
    advance: int
    offset_in: int
    amount: int
    offset_out: int


def final_settlement(
    provider_id: str, month: date, posted: int, advance_paid: int, carried_offset: int = 0
) -> FinalSettlement:
    """Settle ``month``: posted minus the advance paid minus the offset carried in."""
    require_kopecks(posted, "posted")
    require_kopecks(advance_paid, "advance_paid")
    require_kopecks(carried_offset, "carried_offset")
    difference = posted - advance_paid - carried_offset
    return FinalSettlement(
        provider_id=provider_id,
        month=month,
        posted=posted,
        advance=advance_paid,
        offset_in=carried_offset,
        amount=max(difference, 0),
        offset_out=max(-difference, 0),
    )


@dataclass(frozen=True)
class MonthActivity:
    """A provider's month as billing sees it: the certificate instalments it was advanced on
    and what month close actually posted."""

    month: date
    certificate_instalments: int
    posted: int


@dataclass(frozen=True)
class PaymentOrder:
    """A provider's payment order for a month: the advance and the final settlement."""

    advance: Advance
    final: FinalSettlement

    @property
    def paid(self) -> int:
        """Kopecks paid to the provider for the month (advance + final)."""
        return self.advance.amount + self.final.amount


def settle_months(
    provider_id: str,
    months: Sequence[MonthActivity],
    percent: int | Fraction = DEFAULT_ADVANCE_PERCENT,
    opening_offset: int = 0,
) -> list[PaymentOrder]:
    """Payment orders for consecutive ``months``, carrying offsets from one to the next."""
    orders: list[PaymentOrder] = []
    offset = opening_offset
    for activity in months:
        adv = advance(provider_id, activity.month, [activity.certificate_instalments], percent)
        final = final_settlement(provider_id, activity.month, activity.posted, adv.amount, offset)
        orders.append(PaymentOrder(adv, final))
        offset = final.offset_out
    return orders


@dataclass(frozen=True)
class PayerMonthActivity:
    """A provider's month with one payer: the certificate instalments of that payer's
    certificates and what month close posted for them."""

    payer_code: str
    month: date
    certificate_instalments: int
    posted: int


def settle_per_payer(
    provider_id: str,
    activity: Sequence[PayerMonthActivity],
    percent: int | Fraction = DEFAULT_ADVANCE_PERCENT,
    opening_offsets: Mapping[str, int] | None = None,
) -> dict[str, list[PaymentOrder]]:
    """Payment orders per payer for a provider's months (in month order per payer): each payer's
    offsets carry only to that payer's next month."""
    by_payer: dict[str, list[MonthActivity]] = {}
    for a in sorted(activity, key=lambda a: (a.payer_code, a.month)):
        by_payer.setdefault(a.payer_code, []).append(MonthActivity(a.month, a.certificate_instalments, a.posted))
    opening = opening_offsets or {}
    return {payer: settle_months(provider_id, months, percent, opening.get(payer, 0))
            for payer, months in by_payer.items()}
