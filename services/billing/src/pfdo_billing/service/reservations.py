"""Enrolment money: reserve (or reject), confirm, release, terminate, expiry (DESIGN §2).

Concurrency: a reservation locks the certificate row and then its balance row
(SELECT ... FOR UPDATE), so concurrent requests against one certificate queue up behind each
other and never overspend; the CHECK constraints of ``certificate_balances`` are the last guard.
Idempotency: the contract row is keyed by the enrolment id; a repeated request is a no-op, and
every transfer id is derived from the enrolment and month.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_plumbing import audit
from pfdo_plumbing.db import Statement, insert_sql

from pfdo_billing.adapters import ledger
from pfdo_billing.adapters.ledger import AK, Transfer
from pfdo_billing.adapters.tables import CONTRACTS, FUNDING_QUEUE
from pfdo_billing.domain.calendar import Period, remaining_months
from pfdo_billing.domain.errors import CertificateExpiresBeforeStart, NoAgeGroup
from pfdo_billing.domain.funding_queue import frees_funding_slot, position_updates
from pfdo_billing.domain.nominal import AgeGroup, NominalRate, nominal_for, prorated_nominal
from pfdo_billing.domain.quote import Instalment, Quote, effective_end, free_place, quote
from pfdo_billing.domain.termination import terminate
from pfdo_billing.domain.validity import validity_of

from .context import Billing
from .lessons import planned_lessons

R = bev.RejectionReason
ACTIVE_STATES = ("reserved", "active", "queued")


def reservation_id(enrolment_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:reservation:{enrolment_id}")


# The statements of a reservation run on the driver (a rush of applications is billing's
# hottest path; see pfdo_plumbing.db.Statement).
_OPEN_PERIOD = Statement("SELECT * FROM periods WHERE status = 'open' AND starts_on <= :d AND ends_on >= :d "
                         "ORDER BY starts_on DESC LIMIT 1")
_NOMINALS = Statement("SELECT age_min, age_max, amount_kopecks FROM nominals WHERE period_id = :p "
                      "AND municipality_code = :m")
_RETURNS_OF_FUNDING = Statement(
    "SELECT count(*) FROM transfers WHERE certificate_id = :c AND period_id = :p AND kind = 'return_unused' "
    "AND transfer_id LIKE 'unfund:%'")
_OPEN_BALANCE = Statement("INSERT INTO certificate_balances (certificate_id, period_id) VALUES (:c, :p) "
                          "ON CONFLICT DO NOTHING")
_CERTIFICATE = Statement("SELECT * FROM certificates WHERE certificate_id = :c")
_LOCK_CERTIFICATE = Statement("SELECT * FROM certificates WHERE certificate_id = :c FOR UPDATE")
_LOCK_CAPS = Statement("SELECT * FROM caps WHERE period_id = :p AND municipality_code = :m FOR UPDATE")
_LOCK_CONTRACT_STATUS = Statement("SELECT status FROM contracts WHERE enrolment_id = :e FOR UPDATE")
_SAME_DIRECTION = Statement(
    "SELECT count(*) FROM contracts WHERE certificate_id = :c AND direction = :d AND period_id = :p "
    "AND status IN ('reserved', 'active', 'queued') AND enrolment_id <> :e")
_QUEUE_LENGTH = Statement("SELECT count(*) FROM funding_queue WHERE period_id = :p AND municipality_code = :m "
                          "AND status = 'waiting'")


async def open_period_for(session: AsyncSession, day: date) -> dict | None:
    row = await _OPEN_PERIOD.fetchrow(session, d=day)
    return dict(row) if row else None


async def nominal_of(session: AsyncSession, period: dict, municipality: str, birth_date: date) -> int:
    """The full nominal of the child's age group; raises NoAgeGroup when none is set."""
    rows = await _NOMINALS.fetch(session, p=period["period_id"], m=municipality)
    rates = [NominalRate(AgeGroup(r["age_min"], r["age_max"]), r["amount_kopecks"]) for r in rows]
    return nominal_for(birth_date, Period(period["starts_on"], period["ends_on"]), rates)


