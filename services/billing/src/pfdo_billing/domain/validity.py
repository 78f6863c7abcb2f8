"""How long a certificate pays: its validity and the last day of its contracts
(docs/domain-rules.md, "Age and validity").

- A certificate is valid until the day before the 18th birthday (a 29 February birthday falls
  on 28 February in a common year, see :func:`pfdo_contracts.rules.age.birthday_in_year`).
- Certificate expiry ends contracts at the end of the month in which the validity ends: the
  month of the day before the 18th birthday, so for a birthday on the 1st it is the month
  before the birthday's month.
- A quote, a reservation and a schedule never run past that day: the money of an enrolment
  stops there even when the module goes on.
"""

from __future__ import annotations

from datetime import date

from pfdo_contracts.rules.validity import (
    ADULT_AGE,
    certificate_valid_until,
    contracts_end_on_expiry,
    eighteenth_birthday,
    last_valid_day,
    paid_until,
)

__all__ = ["ADULT_AGE", "certificate_valid_until", "contracts_end_on_expiry", "eighteenth_birthday",
           "last_valid_day", "paid_until", "validity_of"]


def validity_of(birth_date: date, valid_until: date | None = None) -> date:
    """The certificate's last valid day: ``valid_until`` as registry issued it when known, else
    the day before the 18th birthday of ``birth_date``."""
    return valid_until if valid_until is not None else certificate_valid_until(birth_date)
