"""The attendance journal and disputes.

Month closing (see ``domain/journal.py``): the navigator freezes a month's journal before
billing may close the month (an operator's command, or the scheduled job on the freeze day);
postings hold a shared lock on the month's ``journal_months`` row and the freeze an exclusive
one, so a posting is either counted in the freeze's watermark or refused with 409
``journal_frozen``. The freeze publishes ``AttendanceMonthFrozen`` with the number of
``AttendanceRecorded`` events of the month (one ``attendance_batches`` row each).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import AttendanceStatus, month_of
from pfdo_contracts.events import navigator as n
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.domain_error import NotFound
from pfdo_plumbing.outbox import OutboxWriter

from ..adapters.tables import ATTENDANCE_BATCHES, DISPUTES, ENROLMENTS, JOURNAL_MONTHS, MARKS, MODULES
from ..domain import disputes as dd
from ..domain import journal
from ..domain.attendance import (
    ContractPeriod,
    Group,
    Mark,
    MarkKind,
    MarkRejection,
    MarkStatus,
    YearMonth,
    validate_marks,
)
from ..domain.errors import DomainError
from .enrolments import may_see

CONTRACT_STATES = ("confirmed", "terminated", "ended")
_CHUNK = 2000


@dataclass(frozen=True)
class MarkInput:
    enrolment_id: uuid.UUID
    module_id: uuid.UUID
    lesson_date: dt.date
    status: MarkStatus


async def _lock_journal_months(session: AsyncSession, months: set[str]) -> set[YearMonth]:
    """Share-lock the journal rows of ``months`` (created open when new); returns the frozen ones.

    Shared locks let postings of one month run side by side, and make a concurrent freeze wait
    until they committed (they are then part of its count)."""
    if not months:
        return set()
    ordered = sorted(months)
    await session.execute(insert(JOURNAL_MONTHS).values([{"month": m, "state": "open"} for m in ordered])
                          .on_conflict_do_nothing(index_elements=[JOURNAL_MONTHS.c.month]))
    rows = await session.execute(
        select(JOURNAL_MONTHS.c.month, JOURNAL_MONTHS.c.state).where(JOURNAL_MONTHS.c.month.in_(ordered))
        .order_by(JOURNAL_MONTHS.c.month).with_for_update(read=True)
    )
    return {journal.parse_month(r.month) for r in rows if r.state == "frozen"}


async def post_marks(
    session: AsyncSession, outbox: OutboxWriter, who: Principal, marks: list[MarkInput], *, today: dt.date
) -> dict[str, Any]:
    provider_id = who.provider_id or ""
    module_ids = {m.module_id for m in marks}
    enrolment_ids = {m.enrolment_id for m in marks}
    groups = {
        str(r.module_id): Group(str(r.module_id), str(r.provider_id), frozenset(r.weekdays))
        for r in await session.execute(
            select(MODULES.c.module_id, MODULES.c.provider_id, MODULES.c.weekdays).where(MODULES.c.module_id.in_(module_ids))
        )
    }
    contract_rows = {
        r.enrolment_id: r
        for r in await session.execute(
            select(ENROLMENTS).where(and_(ENROLMENTS.c.enrolment_id.in_(enrolment_ids), ENROLMENTS.c.state.in_(CONTRACT_STATES)))
        )
    }
    contracts = {
        str(eid): ContractPeriod(str(eid), str(r.module_id), r.starts_on, r.ends_on) for eid, r in contract_rows.items()
    }
    closed = await _lock_journal_months(session, {month_of(m.lesson_date) for m in marks})
    existing_rows = {
        (str(r.enrolment_id), r.lesson_date): r
        for r in await session.execute(
            select(MARKS).where(MARKS.c.enrolment_id.in_(list(contract_rows))).with_for_update()
        )
    } if contract_rows else {}
    domain_marks = [Mark(str(m.enrolment_id), str(m.module_id), m.lesson_date, m.status) for m in marks]
    result = validate_marks(
        domain_marks, provider_id=provider_id, groups=groups, contracts=contracts, today=today, closed_months=closed,
        existing={k: MarkStatus(v.status) for k, v in existing_rows.items()},
    )
    late = [r for r in result.rejected if r.reason is MarkRejection.MONTH_CLOSED]
    if late:
        frozen = ", ".join(str(m) for m in journal.frozen_in((YearMonth.of(r.mark.lesson_date) for r in late), closed))
        raise DomainError(
            "journal_frozen",
            f"The attendance journal of {frozen} is frozen for month close: marks and corrections of it are no "
            "longer accepted. Nothing of this posting was stored.", months=frozen,
            errors=[{"index": r.index, "enrolment_id": r.mark.enrolment_id, "lesson_date": r.mark.lesson_date.isoformat(),
                     "reason": r.reason.value} for r in late],
        )
    changed = result.changed
    rows = []
    for a in changed:
        prior = existing_rows.get(a.mark.key)
        rows.append({
            "mark_id": prior.mark_id if prior else uuid.uuid4(), "enrolment_id": uuid.UUID(a.mark.enrolment_id),
            "module_id": uuid.UUID(a.mark.group_id), "provider_id": uuid.UUID(provider_id),
            "lesson_date": a.mark.lesson_date, "status": a.mark.status.value,
            "revision": (prior.revision + 1) if prior else 1, "marked_on": today,
        })
    stored: list[Any] = []
    for start in range(0, len(rows), _CHUNK):
        stmt = insert(MARKS).values(rows[start : start + _CHUNK])
        stmt = stmt.on_conflict_do_update(
            index_elements=[MARKS.c.enrolment_id, MARKS.c.lesson_date],
            set_={"status": stmt.excluded.status, "revision": MARKS.c.revision + 1, "marked_on": stmt.excluded.marked_on},
        ).returning(MARKS.c.mark_id, MARKS.c.enrolment_id, MARKS.c.lesson_date, MARKS.c.status, MARKS.c.revision)
        stored.extend((await session.execute(stmt)).all())
    batches: dict[tuple[uuid.UUID, str], list[Any]] = defaultdict(list)
    for r in stored:
        batches[(r.enrolment_id, month_of(r.lesson_date))].append(r)
    events = []
    for (enrolment_id, month), items in batches.items():
        contract = contract_rows[enrolment_id]
        events.append(n.AttendanceRecorded(
            batch_id=uuid.uuid4(), enrolment_id=enrolment_id, certificate_id=contract.certificate_id,
            provider_id=contract.provider_id, module_id=contract.module_id, month=month,
            marks=[n.AttendanceMark(mark_id=i.mark_id, lesson_date=i.lesson_date, status=AttendanceStatus(i.status),
                                    revision=i.revision) for i in sorted(items, key=lambda i: i.lesson_date)],
        ))
    await outbox.put_many(session, events)
    if events:  # the watermark of the month's freeze counts these rows
        await session.execute(insert(ATTENDANCE_BATCHES), [
            {"batch_id": e.batch_id, "month": e.month, "enrolment_id": e.enrolment_id} for e in events
        ])
    if changed:
        await audit.record(
            session, who, "attendance.posted", "provider", provider_id,
            details={"fields": ["attendance_marks"], "changed": len(changed), "events": len(events)},
        )
    counts = {k.value: sum(1 for a in result.accepted if a.kind is k) for k in MarkKind}
    return {
        "accepted": len(result.accepted), **counts, "events": len(events),
        "rejected": [
            {"index": r.index, "enrolment_id": r.mark.enrolment_id, "lesson_date": r.mark.lesson_date,
             "reason": r.reason.value}
            for r in result.rejected
        ],
    }


async def read_marks(session: AsyncSession, who: Principal, enrolment_id: uuid.UUID, month: str | None) -> list[dict[str, Any]]:
    enrolment = (await session.execute(select(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == enrolment_id))).first()
    if enrolment is None or not may_see(who, enrolment):
        raise NotFound("Enrolment")
    query = select(MARKS).where(MARKS.c.enrolment_id == enrolment_id).order_by(MARKS.c.lesson_date)
    if month:
        first = dt.date(int(month[:4]), int(month[5:]), 1)
        query = query.where(and_(MARKS.c.lesson_date >= first, MARKS.c.lesson_date <= YearMonth.of(first).last_day))
    marks = (await session.execute(query)).all()
    open_ = {
        r.mark_id: r.dispute_id
        for r in await session.execute(
            select(DISPUTES.c.mark_id, DISPUTES.c.dispute_id).where(
                and_(DISPUTES.c.enrolment_id == enrolment_id, DISPUTES.c.state == "open")
            )
        )
    }
    return [
        {"mark_id": m.mark_id, "enrolment_id": m.enrolment_id, "lesson_date": m.lesson_date, "status": m.status,
         "revision": m.revision, "marked_on": m.marked_on,
         "dispute_deadline": dd.dispute_deadline(m.marked_on), "open_dispute_id": open_.get(m.mark_id)}
        for m in marks
    ]


# ------------------------------------------------------------------------------- disputes
def _dispute(row: Any) -> dd.Dispute:
    return dd.Dispute(
        id=str(row.dispute_id), enrolment_id=str(row.enrolment_id), lesson_date=row.lesson_date,
        mark_version=row.mark_version, state=dd.DisputeState(row.state), opened_at=row.opened_at,
        claimed_status=MarkStatus(row.claimed_status), comment=row.comment, resolved_at=row.resolved_at,
        resolved_by=row.resolved_by, resolution_note=row.resolution_note,
    )


async def open_dispute(
    session: AsyncSession, outbox: OutboxWriter, who: Principal, mark_id: uuid.UUID, claimed: MarkStatus,
    comment: str | None, *, today: dt.date, now: dt.datetime,
) -> Any:
    mark = (await session.execute(select(MARKS).where(MARKS.c.mark_id == mark_id).with_for_update())).first()
    enrolment = (
        (await session.execute(select(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == mark.enrolment_id))).first()
        if mark else None
    )
    if mark is None or enrolment is None or enrolment.parent_id != who.sub:
        raise NotFound("Mark")
    existing = [_dispute(r) for r in await session.execute(select(DISPUTES).where(DISPUTES.c.mark_id == mark_id))]
    disputable = dd.DisputableMark(str(mark.enrolment_id), mark.lesson_date, MarkStatus(mark.status), mark.revision, mark.marked_on)
    dispute, _ = dd.open_dispute(
        dispute_id=str(uuid.uuid4()), mark=disputable, existing=existing, today=today, now=now,
        claimed_status=claimed, comment=comment,
    )
    dispute_id = uuid.UUID(dispute.id)
    await session.execute(insert(DISPUTES).values(
        dispute_id=dispute_id, mark_id=mark_id, enrolment_id=mark.enrolment_id, lesson_date=mark.lesson_date,
        mark_version=dispute.mark_version, state=dispute.state.value, claimed_status=dispute.claimed_status.value,
        comment=dispute.comment, opened_at=now, opened_by=who.sub,
    ))
    await outbox.put(session, n.DisputeOpened(
        dispute_id=dispute_id, enrolment_id=mark.enrolment_id, certificate_id=enrolment.certificate_id,
        provider_id=enrolment.provider_id, mark_id=mark_id, lesson_date=mark.lesson_date,
        month=month_of(mark.lesson_date), claimed_status=AttendanceStatus(claimed.value), opened_on=today,
    ))
    await audit.record(session, who, "dispute.opened", "dispute", dispute_id, municipality=enrolment.municipality_code,
                       details={"fields": ["state", "claimed_status"]})
    return (await session.execute(select(DISPUTES).where(DISPUTES.c.dispute_id == dispute_id))).first()


async def read_dispute(session: AsyncSession, who: Principal, dispute_id: uuid.UUID, *, lock: bool = False) -> tuple[Any, Any]:
    query = select(DISPUTES).where(DISPUTES.c.dispute_id == dispute_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    enrolment = (
        (await session.execute(select(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == row.enrolment_id))).first()
        if row else None
    )
    if row is None or enrolment is None or not may_see(who, enrolment):
        raise NotFound("Dispute")
    return row, enrolment


async def with_mark(session: AsyncSession, row: Any) -> dict[str, Any]:
    """A dispute's row with its mark as it stands now (``mark_status``, ``marked_on``)."""
    mark = (await session.execute(select(MARKS.c.status, MARKS.c.marked_on)
                                  .where(MARKS.c.mark_id == row.mark_id))).first()
    return {**dict(row._mapping), "mark_status": mark.status if mark else None,
            "marked_on": mark.marked_on if mark else None}