async def credit_certificate(b: Billing, session: AsyncSession, certificate: dict, period: dict, on: date,
                             env: Envelope | None) -> int:
    """Credit a funding certificate its nominal for ``period`` (pro rata when after the start).

    A certificate that gave its funding slot back (its nominal returned) and is funded again gets
    a new credit: the transfer id counts the earlier returns."""
    full = await nominal_of(session, period, certificate["municipality_code"], certificate["birth_date"])
    domain_period = Period(period["starts_on"], period["ends_on"])
    amount = prorated_nominal(full, domain_period, on)
    months = remaining_months(domain_period, on)
    cid, pid = certificate["certificate_id"], period["period_id"]
    unfunded = await _RETURNS_OF_FUNDING.fetchval(session, c=cid, p=pid)
    credit_key = f"credit:{cid}:{pid}" + (f":{unfunded}" if unfunded else "")
    new = await ledger.record(session, [Transfer(
        credit_key, "credit_nominal", pid, (AK.BUDGET, certificate["municipality_code"]),
        ledger.cert(AK.CERTIFICATE_AVAILABLE, cid), amount, certificate_id=cid,
        cause_event_id=env.id if env else None,
    )])
    # a zero credit writes no transfer, yet the certificate gets its (empty) balance row
    await _OPEN_BALANCE.execute(session, c=cid, p=pid)
    if new:
        await b.runtime.outbox.put(session, bev.CertificateCredited(
            credit_id=uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:{credit_key}"), certificate_id=cid,
            period_id=pid, municipality_code=certificate["municipality_code"], amount_kopecks=amount,
            pro_rata=on > period["starts_on"], months_covered=max(1, months), credited_on=on,
        ))
        await audit.record(session, None, "billing.certificate.credit", "certificate", cid,
                           municipality=certificate["municipality_code"],
                           details={"period_id": str(pid), "amount_kopecks": amount,
                                    "cause_event_id": str(env.id) if env else None})
    return amount


async def credit_if_open_period(b: Billing, session: AsyncSession, certificate_id: uuid.UUID, on: date,
                                env: Envelope) -> None:
    period = await open_period_for(session, on)
    if period is None:
        return
    cert = await _certificate(session, certificate_id, lock=True)
    try:
        await credit_certificate(b, session, cert, period, on, env)
    except NoAgeGroup:
        pass  # no nominal for the age group: nothing to credit


async def _certificate(session: AsyncSession, certificate_id: uuid.UUID, *, lock: bool) -> dict | None:
    row = await (_LOCK_CERTIFICATE if lock else _CERTIFICATE).fetchrow(session, c=certificate_id)
    return dict(row) if row else None


async def _caps(session: AsyncSession, period_id: uuid.UUID, municipality: str) -> dict | None:
    row = await _LOCK_CAPS.fetchrow(session, p=period_id, m=municipality)
    return dict(row) if row else None


def _contract_values(e: n.EnrolmentRequested, env: Envelope, *, status: str, period_id: uuid.UUID | None,
                     payer: str | None, reason: str | None = None, q: Quote | None = None,
                     activated: bool = False) -> dict:
    return dict(
        enrolment_id=e.enrolment_id, certificate_id=e.certificate_id, module_id=e.module_id,
        program_id=e.program_id, provider_id=e.provider_id, municipality_code=e.municipality_code,
        payer_code=payer, direction=e.direction.value, funding_kind=e.funding_kind.value, period_id=period_id,
        payment_mode=e.payment_mode.value, start_date=e.start_date,
        end_date=min(e.end_date, q.ends_on) if q else e.end_date,  # the certificate's validity caps it
        weekdays=sorted(s.weekday for s in e.schedule), status=status, reject_reason=reason,
        total_cost_kopecks=q.cost if q else 0, certificate_kopecks=q.certificate_part if q else 0,
        family_kopecks=q.family_part if q else 0, funding_activated=activated,
        reservation_id=reservation_id(e.enrolment_id), cause_event_id=env.id,
    )


