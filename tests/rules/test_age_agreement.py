"""A child's age on a date: the three services agree on the edge dates (29 February in common and
leap years, 31 December, the birthday itself), through each service's own entry point that
depends on the age, including the set-based SQL of billing's period opening and the navigator's
search; and the one rule (``pfdo_contracts.rules.age``) has the properties an age must have."""

from __future__ import annotations

import datetime as dt
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Boolean, Column, Date, Integer, MetaData, Table, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from pfdo_billing.domain.calendar import Period
from pfdo_billing.domain.nominal import AgeGroup, age_group_for
from pfdo_billing.service.periods import _IN_AGE_GROUP
from pfdo_contracts.rules.age import age_on, anniversary, birthday_in_year
from pfdo_navigator.domain.eligibility import Ineligibility, ModuleTerms, check_eligibility
from pfdo_navigator.domain.search_query import SortOrder
from pfdo_navigator.service.search import SearchShape, _where
from pfdo_registry.domain.age import check_application_age, is_expiry_due

LEAP = date(2016, 2, 29)
EDGES = [
    # born 29 February: the birthday is 28 February in a common year
    (LEAP, date(2023, 2, 27), 6),
    (LEAP, date(2023, 2, 28), 7),
    (LEAP, date(2023, 3, 1), 7),
    (LEAP, date(2023, 12, 31), 7),
    (LEAP, date(2024, 2, 28), 7),
    (LEAP, date(2024, 2, 29), 8),  # the birthday itself in a leap year
    (LEAP, date(2024, 3, 1), 8),
    # 31 December: the last day of the year, as a birthday and as the date asked
    (date(2015, 12, 31), date(2022, 12, 30), 6),
    (date(2015, 12, 31), date(2022, 12, 31), 7),
    (date(2016, 1, 1), date(2022, 12, 31), 6),
    (date(2016, 1, 1), date(2023, 1, 1), 7),
    # an ordinary birthday, the day before and the day itself
    (date(2016, 9, 1), date(2026, 8, 31), 9),
    (date(2016, 9, 1), date(2026, 9, 1), 10),
]
AGES = range(0, 26)


def registry_age(birth: date, on: date) -> int:
    """Registry: the application age check answers the age it admits."""
    return check_application_age(birth, on, min_age=0, max_age=max(AGES))


def navigator_age(birth: date, on: date) -> int:
    """Navigator: the one age range [n, n] whose module the child may join on that start date."""
    admitted = [
        n for n in AGES
        if Ineligibility.AGE_OUT_OF_RANGE not in check_eligibility(
            certificate_status="active", birth_date=birth, start_date=on, today=on, active_enrolments=[],
            module=ModuleTerms(module_id="m", direction="artistic", age_min=n, age_max=n, starts_on=on,
                               ends_on=on + timedelta(days=200)))
    ]
    assert len(admitted) == 1, admitted
    return admitted[0]


def billing_age(birth: date, on: date) -> int:
    """Billing: the nominal's age group of a period starting that day (one group per age)."""
    return age_group_for(birth, Period(on, on + timedelta(days=364)), [AgeGroup(n, n) for n in AGES]).min_age


@pytest.mark.parametrize(("birth", "on", "expected"), EDGES, ids=[f"{b}@{o}" for b, o, _ in EDGES])
def test_the_services_agree_on_the_edge_dates(birth: date, on: date, expected: int) -> None:
    assert (age_on(birth, on), registry_age(birth, on), navigator_age(birth, on), billing_age(birth, on)) == (
        expected, expected, expected, expected)


def test_the_18th_birthday_of_a_leap_day_child_is_28_february() -> None:
    # registry expires the certificate on the day the child turns 18, by the same rule
    assert anniversary(LEAP, 18) == date(2034, 2, 28)
    assert not is_expiry_due(LEAP, date(2034, 2, 27)) and is_expiry_due(LEAP, date(2034, 2, 28))


# ------------------------------------------------------------------------- the same rule in SQL
PROBE = Table(
    "age_probe", MetaData(),
    Column("module", Integer), Column("visible", Boolean), Column("start_date", Date), Column("end_date", Date),
    Column("age_min", Integer), Column("age_max", Integer),
    prefixes=["TEMPORARY"],
)


@pytest.mark.integration
async def test_the_sql_of_billing_and_the_navigator_agree(databases) -> None:  # noqa: ANN001
    engine = create_async_engine(await databases.fresh("billing"))
    navigator_where = _where(SearchShape(SortOrder.RATING, frozenset({"today", "birth_date", "limit"})), PROBE, None)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(lambda sync: PROBE.create(sync))
            for birth, on, expected in EDGES:
                # billing's period opening: which age group's nominal the child is credited
                groups = (await conn.execute(text(
                    "SELECT n.age_min FROM (VALUES (CAST(:birth AS date))) AS c(birth_date) "
                    "CROSS JOIN (SELECT a AS age_min, a AS age_max FROM generate_series(0, 25) AS a) AS n "
                    f"WHERE {_IN_AGE_GROUP}"), {"birth": birth, "starts": on})).scalars().all()
                # the navigator's search for a chosen child: which modules' age ranges admit the child
                await conn.execute(PROBE.delete())
                await conn.execute(PROBE.insert(), [
                    {"module": n, "visible": True, "start_date": on, "end_date": on + timedelta(days=200),
                     "age_min": n, "age_max": n} for n in AGES])
                found = (await conn.execute(
                    select(PROBE.c.module).where(*navigator_where),
                    {"today": on, "birth_date": birth, "limit": 100})).scalars().all()
                assert (list(groups), list(found)) == ([expected], [expected]), (birth, on)
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------- the rule's properties
births = st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31))


@given(births, st.integers(0, 40_000))
def test_an_age_is_never_negative_and_grows_at_most_one_a_day(birth: date, days: int) -> None:
    on = birth + timedelta(days=days)
    age = age_on(birth, on)
    assert age >= 0
    assert age_on(birth, on + timedelta(days=1)) - age in (0, 1)


@given(births, st.integers(1, 100))
def test_the_age_grows_by_exactly_one_on_each_birthday(birth: date, years: int) -> None:
    birthday = anniversary(birth, years)
    assert birthday == birthday_in_year(birth, birth.year + years)
    assert age_on(birth, birthday) == years
    assert age_on(birth, birthday - timedelta(days=1)) == years - 1
    assert birthday.month == birth.month and birth.day - birthday.day in (0, 1)


@given(births, st.integers(1, 40_000))
def test_there_is_no_age_before_the_birth(birth: date, days: int) -> None:
    with pytest.raises(ValueError):
        age_on(birth, birth - timedelta(days=days))


def test_the_birth_date_itself_is_age_zero() -> None:
    assert age_on(LEAP, LEAP) == 0 and age_on(dt.date(2015, 12, 31), dt.date(2016, 12, 30)) == 0
