"""How long a certificate pays: the last valid day and the end of its contracts on expiry.

The rules (docs/domain-rules.md, "Age and validity"):

- a certificate is valid until the day before the 18th birthday (:mod:`pfdo_contracts.rules.age`
  gives the birthday: 29 February falls on 28 February in a common year);
- the registry's expiry event names the 18th birthday, the first day the certificate is no longer
  valid (``expired_on``);
- certificate expiry ends contracts at the end of the month in which the validity ends: the month
  of the day before the 18th birthday, so for a birthday on the 1st it is the month before the
  birthday's month.

Billing (the money stops there) and the navigator (the enrolment ends there) both use these
functions, so they cannot disagree on that day.
"""

from __future__ import annotations

from datetime import date, timedelta

from .age import birthday_in_year
from .calendar import month_end

ADULT_AGE = 18


def eighteenth_birthday(birth_date: date) -> date:
    """The 18th birthday (29 February -> 28 February in a common year)."""
    return birthday_in_year(birth_date, birth_date.year + ADULT_AGE)


def last_valid_day(expired_on: date) -> date:
    """The last valid day of a certificate that expired on ``expired_on`` (the 18th birthday)."""
    return expired_on - timedelta(days=1)


def certificate_valid_until(birth_date: date) -> date:
    """The last day of the certificate's validity: the day before the 18th birthday."""
    return last_valid_day(eighteenth_birthday(birth_date))


def paid_until(valid_until: date) -> date:
    """The last day a certificate's contracts may run and be paid: the last day of the month in
    which the validity ends."""
    return month_end(valid_until)


def contracts_end_on_expiry(expired_on: date) -> date:
    """The day the contracts of a certificate that expired on ``expired_on`` end."""
    return paid_until(last_valid_day(expired_on))
