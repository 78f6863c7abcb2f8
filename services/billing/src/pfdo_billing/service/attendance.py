"""Attendance marks and disputes: what month close counts as attended.

A flood of journal postings arrives in batches: one transaction per batch and ONE multi-row
INSERT ... ON CONFLICT with a revision guard (the highest revision of a mark wins; an older or
repeated revision changes nothing), no per-mark round trips.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import navigator as n

from .context import Billing

_UPSERT = text(
    """
    INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:enrolments AS uuid[]), CAST(:dates AS date[]),
                         CAST(:statuses AS varchar[]), CAST(:revisions AS integer[]))
    ON CONFLICT (mark_id) DO UPDATE SET status = EXCLUDED.status, revision = EXCLUDED.revision,
        lesson_date = EXCLUDED.lesson_date
    WHERE attendance_marks.revision < EXCLUDED.revision
    """
)


async def attendance_recorded(b: Billing, session: AsyncSession,
                              batch: list[tuple[n.AttendanceRecorded, Envelope]]) -> int:
    """Upsert every mark of a batch of journal postings; returns how many marks were offered."""
    latest: dict = {}
    for event, _env in batch:
        for mark in event.marks:
            seen = latest.get(mark.mark_id)
            if seen is None or seen[3] < mark.revision:
                latest[mark.mark_id] = (event.enrolment_id, mark.lesson_date, mark.status.value, mark.revision)
    if not latest:
        return 0
    ids = list(latest)
    values = [latest[i] for i in ids]
    await session.execute(_UPSERT, {
        "ids": ids, "enrolments": [v[0] for v in values], "dates": [v[1] for v in values],
        "statuses": [v[2] for v in values], "revisions": [v[3] for v in values],
    })
    return len(ids)


async def dispute_opened(b: Billing, session: AsyncSession, e: n.DisputeOpened, env: Envelope) -> None:
    """A disputed mark is not billed until resolved (a dispute may overtake its mark: keep a
    placeholder that the mark itself then fills in)."""
    await session.execute(
        text(
            "INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision, disputed) "
            "VALUES (:m, :e, :d, 'absent', 1, true) "
            "ON CONFLICT (mark_id) DO UPDATE SET disputed = true"
        ),
        {"m": e.mark_id, "e": e.enrolment_id, "d": e.lesson_date},
    )


async def dispute_resolved(b: Billing, session: AsyncSession, e: n.DisputeResolved, env: Envelope) -> None:
    await session.execute(
        text(
            "INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision, disputed) "
            "VALUES (:m, :e, :d, :s, 1, false) "
            "ON CONFLICT (mark_id) DO UPDATE SET disputed = false, status = EXCLUDED.status"
        ),
        {"m": e.mark_id, "e": e.enrolment_id, "d": e.lesson_date, "s": e.final_status.value},
    )