def _contract_upsert() -> Statement:
    """The contract's row, written whole (a queued request admitted later overwrites its row)."""
    written = [c.name for c in CONTRACTS.c if c.name not in ("created_at", "updated_at")]
    return Statement(
        insert_sql(CONTRACTS, written) + " ON CONFLICT (enrolment_id) DO UPDATE SET "
        + ", ".join(f"{name} = EXCLUDED.{name}" for name in written if name != "enrolment_id")
        + ", updated_at = now()"
    )


_UPSERT_CONTRACT = _contract_upsert()
_ADD_MONTHS = Statement(
    "INSERT INTO contract_months (enrolment_id, month, certificate_kopecks, family_kopecks, planned_lessons, state, "
    "posted_kopecks, released_kopecks, family_invoiced_kopecks) "
    "VALUES (:enrolment_id, :month, :certificate_kopecks, :family_kopecks, :planned_lessons, 'reserved', 0, 0, 0)"
)


async def _upsert_contract(session: AsyncSession, values: dict) -> None:
    await _UPSERT_CONTRACT.execute(session, **values)


async def _reject(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, reason: R,
                  *, period_id: uuid.UUID | None = None, payer: str | None = None) -> None:
    await _upsert_contract(session, _contract_values(e, env, status="rejected", period_id=period_id, payer=payer,
                                                     reason=reason.value))
    await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e AND status = 'waiting'"),
                          {"e": e.enrolment_id})
    await b.runtime.outbox.put(session, bev.ReservationRejected(
        enrolment_id=e.enrolment_id, certificate_id=e.certificate_id, reason=reason))


async def _queue(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, period: dict,
                 payer: str) -> None:
    await _upsert_contract(session, _contract_values(e, env, status="queued", period_id=period["period_id"], payer=payer))
    stmt = insert(FUNDING_QUEUE).values(
        period_id=period["period_id"], municipality_code=payer, enrolment_id=e.enrolment_id,
        certificate_id=e.certificate_id, request=e.model_dump(mode="json"),
    ).on_conflict_do_nothing(index_elements=["enrolment_id"])
    await session.execute(stmt)
    position = await session.scalar(
        text("SELECT count(*) FROM funding_queue q WHERE q.period_id = :p AND q.municipality_code = :m "
             "AND q.status = 'waiting' AND q.seq <= (SELECT seq FROM funding_queue WHERE enrolment_id = :e)"),
        {"p": period["period_id"], "m": payer, "e": e.enrolment_id},
    )
    await session.execute(text("UPDATE funding_queue SET position = :n WHERE enrolment_id = :e"),
                          {"n": int(position or 1), "e": e.enrolment_id})
    await b.runtime.outbox.put(session, bev.ReservationRejected(
        enrolment_id=e.enrolment_id, certificate_id=e.certificate_id, reason=R.FUNDING_CAP_QUEUED,
        queue_position=int(position or 1)))


