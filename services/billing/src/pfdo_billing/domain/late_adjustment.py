"""Late adjustment of a closed contract-month (docs/domain-rules.md, "Late adjustments": a disputed
mark is not billed until the operator decides).

Disputes outlive month close: a parent has 7 days, and the operator decides when they decide.
So a dispute can change what a closed contract-month owes:

- a mark under dispute when the month closed was not billed; if the operator rejects the
  dispute, the lesson becomes billable: a **late charge**;
- a dispute opened after the close takes its mark out of the count until the operator decides
  (the rule above): a **refund**, charged back if the dispute is then rejected.

What the month owes is computed again with the close's own rule (:func:`due.close_month`) over
the marks as they are now, and compared with what was billed for it:

- certificate part, owed more: charged from the certificate's available balance, as far as it
  goes. What the balance cannot cover is **uncovered**: recorded (and published) for finance
  and the operator to settle; it is charged to no one automatically;
- certificate part, owed less: the uncovered part is cancelled first, the rest refunded
  (spent -> available);
- family part: owed more is invoiced, owed less is credited.

After an adjustment, billed equals owed, so computing it again gives nothing: the adjustments
converge to the same books whatever order the dispute events arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass

from pfdo_billing.domain.due import MonthClose
from pfdo_billing.domain.money import require_kopecks


@dataclass(frozen=True)
class Billed:
    """What a closed contract-month has been billed so far (kopecks).

    ``certificate_charged``: posted at the close plus late charges minus refunds;
    ``certificate_uncovered``: owed by the certificate part but beyond its balance;
    ``family_invoiced``: invoiced at the close plus late invoices minus credits.
    """

    certificate_charged: int
    certificate_uncovered: int
    family_invoiced: int

    def __post_init__(self) -> None:
        require_kopecks(self.certificate_charged, "certificate_charged")
        require_kopecks(self.certificate_uncovered, "certificate_uncovered")
        require_kopecks(self.family_invoiced, "family_invoiced")


@dataclass(frozen=True)
class LateAdjustment:
    """The movements that bring a closed month's billing to what it owes now (kopecks, each >= 0
    except ``uncovered_change``, which is signed)."""

    charge: int = 0
    refund: int = 0
    uncovered_change: int = 0
    family_invoice: int = 0
    family_credit: int = 0

    @property
    def empty(self) -> bool:
        return not (self.charge or self.refund or self.uncovered_change or self.family_invoice or self.family_credit)

    def applied_to(self, billed: Billed) -> Billed:
        return Billed(
            certificate_charged=billed.certificate_charged + self.charge - self.refund,
            certificate_uncovered=billed.certificate_uncovered + self.uncovered_change,
            family_invoiced=billed.family_invoiced + self.family_invoice - self.family_credit,
        )


def late_adjustment(owed: MonthClose, billed: Billed, available: int) -> LateAdjustment:
    """What to move so that ``billed`` becomes ``owed``, charging the certificate no more than
    its ``available`` balance."""
    require_kopecks(available, "available")
    charge = refund = uncovered_change = 0
    gap = owed.posted - (billed.certificate_charged + billed.certificate_uncovered)
    if gap > 0:
        charge = min(gap, available)
        uncovered_change = gap - charge
    elif gap < 0:
        cancelled = min(-gap, billed.certificate_uncovered)
        uncovered_change = -cancelled
        refund = -gap - cancelled
    family_gap = owed.family_invoiced - billed.family_invoiced
    return LateAdjustment(
        charge=charge, refund=refund, uncovered_change=uncovered_change,
        family_invoice=max(family_gap, 0), family_credit=max(-family_gap, 0),
    )
