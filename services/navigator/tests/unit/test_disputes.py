"""Parents' disputes of attendance marks (docs/domain-rules.md, "Attendance journal and disputes")."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from pfdo_contracts.rules.lessons import is_billable
from pfdo_navigator.domain.attendance import MarkStatus
from pfdo_navigator.domain.disputes import (
    DisputableMark,
    DisputeEvent,
    DisputeState,
    dispute_deadline,
    open_dispute,
    resolve,
    status_after,
)
from pfdo_navigator.domain.errors import DomainError

NOW = datetime(2025, 10, 12, 10, tzinfo=timezone.utc)
MARK = DisputableMark("e1", date(2025, 10, 1), MarkStatus.PRESENT, version=1, marked_on=date(2025, 10, 3))


def opened(mark: DisputableMark = MARK, existing=(), today=date(2025, 10, 5)):  # type: ignore[no-untyped-def]
    return open_dispute(dispute_id="d1", mark=mark, existing=existing, today=today, now=NOW, comment="  never there ")


def test_open_within_seven_days_of_recording_inclusive() -> None:
    assert dispute_deadline(MARK.marked_on) == date(2025, 10, 10)
    dispute, event = opened(today=date(2025, 10, 10))
    assert dispute.state is DisputeState.OPEN and event is DisputeEvent.OPENED
    assert dispute.comment == "never there" and dispute.mark_version == 1
    with pytest.raises(DomainError) as exc:
        opened(today=date(2025, 10, 11))
    assert exc.value.code == "dispute_window_closed"


def test_window_counts_from_the_correction_not_the_lesson() -> None:
    late_backfill = DisputableMark("e1", date(2025, 9, 1), MarkStatus.PRESENT, version=2, marked_on=date(2025, 10, 3))
    assert opened(mark=late_backfill, today=date(2025, 10, 9))[0].state is DisputeState.OPEN


def test_claim_must_differ_from_the_mark() -> None:
    absent = DisputableMark("e1", date(2025, 10, 1), MarkStatus.ABSENT, 1, date(2025, 10, 3))
    with pytest.raises(DomainError) as exc:
        opened(mark=absent)  # claims absent, the default
    assert exc.value.code == "claim_matches_mark"
    d, _ = open_dispute(
        dispute_id="d2", mark=absent, existing=(), today=date(2025, 10, 4), now=NOW, claimed_status=MarkStatus.EXCUSED
    )
    upheld, _ = resolve(d, upheld=True, by="op", now=NOW)
    assert status_after(upheld, MarkStatus.ABSENT) is MarkStatus.EXCUSED


def test_one_open_dispute_per_mark_and_one_per_version() -> None:
    first, _ = opened()
    with pytest.raises(DomainError) as exc:
        opened(existing=[first])
    assert exc.value.code == "dispute_already_open"
    rejected, _ = resolve(first, upheld=False, by="op1", now=NOW)
    with pytest.raises(DomainError) as exc:
        opened(existing=[rejected])
    assert exc.value.code == "already_disputed"
    corrected = DisputableMark("e1", date(2025, 10, 1), MarkStatus.PRESENT, version=2, marked_on=date(2025, 10, 6))
    assert opened(mark=corrected, existing=[rejected])[0].mark_version == 2
    other_mark = DisputableMark("e1", date(2025, 10, 2), MarkStatus.PRESENT, 1, date(2025, 10, 3))
    assert opened(mark=other_mark, existing=[first])[0].state is DisputeState.OPEN


def test_upheld_makes_the_mark_absent_rejected_keeps_it() -> None:
    d, _ = opened()
    upheld, event = resolve(d, upheld=True, by="op1", now=NOW, note="journal photo")
    assert upheld.state is DisputeState.UPHELD and event is DisputeEvent.RESOLVED
    assert upheld.resolved_by == "op1" and upheld.resolved_at == NOW
    assert status_after(upheld, MarkStatus.PRESENT) is MarkStatus.ABSENT
    rejected, _ = resolve(d, upheld=False, by="op1", now=NOW)
    assert status_after(rejected, MarkStatus.PRESENT) is MarkStatus.PRESENT


def test_resolution_is_idempotent_but_cannot_be_reversed() -> None:
    d, _ = opened()
    upheld, _ = resolve(d, upheld=True, by="op1", now=NOW)
    assert resolve(upheld, upheld=True, by="op1", now=NOW) == (upheld, None)
    with pytest.raises(DomainError) as exc:
        resolve(upheld, upheld=False, by="op2", now=NOW)
    assert exc.value.code == "illegal_transition"


def test_disputed_mark_is_not_billable_until_resolved() -> None:
    # the navigator's mark statuses under the one billable rule
    assert is_billable(MarkStatus.PRESENT, disputed=False)
    assert not is_billable(MarkStatus.PRESENT, disputed=True)
    assert not is_billable(MarkStatus.EXCUSED, disputed=False)
    assert not is_billable(MarkStatus.ABSENT, disputed=False)