async def enrolment_requested(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope,
                              *, from_queue: bool = False) -> str:
    """Reserve the certificate part of an enrolment, or reject it; returns the outcome status."""
    existing = await _LOCK_CONTRACT_STATUS.fetchval(session, e=e.enrolment_id)
    if existing is not None and not (from_queue and existing == "queued"):
        return existing  # a repeated request: the first answer stands
    cert = await _certificate(session, e.certificate_id, lock=True)
    if cert is None:
        await _reject(b, session, e, env, R.CERTIFICATE_UNKNOWN)
        return "rejected"
    payer = cert["municipality_code"]
    if cert["status"] != "active":
        await _reject(b, session, e, env, R.CERTIFICATE_NOT_ACTIVE, payer=payer)
        return "rejected"
    valid_until = validity_of(cert["birth_date"], cert["valid_until"])
    try:
        effective_end(e.module_end_date, e.start_date, valid_until)
    except CertificateExpiresBeforeStart:  # not valid any more on the first day: it pays nothing
        await _reject(b, session, e, env, R.CERTIFICATE_NOT_ACTIVE, payer=payer)
        return "rejected"
    period = await open_period_for(session, e.start_date)
    if period is None:
        await _reject(b, session, e, env, R.PERIOD_NOT_OPEN, payer=payer)
        return "rejected"
    pid = period["period_id"]
    caps = await _caps(session, pid, payer)
    if caps and caps["direction_cap"] is not None:
        same_direction = await _SAME_DIRECTION.fetchval(
            session, c=e.certificate_id, d=e.direction.value, p=pid, e=e.enrolment_id)
        if same_direction >= caps["direction_cap"]:
            await _reject(b, session, e, env, R.DIRECTION_CAP_REACHED, period_id=pid, payer=payer)
            return "rejected"

    activated = False
    if e.funding_kind.value == "municipal_task":
        place_caps = caps if e.municipality_code == payer else await _caps(session, pid, e.municipality_code)
        if place_caps and place_caps["free_places"] is not None:
            if place_caps["free_places_used"] >= place_caps["free_places"]:
                await _reject(b, session, e, env, R.NO_FREE_PLACES, period_id=pid, payer=payer)
                return "rejected"
        if place_caps:
            await session.execute(
                text("UPDATE caps SET free_places_used = free_places_used + 1 WHERE period_id = :p AND municipality_code = :m"),
                {"p": pid, "m": e.municipality_code},
            )
        q = free_place(e.module_start_date, e.module_end_date, e.start_date, e.payment_mode.value,
                       valid_until=valid_until)
    else:
        on = b.local_date(env.time)
        if cert["usage_kind"] == "accounting":
            ahead = 0
            if not from_queue:
                ahead = await _QUEUE_LENGTH.fetchval(session, p=pid, m=payer)
            if ahead or (caps and caps["funding_cap"] is not None and caps["funding_used"] >= caps["funding_cap"]):
                if from_queue:
                    return "queued"
                await _queue(b, session, e, env, period, payer)
                return "queued"
            try:
                await nominal_of(session, period, payer, cert["birth_date"])
            except NoAgeGroup:
                await _reject(b, session, e, env, R.AGE_GROUP_NOT_FUNDED, period_id=pid, payer=payer)
                return "rejected"
            if caps:
                await session.execute(
                    text("UPDATE caps SET funding_used = funding_used + 1 WHERE period_id = :p AND municipality_code = :m"),
                    {"p": pid, "m": payer},
                )
            await session.execute(
                text("UPDATE certificates SET usage_kind = 'funding', funded_on = :d, updated_at = now() "
                     "WHERE certificate_id = :c"), {"d": on, "c": e.certificate_id})
            await credit_certificate(b, session, cert, period, on, env)
            activated = True
        balance = await ledger.lock_balance(session, e.certificate_id, pid)
        if balance is None:
            try:
                await credit_certificate(b, session, cert, period, on, env)
            except NoAgeGroup:
                await _reject(b, session, e, env, R.AGE_GROUP_NOT_FUNDED, period_id=pid, payer=payer)
                return "rejected"
            balance = await ledger.lock_balance(session, e.certificate_id, pid)
            assert balance is not None
        q = quote(e.price_kopecks, e.normative_cost_kopecks, e.module_start_date, e.module_end_date, e.start_date,
                  balance["available"], e.payment_mode.value, valid_until=valid_until)

    await _reserve(b, session, e, env, q, period, payer, activated)
    if from_queue:
        await session.execute(text("UPDATE funding_queue SET status = 'admitted' WHERE enrolment_id = :e"),
                              {"e": e.enrolment_id})
    return "reserved"


