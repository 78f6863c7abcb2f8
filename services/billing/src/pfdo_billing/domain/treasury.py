"""The treasury's loop of a payment order: issued → accepted → paid | returned.

The finance system reports each order's status (through the gateway or on its topic). Reports
may arrive twice or out of order, so applying one is decided here, purely:

* the same status again is a **duplicate**: nothing changes;
* a status behind the current one (``accepted`` after ``paid`` or ``returned``) is **stale**:
  nothing changes (the order went further already);
* ``paid`` and ``returned`` are final: one reported after the other is a **conflict** the
  treasury must sort out (refused, never applied);
* otherwise the status is **applied** (``paid`` or ``returned`` may come without ``accepted``).

A returned order is reissued as a new order (a new number, the same money), and only a returned
order may be: :func:`check_reissuable`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .errors import BillingDomainError


class OrderStatus(StrEnum):
    ISSUED = "issued"
    ACCEPTED = "accepted"
    PAID = "paid"
    RETURNED = "returned"


REPORTABLE = (OrderStatus.ACCEPTED, OrderStatus.PAID, OrderStatus.RETURNED)
"""The statuses the treasury reports (``issued`` is billing's own)."""
FINAL = frozenset({OrderStatus.PAID, OrderStatus.RETURNED})
_STEP = {OrderStatus.ISSUED: 0, OrderStatus.ACCEPTED: 1, OrderStatus.PAID: 2, OrderStatus.RETURNED: 2}


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"


class InvalidTreasuryStatus(BillingDomainError):
    """The treasury reported a status it cannot report (``issued``), or ``returned`` without a reason."""

    code = "invalid_treasury_status"


class TreasuryStatusConflict(BillingDomainError):
    """``paid`` reported for a returned order, or ``returned`` for a paid one."""

    code = "treasury_status_conflict"


class OrderNotReturned(BillingDomainError):
    """Only a returned order may be reissued."""

    code = "order_not_returned"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    status: OrderStatus  # the order's status after the report

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.APPLIED


def check_report(reported: OrderStatus, reason: str | None) -> None:
    """Raise unless the treasury may report ``reported`` (``returned`` always with its reason)."""
    if reported not in REPORTABLE:
        raise InvalidTreasuryStatus(f"the treasury reports accepted, paid or returned, not {reported.value}",
                                    status=reported.value)
    if reported is OrderStatus.RETURNED and not (reason or "").strip():
        raise InvalidTreasuryStatus("a returned order needs the reason it was returned", status=reported.value)


def apply_report(current: OrderStatus, reported: OrderStatus, reason: str | None = None) -> Decision:
    """What a treasury report does to an order in status ``current`` (see the module docstring)."""
    check_report(reported, reason)
    if reported is current:
        return Decision(Outcome.DUPLICATE, current)
    if current in FINAL and reported in FINAL:
        raise TreasuryStatusConflict(f"the order is {current.value} already: it cannot become {reported.value}",
                                     status=current.value, reported=reported.value)
    if _STEP[reported] < _STEP[current]:
        return Decision(Outcome.STALE, current)
    return Decision(Outcome.APPLIED, reported)


def check_reissuable(current: OrderStatus) -> None:
    """Raise unless the order was returned (only a returned order is reissued)."""
    if current is not OrderStatus.RETURNED:
        raise OrderNotReturned(f"only a returned order is reissued; this one is {current.value}",
                               status=current.value)


__all__ = [
    "FINAL", "REPORTABLE", "Decision", "InvalidTreasuryStatus", "OrderNotReturned", "OrderStatus", "Outcome",
    "TreasuryStatusConflict", "apply_report", "check_report", "check_reissuable",
]
