"""The amount due for a contract-month: what billing posts to the provider from the certificate
and invoices to the family (docs/domain-rules.md, "Amount due").

- ``monthly`` payment mode: the month's instalment;
- ``attendance`` payment mode: instalment × min(attended, planned) / planned, rounded down to
  the kopeck; no planned lessons → nothing is due; attendance above the plan is capped at it, so
  the amount due never exceeds the instalment;
- the same rule applies to the certificate's and to the family's instalment.

``attended`` counts billable lessons (:func:`pfdo_contracts.rules.lessons.is_billable`),
``planned`` the month's planned lessons (:func:`pfdo_contracts.rules.lessons.planned_lessons`).
Billing's month close computes the same set-based in SQL (:func:`amount_due_sql`; integer
division of non-negative integers rounds down as well).
"""

from __future__ import annotations

__all__ = ["ATTENDANCE", "MONTHLY", "PAYMENT_MODES", "amount_due", "amount_due_sql"]

MONTHLY = "monthly"
ATTENDANCE = "attendance"
PAYMENT_MODES = frozenset({MONTHLY, ATTENDANCE})


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


def amount_due(instalment: int, mode: str, attended: int, planned: int) -> int:
    """The part of a month's ``instalment`` (kopecks) due under payment ``mode``."""
    _count(instalment, "instalment")
    if mode == MONTHLY:
        return instalment
    if mode != ATTENDANCE:
        raise ValueError(f"unknown payment mode {mode!r}")
    attended, planned = _count(attended, "attended"), _count(planned, "planned")
    if planned == 0:
        return 0
    return instalment * min(attended, planned) // planned


def amount_due_sql(instalment: str, mode: str, attended: str, planned: str) -> str:
    """The same rule in SQL: an integer expression of ``instalment``, ``mode``, ``attended`` and
    ``planned`` (SQL expressions: non-negative integers and the payment mode's text)."""
    return (f"(CASE WHEN ({mode}) = '{MONTHLY}' THEN ({instalment}) WHEN ({planned}) = 0 THEN 0"
            f" ELSE ({instalment}) * LEAST(({attended}), ({planned})) / ({planned}) END)")