async def _reserve(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, q: Quote,
                   period: dict, payer: str, activated: bool) -> None:
    pid = period["period_id"]
    weekdays = sorted(s.weekday for s in e.schedule)
    await _upsert_contract(session, _contract_values(e, env, status="reserved", period_id=pid, payer=payer, q=q,
                                                     activated=activated))
    lines = [
        (line, planned_lessons(weekdays, line.month, e.start_date, e.end_date)) for line in q.schedule
    ]
    await _ADD_MONTHS.executemany(session, [
        {"enrolment_id": e.enrolment_id, "month": line.month, "certificate_kopecks": line.certificate,
         "family_kopecks": line.family, "planned_lessons": planned}
        for line, planned in lines
    ])
    await ledger.record(session, [
        Transfer(ledger.reserve_id(e.enrolment_id, line.month), "reserve", pid,
                 ledger.cert(AK.CERTIFICATE_AVAILABLE, e.certificate_id),
                 ledger.cert(AK.CERTIFICATE_RESERVED, e.certificate_id), line.certificate,
                 certificate_id=e.certificate_id, enrolment_id=e.enrolment_id, month=line.month, cause_event_id=env.id)
        for line, _ in lines
    ])
    await b.runtime.outbox.put(session, bev.ReservationCreated(
        reservation_id=reservation_id(e.enrolment_id), enrolment_id=e.enrolment_id,
        certificate_id=e.certificate_id, provider_id=e.provider_id, period_id=pid, payment_mode=e.payment_mode,
        total_cost_kopecks=q.cost, reserved_kopecks=q.certificate_part, family_kopecks=q.family_part,
        funding_activated=activated,
        schedule=[bev.Instalment(month=month_of(line.month), certificate_kopecks=line.certificate,
                                 family_kopecks=line.family, planned_lessons=planned) for line, planned in lines],
    ))
    await audit.record(session, None, "billing.reservation.create", "enrolment", e.enrolment_id, municipality=payer,
                       details={"certificate_id": str(e.certificate_id), "reserved_kopecks": q.certificate_part,
                                "family_kopecks": q.family_part, "cause_event_id": str(env.id)})


# --- releases -----------------------------------------------------------------------------

async def _contract(session: AsyncSession, enrolment_id: uuid.UUID) -> dict | None:
    row = (
        await session.execute(text("SELECT * FROM contracts WHERE enrolment_id = :e FOR UPDATE"), {"e": enrolment_id})
    ).mappings().first()
    return dict(row) if row else None


async def release_months(b: Billing, session: AsyncSession, contract: dict, months: list[date],
                         reason: bev.ReleaseReason, env: Envelope, on: date) -> int:
    """Void the reservations of ``months`` (those still reserved); publishes ReservationReleased."""
    eid, cid = contract["enrolment_id"], contract["certificate_id"]
    released = (
        await session.execute(
            text("UPDATE contract_months SET state = 'released', released_kopecks = certificate_kopecks "
                 "WHERE enrolment_id = :e AND state = 'reserved' AND month = ANY(:m) "
                 "RETURNING month, certificate_kopecks"),
            {"e": eid, "m": months},
        )
    ).all()
    if not released:
        return 0
    await ledger.record(session, [
        Transfer(f"void:{eid}:{r.month:%Y-%m}", "release", contract["period_id"],
                 ledger.cert(AK.CERTIFICATE_RESERVED, cid), ledger.cert(AK.CERTIFICATE_AVAILABLE, cid),
                 r.certificate_kopecks, certificate_id=cid, enrolment_id=eid, month=r.month,
                 cause_event_id=env.id, pending_id=ledger.reserve_id(eid, r.month))
        for r in released
    ])
    await ledger.resolve_pendings(session, [ledger.reserve_id(eid, r.month) for r in released], "voided")
    amount = sum(r.certificate_kopecks for r in released)
    remaining = await session.scalar(
        text("SELECT COALESCE(sum(certificate_kopecks), 0) FROM contract_months WHERE enrolment_id = :e "
             "AND state = 'reserved'"), {"e": eid})
    await b.runtime.outbox.put(session, bev.ReservationReleased(
        reservation_id=reservation_id(eid), enrolment_id=eid, certificate_id=cid, released_kopecks=amount,
        remaining_reserved_kopecks=int(remaining), reason=reason, released_on=on))
    await audit.record(session, None, "billing.reservation.release", "enrolment", eid,
                       municipality=contract["payer_code"],
                       details={"released_kopecks": amount, "reason": reason.value, "months": len(released),
                                "cause_event_id": str(env.id)})
    return amount