async def resolve_dispute(
    session: AsyncSession, outbox: OutboxWriter, who: Principal, dispute_id: uuid.UUID, upheld: bool,
    note: str | None, *, today: dt.date, now: dt.datetime,
) -> Any:
    row, enrolment = await read_dispute(session, who, dispute_id, lock=True)
    resolved, event = dd.resolve(_dispute(row), upheld=upheld, by=who.sub, now=now, note=note)
    if event is None:
        return row
    mark = (await session.execute(select(MARKS).where(MARKS.c.mark_id == row.mark_id).with_for_update())).first()
    final = dd.status_after(resolved, MarkStatus(mark.status))
    await session.execute(update(DISPUTES).where(DISPUTES.c.dispute_id == dispute_id).values(
        state=resolved.state.value, resolved_at=now, resolved_by=who.sub, resolution_note=note,
    ))
    if final.value != mark.status:
        await session.execute(
            update(MARKS).where(MARKS.c.mark_id == mark.mark_id).values(status=final.value, revision=MARKS.c.revision + 1)
        )
    await outbox.put(session, n.DisputeResolved(
        dispute_id=dispute_id, enrolment_id=row.enrolment_id, certificate_id=enrolment.certificate_id,
        provider_id=enrolment.provider_id, mark_id=row.mark_id, lesson_date=row.lesson_date,
        month=month_of(row.lesson_date), outcome=n.DisputeOutcome.UPHELD if upheld else n.DisputeOutcome.REJECTED,
        final_status=AttendanceStatus(final.value), resolved_on=today,
    ))
    await audit.record(session, who, "dispute.resolved", "dispute", dispute_id, municipality=enrolment.municipality_code,
                       details={"fields": ["state", "attendance_mark.status"], "outcome": resolved.state.value})
    return (await session.execute(select(DISPUTES).where(DISPUTES.c.dispute_id == dispute_id))).first()


