"""Program periods: nominals per municipality and age group, caps and free places, opening
(credit every active funding certificate, set-based) and closing (unused money back to the
budget)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.events import billing as bev
from pfdo_contracts.rules.age import anniversary_sql
from pfdo_plumbing import audit, clock, context
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.domain_error import DomainError, NotFound

from pfdo_billing.adapters import ledger
from pfdo_billing.adapters.sql_events import outbox_insert
from pfdo_billing.domain.calendar import Period
from pfdo_billing.domain.errors import InvalidDateRange
from pfdo_billing.domain.ledger_model import CreditNominal, ReturnUnused

from .context import Billing
from .reservations import admit_queue


@dataclass(frozen=True)
class NominalRow:
    municipality_code: str
    age_min: int
    age_max: int
    amount_kopecks: int


@dataclass(frozen=True)
class CapRow:
    municipality_code: str
    funding_cap: int | None
    free_places: int | None
    direction_cap: int | None


async def get_period(session: AsyncSession, period_id: uuid.UUID, *, lock: bool = False) -> dict:
    row = (await session.execute(text("SELECT * FROM periods WHERE period_id = :p" + (" FOR UPDATE" if lock else "")),
                                 {"p": period_id})).mappings().first()
    if row is None:
        raise NotFound(message="period not found")
    return dict(row)


async def create_period(b: Billing, starts_on: date, ends_on: date, actor: Principal) -> dict:
    if ends_on < starts_on:
        raise InvalidDateRange("The period ends before it starts.")
    pid = uuid.uuid4()
    async with b.runtime.db.transaction() as session:
        overlap = await session.scalar(text(
            "SELECT count(*) FROM periods WHERE status <> 'closed' AND starts_on <= :e AND ends_on >= :s"),
            {"s": starts_on, "e": ends_on})
        if overlap:
            raise DomainError("period_overlaps", "Another period that is not closed overlaps these dates.")
        await session.execute(text("INSERT INTO periods (period_id, starts_on, ends_on) VALUES (:p, :s, :e)"),
                              {"p": pid, "s": starts_on, "e": ends_on})
        await audit.record(session, actor, "billing.period.create", "period", pid,
                           details={"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
        return await get_period(session, pid)


async def set_nominals(b: Billing, period_id: uuid.UUID, rows: list[NominalRow], actor: Principal) -> None:
    for r in rows:
        if not actor.covers_municipality(r.municipality_code):
            raise NotFound(message="period not found")
    async with b.runtime.db.transaction() as session:
        period = await get_period(session, period_id, lock=True)
        if period["status"] != "draft":
            raise DomainError("period_not_draft", "Nominals are fixed once the period is open.")
        by_muni: dict[str, list[NominalRow]] = {}
        for r in rows:
            by_muni.setdefault(r.municipality_code, []).append(r)
        for muni, group in by_muni.items():
            ordered = sorted(group, key=lambda g: g.age_min)
            for prev, nxt in zip(ordered, ordered[1:], strict=False):
                if nxt.age_min <= prev.age_max:
                    raise DomainError("age_groups_overlap", f"Age groups of municipality {muni} overlap.",
                                      municipality=muni)
            await session.execute(text("DELETE FROM nominals WHERE period_id = :p AND municipality_code = :m"),
                                  {"p": period_id, "m": muni})
            await session.execute(text(
                "INSERT INTO nominals (period_id, municipality_code, age_min, age_max, amount_kopecks) "
                "VALUES (:p, :m, :a, :z, :k)"),
                [{"p": period_id, "m": muni, "a": g.age_min, "z": g.age_max, "k": g.amount_kopecks} for g in group])
            await audit.record(session, actor, "billing.period.nominals", "period", period_id, municipality=muni,
                               details={"age_groups": len(group)})


def _scope(actor: Principal) -> str | None:
    """The one municipality a municipal operator reads; None: all (the region, finance)."""
    return (actor.municipality or "--") if actor.role == Role.MUNICIPAL_OPERATOR else None


async def nominals(b: Billing, period_id: uuid.UUID, actor: Principal) -> list[dict]:
    """The period's nominals per municipality and age group (a municipal operator: its own)."""
    async with b.runtime.db.transaction() as session:
        await get_period(session, period_id)
        rows = (await session.execute(text(
            "SELECT municipality_code, age_min, age_max, amount_kopecks FROM nominals WHERE period_id = :p "
            "AND (CAST(:m AS text) IS NULL OR municipality_code = :m) ORDER BY municipality_code, age_min"),
            {"p": period_id, "m": _scope(actor)})).mappings().all()
    return [dict(r) for r in rows]


