"""How long a certificate pays: its validity and the last day of its contracts (DESIGN §2).

- A certificate is valid until the day before the 18th birthday (a 29 February birthday falls
  on 28 February in a common year, see :func:`pfdo_contracts.rules.age.birthday_in_year`).
- Certificate expiry ends contracts at the end of the month in which the validity ends: the
  month of the day before the 18th birthday, so for a birthday on the 1st it is the month
  before the birthday's month.
- A quote, a reservation and a schedule never run past that day: the money of an enrolment
  stops there even when the module goes on.
"""

from __future__ import annotations

from datetime import date, timedelta

from pfdo_billing.domain.calendar import month_end
from pfdo_contracts.rules.age import birthday_in_year

ADULT_AGE = 18


def eighteenth_birthday(birth_date: date) -> date:
    """The 18th birthday (29 February -> 28 February in a common year)."""
    return birthday_in_year(birth_date, birth_date.year + ADULT_AGE)


def certificate_valid_until(birth_date: date) -> date:
    """The last day of the certificate's validity: the day before the 18th birthday."""
    return eighteenth_birthday(birth_date) - timedelta(days=1)


def paid_until(valid_until: date) -> date:
    """The last day a certificate's contracts may run and be paid: the last day of the month in
    which the validity ends (contracts end at the end of a month, DESIGN §2 "Termination")."""
    return month_end(valid_until)


def validity_of(birth_date: date, valid_until: date | None = None) -> date:
    """The certificate's last valid day: ``valid_until`` as registry issued it when known, else
    the day before the 18th birthday of ``birth_date``."""
    return valid_until if valid_until is not None else certificate_valid_until(birth_date)