async def _schedule(session: AsyncSession, enrolment_id: uuid.UUID) -> list[Instalment]:
    rows = (await session.execute(
        text("SELECT month, certificate_kopecks, family_kopecks FROM contract_months WHERE enrolment_id = :e ORDER BY month"),
        {"e": enrolment_id})).all()
    return [Instalment(r.month, r.certificate_kopecks, r.family_kopecks) for r in rows]


async def _release_all(b: Billing, session: AsyncSession, enrolment_id: uuid.UUID, status: str,
                       reason: bev.ReleaseReason, env: Envelope, on: date) -> None:
    contract = await _contract(session, enrolment_id)
    if contract is None or contract["status"] not in ("reserved", "active", "queued"):
        return  # unknown, rejected or already finished: nothing is reserved
    if contract["status"] == "queued":
        await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e"),
                              {"e": enrolment_id})
    elif contract["funding_kind"] == "municipal_task":
        await session.execute(
            text("UPDATE caps SET free_places_used = free_places_used - 1 WHERE period_id = :p AND municipality_code = :m "
                 "AND free_places_used > 0"), {"p": contract["period_id"], "m": contract["municipality_code"]})
    await session.execute(text("UPDATE contracts SET status = :s, updated_at = now() WHERE enrolment_id = :e"),
                          {"s": status, "e": enrolment_id})
    if contract["status"] != "queued":
        months = [line.month for line in await _schedule(session, enrolment_id)]
        released = await release_months(b, session, contract, months, reason, env, on)
        if released == 0:
            await b.runtime.outbox.put(session, bev.ReservationReleased(
                reservation_id=reservation_id(enrolment_id), enrolment_id=enrolment_id,
                certificate_id=contract["certificate_id"], released_kopecks=0, remaining_reserved_kopecks=0,
                reason=reason, released_on=on))
        if contract["funding_kind"] == "certificate" and contract["period_id"] is not None:
            await release_funding_if_unused(b, session, contract["certificate_id"], contract["period_id"], env, on)
    elif contract["period_id"] is not None and contract["payer_code"]:
        # a waiting request left the queue: those behind it move up (and may get in)
        await admit_queue(b, session, contract["period_id"], contract["payer_code"])


async def enrolment_confirmed(b: Billing, session: AsyncSession, e: n.EnrolmentConfirmed, env: Envelope) -> None:
    contract = await _contract(session, e.enrolment_id)
    if contract is None:
        raise LookupError(f"no reservation for enrolment {e.enrolment_id} yet")  # retried, then DLQ
    if contract["status"] == "reserved":
        await session.execute(text("UPDATE contracts SET status = 'active', updated_at = now() WHERE enrolment_id = :e"),
                              {"e": e.enrolment_id})
        await audit.record(session, None, "billing.contract.activate", "enrolment", e.enrolment_id,
                           municipality=contract["payer_code"], details={"cause_event_id": str(env.id)})


async def enrolment_cancelled(b: Billing, session: AsyncSession, e: n.EnrolmentCancelled, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, "cancelled", bev.ReleaseReason.ENROLMENT_CANCELLED, env, e.cancelled_on)


async def enrolment_declined(b: Billing, session: AsyncSession, e: n.EnrolmentDeclined, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, "declined", bev.ReleaseReason.ENROLMENT_DECLINED, env, e.declined_on)


async def enrolment_expired(b: Billing, session: AsyncSession, e: n.EnrolmentExpired, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, "expired", bev.ReleaseReason.HOLD_EXPIRED, env, e.expired_on)


