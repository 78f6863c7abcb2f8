"""How Russian documents and files write money, dates and months.

Money ``1 234,56 ₽``: a narrow no-break space (U+202F) between groups of thousands, a comma
before the kopecks, a no-break space (U+00A0) before the rouble sign, so an amount never breaks
across lines. Dates ``15.11.2027``, months ``ноябрь 2027``, times ``16:00``, shares ``80 %``.
Amounts are integer kopecks; nothing here ever goes through a float.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

THOUSANDS = "\u202f"
"""Between groups of three digits."""
BEFORE_SIGN = "\u00a0"
"""Between the amount and the rouble or percent sign."""

MONTHS = ("январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь",
          "ноябрь", "декабрь")
MONTHS_GENITIVE = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября",
                   "октября", "ноября", "декабря")


def group_thousands(number: int) -> str:
    """``1234567`` -> ``1 234 567`` (narrow no-break spaces)."""
    digits = str(abs(number))
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return ("-" if number < 0 else "") + THOUSANDS.join(reversed(groups))


def money(kopecks: int) -> str:
    """``123456`` -> ``1 234,56 ₽``; whole roubles keep their kopecks (``,00``)."""
    roubles, rest = divmod(abs(int(kopecks)), 100)
    sign = "-" if kopecks < 0 else ""
    return f"{sign}{group_thousands(roubles)},{rest:02d}{BEFORE_SIGN}₽"


def roubles_with_dot(kopecks: int) -> str:
    """``123456`` -> ``1234.56``: the amount as bank files write it (no grouping, a dot)."""
    roubles, rest = divmod(abs(int(kopecks)), 100)
    return f"{'-' if kopecks < 0 else ''}{roubles}.{rest:02d}"


def roubles_with_comma(kopecks: int) -> str:
    """``123456`` -> ``1234,56``: a number a Russian spreadsheet reads as a number."""
    return roubles_with_dot(kopecks).replace(".", ",")


def date(value: dt.date) -> str:
    """``2027-11-15`` -> ``15.11.2027``."""
    return value.strftime("%d.%m.%Y")


def long_date(value: dt.date) -> str:
    """``2027-11-15`` -> ``15 ноября 2027 г.``"""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year} г."


def month(value: dt.date) -> str:
    """Any day of November 2027 -> ``ноябрь 2027``."""
    return f"{MONTHS[value.month - 1]} {value.year}"


def time(value: dt.time | dt.datetime) -> str:
    """``16:00``."""
    return value.strftime("%H:%M")


def share(value: Fraction) -> str:
    """A share of a whole as a percentage with up to two decimals: ``1`` -> ``100 %``, ``5/6`` -> ``83,33 %``.

    Rounded half up at the second decimal; trailing zeros dropped.
    """
    hundredths = Fraction(value) * 10000
    rounded = (2 * hundredths.numerator + hundredths.denominator) // (2 * hundredths.denominator)
    whole, rest = divmod(rounded, 100)
    text = f"{whole},{rest:02d}".rstrip("0").rstrip(",")
    return f"{text}{BEFORE_SIGN}%"
