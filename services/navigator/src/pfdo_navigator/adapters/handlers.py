"""Event handler registration: which consumed event runs which use case."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope, Event
from pfdo_contracts.events import billing as b
from pfdo_contracts.events import navigator as n
from pfdo_contracts.events import registry as g
from pfdo_plumbing.runtime import ServiceRuntime

from ..domain import journal
from ..service import attendance, catalogue, enrolments
from ..settings import NavigatorSettings


def register_handlers(runtime: ServiceRuntime, settings: NavigatorSettings) -> None:
    consumer, outbox = runtime.consumer, runtime.outbox

    consumer.on(*catalogue.CATALOGUE_EVENTS)(catalogue.live_handler)

    @consumer.on(g.CertificateIssued, g.CertificateSuspended, g.CertificateReinstated, g.CertificateExpired,
                 g.CertificateClosed)
    async def certificate(session: AsyncSession, event: Event, envelope: Envelope) -> None:
        await enrolments.on_certificate_event(session, outbox, event, envelope)

    # billing's answers to a rush of applications arrive as runs: one transaction per run
    @consumer.on(b.ReservationCreated, together=True)
    async def reservation_created(session: AsyncSession, event: b.ReservationCreated, envelope: Envelope) -> None:
        await enrolments.on_reservation_created(session, outbox, event, settings.today())

    @consumer.on(b.ReservationRejected, together=True)
    async def reservation_rejected(session: AsyncSession, event: b.ReservationRejected, envelope: Envelope) -> None:
        await enrolments.on_reservation_rejected(
            session, event, refill=enrolments.Refill(outbox, settings.today()))

    @consumer.on(b.ReservationReleased)
    async def reservation_released(session: AsyncSession, event: b.ReservationReleased, envelope: Envelope) -> None:
        await enrolments.on_reservation_released(session, event)


def timers_of(settings: NavigatorSettings) -> enrolments.Timers:
    return enrolments.Timers(settings.application_answer_days, settings.region_timezone)


async def run_timers(runtime: ServiceRuntime, settings: NavigatorSettings, *, now: dt.datetime | None = None,
                     today: dt.date | None = None) -> dict[str, int]:
    """Refuse applications the provider has not answered in time and withdraw offers the parent
    has not accepted in time (the region's timeouts, in business dates), and end finished contracts
    (one transaction per enrolment); freed seats go to the groups' waiting lists in the same
    transactions, and any group left with a free seat and a waiting application is refilled.
    ``now`` is kept for callers; the timeouts count regional dates (``today``)."""
    today = today or (now.astimezone(ZoneInfo(settings.region_timezone)).date() if now else settings.today())
    db, outbox = runtime.db, runtime.outbox
    timers = timers_of(settings)
    async with db.transaction() as session:
        expiring = await enrolments.timed_out(session, timers, today)
        finished = await enrolments.finished_contracts(session, today)
    expired = 0
    for enrolment_id in expiring:
        async with db.transaction() as session:
            expired += await enrolments.expire_timed_out(session, outbox, enrolment_id, today, timers) is not None
    for enrolment_id in finished:
        async with db.transaction() as session:
            await enrolments.end_contract(session, outbox, enrolment_id, today)
    async with db.transaction() as session:
        groups = await enrolments.groups_to_refill(session)
    offered = 0
    for module_id in groups:
        async with db.transaction() as session:
            offered += await enrolments.fill_free_seats(session, enrolments.Refill(outbox, today), module_id)
    return {"expired": expired, "ended": len(finished), "offered": offered}


async def run_journal_freeze(runtime: ServiceRuntime, settings: NavigatorSettings, *,
                             today: dt.date | None = None) -> list[str]:
    """Freeze every journal month whose freeze day has come (one transaction per month)."""
    today = today or settings.today()
    async with runtime.db.transaction() as session:
        open_months = await attendance.open_journal_months(session)
    frozen = []
    for month in journal.months_to_freeze(open_months, today, settings.journal_freeze_day):
        async with runtime.db.transaction() as session:
            row = await attendance.freeze_month(session, runtime.outbox, None, str(month), today=today,
                                                by=n.FrozenBy.SCHEDULE)
        frozen.append(row["month"])
    return frozen