async def _end_early(b: Billing, session: AsyncSession, contract: dict, on: date, reason: bev.ReleaseReason,
                     env: Envelope) -> None:
    """Terminate on ``on``: that month stays billed by its mode, later months are released now."""
    eid = contract["enrolment_id"]
    schedule = await _schedule(session, eid)
    plan = terminate(schedule, contract["start_date"], contract["end_date"], on)
    if plan.cancelled_before_start:
        new_status, new_end = "cancelled", contract["end_date"]
    else:
        new_status, new_end = "terminated", plan.ends_on
    await session.execute(
        text("UPDATE contracts SET status = :s, end_date = :d, updated_at = now() WHERE enrolment_id = :e"),
        {"s": new_status, "d": new_end, "e": eid})
    await release_months(b, session, contract, [line.month for line in plan.released], reason, env, on)


async def enrolment_terminated(b: Billing, session: AsyncSession, e: n.EnrolmentTerminated, env: Envelope) -> None:
    contract = await _contract(session, e.enrolment_id)
    if contract is None or contract["status"] not in ("reserved", "active"):
        return
    await _end_early(b, session, contract, e.requested_on, bev.ReleaseReason.TERMINATED, env)


async def enrolment_ended(b: Billing, session: AsyncSession, e: n.EnrolmentEnded, env: Envelope) -> None:
    await session.execute(
        text("UPDATE contracts SET status = 'ended', updated_at = now() WHERE enrolment_id = :e "
             "AND status IN ('active', 'terminated')"), {"e": e.enrolment_id})


async def end_contracts_of_certificate(b: Billing, session: AsyncSession, certificate_id: uuid.UUID, on: date,
                                       why: str, env: Envelope) -> None:
    """Expiry at 18 (or closing): contracts end at the end of ``on``'s month; later months released."""
    reason = bev.ReleaseReason(why)
    rows = (await session.execute(
        text("SELECT enrolment_id FROM contracts WHERE certificate_id = :c AND status IN ('reserved', 'active', 'queued') "
             "ORDER BY enrolment_id"), {"c": certificate_id})).scalars().all()
    for eid in rows:
        contract = await _contract(session, eid)
        assert contract is not None
        if contract["status"] == "queued":
            await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e"), {"e": eid})
            await session.execute(
                text("UPDATE contracts SET status = 'rejected', reject_reason = :r, updated_at = now() WHERE enrolment_id = :e"),
                {"e": eid, "r": R.CERTIFICATE_NOT_ACTIVE.value})
            await b.runtime.outbox.put(session, bev.ReservationRejected(
                enrolment_id=eid, certificate_id=certificate_id, reason=R.CERTIFICATE_NOT_ACTIVE))
            continue
        await _end_early(b, session, contract, on, reason, env)
    queues = (await session.execute(
        text("SELECT DISTINCT period_id, municipality_code FROM funding_queue WHERE certificate_id = :c"),
        {"c": certificate_id})).all()
    for q in queues:
        await admit_queue(b, session, q.period_id, q.municipality_code)
    period = await open_period_for(session, on)
    if period is not None:
        await release_funding_if_unused(b, session, certificate_id, period["period_id"], env, on)


