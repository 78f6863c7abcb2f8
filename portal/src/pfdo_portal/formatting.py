"""How the pages write money, dates, times, ages and weekdays: the Russian conventions.

Money ``1 234,56 ₽``: a narrow no-break space (U+202F) between groups of thousands, a comma
before the kopecks, a no-break space (U+00A0) before the rouble sign, so an amount never breaks
across lines. Dates ``15.11.2027``, months ``ноябрь 2027``, times ``16:00``.
The documents and the exports write them the same way: the shared ``pfdo_plumbing.russian_format``.
"""

from __future__ import annotations

import datetime as dt

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.russian_format import group_thousands  # noqa: F401  (the pages import it from here)

WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")


def money(kopecks: int | None) -> str:
    """``123456`` -> ``1 234,56 ₽``; whole roubles keep their kopecks (``,00``); None -> ``—``."""
    return "—" if kopecks is None else ru.money(int(kopecks))


def _as_date(value: dt.date | str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def date(value: dt.date | str | None) -> str:
    """``2027-11-15`` (a date or its ISO text) -> ``15.11.2027``; None -> ``—``."""
    if value is None or value == "":
        return "—"
    return ru.date(_as_date(value))


def month(value: dt.date | str) -> str:
    """``2027-11`` or a date in it -> ``ноябрь 2027``."""
    text = str(value)
    return ru.month(_as_date(text if len(text) > 7 else f"{text}-01"))


def time(value: dt.time | str) -> str:
    """``16:00:00`` -> ``16:00``."""
    return value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)[:5]


def weekday(number: int, *, short: bool = False) -> str:
    """ISO weekday 1..7 -> ``понедельник`` (``пн`` when short)."""
    return (WEEKDAYS_SHORT if short else WEEKDAYS)[int(number) - 1]


def plural(number: int, one: str, few: str, many: str) -> str:
    """The Russian form for ``number``: 1 год, 2 года, 5 лет, 11 лет, 21 год."""
    n = abs(int(number))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def ages(age_min: int, age_max: int) -> str:
    """``9``, ``12`` -> ``9–12 лет``; one age -> ``7 лет``."""
    years = plural(age_max, "год", "года", "лет")
    return f"{age_min} {years}" if age_min == age_max else f"{age_min}–{age_max} {years}"


def count(number: int, one: str, few: str, many: str) -> str:
    """``3, "место", "места", "мест"`` -> ``3 места``, with thousands grouped."""
    return f"{group_thousands(int(number))} {plural(number, one, few, many)}"


def score(value: float | None) -> str:
    """A rating out of 100 with one decimal and a comma: ``86,5``; None -> ``нет оценок``."""
    if value is None:
        return "нет оценок"
    return f"{float(value):.1f}".replace(".", ",")


FILTERS = {
    "money": money,
    "date": date,
    "month": month,
    "time": time,
    "weekday": weekday,
    "ages": ages,
    "count": count,
    "score": score,
}
"""The Jinja filters of every template, by name."""