async def list_disputes(session: AsyncSession, who: Principal, state: str | None, limit: int,
                        after: tuple[dt.datetime, uuid.UUID] | None = None) -> list[Any]:
    """Disputes in the caller's scope, oldest first (opened_at, then id), after the keyset ``after``."""
    query = select(DISPUTES, ENROLMENTS.c.municipality_code, ENROLMENTS.c.provider_id, ENROLMENTS.c.parent_id,
                   MARKS.c.status.label("mark_status"), MARKS.c.marked_on).join(
        ENROLMENTS, ENROLMENTS.c.enrolment_id == DISPUTES.c.enrolment_id
    ).outerjoin(MARKS, MARKS.c.mark_id == DISPUTES.c.mark_id)
    if who.role == Role.PARENT:
        query = query.where(ENROLMENTS.c.parent_id == who.sub)
    elif who.role == Role.PROVIDER:
        query = query.where(ENROLMENTS.c.provider_id == uuid.UUID(who.provider_id or str(uuid.UUID(int=0))))
    elif who.role == Role.MUNICIPAL_OPERATOR:
        query = query.where(ENROLMENTS.c.municipality_code == who.municipality)
    if state:
        query = query.where(DISPUTES.c.state == state)
    if after is not None:
        query = query.where(tuple_(DISPUTES.c.opened_at, DISPUTES.c.dispute_id) > tuple_(*after))
    return list((await session.execute(query.order_by(DISPUTES.c.opened_at, DISPUTES.c.dispute_id).limit(limit))).all())