async def caps(b: Billing, period_id: uuid.UUID, actor: Principal) -> list[dict]:
    """The period's caps per municipality with what is used of them (a municipal operator: its own)."""
    async with b.runtime.db.transaction() as session:
        await get_period(session, period_id)
        rows = (await session.execute(text(
            "SELECT municipality_code, funding_cap, funding_used, free_places, free_places_used, direction_cap "
            "FROM caps WHERE period_id = :p AND (CAST(:m AS text) IS NULL OR municipality_code = :m) "
            "ORDER BY municipality_code"), {"p": period_id, "m": _scope(actor)})).mappings().all()
    return [dict(r) for r in rows]


async def set_caps(b: Billing, period_id: uuid.UUID, rows: list[CapRow], actor: Principal) -> int:
    """Set caps; a raised funding cap admits waiting requests first-come. Returns admissions."""
    for r in rows:
        if not actor.covers_municipality(r.municipality_code):
            raise NotFound(message="period not found")
    async with b.runtime.db.transaction() as session:
        period = await get_period(session, period_id)
        if period["status"] == "closed":
            raise DomainError("period_closed", "The period is closed.")
        for r in rows:
            used = (await session.execute(text(
                "SELECT funding_used, free_places_used FROM caps WHERE period_id = :p AND municipality_code = :m FOR UPDATE"),
                {"p": period_id, "m": r.municipality_code})).first()
            if used and r.funding_cap is not None and r.funding_cap < used.funding_used:
                raise DomainError("cap_below_usage", "The funding cap is below the certificates already funded.")
            if used and r.free_places is not None and r.free_places < used.free_places_used:
                raise DomainError("cap_below_usage", "Free places are below the places already taken.")
            await session.execute(text(
                "INSERT INTO caps (period_id, municipality_code, funding_cap, free_places, direction_cap) "
                "VALUES (:p, :m, :f, :fp, :d) ON CONFLICT (period_id, municipality_code) DO UPDATE SET "
                "funding_cap = EXCLUDED.funding_cap, free_places = EXCLUDED.free_places, direction_cap = EXCLUDED.direction_cap"),
                {"p": period_id, "m": r.municipality_code, "f": r.funding_cap, "fp": r.free_places, "d": r.direction_cap})
            await audit.record(session, actor, "billing.period.caps", "period", period_id, municipality=r.municipality_code,
                               details={"fields": ["funding_cap", "free_places", "direction_cap"]})
    admitted = 0
    if period["status"] == "open":
        for r in rows:
            async with b.runtime.db.transaction() as session:
                admitted += await admit_queue(b, session, period_id, r.municipality_code)
    return admitted


# the child's age on the period start is within the nominal's age group: the platform's one age
# rule (pfdo_contracts.rules.age) in SQL, as the domain's nominal_for chooses the group
_IN_AGE_GROUP = (f"{anniversary_sql('c.birth_date', 'n.age_min')} <= CAST(:starts AS date) "
                 f"AND CAST(:starts AS date) < {anniversary_sql('c.birth_date', 'n.age_max + 1')}")


