"""Event handler registration: which consumed event runs which use case."""

from __future__ import annotations

from pfdo_plumbing import clock
import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope, Event
from pfdo_contracts.events import billing as b
from pfdo_contracts.events import registry as g
from pfdo_plumbing.runtime import ServiceRuntime

from ..service import attendance, catalogue, enrolments
from ..settings import NavigatorSettings


def register_handlers(runtime: ServiceRuntime, settings: NavigatorSettings) -> None:
    consumer, outbox = runtime.consumer, runtime.outbox

    consumer.on(*catalogue.CATALOGUE_EVENTS)(catalogue.live_handler)

    @consumer.on(g.CertificateIssued, g.CertificateSuspended, g.CertificateReinstated, g.CertificateExpired,
                 g.CertificateClosed)
    async def certificate(session: AsyncSession, event: Event, envelope: Envelope) -> None:
        await enrolments.on_certificate_event(session, outbox, event, envelope)

    @consumer.on(b.ReservationCreated)
    async def reservation_created(session: AsyncSession, event: b.ReservationCreated, envelope: Envelope) -> None:
        await enrolments.on_reservation_created(session, outbox, event, settings.today())

    @consumer.on(b.ReservationRejected)
    async def reservation_rejected(session: AsyncSession, event: b.ReservationRejected, envelope: Envelope) -> None:
        await enrolments.on_reservation_rejected(session, event)

    @consumer.on(b.ReservationReleased)
    async def reservation_released(session: AsyncSession, event: b.ReservationReleased, envelope: Envelope) -> None:
        await enrolments.on_reservation_released(session, event)

    @consumer.on(b.ChargePosted)
    async def charge_posted(session: AsyncSession, event: b.ChargePosted, envelope: Envelope) -> None:
        await attendance.on_charge_posted(session, event)


async def run_timers(runtime: ServiceRuntime, settings: NavigatorSettings, *, now: dt.datetime | None = None,
                     today: dt.date | None = None) -> dict[str, int]:
    """Expire unconfirmed holds and end finished contracts (one transaction per enrolment)."""
    now = now or clock.now()
    today = today or settings.today()
    db, outbox = runtime.db, runtime.outbox
    async with db.transaction() as session:
        expiring = await enrolments.expiring_holds(session, now - dt.timedelta(hours=settings.hold_hours))
        finished = await enrolments.finished_contracts(session, today)
    for enrolment_id in expiring:
        async with db.transaction() as session:
            await enrolments.expire_hold(session, outbox, enrolment_id, today)
    for enrolment_id in finished:
        async with db.transaction() as session:
            await enrolments.end_contract(session, outbox, enrolment_id, today)
    return {"expired": len(expiring), "ended": len(finished)}