async def release_funding_if_unused(b: Billing, session: AsyncSession, certificate_id: uuid.UUID,
                                    period_id: uuid.UUID, env: Envelope, on: date) -> bool:
    """Give the certificate's funding slot of the period back when it used none of the period's
    money (``domain/funding_queue.py``); then admit waiting requests in queue order."""
    cert = await _certificate(session, certificate_id, lock=True)
    if cert is None or cert["usage_kind"] != "funding":
        return False
    balance = await ledger.lock_balance(session, certificate_id, period_id)
    if balance is None:
        return False
    usage = (await session.execute(text(
        "SELECT count(*) FILTER (WHERE status IN ('reserved', 'active', 'terminated')) AS live, "
        "COALESCE(bool_or(funding_activated), false) AS activated FROM contracts "
        "WHERE certificate_id = :c AND period_id = :p AND funding_kind = 'certificate'"),
        {"c": certificate_id, "p": period_id})).one()
    if not frees_funding_slot(
        funding=True, certificate_active=cert["status"] == "active", activated_this_period=usage.activated,
        live_paid_contracts=usage.live, reserved_kopecks=balance["reserved"], spent_kopecks=balance["spent"],
    ):
        return False
    payer = cert["municipality_code"]
    return_key = f"unfund:{certificate_id}:{period_id}:{env.id}"
    await ledger.record(session, [Transfer(
        return_key, "return_unused", period_id,
        ledger.cert(AK.CERTIFICATE_AVAILABLE, certificate_id), (AK.BUDGET, payer), balance["available"],
        certificate_id=certificate_id, cause_event_id=env.id, cause="funding_unused",
    )])
    await b.runtime.outbox.put(session, bev.CertificateFundingReturned(
        return_id=uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:{return_key}"), certificate_id=certificate_id,
        period_id=period_id, municipality_code=payer, amount_kopecks=balance["available"], returned_on=on,
    ))
    await session.execute(text(
        "UPDATE certificates SET usage_kind = 'accounting', funded_on = NULL, updated_at = now() WHERE certificate_id = :c"),
        {"c": certificate_id})
    await session.execute(text(
        "UPDATE contracts SET funding_activated = false WHERE certificate_id = :c AND period_id = :p"),
        {"c": certificate_id, "p": period_id})
    await session.execute(text(
        "UPDATE caps SET funding_used = funding_used - 1 WHERE period_id = :p AND municipality_code = :m "
        "AND funding_used > 0"), {"p": period_id, "m": payer})
    await audit.record(session, None, "billing.funding.slot_freed", "certificate", certificate_id, municipality=payer,
                       details={"period_id": str(period_id), "returned_kopecks": balance["available"],
                                "cause_event_id": str(env.id)})
    await admit_queue(b, session, period_id, payer)
    return True


async def refresh_queue_positions(b: Billing, session: AsyncSession, period_id: uuid.UUID, municipality: str) -> int:
    """Tell every waiting request whose queue position changed its new position."""
    rows = (await session.execute(
        text("SELECT enrolment_id, certificate_id, position FROM funding_queue WHERE period_id = :p "
             "AND municipality_code = :m AND status = 'waiting' ORDER BY seq FOR UPDATE"),
        {"p": period_id, "m": municipality})).all()
    certificates = {r.enrolment_id: r.certificate_id for r in rows}
    updates = position_updates({r.enrolment_id: r.position for r in rows}, [r.enrolment_id for r in rows])
    if updates:
        await session.execute(text("UPDATE funding_queue SET position = :n WHERE enrolment_id = :e"),
                              [{"e": eid, "n": pos} for eid, pos in updates])
        await b.runtime.outbox.put_many(session, [
            bev.ReservationRejected(enrolment_id=eid, certificate_id=certificates[eid], reason=R.FUNDING_CAP_QUEUED,
                                    queue_position=pos)
            for eid, pos in updates
        ])
    return len(updates)


async def admit_queue(b: Billing, session: AsyncSession, period_id: uuid.UUID, municipality: str) -> int:
    """Admit waiting funding requests first-come while the cap allows; returns how many got in."""
    admitted = 0
    rows = (await session.execute(
        text("SELECT request, seq FROM funding_queue WHERE period_id = :p AND municipality_code = :m AND status = 'waiting' "
             "ORDER BY seq"), {"p": period_id, "m": municipality})).all()
    for row in rows:
        request = n.EnrolmentRequested.model_validate(row.request)
        env = b.runtime.outbox.envelope(request)
        outcome = await enrolment_requested(b, session, request, env, from_queue=True)
        if outcome == "queued":
            break
        admitted += outcome == "reserved"
    await refresh_queue_positions(b, session, period_id, municipality)
    return admitted