async def open_period(b: Billing, period_id: uuid.UUID, actor: Principal) -> dict:
    """Open: credit every active funding certificate its full nominal (set-based)."""
    async with b.runtime.db.transaction() as session:
        period = await get_period(session, period_id, lock=True)
        if period["status"] == "open":
            return {"period_id": period_id, "status": "open", "credited": 0}
        if period["status"] != "draft":
            raise DomainError("period_not_draft", "Only a draft period can be opened.")
        params = {"p": period_id, "starts": period["starts_on"]}
        await session.execute(text(
            "CREATE TEMP TABLE open_credits ON COMMIT DROP AS "
            "SELECT c.certificate_id, c.municipality_code, n.amount_kopecks FROM certificates c "
            "JOIN nominals n ON n.period_id = :p AND n.municipality_code = c.municipality_code "
            f"AND {_IN_AGE_GROUP} "
            "WHERE c.status = 'active' AND c.usage_kind = 'funding'"), params)
        credits = (await session.execute(text(
            "SELECT certificate_id, municipality_code, amount_kopecks FROM open_credits WHERE amount_kopecks > 0 "
            "ORDER BY certificate_id"))).all()
        await _apply_in_chunks(session, [ledger.Booking(
            CreditNominal(transfer_id=f"credit:{r.certificate_id}:{period_id}", payer_id=r.municipality_code,
                          certificate_id=str(r.certificate_id), period_id=str(period_id), amount=r.amount_kopecks),
            cause="period_open") for r in credits])
        await session.execute(text(
            "INSERT INTO certificate_balances (certificate_id, period_id) SELECT certificate_id, CAST(:p AS uuid) FROM open_credits "
            "ON CONFLICT DO NOTHING"), {"p": period_id})
        await session.execute(text(
            "INSERT INTO caps (period_id, municipality_code) SELECT DISTINCT CAST(:p AS uuid), municipality_code FROM nominals "
            "WHERE period_id = :p ON CONFLICT DO NOTHING"), {"p": period_id})
        await session.execute(text(
            "UPDATE caps SET funding_used = s.n FROM (SELECT municipality_code, count(*) AS n FROM certificates "
            "WHERE status = 'active' AND usage_kind = 'funding' GROUP BY municipality_code) s "
            "WHERE caps.period_id = :p AND caps.municipality_code = s.municipality_code"), {"p": period_id})
        months = Period(period["starts_on"], period["ends_on"]).month_count
        credited_sql = outbox_insert(
            bev.CertificateCredited, names=b.runtime.names, source=b.settings.source, key_sql="r.certificate_id",
            data_sql=("jsonb_build_object('credit_id', md5('credit:' || r.certificate_id || ':' || CAST(:pt AS text))::uuid, "
                      "'certificate_id', r.certificate_id, 'period_id', CAST(:p AS uuid), "
                      "'municipality_code', r.municipality_code, 'amount_kopecks', r.amount_kopecks, 'pro_rata', false, "
                      "'months_covered', CAST(:months AS int), 'credited_on', CAST(:starts AS date))"),
            from_sql="FROM open_credits r WHERE r.amount_kopecks > 0")
        nominals = (await session.execute(text(
            "SELECT municipality_code, age_min, age_max, amount_kopecks FROM nominals WHERE period_id = :p "
            "ORDER BY municipality_code, age_min"), {"p": period_id})).all()
        await b.runtime.outbox.put(session, bev.PeriodOpened(
            period_id=period_id, starts_on=period["starts_on"], ends_on=period["ends_on"],
            nominals=[bev.Nominal(municipality_code=r.municipality_code, age_min=r.age_min, age_max=r.age_max,
                                  nominal_kopecks=r.amount_kopecks) for r in nominals]))
        await session.execute(text(credited_sql), {"p": period_id, "pt": str(period_id), "months": min(12, months), "starts": period["starts_on"],
                                                   "corr": context.correlation_id(), "cause": context.causation_id(),
                                                   "event_time": clock.now()})
        totals = (await session.execute(text(
            "SELECT count(*) AS n, COALESCE(sum(amount_kopecks), 0) AS k FROM open_credits"))).one()
        await session.execute(text("UPDATE periods SET status = 'open', opened_at = now() WHERE period_id = :p"),
                              {"p": period_id})
        await audit.record(session, actor, "billing.period.open", "period", period_id,
                           details={"certificates_credited": totals.n, "credited_kopecks": int(totals.k)})
        return {"period_id": period_id, "status": "open", "credited": int(totals.n)}


async def close_period(b: Billing, period_id: uuid.UUID, actor: Principal) -> dict:
    """Close: every certificate's unused available balance returns to the budget (no carry-over)."""
    async with b.runtime.db.transaction() as session:
        period = await get_period(session, period_id, lock=True)
        if period["status"] == "closed":
            return {"period_id": period_id, "status": "closed", "returned_kopecks": 0}
        if period["status"] != "open":
            raise DomainError("period_not_open", "Only an open period can be closed.")
        unused = (await session.execute(text(
            "SELECT b.certificate_id, c.municipality_code, b.available FROM certificate_balances b "
            "JOIN certificates c ON c.certificate_id = b.certificate_id WHERE b.period_id = :p AND b.available > 0 "
            "ORDER BY b.certificate_id FOR UPDATE OF b"), {"p": period_id})).all()
        returns = [ReturnUnused(transfer_id=f"return:{r.certificate_id}:{period_id}", payer_id=r.municipality_code,
                                certificate_id=str(r.certificate_id), period_id=str(period_id), amount=r.available)
                   for r in unused]
        moved = await _apply_in_chunks(session, [ledger.Booking(op, cause="period_close") for op in returns])
        by_payer: dict[str, int] = {}
        for op in returns:
            if op.transfer_id in moved:
                by_payer[op.payer_id] = by_payer.get(op.payer_id, 0) + op.amount
        total = sum(by_payer.values())
        await session.execute(text("UPDATE periods SET status = 'closed', closed_at = now() WHERE period_id = :p"),
                              {"p": period_id})
        await b.runtime.outbox.put(session, bev.PeriodClosed(
            period_id=period_id, closed_on=b.today(), returned_kopecks=total,
            returned_by_municipality=[bev.MunicipalityAmount(municipality_code=m, amount_kopecks=k)
                                      for m, k in sorted(by_payer.items())]))
        await audit.record(session, actor, "billing.period.close", "period", period_id,
                           details={"returned_kopecks": total})
        return {"period_id": period_id, "status": "closed", "returned_kopecks": total}


_CHUNK = 5_000
"""Operations per call of the ledger: a period's credits and returns touch every certificate."""


async def _apply_in_chunks(session: AsyncSession, bookings: list[ledger.Booking]) -> set[str]:
    """The bookings through the domain ledger (``adapters/ledger.py``), a chunk at a time, in one
    transaction; returns the ids of the operations that moved money now."""
    moved: set[str] = set()
    for start in range(0, len(bookings), _CHUNK):
        moved |= await ledger.apply(session, bookings[start:start + _CHUNK])
    return moved
