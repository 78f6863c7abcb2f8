"""Money arithmetic in integer kopecks (docs/domain-rules.md, "Dates and money": rounding).

- pro-rated amounts are rounded half up to the kopeck;
- instalments are rounded down, the remainder going to the first month;
- an attendance share of an instalment is rounded down (the certificate never pays a fraction
  more than earned): the amount due, a rule of its own shared by every service
  (``pfdo_contracts.rules.due``);
- a percentage of an amount (the 80 % advance) is rounded down: the advance is a prepayment of
  money not yet earned, so it never exceeds the exact share; the final settlement pays the rest.

Only integer arithmetic is used; no float ever touches an amount.
"""

from __future__ import annotations

from fractions import Fraction

from pfdo_billing.domain.errors import InvalidAmount, InvalidPercent


def require_kopecks(value: object, name: str = "amount") -> int:
    """Return ``value`` if it is a non-negative ``int`` (kopecks), else raise ``InvalidAmount``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(f"{name} must be an integer number of kopecks", name=name)
    if value < 0:
        raise InvalidAmount(f"{name} must not be negative", name=name, value=value)
    return value


def scale_half_up(amount: int, numerator: int, denominator: int) -> int:
    """``amount × numerator / denominator`` rounded half up, for non-negative operands."""
    require_kopecks(amount)
    require_kopecks(numerator, "numerator")
    if isinstance(denominator, bool) or not isinstance(denominator, int) or denominator <= 0:
        raise InvalidAmount("denominator must be a positive integer", value=denominator)
    return (2 * amount * numerator + denominator) // (2 * denominator)


def prorate(amount: int, part_days: int, total_days: int) -> int:
    """Pro-rate ``amount`` to ``part_days`` of ``total_days``, rounded half up to the kopeck.

    Rule: cost of an enrolment from S to E = price × days(S..E) / days(module), rounded half up.
    """
    require_kopecks(part_days, "part_days")
    if isinstance(total_days, bool) or not isinstance(total_days, int) or total_days <= 0:
        raise InvalidAmount("total_days must be a positive integer", value=total_days)
    if part_days > total_days:
        raise InvalidAmount(
            "part_days must not exceed total_days", part_days=part_days, total_days=total_days
        )
    return scale_half_up(amount, part_days, total_days)


def split_instalments(total: int, months: int) -> list[int]:
    """Split ``total`` into ``months`` instalments adding up to it exactly.

    Rule: each instalment is floor(total / months); the remainder goes to the FIRST month.
    """
    require_kopecks(total, "total")
    if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
        raise InvalidAmount("months must be a positive integer", value=months)
    base, remainder = divmod(total, months)
    return [base + remainder] + [base] * (months - 1)


def percent_of(amount: int, percent: int | Fraction) -> int:
    """``percent`` % of ``amount``, rounded DOWN to the kopeck.

    Used for the payment-order advance (80 % by default). Rounding down keeps the advance at or
    below the exact share, so the final settlement is never a clawback caused by rounding.
    ``percent`` is an int or a ``Fraction`` (e.g. ``Fraction(825, 10)`` for 82.5 %), 0..100.
    """
    require_kopecks(amount)
    if isinstance(percent, bool) or not isinstance(percent, (int, Fraction)):
        raise InvalidPercent("percent must be an int or a Fraction", percent=str(percent))
    if not 0 <= percent <= 100:
        raise InvalidPercent("percent must be within 0..100", percent=str(percent))
    exact = Fraction(amount) * Fraction(percent) / 100
    return exact.numerator // exact.denominator
