"""Attendance marks and disputes: what month close counts as attended.

A flood of journal postings arrives in batches: one transaction per batch and ONE multi-row
INSERT ... ON CONFLICT with a revision guard (the highest revision of a mark wins; an older or
repeated revision changes nothing), no per-mark round trips.

The month-close watermark (``domain/month_gate.py``): the same transaction adds the batch's
events to ``attendance_months.applied_events`` per month (the inbox has already dropped
redeliveries, so each event counts once), and ``AttendanceMonthFrozen`` records the navigator's
published count.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_plumbing.db import insert_expecting_new
from pfdo_plumbing.logging import get_logger
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n

from . import late_adjustments
from .context import Billing

log = get_logger(__name__)

_APPLIED = text(
    """
    INSERT INTO attendance_months (month, applied_events)
    SELECT * FROM unnest(CAST(:months AS date[]), CAST(:counts AS integer[]))
    ON CONFLICT (month) DO UPDATE SET applied_events = attendance_months.applied_events + EXCLUDED.applied_events
    """
)

_INSERT = """
    INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:enrolments AS uuid[]), CAST(:dates AS date[]),
                         CAST(:statuses AS varchar[]), CAST(:revisions AS integer[]))
    """
_INSERT_NEW = text(_INSERT)
_UPSERT = text(
    _INSERT + """
    ON CONFLICT (mark_id) DO UPDATE SET status = EXCLUDED.status, revision = EXCLUDED.revision,
        lesson_date = EXCLUDED.lesson_date
    WHERE attendance_marks.revision < EXCLUDED.revision
    """
)
"""Typed arrays, not one JSON document: encoding them costs this process more, but decoding the
next unit overlaps the database's work, and JSON parsing made PostgreSQL the slower side
(measured: ~58 k marks/s with JSON, see bench/billing_ingest.py)."""


async def attendance_recorded(b: Billing, session: AsyncSession,
                              batch: list[tuple[n.AttendanceRecorded, Envelope]]) -> int:
    """Upsert every mark of a batch of journal postings; returns how many marks were offered."""
    per_month: dict[str, int] = {}
    for event, _env in batch:
        per_month[event.month] = per_month.get(event.month, 0) + 1
    if per_month:
        months = sorted(per_month)
        await session.execute(_APPLIED, {"months": [_first_day(m) for m in months],
                                         "counts": [per_month[m] for m in months]})
    # first postings are the flood: their columns go as they come. Corrections (a new revision
    # of a known mark), marks a dispute overtook and a mark posted twice in one batch take the
    # upsert, with the highest revision of each mark
    columns = _columns(batch)
    if not columns["ids"]:
        return 0
    await insert_expecting_new(session, _INSERT_NEW, _UPSERT, columns, lambda: _latest_revisions(batch))
    return len(columns["ids"])


def _columns(batch: list[tuple[n.AttendanceRecorded, Envelope]]) -> dict[str, list]:
    ids, enrolments, dates, statuses, revisions = [], [], [], [], []
    for event, _env in batch:
        enrolment = event.enrolment_id
        for mark in event.marks:
            ids.append(mark.mark_id)
            enrolments.append(enrolment)
            dates.append(mark.lesson_date)
            statuses.append(mark.status.value)
            revisions.append(mark.revision)
    return {"ids": ids, "enrolments": enrolments, "dates": dates, "statuses": statuses, "revisions": revisions}


def _latest_revisions(batch: list[tuple[n.AttendanceRecorded, Envelope]]) -> dict[str, list]:
    """One row per mark, its highest revision in the batch (an upsert may touch a row once)."""
    latest: dict = {}
    for event, _env in batch:
        for mark in event.marks:
            seen = latest.get(mark.mark_id)
            if seen is None or seen[3] < mark.revision:
                latest[mark.mark_id] = (event.enrolment_id, mark.lesson_date, mark.status.value, mark.revision)
    ids = list(latest)
    values = [latest[i] for i in ids]
    return {"ids": ids, "enrolments": [v[0] for v in values], "dates": [v[1] for v in values],
            "statuses": [v[2] for v in values], "revisions": [v[3] for v in values]}


async def dispute_opened(b: Billing, session: AsyncSession, e: n.DisputeOpened, env: Envelope) -> None:
    """A disputed mark is not billed until resolved (a dispute may overtake its mark: keep a
    placeholder that the mark itself then fills in). An opening seen before, or arriving after its
    decision, changes nothing. If the mark's month is already closed and the mark was billed, the
    month is adjusted: the lesson is refunded until the operator decides."""
    opened = (await session.execute(
        text(
            "WITH d AS (INSERT INTO disputes (dispute_id, mark_id, state) VALUES (:id, :m, 'open') "
            "           ON CONFLICT (dispute_id) DO NOTHING RETURNING 1) "
            "INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision, disputed) "
            "SELECT :m, :e, :d, 'absent', 1, true WHERE EXISTS (SELECT 1 FROM d) "
            "ON CONFLICT (mark_id) DO UPDATE SET disputed = true RETURNING 1"
        ),
        {"id": e.dispute_id, "m": e.mark_id, "e": e.enrolment_id, "d": e.lesson_date},
    )).first()
    if opened is None:  # this dispute was seen before (perhaps already decided): nothing changes
        return
    await _readjust(b, session, e, env, bev.AdjustmentReason.DISPUTE_OPENED)


async def dispute_resolved(b: Billing, session: AsyncSession, e: n.DisputeResolved, env: Envelope) -> None:
    """The mark is billable again with the operator's final status (unless another dispute on it
    is still open); a closed month is adjusted. A decision seen before changes nothing: arriving
    again after a second dispute on the same mark, it neither clears that dispute nor puts back
    a status the mark has since left."""
    decided = (await session.execute(
        text(
            "WITH d AS (INSERT INTO disputes (dispute_id, mark_id, state) VALUES (:id, :m, 'resolved') "
            "           ON CONFLICT (dispute_id) DO UPDATE SET state = 'resolved', updated_at = now() "
            "           WHERE disputes.state <> 'resolved' RETURNING 1), "
            # the statement's snapshot: this dispute may still read as open, so it is left out
            "     other AS (SELECT EXISTS (SELECT 1 FROM disputes WHERE mark_id = :m AND state = 'open' "
            "                                 AND dispute_id <> :id) AS open) "
            "INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision, disputed) "
            "SELECT :m, :e, :d, :s, 1, other.open FROM other WHERE EXISTS (SELECT 1 FROM d) "
            "ON CONFLICT (mark_id) DO UPDATE SET disputed = EXCLUDED.disputed, status = EXCLUDED.status RETURNING 1"
        ),
        {"id": e.dispute_id, "m": e.mark_id, "e": e.enrolment_id, "d": e.lesson_date, "s": e.final_status.value},
    )).first()
    if decided is None:  # this decision was seen before: nothing changes
        return
    await _readjust(b, session, e, env, bev.AdjustmentReason.DISPUTE_RESOLVED)


async def _readjust(b: Billing, session: AsyncSession, e: n.DisputeOpened | n.DisputeResolved, env: Envelope,
                    reason: bev.AdjustmentReason) -> None:
    """A dispute on a mark of a month already closed bills that month again (late_adjustments)."""
    await late_adjustments.readjust_closed_month(
        b, session, enrolment_id=e.enrolment_id, lesson_date=e.lesson_date, reason=reason,
        dispute_id=e.dispute_id, mark_id=e.mark_id, cause_event_id=env.id)


def _first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


async def month_frozen(b: Billing, session: AsyncSession, e: n.AttendanceMonthFrozen, env: Envelope) -> None:
    """Record the navigator's watermark of a frozen month (a freeze is final: the first one stands)."""
    row = (await session.execute(text(
        "INSERT INTO attendance_months (month, published_events, frozen_on, frozen_event_id) VALUES (:m, :n, :d, :id) "
        "ON CONFLICT (month) DO UPDATE SET published_events = COALESCE(attendance_months.published_events, "
        "EXCLUDED.published_events), frozen_on = COALESCE(attendance_months.frozen_on, EXCLUDED.frozen_on), "
        "frozen_event_id = COALESCE(attendance_months.frozen_event_id, EXCLUDED.frozen_event_id) "
        "RETURNING published_events"),
        {"m": _first_day(e.month), "n": e.attendance_events, "d": e.frozen_on, "id": env.id})).one()
    if row.published_events != e.attendance_events:
        log.warning("journal_freeze_count_differs", month=e.month, kept=row.published_events, offered=e.attendance_events)
