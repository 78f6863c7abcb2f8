"""A child's age on a date: the one rule every service uses (registry's application age check
and certificate expiry, the navigator's eligibility and search, billing's nominal age group and
the certificate's validity).

The rule: completed years, the birthday itself counting as the new age. A person born on
29 February has the birthday on 28 February in a common year (so turns 7 on 28.02.2023 and 18
on 28.02.2034, and a certificate of a child born on 29.02.2016 is valid until 27.02.2034).

Why 28 February and not 1 March: the Civil Code of the Russian Federation, art. 192, counts a
term in years to the matching month and day of its last year, and a term ending in a month
without the matching day to that month's last day (p. 3); an age is such a term counted from
the birth date. Registry and billing already counted this way (certificate validity, expiry and
contract ends were issued on it), so the rule keeps every issued date; only the navigator's
copy (1 March) changes.

For set-based SQL (PostgreSQL), the same rule is ``birth_date + make_interval(years => n)``:
PostgreSQL moves 29 February plus a whole number of years to 28 February in a common year, so
"age on ``d`` is at least ``n``" is ``birth_date + make_interval(years => n) <= d``
(see :func:`anniversary_sql`).

Why here: every service already depends on the contracts package and the rule is a pure
function of the contracts' ``birth_date``; a shared package of its own would be one more
member to build and ship for a dozen lines, a call to the registry's API would put a network
hop into every eligibility check, and plumbing carries no domain rules.
"""

from __future__ import annotations

from datetime import date, timedelta

__all__ = ["age_on", "anniversary", "anniversary_sql", "birthday_in_year"]


def birthday_in_year(birth_date: date, year: int) -> date:
    """The birthday falling in ``year`` (29 February → 28 February in a common year)."""
    if (birth_date.month, birth_date.day) == (2, 29):
        return date(year, 3, 1) - timedelta(days=1)
    return birth_date.replace(year=year)


def anniversary(birth_date: date, years: int) -> date:
    """The day a person born on ``birth_date`` turns ``years`` old."""
    return birthday_in_year(birth_date, birth_date.year + years)


def age_on(birth_date: date, on: date) -> int:
    """Completed years on ``on`` (the birthday itself counts as the new age).

    Raises ``ValueError`` for a date before the birth: there is no age then.
    """
    if on < birth_date:
        raise ValueError(f"no age on {on.isoformat()}: born on {birth_date.isoformat()}")
    years = on.year - birth_date.year
    if on < birthday_in_year(birth_date, on.year):
        years -= 1
    return years


def anniversary_sql(birth_date: str, years: str) -> str:
    """The same rule in PostgreSQL: the SQL date on which ``birth_date`` (an SQL expression of
    type date) turns ``years`` (an SQL integer expression) old."""
    return f"CAST(({birth_date}) + make_interval(years => CAST(({years}) AS int)) AS date)"