# ------------------------------------------------------------------------------- journal freeze
def _journal_out(month: str, row: Any) -> dict[str, Any]:
    if row is None:
        return {"month": month, "state": "open", "attendance_events": None, "frozen_on": None, "frozen_by": None}
    return {"month": row.month, "state": row.state, "attendance_events": row.attendance_events,
            "frozen_on": row.frozen_on, "frozen_by": row.frozen_by}


async def read_journal_month(session: AsyncSession, month: str) -> dict[str, Any]:
    journal.parse_month(month)
    row = (await session.execute(select(JOURNAL_MONTHS).where(JOURNAL_MONTHS.c.month == month))).first()
    return _journal_out(month, row)


async def freeze_month(
    session: AsyncSession, outbox: OutboxWriter, who: Principal | None, month: str, *, today: dt.date,
    by: n.FrozenBy, require_month_end: bool = True,
) -> dict[str, Any]:
    """Freeze a month's journal (idempotent): refuse its later marks, publish the watermark."""
    ym = journal.parse_month(month)
    journal.check_freeze_allowed(ym, today, require_month_end=require_month_end)
    month = str(ym)
    await session.execute(insert(JOURNAL_MONTHS).values(month=month, state="open")
                          .on_conflict_do_nothing(index_elements=[JOURNAL_MONTHS.c.month]))
    # exclusive: waits for the postings of the month in flight (they hold shared locks)
    row = (await session.execute(select(JOURNAL_MONTHS).where(JOURNAL_MONTHS.c.month == month).with_for_update())).one()
    if row.state == "frozen":
        return _journal_out(month, row)
    count = int(await session.scalar(
        select(func.count()).select_from(ATTENDANCE_BATCHES).where(ATTENDANCE_BATCHES.c.month == month)) or 0)
    await session.execute(update(JOURNAL_MONTHS).where(JOURNAL_MONTHS.c.month == month).values(
        state="frozen", attendance_events=count, frozen_on=today, frozen_by=by.value, frozen_at=func.now()))
    await outbox.put(session, n.AttendanceMonthFrozen(month=month, attendance_events=count, frozen_on=today,
                                                      frozen_by=by))
    await audit.record(session, who, "attendance.month_frozen", "journal_month", month,
                       details={"fields": ["state"], "attendance_events": count, "frozen_by": by.value})
    row = (await session.execute(select(JOURNAL_MONTHS).where(JOURNAL_MONTHS.c.month == month))).one()
    return _journal_out(month, row)


async def open_journal_months(session: AsyncSession) -> list[YearMonth]:
    rows = await session.execute(select(JOURNAL_MONTHS.c.month).where(JOURNAL_MONTHS.c.state == "open"))
    return [journal.parse_month(r.month) for r in rows]
