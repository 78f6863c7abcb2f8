"""Enrolment use cases: apply (with an atomic seat hold), billing's answers, provider and
parent decisions, timers, and certificate lifecycle effects. Each function runs inside the
caller's unit of work; every state change writes its event to the outbox in that transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import Direction, FundingKind, PaymentMode, ScheduleSlot
from pfdo_contracts.envelope import Envelope, Event
from pfdo_contracts.events import billing as b
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.http.problems import ProblemError, not_found
from pfdo_plumbing.outbox import OutboxWriter

from ..adapters.tables import CERTIFICATES, ENROLMENTS, LIVE, MODULES
from ..domain import enrolment as saga
from ..domain.eligibility import ActiveEnrolment, ModuleTerms, check_eligibility
from ..domain.enrolment import Enrolment, EnrolmentEvent, EnrolmentState, Outcome
from ..domain.errors import DomainError

SEAT_HOLDING = ("requested", "reserved", "confirmed", "terminated")
RELEASES_SEAT = frozenset(
    {EnrolmentState.REJECTED, EnrolmentState.DECLINED, EnrolmentState.EXPIRED, EnrolmentState.CANCELLED, EnrolmentState.ENDED}
)


@dataclass(frozen=True)
class ApplyCommand:
    certificate_id: uuid.UUID
    module_id: uuid.UUID
    start_date: dt.date
    payment_mode: PaymentMode = PaymentMode.MONTHLY


def to_domain(row: Any) -> Enrolment:
    return Enrolment(
        id=str(row.enrolment_id), certificate_id=str(row.certificate_id), module_id=str(row.module_id),
        starts_on=row.starts_on, ends_on=row.ends_on, state=EnrolmentState(row.state), requested_at=row.requested_at,
        reservation_id=str(row.reservation_id) if row.reservation_id else None, reason=row.reason,
        closed_by=saga.Actor(row.closed_by) if row.closed_by else None,
        end_outcome=saga.EndOutcome(row.end_outcome) if row.end_outcome else None,
    )


async def load(session: AsyncSession, enrolment_id: uuid.UUID, *, lock: bool = True) -> Any:
    query = select(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == enrolment_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).first()


async def _save(session: AsyncSession, row: Any, e: Enrolment, **extra: Any) -> None:
    await session.execute(
        update(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == row.enrolment_id).values(
            state=e.state.value, ends_on=e.ends_on, reason=e.reason,
            reservation_id=uuid.UUID(e.reservation_id) if e.reservation_id else None,
            closed_by=e.closed_by.value if e.closed_by else None,
            end_outcome=e.end_outcome.value if e.end_outcome else None,
            updated_at=text("now()"), **extra,
        )
    )
    if e.state in RELEASES_SEAT and row.state in SEAT_HOLDING:
        await release_seat(session, row.module_id)


async def release_seat(session: AsyncSession, module_id: uuid.UUID) -> None:
    await session.execute(
        update(MODULES).where(and_(MODULES.c.module_id == module_id, MODULES.c.held > 0)).values(held=MODULES.c.held - 1)
    )


async def hold_seat(session: AsyncSession, module_id: uuid.UUID) -> bool:
    """Take one seat of the group, atomically: never more than the capacity."""
    result = await session.execute(
        text("UPDATE modules SET held = held + 1 WHERE module_id = :m AND held < capacity RETURNING held"),
        {"m": module_id},
    )
    return result.first() is not None


# ------------------------------------------------------------------------------- apply
async def apply(
    session: AsyncSession, outbox: OutboxWriter, who: Principal, cmd: ApplyCommand, *,
    today: dt.date, now: dt.datetime, direction_cap: int | None,
) -> Any:
    seats = (await session.execute(
        select(MODULES.c.held, MODULES.c.capacity).where(MODULES.c.module_id == cmd.module_id)
    )).first()
    if seats is not None and seats.held >= seats.capacity:  # fast answer for a full group; the hold below decides
        raise ProblemError(409, "no_free_seats", "The group is full.")
    cert = (
        await session.execute(
            select(CERTIFICATES).where(CERTIFICATES.c.certificate_id == cmd.certificate_id).with_for_update()
        )
    ).first()
    if cert is None or cert.parent_id != who.sub:
        raise not_found("Certificate")
    entry = (await session.execute(select(LIVE.entries).where(LIVE.entries.c.module_id == cmd.module_id))).first()
    if entry is None:
        raise not_found("Module")
    if not entry.visible:
        raise ProblemError(409, "program_unavailable", "The program does not take enrolments now.")
    holding = (
        await session.execute(
            select(ENROLMENTS).where(
                and_(ENROLMENTS.c.certificate_id == cmd.certificate_id, ENROLMENTS.c.state.in_(SEAT_HOLDING))
            )
        )
    ).all()
    actives = [ActiveEnrolment(str(r.module_id), r.direction) for r in holding if to_domain(r).holds_seat(today)]
    terms = ModuleTerms(str(entry.module_id), entry.direction, entry.age_min, entry.age_max, entry.start_date, entry.end_date)
    reasons = check_eligibility(
        certificate_status=cert.status, birth_date=cert.birth_date, module=terms, start_date=cmd.start_date,
        today=today, active_enrolments=actives, direction_cap=direction_cap,
    )
    if reasons:
        raise ProblemError(
            422, "not_eligible", "The child may not enrol in this group: " + ", ".join(r.value for r in reasons) + ".",
            errors=[{"code": r.value} for r in reasons],
        )
    enrolment_id = uuid.uuid4()
    transition = saga.request(
        enrolment_id=str(enrolment_id), certificate_id=str(cert.certificate_id), module_id=str(entry.module_id),
        starts_on=cmd.start_date, module_ends_on=entry.end_date, requested_at=now,
    )
    if not await hold_seat(session, entry.module_id):
        raise ProblemError(409, "no_free_seats", "The group is full.")
    e = transition.enrolment
    await session.execute(
        insert(ENROLMENTS).values(
            enrolment_id=enrolment_id, certificate_id=cert.certificate_id, parent_id=who.sub,
            module_id=entry.module_id, program_id=entry.program_id, provider_id=entry.provider_id,
            municipality_code=entry.municipality_code, direction=entry.direction, funding_kind=entry.funding_kind,
            payment_mode=cmd.payment_mode.value, state=e.state.value, starts_on=e.starts_on, ends_on=e.ends_on,
            requested_at=now, updated_at=now, released_kopecks=0,
        )
    )
    await outbox.put(session, n.EnrolmentRequested(
        enrolment_id=enrolment_id, certificate_id=cert.certificate_id, parent_id=who.sub,
        program_id=entry.program_id, program_revision=entry.program_revision, module_id=entry.module_id,
        provider_id=entry.provider_id, municipality_code=entry.municipality_code,
        direction=Direction(entry.direction), funding_kind=FundingKind(entry.funding_kind),
        start_date=e.starts_on, end_date=e.ends_on, module_start_date=entry.start_date,
        module_end_date=entry.end_date, price_kopecks=entry.price_kopecks,
        normative_cost_kopecks=entry.normative_cost_kopecks, payment_mode=cmd.payment_mode,
        schedule=[ScheduleSlot.model_validate(s) for s in entry.schedule], lessons_per_week=entry.lessons_per_week,
    ))
    await audit.record(
        session, who, "enrolment.requested", "enrolment", enrolment_id, municipality=entry.municipality_code,
        details={"fields": ["state", "seat"], "module_id": str(entry.module_id)},
    )
    return await load(session, enrolment_id, lock=False)


# ------------------------------------------------------------------------------- events to publish
def _event(kind: EnrolmentEvent, row: Any, e: Enrolment, today: dt.date, **kw: Any) -> Event:
    common = {"enrolment_id": row.enrolment_id, "certificate_id": row.certificate_id}
    if kind is EnrolmentEvent.CONFIRMED:
        return n.EnrolmentConfirmed(**common, module_id=row.module_id, provider_id=row.provider_id,
                                    start_date=e.starts_on, end_date=e.ends_on, confirmed_on=today)
    if kind is EnrolmentEvent.DECLINED:
        return n.EnrolmentDeclined(**common, reason=kw.get("decline_reason", n.DeclineReason.PROVIDER_REFUSED),
                                   declined_on=today)
    if kind is EnrolmentEvent.CANCELLED:
        return n.EnrolmentCancelled(**common, cancelled_by=kw.get("cancelled_by", n.Actor.PARENT), cancelled_on=today)
    if kind is EnrolmentEvent.EXPIRED:
        return n.EnrolmentExpired(**common, expired_on=today)
    if kind is EnrolmentEvent.TERMINATED:
        return n.EnrolmentTerminated(
            **common, provider_id=row.provider_id, terminated_by=kw["terminated_by"], reason=kw["reason"],
            requested_on=min(today, e.ends_on), effective_end_date=e.ends_on,
        )
    if kind is EnrolmentEvent.ENDED:
        return n.EnrolmentEnded(
            **common, parent_id=row.parent_id, program_id=row.program_id, provider_id=row.provider_id,
            module_id=row.module_id, outcome=n.EndOutcome(e.end_outcome.value if e.end_outcome else "completed"),
            end_date=e.ends_on,
        )
    raise ValueError(kind)


async def _commit(
    session: AsyncSession, outbox: OutboxWriter, who: Principal | None, row: Any, t: saga.Transition,
    today: dt.date, **kw: Any,
) -> None:
    if not t.changed:
        return
    await _save(session, row, t.enrolment)
    if t.event is not None:
        await outbox.put(session, _event(t.event, row, t.enrolment, today, **kw))
    await audit.record(
        session, who, f"enrolment.{t.enrolment.state.value}", "enrolment", row.enrolment_id,
        municipality=row.municipality_code, details={"fields": ["state"], "from": row.state, "to": t.enrolment.state.value},
    )


def _domain(fn: Any, *args: Any) -> saga.Transition:
    try:
        return fn(*args)
    except DomainError as exc:
        raise ProblemError(409, exc.code, exc.message) from exc


# ------------------------------------------------------------------------------- commands
def _may_see(who: Principal, row: Any) -> bool:
    if who.role == Role.PARENT:
        return row.parent_id == who.sub
    if who.role == Role.PROVIDER:
        return who.is_provider(row.provider_id)
    return who.covers_municipality(row.municipality_code)


async def _own(session: AsyncSession, who: Principal, enrolment_id: uuid.UUID) -> Any:
    row = await load(session, enrolment_id)
    if row is None or not _may_see(who, row):
        raise not_found("Enrolment")
    return row


async def read(session: AsyncSession, who: Principal, enrolment_id: uuid.UUID) -> Any:
    row = await load(session, enrolment_id, lock=False)
    if row is None or not _may_see(who, row):
        raise not_found("Enrolment")
    return row


async def confirm(session: AsyncSession, outbox: OutboxWriter, who: Principal, enrolment_id: uuid.UUID, today: dt.date) -> Any:
    row = await _own(session, who, enrolment_id)
    await _commit(session, outbox, who, row, _domain(saga.confirm, to_domain(row)), today)
    return await load(session, enrolment_id, lock=False)


async def decline(session: AsyncSession, outbox: OutboxWriter, who: Principal, enrolment_id: uuid.UUID, today: dt.date) -> Any:
    row = await _own(session, who, enrolment_id)
    t = _domain(saga.decline, to_domain(row), n.DeclineReason.PROVIDER_REFUSED.value, today)
    await _commit(session, outbox, who, row, t, today, decline_reason=n.DeclineReason.PROVIDER_REFUSED)
    return await load(session, enrolment_id, lock=False)


async def cancel(session: AsyncSession, outbox: OutboxWriter, who: Principal, enrolment_id: uuid.UUID, today: dt.date) -> Any:
    row = await _own(session, who, enrolment_id)
    await _commit(session, outbox, who, row, _domain(saga.cancel, to_domain(row), today), today, cancelled_by=n.Actor.PARENT)
    return await load(session, enrolment_id, lock=False)


async def terminate(
    session: AsyncSession, outbox: OutboxWriter, who: Principal, enrolment_id: uuid.UUID, today: dt.date
) -> Any:
    row = await _own(session, who, enrolment_id)
    if who.role == Role.PARENT:
        by, reason, actor = saga.Actor.PARENT, n.TerminationReason.PARENT_REQUEST, n.TerminatedBy.PARENT
    else:
        by, reason, actor = saga.Actor.PROVIDER, n.TerminationReason.PROVIDER_DECISION, n.TerminatedBy.PROVIDER
    t = _domain(saga.terminate, to_domain(row), by, reason.value, today)
    await _commit(session, outbox, who, row, t, today, terminated_by=actor, reason=reason)
    return await load(session, enrolment_id, lock=False)


# ------------------------------------------------------------------------------- timers
async def expiring_holds(session: AsyncSession, before: dt.datetime, limit: int = 500) -> list[uuid.UUID]:
    rows = await session.execute(
        select(ENROLMENTS.c.enrolment_id)
        .where(and_(ENROLMENTS.c.state.in_(("requested", "reserved")), ENROLMENTS.c.requested_at < before))
        .limit(limit)
    )
    return [r[0] for r in rows]


async def expire_hold(session: AsyncSession, outbox: OutboxWriter, enrolment_id: uuid.UUID, today: dt.date) -> None:
    row = await load(session, enrolment_id)
    if row is not None:
        await _commit(session, outbox, None, row, saga.expire(to_domain(row)), today)


async def finished_contracts(session: AsyncSession, today: dt.date, limit: int = 500) -> list[uuid.UUID]:
    rows = await session.execute(
        select(ENROLMENTS.c.enrolment_id)
        .where(and_(ENROLMENTS.c.state.in_(("confirmed", "terminated")), ENROLMENTS.c.ends_on < today))
        .limit(limit)
    )
    return [r[0] for r in rows]


async def end_contract(session: AsyncSession, outbox: OutboxWriter, enrolment_id: uuid.UUID, today: dt.date) -> None:
    row = await load(session, enrolment_id)
    if row is not None and row.state in ("confirmed", "terminated") and row.ends_on < today:
        await _commit(session, outbox, None, row, saga.complete(to_domain(row), today), today)


# ------------------------------------------------------------------------------- billing's answers
def _terminal_event(row: Any, e: Enrolment, today: dt.date) -> Event | None:
    """The event that makes billing release a reservation that arrived too late."""
    common = {"enrolment_id": row.enrolment_id, "certificate_id": row.certificate_id}
    if e.state is EnrolmentState.CANCELLED:
        return n.EnrolmentCancelled(**common, cancelled_by=n.Actor.PARENT, cancelled_on=today)
    if e.state is EnrolmentState.EXPIRED:
        return n.EnrolmentExpired(**common, expired_on=today)
    if e.state is EnrolmentState.REJECTED:
        return n.EnrolmentDeclined(**common, reason=n.DeclineReason.RESERVATION_REJECTED, declined_on=today)
    return None


async def on_reservation_created(session: AsyncSession, outbox: OutboxWriter, event: b.ReservationCreated, today: dt.date) -> None:
    row = await load(session, event.enrolment_id)
    if row is None:
        raise DomainError("unknown_enrolment", f"reservation for unknown enrolment {event.enrolment_id}")
    t = saga.on_reservation_created(to_domain(row), str(event.reservation_id))
    if not t.changed:
        return
    money = {
        "total_cost_kopecks": event.total_cost_kopecks, "reserved_kopecks": event.reserved_kopecks,
        "family_kopecks": event.family_kopecks, "instalments": [i.model_dump(mode="json") for i in event.schedule],
        "queue_position": None,
    }
    await _save(session, row, t.enrolment, **money)
    # Outcome.NEEDS_RELEASE (a reservation that arrives after the enrolment was cancelled,
    # declined or expired) needs no new event: the terminal event is on the same topic and key
    # as the request, so billing consumed it after making the reservation and has released it.
    # Publishing the terminal event again would only duplicate it on the bus.
    await audit.record(session, None, "enrolment.reservation", "enrolment", row.enrolment_id,
                       municipality=row.municipality_code, details={"fields": ["state", "reserved_kopecks"]})


async def on_reservation_rejected(session: AsyncSession, event: b.ReservationRejected) -> None:
    row = await load(session, event.enrolment_id)
    if row is None:
        raise DomainError("unknown_enrolment", f"rejection for unknown enrolment {event.enrolment_id}")
    if event.reason is b.RejectionReason.FUNDING_CAP_QUEUED:
        if row.state == "requested":  # not final: the request waits in billing's queue
            await session.execute(
                update(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == row.enrolment_id)
                .values(queue_position=event.queue_position, updated_at=text("now()"))
            )
        return
    t = saga.on_reservation_rejected(to_domain(row), event.reason.value)
    if t.changed:
        await _save(session, row, t.enrolment, queue_position=None)
        await audit.record(session, None, "enrolment.rejected", "enrolment", row.enrolment_id,
                           municipality=row.municipality_code, details={"fields": ["state"], "reason": event.reason.value})


async def on_reservation_released(session: AsyncSession, event: b.ReservationReleased) -> None:
    await session.execute(
        update(ENROLMENTS).where(ENROLMENTS.c.enrolment_id == event.enrolment_id).values(
            reserved_kopecks=event.remaining_reserved_kopecks,
            released_kopecks=ENROLMENTS.c.released_kopecks + event.released_kopecks,
            updated_at=text("now()"),
        )
    )


# ------------------------------------------------------------------------------- certificates
async def on_certificate_event(session: AsyncSession, outbox: OutboxWriter, event: Event, envelope: Envelope) -> None:
    c = CERTIFICATES
    if isinstance(event, g.CertificateIssued):
        await session.execute(insert(c).values(
            certificate_id=event.certificate_id, number=event.number, parent_id=event.parent_id,
            municipality_code=event.municipality_code, birth_date=event.birth_date, valid_until=event.valid_until,
            usage_kind=event.usage_kind.value, status=event.status.value, status_on=event.issued_on,
        ).on_conflict_do_nothing(index_elements=[c.c.certificate_id]))
        return
    status, on = {
        g.CertificateSuspended: lambda e: ("suspended", e.suspended_on),
        g.CertificateReinstated: lambda e: ("active", e.reinstated_on),
        g.CertificateExpired: lambda e: ("expired", e.expired_on),
        g.CertificateClosed: lambda e: ("closed", e.closed_on),
    }[type(event)](event)
    found = await session.execute(
        update(c).where(c.c.certificate_id == event.certificate_id).values(status=status, status_on=on).returning(c.c.certificate_id)
    )
    if found.first() is None:
        raise DomainError("unknown_certificate", f"{type(event).__name__} for unknown certificate {event.certificate_id}")
    if status in ("expired", "closed"):
        reason = n.TerminationReason.CERTIFICATE_EXPIRED if status == "expired" else n.TerminationReason.CERTIFICATE_CLOSED
        rows = (
            await session.execute(
                select(ENROLMENTS).where(and_(
                    ENROLMENTS.c.certificate_id == event.certificate_id,
                    ENROLMENTS.c.state.in_(("requested", "reserved", "confirmed")),
                )).with_for_update()
            )
        ).all()
        for row in rows:
            t = saga.on_certificate_expired(to_domain(row), on)
            if t.changed and reason is n.TerminationReason.CERTIFICATE_CLOSED:
                from dataclasses import replace

                t = saga.Transition(replace(t.enrolment, reason=reason.value), t.event, t.outcome)
            await _commit(session, outbox, None, row, t, on, cancelled_by=n.Actor.OPERATOR,
                          terminated_by=n.TerminatedBy.EXPIRY, reason=reason)
