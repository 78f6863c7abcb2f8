"""Enrolment money: reserve (or reject), confirm, release, terminate, expiry (docs/domain-rules.md,
"Reservation decision", "Quote and instalments", "Contracts and payment modes").

Concurrency: a reservation locks the certificate row and then its balance row
(SELECT ... FOR UPDATE), so concurrent requests against one certificate queue up behind each
other and never overspend; the CHECK constraints of ``certificate_balances`` are the last guard.
Idempotency: the contract row is keyed by the enrolment id; a repeated request is a no-op, and
every transfer id is derived from the enrolment and month.
The rules are the domain's: what a request gets in
:mod:`pfdo_billing.domain.reservation`, how a contract's status changes in
:mod:`pfdo_billing.domain.contract`; this module loads, asks them, and saves.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import CertificateStatus, month_of
from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import billing as bev
from pfdo_contracts.events import navigator as n
from pfdo_contracts.rules import calendar
from pfdo_contracts.rules.lessons import planned_lessons
from pfdo_plumbing import audit
from pfdo_plumbing.db import Statement, insert_sql

from pfdo_billing.adapters import ledger
from pfdo_billing.adapters.ledger import Booking
from pfdo_billing.adapters.sql_lists import sql_list
from pfdo_billing.adapters.tables import CONTRACTS, FUNDING_QUEUE
from pfdo_billing.domain import reservation
from pfdo_billing.domain.calendar import Period, remaining_months
from pfdo_billing.domain.contract import (
    LIVE, USING_FUNDS, ContractEvent, ContractStatus, next_status, on_certificate_end, sources,
)
from pfdo_billing.domain.errors import NoAgeGroup
from pfdo_billing.domain.funding_queue import frees_funding_slot, position_updates
from pfdo_billing.domain.ledger_model import CreditNominal, Reserve, ReturnUnused, Void
from pfdo_billing.domain.nominal import AgeGroup, NominalRate, nominal_for, prorated_nominal
from pfdo_billing.domain.quote import Instalment, Quote
from pfdo_billing.domain.termination import end_early

from .agreements import agreement_of, lock_agreement_for
from .context import Billing

R = bev.RejectionReason


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
    f"AND status IN ({sql_list(LIVE)}) AND enrolment_id <> :e")
_TAKE_AGREEMENT = Statement("UPDATE agreements SET used_kopecks = used_kopecks + :x, updated_at = now() "
                            "WHERE agreement_id = :a")
_FREE_AGREEMENT = Statement("UPDATE agreements SET used_kopecks = GREATEST(0, used_kopecks - :x), updated_at = now() "
                            "WHERE agreement_id = :a")
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
    new = await ledger.apply(session, [Booking(
        CreditNominal(credit_key, certificate["municipality_code"], str(cid), str(pid), amount),
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


def _contract_values(e: n.EnrolmentRequested, env: Envelope, *, status: ContractStatus, period_id: uuid.UUID | None,
                     payer: str | None, reason: str | None = None, q: Quote | None = None,
                     activated: bool = False, agreement_id: uuid.UUID | None = None) -> dict:
    return dict(
        enrolment_id=e.enrolment_id, certificate_id=e.certificate_id, module_id=e.module_id,
        program_id=e.program_id, provider_id=e.provider_id, municipality_code=e.municipality_code,
        payer_code=payer, direction=e.direction.value, funding_kind=e.funding_kind.value, period_id=period_id,
        payment_mode=e.payment_mode.value, start_date=e.start_date,
        end_date=min(e.end_date, q.ends_on) if q else e.end_date,  # the certificate's validity caps it
        weekdays=sorted(s.weekday for s in e.schedule), status=status.value, reject_reason=reason,
        total_cost_kopecks=q.cost if q else 0, certificate_kopecks=q.certificate_part if q else 0,
        family_kopecks=q.family_part if q else 0, funding_activated=activated,
        reservation_id=reservation_id(e.enrolment_id), cause_event_id=env.id, agreement_id=agreement_id,
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
                  *, period_id: uuid.UUID | None = None, payer: str | None = None, activated: bool = False) -> None:
    await _upsert_contract(session, _contract_values(e, env, status=ContractStatus.REJECTED, period_id=period_id,
                                                     payer=payer, reason=reason.value, activated=activated))
    await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e AND status = 'waiting'"),
                          {"e": e.enrolment_id})
    await b.runtime.outbox.put(session, bev.ReservationRejected(
        enrolment_id=e.enrolment_id, certificate_id=e.certificate_id, reason=reason))


async def _queue(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, period: dict,
                 payer: str) -> None:
    await _upsert_contract(session, _contract_values(e, env, status=ContractStatus.QUEUED, period_id=period["period_id"],
                                                     payer=payer))
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
                              *, from_queue: bool = False) -> ContractStatus:
    """Reserve the certificate part of an enrolment, queue it or reject it; returns the contract's
    status.

    Load, decide, save: :func:`~pfdo_billing.domain.reservation.decide_reservation` asks for the
    facts it needs one by one, so the rows are locked in one order (the contract, the
    certificate, the payer's caps, the place's caps, the balance), and for the two writes it
    needs before it can quote (a certificate becoming a funding one, a missing credit). The
    agreement's row (a paid place) is locked after the caps and before the balance: concurrent
    reservations under one agreement queue up there and never take more than its limit."""
    current = await _LOCK_CONTRACT_STATUS.fetchval(session, e=e.enrolment_id)
    facts = reservation.ReservationFacts(_request_of(e, from_queue, b.local_date(env.time)),
                                         current=None if current is None else ContractStatus(current))
    rows = _Rows()
    while True:
        step = reservation.decide_reservation(facts)
        if isinstance(step, reservation.Need):
            facts = await _load(session, e, facts, step.fact, rows)
        elif isinstance(step, reservation.ActivateFunding):
            await _activate_funding(b, session, e, env, rows, count_slot=step.count_slot)
            rows.funding_activated = True
            facts = replace(facts, funding_activated=True, available=reservation.UNKNOWN)
        elif isinstance(step, reservation.CreditNominal):
            await credit_certificate(b, session, rows.certificate, rows.period, b.local_date(env.time), env)
            facts = replace(facts, credited=True, available=reservation.UNKNOWN)
        else:
            await _save(b, session, e, env, step, rows, from_queue=from_queue)
            return step.status


def _request_of(e: n.EnrolmentRequested, from_queue: bool, decided_on: date) -> reservation.EnrolmentRequest:
    return reservation.EnrolmentRequest(
        funding_kind=e.funding_kind, place_municipality=e.municipality_code, start_date=e.start_date,
        module_start=e.module_start_date, module_end=e.module_end_date, price=e.price_kopecks,
        normative_cost=e.normative_cost_kopecks, payment_mode=e.payment_mode.value, from_queue=from_queue,
        decided_on=decided_on,
    )


@dataclass
class _Rows:
    """The rows behind the facts, for the writes."""

    certificate: dict | None = None
    period: dict | None = None
    funding_activated: bool = False  # ActivateFunding was written in this transaction

    @property
    def payer(self) -> str | None:
        return self.certificate["municipality_code"] if self.certificate else None

    @property
    def period_id(self) -> uuid.UUID | None:
        return self.period["period_id"] if self.period else None


def _caps_of(row: dict | None) -> reservation.Caps | None:
    if row is None:
        return None
    return reservation.Caps(
        direction_cap=row["direction_cap"], funding_cap=row["funding_cap"], funding_used=row["funding_used"],
        free_places=row["free_places"], free_places_used=row["free_places_used"])


async def _load(session: AsyncSession, e: n.EnrolmentRequested, facts: reservation.ReservationFacts,
                fact: reservation.Fact, rows: _Rows) -> reservation.ReservationFacts:
    """``facts`` with ``fact`` loaded (the certificate, caps and balance rows are locked)."""
    match fact:
        case reservation.Fact.CERTIFICATE:
            cert = rows.certificate = await _certificate(session, e.certificate_id, lock=True)
            return replace(facts, certificate=None if cert is None else reservation.CertificateFacts(
                status=cert["status"], payer=cert["municipality_code"], usage_kind=cert["usage_kind"],
                birth_date=cert["birth_date"], valid_until=cert["valid_until"]))
        case reservation.Fact.OPEN_PERIOD:
            rows.period = await open_period_for(session, e.start_date)
            return replace(facts, period_id=rows.period_id)
        case reservation.Fact.CAPS:
            return replace(facts, caps=_caps_of(await _caps(session, rows.period_id, rows.payer)))
        case reservation.Fact.SAME_DIRECTION:
            return replace(facts, same_direction=await _SAME_DIRECTION.fetchval(
                session, c=e.certificate_id, d=e.direction.value, p=rows.period_id, e=e.enrolment_id))
        case reservation.Fact.PLACE_CAPS:
            return replace(facts, place_caps=_caps_of(await _caps(session, rows.period_id, e.municipality_code)))
        case reservation.Fact.QUEUE_AHEAD:
            return replace(facts, queue_ahead=await _QUEUE_LENGTH.fetchval(session, p=rows.period_id, m=rows.payer))
        case reservation.Fact.AGREEMENT:
            row = await lock_agreement_for(session, e.provider_id, rows.payer, rows.period_id)
            return replace(facts, agreement=None if row is None else agreement_of(row))
        case reservation.Fact.AGE_GROUP:
            try:
                await nominal_of(session, rows.period, rows.payer, rows.certificate["birth_date"])
            except NoAgeGroup:
                return replace(facts, age_group_funded=False)
            return replace(facts, age_group_funded=True)
        case reservation.Fact.BALANCE:
            balance = await ledger.lock_balance(session, e.certificate_id, rows.period_id)
            return replace(facts, available=None if balance is None else balance["available"])
    raise AssertionError(fact)


async def _activate_funding(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, rows: _Rows,
                            *, count_slot: bool) -> None:
    """The accounting certificate becomes a funding one: a slot of the payer's funding cap, its nominal."""
    on = b.local_date(env.time)
    if count_slot:
        await session.execute(
            text("UPDATE caps SET funding_used = funding_used + 1 WHERE period_id = :p AND municipality_code = :m"),
            {"p": rows.period_id, "m": rows.payer},
        )
    await session.execute(
        text("UPDATE certificates SET usage_kind = 'funding', funded_on = :d, updated_at = now() "
             "WHERE certificate_id = :c"), {"d": on, "c": e.certificate_id})
    await credit_certificate(b, session, rows.certificate, rows.period, on, env)


