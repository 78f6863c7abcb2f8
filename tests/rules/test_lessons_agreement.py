"""Planned lessons: billing's quote (Python) and billing's month close (set-based SQL on a real
PostgreSQL) count what the one rule (``pfdo_contracts.rules.lessons``) counts, on the edge dates
(29 February, 31 December, the 18th birthday ending a certificate's money, a contract starting on
a holiday) and in the holiday months (January and May 2026), with and without a region's own
days off. The navigator keeps no count of its own: it imports the same rule. The SQL twins of the
billable lesson and of the amount due, which month close and late adjustments run, answer what
the rules answer."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from pfdo_billing.domain.calendar import month_end
from pfdo_billing.domain.quote import quote
from pfdo_billing.domain.validity import certificate_valid_until
from pfdo_billing.service import month_close
from pfdo_billing.service.queries import _quote_answer
from pfdo_contracts.rules.calendar import days_off, days_off_between
from pfdo_contracts.rules.due import ATTENDANCE, MONTHLY, amount_due, amount_due_sql
from pfdo_contracts.rules.lessons import is_billable, is_billable_sql, planned_lessons

REGION = [date(2026, 1, 12), date(2026, 5, 4), date(2028, 2, 29)]
TIMETABLES = [[1], [2], [3], [4], [5], [6], [7], [1, 3], [2, 4], [1, 5], [6, 7], [2, 2], [1, 2, 3, 4, 5, 6, 7]]


def rule(month: date, weekdays: list[int], starts_on: date, ends_on: date, extra: list[date]) -> int:
    return planned_lessons(month, weekdays, starts_on, ends_on, days_off=days_off(month.year, extra))


# ------------------------------------------------------------------------------ billing's quote
QUOTES = [
    # (module start, module end, enrolment start, birth date or None), each quoted with every timetable
    (date(2025, 9, 1), date(2026, 5, 31), date(2026, 1, 9), None),  # starts on a transferred day off
    (date(2025, 9, 1), date(2026, 5, 31), date(2025, 12, 31), None),  # starts on 31 December, a day off
    (date(2027, 9, 1), date(2028, 5, 31), date(2028, 2, 29), None),  # starts on 29 February
    # born 29 February 2008: turns 18 on 28 February 2026, the money stops at the end of February
    (date(2025, 9, 1), date(2026, 5, 31), date(2025, 9, 1), date(2008, 2, 29)),
    # born 31 December 2007: turns 18 on 31 December 2025, the last month paid is December
    (date(2025, 9, 1), date(2026, 5, 31), date(2025, 10, 1), date(2007, 12, 31)),
]


@pytest.mark.parametrize("extra", [[], REGION], ids=["official", "with-region-days"])
@pytest.mark.parametrize(("module_start", "module_end", "start", "birth"), QUOTES)
def test_billing_quotes_the_planned_lessons_of_the_rule(
    module_start: date, module_end: date, start: date, birth: date | None, extra: list[date]
) -> None:
    valid_until = certificate_valid_until(birth) if birth else None
    q = quote(2_000_000, 2_000_000, module_start, module_end, start, 2_000_000, "attendance", valid_until=valid_until)
    if birth is not None:
        assert q.ends_on == month_end(valid_until)  # the money stops at the end of the birthday's month
    for weekdays in TIMETABLES:
        answer = _quote_answer(uuid.uuid4(), q, weekdays, start, q.ends_on, extra)
        quoted = [line["planned_lessons"] for line in answer["schedule"]]
        expected = [rule(line.month, weekdays, start, q.ends_on, extra) for line in q.schedule]
        assert quoted == expected, weekdays


def test_a_holiday_month_is_quoted_with_its_days_off_taken_away() -> None:
    q = quote(2_000_000, 2_000_000, date(2025, 9, 1), date(2026, 5, 31), date(2026, 1, 1), 2_000_000, "attendance")
    answer = _quote_answer(uuid.uuid4(), q, [1, 5], date(2026, 1, 1), q.ends_on, [])
    by_month = {line["month"]: line["planned_lessons"] for line in answer["schedule"]}
    # January: Mondays 12, 19, 26 and Fridays 16, 23, 30 (5 Jan, 2 and 9 Jan are off); May: 1 and 11 May off
    assert (by_month["2026-01"], by_month["2026-05"]) == (6, 7)


# ------------------------------------------------------------------- billing's month close (SQL)
def _bounds(month: date) -> list[tuple[date, date]]:
    last = month_end(month)
    always = (date(2000, 1, 1), date(2100, 1, 1))
    return [
        always,
        (month.replace(day=9), always[1]),  # starts mid-month
        (always[0], month.replace(day=11)),  # ends mid-month
        (month, month),  # one day
        (last, always[1]),  # starts on the month's last day (31 December, 29 February)
        (always[0], last),  # ends on it
        (always[0], month - timedelta(days=1)),  # ended before the month
        (last + timedelta(days=1), always[1]),  # starts after it
    ]


MONTHS = [date(year, m, 1) for year in range(2024, 2029) for m in range(1, 13)]


@pytest.mark.integration
async def test_month_close_sql_counts_what_the_rule_counts(databases) -> None:  # noqa: ANN001
    engine = create_async_engine(await databases.fresh("billing"))
    query = text(
        f"SELECT p.i, {month_close._PLANNED} AS planned FROM ("
        "  SELECT x.i, GREATEST(CAST(:month AS date), x.s) AS d0, LEAST(CAST(:month_end AS date), x.e) AS d1,"
        "         CAST(string_to_array(x.w, ',') AS smallint[]) AS weekdays"
        "    FROM unnest(CAST(:ids AS int[]), CAST(:starts AS date[]), CAST(:ends AS date[]), CAST(:ws AS text[]))"
        "      AS x(i, s, e, w)) AS p ORDER BY p.i")
    checked = 0
    try:
        async with engine.connect() as conn:
            for month in MONTHS:
                cases = [(weekdays, s, e) for weekdays in TIMETABLES for s, e in _bounds(month)]
                for extra in ([], REGION):
                    # what month close passes: the month's days off, the region's own among them
                    off = sorted(days_off_between(month, month_end(month), extra))
                    rows = (await conn.execute(query, {
                        "month": month, "month_end": month_end(month), "days_off": off,
                        "ids": list(range(len(cases))), "starts": [s for _, s, _ in cases],
                        "ends": [e for _, _, e in cases], "ws": [",".join(map(str, w)) for w, _, _ in cases],
                    })).all()
                    sql = [r.planned for r in rows]
                    expected = [rule(month, w, s, e, extra) for w, s, e in cases]
                    assert sql == expected, (month, extra, [c for c, a, b in zip(cases, sql, expected) if a != b])
                    checked += len(cases)
    finally:
        await engine.dispose()
    assert checked == len(MONTHS) * 2 * len(TIMETABLES) * 8


# ------------------------------------------------- the billable lesson and the amount due in SQL
@pytest.mark.integration
async def test_the_sql_twins_answer_what_the_rules_answer(databases) -> None:  # noqa: ANN001
    engine = create_async_engine(await databases.fresh("billing"))
    marks = [(status, disputed) for status in ("present", "absent", "excused") for disputed in (False, True)]
    months = [(i, mode, a, p) for i in (0, 1, 7, 111_263, 22_252, 10**12 + 1) for mode in (MONTHLY, ATTENDANCE)
              for a in range(0, 11) for p in range(0, 10)]
    try:
        async with engine.connect() as conn:
            billable = (await conn.execute(text(
                f"SELECT {is_billable_sql('x.s', 'x.d')} FROM unnest(CAST(:s AS text[]), CAST(:d AS boolean[]))"
                " WITH ORDINALITY AS x(s, d, n) ORDER BY x.n"),
                {"s": [s for s, _ in marks], "d": [d for _, d in marks]})).scalars().all()
            assert billable == [is_billable(s, d) for s, d in marks]
            due = (await conn.execute(text(
                f"SELECT {amount_due_sql('x.i', 'x.m', 'x.a', 'x.p')} FROM unnest(CAST(:i AS bigint[]),"
                " CAST(:m AS text[]), CAST(:a AS int[]), CAST(:p AS int[])) WITH ORDINALITY AS x(i, m, a, p, n)"
                " ORDER BY x.n"),
                {"i": [m[0] for m in months], "m": [m[1] for m in months], "a": [m[2] for m in months],
                 "p": [m[3] for m in months]})).scalars().all()
            assert due == [amount_due(*m) for m in months]
    finally:
        await engine.dispose()
