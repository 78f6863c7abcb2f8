"""Ages and the dates that follow from a child's birth date (docs/domain-rules.md, "Age and validity").

* Age at application: ``min_age``..``max_age`` inclusive (region setting, default 5..17).
* A parent or guardian applies; a child of 14 or older may apply alone.
* A certificate is valid until the day before the 18th birthday; on the 18th birthday it
  expires (a daily job calls :func:`is_expiry_due`).

The age on a date is the platform's one rule (:mod:`pfdo_contracts.rules.age`, shared with the
navigator and billing): a child born on 29.02.2008 turns 18 on 28.02.2026 and the certificate is
valid until 27.02.2026.
"""

from __future__ import annotations

from datetime import date

from pfdo_contracts.rules.age import age_on, anniversary
from pfdo_contracts.rules.validity import ADULT_AGE as AGE_OF_MAJORITY
from pfdo_contracts.rules.validity import certificate_valid_until
from pfdo_contracts.rules.validity import eighteenth_birthday as expiry_date

from .errors import AgeNotAllowed

MIN_APPLICATION_AGE = 5
MAX_APPLICATION_AGE = 17
MIN_AGE_TO_APPLY_ALONE = 14

__all__ = [
    "AGE_OF_MAJORITY", "MAX_APPLICATION_AGE", "MIN_AGE_TO_APPLY_ALONE", "MIN_APPLICATION_AGE", "age_on", "anniversary",
    "certificate_valid_until", "check_application_age", "expiry_date", "is_expiry_due", "may_apply_alone",
]


def check_application_age(
    birth_date: date,
    on_date: date,
    min_age: int = MIN_APPLICATION_AGE,
    max_age: int = MAX_APPLICATION_AGE,
) -> int:
    """Return the child's age if ``min_age <= age <= max_age`` on ``on_date``.

    Raises :class:`AgeNotAllowed` with ``birth_date_in_future``, ``age_too_young`` or
    ``age_too_old``.
    """
    if birth_date > on_date:
        raise AgeNotAllowed("birth_date_in_future", "birth date is after the application date")
    age = age_on(birth_date, on_date)
    if age < min_age:
        raise AgeNotAllowed(
            "age_too_young", f"a certificate is issued from age {min_age}; the child is {age}",
            min_age=min_age, age=age,
        )
    if age > max_age:
        raise AgeNotAllowed(
            "age_too_old", f"a certificate is issued up to age {max_age}; the child is {age}",
            max_age=max_age, age=age,
        )
    return age


def may_apply_alone(birth_date: date, on_date: date) -> bool:
    """A child may apply without a parent from age 14."""
    return age_on(birth_date, on_date) >= MIN_AGE_TO_APPLY_ALONE


def is_expiry_due(birth_date: date, on_date: date) -> bool:
    """True from the 18th birthday on: the daily job must expire the certificate."""
    return on_date >= expiry_date(birth_date)