async def _save(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope,
                decision: reservation.ReservationDecision, rows: _Rows, *, from_queue: bool) -> None:
    """Write the decision (an unchanged request writes nothing)."""
    if isinstance(decision, reservation.Reject):
        await _reject(b, session, e, env, decision.reason, period_id=rows.period_id, payer=rows.payer,
                      activated=rows.funding_activated)
        if rows.funding_activated:  # refused after taking a funding slot (the agreement's limit): give it back
            await release_funding_if_unused(b, session, e.certificate_id, rows.period_id, env, b.local_date(env.time))
    elif isinstance(decision, reservation.Queue):
        await _queue(b, session, e, env, rows.period, rows.payer)
    elif isinstance(decision, reservation.Reserve):
        if decision.free_place_in is not None:
            await session.execute(
                text("UPDATE caps SET free_places_used = free_places_used + 1 "
                     "WHERE period_id = :p AND municipality_code = :m"),
                {"p": rows.period_id, "m": decision.free_place_in},
            )
        await _reserve(b, session, e, env, decision.quote, rows.period, rows.payer, decision.funding_activated,
                       decision.agreement_id)
        if from_queue:
            await session.execute(text("UPDATE funding_queue SET status = 'admitted' WHERE enrolment_id = :e"),
                                  {"e": e.enrolment_id})


