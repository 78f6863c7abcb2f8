"""The month-close gate: frozen by the navigator and every attendance event applied."""

import pytest

from pfdo_billing.domain.month_gate import (
    JournalCountMismatch,
    JournalNotDrained,
    JournalNotFrozen,
    JournalWatermark,
    check_closable,
)


def test_not_frozen_is_refused_whatever_was_applied() -> None:
    for applied in (0, 5):
        with pytest.raises(JournalNotFrozen) as err:
            check_closable(JournalWatermark("2026-09", None, applied))
        assert err.value.code == "journal_not_frozen"


def test_frozen_but_not_drained_is_refused_until_every_event_is_applied() -> None:
    with pytest.raises(JournalNotDrained) as err:
        check_closable(JournalWatermark("2026-09", 3, 2))
    assert err.value.code == "journal_not_drained"
    assert err.value.details == {"month": "2026-09", "applied": 2, "published": 3}
    check_closable(JournalWatermark("2026-09", 3, 3))


def test_a_frozen_month_without_marks_closes() -> None:
    mark = JournalWatermark("2026-08", 0, 0)
    assert mark.frozen and mark.drained
    check_closable(mark)


def test_more_applied_than_published_is_a_mismatch_not_a_close() -> None:
    with pytest.raises(JournalCountMismatch) as err:
        check_closable(JournalWatermark("2026-09", 3, 4))
    assert err.value.code == "journal_count_mismatch"


def test_negative_counts_are_bugs() -> None:
    with pytest.raises(ValueError):
        check_closable(JournalWatermark("2026-09", 3, -1))
