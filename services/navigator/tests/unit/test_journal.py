"""The journal freeze rules: which months the job freezes, when a freeze is allowed."""

from datetime import date

import pytest

from pfdo_navigator.domain.dates import YearMonth
from pfdo_navigator.domain.errors import DomainError
from pfdo_navigator.domain.journal import (
    check_freeze_allowed,
    frozen_in,
    latest_month_due,
    months_to_freeze,
    parse_month,
    previous_month,
)


def test_previous_month_crosses_the_year() -> None:
    assert previous_month(YearMonth(2027, 1)) == YearMonth(2026, 12)
    assert previous_month(YearMonth(2026, 10)) == YearMonth(2026, 9)


def test_latest_month_due_turns_on_the_freeze_day() -> None:
    assert latest_month_due(date(2026, 10, 4), 5) == YearMonth(2026, 8)
    assert latest_month_due(date(2026, 10, 5), 5) == YearMonth(2026, 9)
    assert latest_month_due(date(2027, 1, 31), 5) == YearMonth(2026, 12)
    assert latest_month_due(date(2027, 1, 1), 1) == YearMonth(2026, 12)
    with pytest.raises(ValueError):
        latest_month_due(date(2027, 1, 1), 29)


def test_months_to_freeze_takes_every_open_month_up_to_the_due_one_and_the_due_one() -> None:
    open_months = [YearMonth(2026, 7), YearMonth(2026, 9), YearMonth(2026, 10)]
    assert months_to_freeze(open_months, date(2026, 10, 5), 5) == [YearMonth(2026, 7), YearMonth(2026, 9)]
    # before the freeze day of October only August is due, and it is frozen even without marks
    assert months_to_freeze(open_months, date(2026, 10, 4), 5) == [YearMonth(2026, 7), YearMonth(2026, 8)]
    assert months_to_freeze([], date(2026, 11, 6), 5) == [YearMonth(2026, 10)]


def test_a_month_is_frozen_only_after_it_ended() -> None:
    with pytest.raises(DomainError) as err:
        check_freeze_allowed(YearMonth(2026, 9), date(2026, 9, 30))
    assert err.value.code == "month_not_over"
    check_freeze_allowed(YearMonth(2026, 9), date(2026, 10, 1))
    check_freeze_allowed(YearMonth(2026, 9), date(2026, 9, 15), require_month_end=False)


def test_parse_month() -> None:
    assert parse_month("2026-09") == YearMonth(2026, 9)
    for bad in ("2026-13", "2026-9", "26-09", "2026/09", "", "0000-01", "1999-12"):
        with pytest.raises(DomainError) as err:
            parse_month(bad)
        assert err.value.code == "invalid_month"


def test_frozen_in_lists_the_frozen_months_a_posting_touches() -> None:
    touched = [YearMonth(2026, 10), YearMonth(2026, 9), YearMonth(2026, 9)]
    assert frozen_in(touched, {YearMonth(2026, 9), YearMonth(2026, 8)}) == [YearMonth(2026, 9)]
    assert frozen_in(touched, set()) == []