async def _reserve(b: Billing, session: AsyncSession, e: n.EnrolmentRequested, env: Envelope, q: Quote,
                   period: dict, payer: str, activated: bool, agreement_id: uuid.UUID | None) -> None:
    pid = period["period_id"]
    weekdays = sorted(s.weekday for s in e.schedule)
    await _upsert_contract(session, _contract_values(e, env, status=ContractStatus.RESERVED, period_id=pid, payer=payer,
                                                     q=q, activated=activated, agreement_id=agreement_id))
    if agreement_id is not None and q.certificate_part:  # the row is locked since the decision loaded it
        await _TAKE_AGREEMENT.execute(session, a=agreement_id, x=q.certificate_part)
    lines = [
        (line, planned_lessons(line.month, weekdays, e.start_date, e.end_date,
                               days_off=calendar.days_off(line.month.year, b.settings.region_days_off)))
        for line in q.schedule
    ]
    await _ADD_MONTHS.executemany(session, [
        {"enrolment_id": e.enrolment_id, "month": line.month, "certificate_kopecks": line.certificate,
         "family_kopecks": line.family, "planned_lessons": planned}
        for line, planned in lines
    ])
    await ledger.apply(session, [
        Booking(Reserve(ledger.reserve_id(e.enrolment_id, line.month), str(e.certificate_id), str(pid),
                        str(e.provider_id), payer, line.certificate),
                enrolment_id=e.enrolment_id, month=line.month, cause_event_id=env.id)
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
    await ledger.apply(session, [  # a month with no certificate part reserved nothing: nothing to void
        Booking(Void(f"void:{eid}:{r.month:%Y-%m}", ledger.reserve_id(eid, r.month)),
                enrolment_id=eid, month=r.month, cause_event_id=env.id)
        for r in released if r.certificate_kopecks
    ])
    amount = sum(r.certificate_kopecks for r in released)
    if contract.get("agreement_id") is not None and amount:  # released money frees the agreement's limit
        await _FREE_AGREEMENT.execute(session, a=contract["agreement_id"], x=amount)
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


async def _release_all(b: Billing, session: AsyncSession, enrolment_id: uuid.UUID, event: ContractEvent,
                       reason: bev.ReleaseReason, env: Envelope, on: date) -> None:
    contract = await _contract(session, enrolment_id)
    status = next_status(contract["status"] if contract else None, event)
    if contract is None or status is None:
        return  # unknown, rejected or already finished: nothing is reserved
    queued = contract["status"] == ContractStatus.QUEUED
    if queued:
        await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e"),
                              {"e": enrolment_id})
    elif contract["funding_kind"] == "municipal_task":
        await session.execute(
            text("UPDATE caps SET free_places_used = free_places_used - 1 WHERE period_id = :p AND municipality_code = :m "
                 "AND free_places_used > 0"), {"p": contract["period_id"], "m": contract["municipality_code"]})
    await session.execute(text("UPDATE contracts SET status = :s, updated_at = now() WHERE enrolment_id = :e"),
                          {"s": status.value, "e": enrolment_id})
    if not queued:
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
    # no contract yet: ContractNotFound (a LookupError), retried, then dead-lettered
    status = next_status(contract["status"] if contract else None, ContractEvent.CONFIRM)
    if status is not None:
        await session.execute(text("UPDATE contracts SET status = :s, updated_at = now() WHERE enrolment_id = :e"),
                              {"s": status.value, "e": e.enrolment_id})
        await audit.record(session, None, "billing.contract.activate", "enrolment", e.enrolment_id,
                           municipality=contract["payer_code"], details={"cause_event_id": str(env.id)})


async def enrolment_cancelled(b: Billing, session: AsyncSession, e: n.EnrolmentCancelled, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, ContractEvent.CANCEL, bev.ReleaseReason.ENROLMENT_CANCELLED, env,
                       e.cancelled_on)


async def enrolment_declined(b: Billing, session: AsyncSession, e: n.EnrolmentDeclined, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, ContractEvent.DECLINE, bev.ReleaseReason.ENROLMENT_DECLINED, env,
                       e.declined_on)


#: Which timeout ended the application -> the release's reason.
_EXPIRY_RELEASE = {n.ExpiryReason.APPLICATION_UNANSWERED: bev.ReleaseReason.HOLD_EXPIRED,
                   n.ExpiryReason.OFFER_NOT_ACCEPTED: bev.ReleaseReason.OFFER_NOT_ACCEPTED}


async def enrolment_expired(b: Billing, session: AsyncSession, e: n.EnrolmentExpired, env: Envelope) -> None:
    await _release_all(b, session, e.enrolment_id, ContractEvent.EXPIRE, _EXPIRY_RELEASE[e.reason], env,
                       e.expired_on)


async def _end_early(b: Billing, session: AsyncSession, contract: dict, on: date, reason: bev.ReleaseReason,
                     env: Envelope) -> None:
    """End the contract on ``on`` (``domain/termination.py``, :func:`end_early`): a contract in
    force keeps that month, later months are released now; a cancelled one releases every month."""
    eid = contract["enrolment_id"]
    end = end_early(contract["status"], await _schedule(session, eid), contract["start_date"],
                    contract["end_date"], on)
    assert end is not None, contract["status"]  # callers pass contracts holding money
    await session.execute(
        text("UPDATE contracts SET status = :s, end_date = :d, updated_at = now() WHERE enrolment_id = :e"),
        {"s": end.status.value, "d": end.ends_on, "e": eid})
    await release_months(b, session, contract, [line.month for line in end.released], reason, env, on)


async def enrolment_terminated(b: Billing, session: AsyncSession, e: n.EnrolmentTerminated, env: Envelope) -> None:
    contract = await _contract(session, e.enrolment_id)
    if contract is None or next_status(contract["status"], ContractEvent.TERMINATE) is None:
        return
    await _end_early(b, session, contract, e.requested_on, bev.ReleaseReason.TERMINATED, env)


_END_CONTRACT = text("UPDATE contracts SET status = :s, updated_at = now() WHERE enrolment_id = :e "
                     f"AND status IN ({sql_list(sources(ContractEvent.END))})")


async def enrolment_ended(b: Billing, session: AsyncSession, e: n.EnrolmentEnded, env: Envelope) -> None:
    await session.execute(_END_CONTRACT, {"e": e.enrolment_id, "s": ContractStatus.ENDED.value})


async def end_contracts_of_certificate(b: Billing, session: AsyncSession, certificate_id: uuid.UUID, on: date,
                                       why: str, env: Envelope) -> None:
    """Expiry at 18 (or closing): contracts end at the end of ``on``'s month; later months released."""
    reason = bev.ReleaseReason(why)
    rows = (await session.execute(
        text(f"SELECT enrolment_id FROM contracts WHERE certificate_id = :c AND status IN ({sql_list(LIVE)}) "
             "ORDER BY enrolment_id"), {"c": certificate_id})).scalars().all()
    for eid in rows:
        contract = await _contract(session, eid)
        assert contract is not None
        event = on_certificate_end(contract["status"])
        if event is ContractEvent.REJECT:  # a waiting request is refused
            await session.execute(text("UPDATE funding_queue SET status = 'rejected' WHERE enrolment_id = :e"), {"e": eid})
            await session.execute(
                text("UPDATE contracts SET status = :s, reject_reason = :r, updated_at = now() WHERE enrolment_id = :e"),
                {"e": eid, "r": R.CERTIFICATE_NOT_ACTIVE.value, "s": ContractStatus.REJECTED.value})
            await b.runtime.outbox.put(session, bev.ReservationRejected(
                enrolment_id=eid, certificate_id=certificate_id, reason=R.CERTIFICATE_NOT_ACTIVE))
        elif event is ContractEvent.TERMINATE:
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
        f"SELECT count(*) FILTER (WHERE status IN ({sql_list(USING_FUNDS)})) AS live, "
        "COALESCE(bool_or(funding_activated), false) AS activated FROM contracts "
        "WHERE certificate_id = :c AND period_id = :p AND funding_kind = 'certificate'"),
        {"c": certificate_id, "p": period_id})).one()
    if not frees_funding_slot(
        funding=True, certificate_active=cert["status"] == CertificateStatus.ACTIVE, activated_this_period=usage.activated,
        live_paid_contracts=usage.live, reserved_kopecks=balance["reserved"], spent_kopecks=balance["spent"],
    ):
        return False
    payer = cert["municipality_code"]
    return_key = f"unfund:{certificate_id}:{period_id}:{env.id}"
    await ledger.apply(session, [Booking(
        ReturnUnused(return_key, payer, str(certificate_id), str(period_id), balance["available"]),
        cause_event_id=env.id, cause="funding_unused",
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
        if outcome is ContractStatus.QUEUED:
            break
        admitted += outcome is ContractStatus.RESERVED
    await refresh_queue_positions(b, session, period_id, municipality)
    return admitted


