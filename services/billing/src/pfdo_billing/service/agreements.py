"""Agreements between providers and payers: conclude, change the limit, end, read
(docs/domain-rules.md, "Agreements with payers"; the rules are :mod:`pfdo_billing.domain.agreements`).

Who: a municipal operator concludes, changes and ends the agreements of its own municipality (the
payer), the regional operator any; a provider reads its own, operators those of their
municipality (the region's all), finance all. A foreign agreement answers 404, as if it did not
exist. Every change publishes ``agreement.changed`` (keyed by the provider) and is audited.

The reservation path reads the agreement through :func:`lock_agreement_for` (the row locked in
the reservation's transaction, so two reservations never both take the last of a limit).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.events import billing as bev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.db import Statement
from pfdo_plumbing.domain_error import DomainError, NotFound

from pfdo_billing.domain import agreements as rules
from pfdo_billing.domain.agreements import Agreement

from .context import Billing

_ACTIVE_FOR = Statement("SELECT * FROM agreements WHERE provider_id = :v AND payer_code = :m AND period_id = :p "
                        "AND status = 'active' FOR UPDATE")


async def lock_agreement_for(session: AsyncSession, provider_id: uuid.UUID, payer: str | None,
                             period_id: uuid.UUID | None) -> dict | None:
    """The active agreement of ``provider_id`` with ``payer`` for the period, locked; None if none."""
    if payer is None or period_id is None:
        return None
    row = await _ACTIVE_FOR.fetchrow(session, v=provider_id, m=payer, p=period_id)
    return dict(row) if row else None


def agreement_of(row: dict) -> Agreement:
    return Agreement(
        agreement_id=row["agreement_id"], number=row["number"], provider_id=row["provider_id"],
        payer=row["payer_code"], period_id=row["period_id"], limit=row["limit_kopecks"], used=row["used_kopecks"],
        concluded_on=row["concluded_on"], status=bev.AgreementStatus(row["status"]), ended_on=row["ended_on"],
    )


def view(a: Agreement) -> dict:
    """The agreement as the API answers it."""
    return {"agreement_id": a.agreement_id, "number": a.number, "provider_id": a.provider_id, "payer_code": a.payer,
            "period_id": a.period_id, "limit_kopecks": a.limit, "used_kopecks": a.used,
            "available_kopecks": a.headroom, "concluded_on": a.concluded_on, "ended_on": a.ended_on,
            "status": a.status.value}


def may_read(who: Principal, row: dict) -> bool:
    if who.role in (Role.REGIONAL_OPERATOR, Role.FINANCE, Role.SERVICE):
        return True
    if who.role == Role.MUNICIPAL_OPERATOR:
        return who.covers_municipality(row["payer_code"])
    return who.is_provider(row["provider_id"])


def read_scope(who: Principal) -> dict:
    """The SQL filters of what ``who`` may read (None: no filter on that column)."""
    return {"scope_payer": who.municipality if who.role == Role.MUNICIPAL_OPERATOR else None,
            "scope_provider": who.provider_id if who.role == Role.PROVIDER else None}


async def _load(session: AsyncSession, agreement_id: uuid.UUID, who: Principal, *, lock: bool = False) -> dict:
    row = (await session.execute(text("SELECT * FROM agreements WHERE agreement_id = :a"
                                      + (" FOR UPDATE" if lock else "")), {"a": agreement_id})).mappings().first()
    if row is None or not may_read(who, dict(row)):
        raise NotFound("Agreement")
    return dict(row)


async def _publish(b: Billing, session: AsyncSession, who: Principal, a: Agreement,
                   change: bev.AgreementChange) -> None:
    await b.runtime.outbox.put(session, bev.AgreementChanged(
        agreement_id=a.agreement_id, number=a.number, provider_id=a.provider_id, payer_code=a.payer,
        period_id=a.period_id, change=change, status=a.status, limit_kopecks=a.limit, used_kopecks=a.used,
        concluded_on=a.concluded_on, ended_on=a.ended_on))
    details = {k: (str(v) if isinstance(v, uuid.UUID | date) else v) for k, v in asdict(a).items()}
    await audit.record(session, who, f"billing.agreement.{change.value}", "agreement", a.agreement_id,
                       municipality=a.payer, details={**details, "status": a.status.value})


async def conclude(b: Billing, who: Principal, *, number: str, provider_id: uuid.UUID, payer: str,
                   period_id: uuid.UUID, limit: int, concluded_on: date | None) -> dict:
    if not who.covers_municipality(payer):
        raise NotFound("Period")  # an operator concludes for its own municipality only
    a = rules.conclude(uuid.uuid4(), number, provider_id, payer, period_id, limit, concluded_on or b.today())
    async with b.runtime.db.transaction() as session:
        period = (await session.execute(text("SELECT status FROM periods WHERE period_id = :p FOR SHARE"),
                                        {"p": period_id})).scalar()
        if period is None:
            raise NotFound("Period")
        if period == "closed":
            raise DomainError("period_closed", "The period is closed.")
        inserted = (await session.execute(text(
            "INSERT INTO agreements (agreement_id, number, provider_id, payer_code, period_id, limit_kopecks, "
            "used_kopecks, concluded_on, status) VALUES (:a, :n, :v, :m, :p, :l, 0, :d, 'active') "
            "ON CONFLICT (provider_id, payer_code, period_id) WHERE status = 'active' DO NOTHING RETURNING 1"),
            {"a": a.agreement_id, "n": a.number, "v": a.provider_id, "m": a.payer, "p": a.period_id, "l": a.limit,
             "d": a.concluded_on})).scalar()
        if inserted is None:
            raise DomainError("agreement_exists",
                              "The provider already has an agreement in force with this payer for the period.")
        await _publish(b, session, who, a, bev.AgreementChange.CONCLUDED)
    return view(a)


async def change_limit(b: Billing, who: Principal, agreement_id: uuid.UUID, limit: int) -> dict:
    async with b.runtime.db.transaction() as session:
        row = await _load(session, agreement_id, who, lock=True)
        if not who.covers_municipality(row["payer_code"]):
            raise NotFound("Agreement")
        a = rules.change_limit(agreement_of(row), limit)
        await session.execute(text("UPDATE agreements SET limit_kopecks = :l, updated_at = now() "
                                   "WHERE agreement_id = :a"), {"l": a.limit, "a": agreement_id})
        await _publish(b, session, who, a, bev.AgreementChange.CHANGED)
    return view(a)


async def end(b: Billing, who: Principal, agreement_id: uuid.UUID, on: date | None) -> dict:
    async with b.runtime.db.transaction() as session:
        row = await _load(session, agreement_id, who, lock=True)
        if not who.covers_municipality(row["payer_code"]):
            raise NotFound("Agreement")
        a = rules.end(agreement_of(row), on or b.today())
        await session.execute(text("UPDATE agreements SET status = :s, ended_on = :d, updated_at = now() "
                                   "WHERE agreement_id = :a"), {"s": a.status.value, "d": a.ended_on, "a": agreement_id})
        await _publish(b, session, who, a, bev.AgreementChange.ENDED)
    return view(a)


async def get(b: Billing, who: Principal, agreement_id: uuid.UUID) -> dict:
    async with b.runtime.db.transaction() as session:
        return view(agreement_of(await _load(session, agreement_id, who)))


async def page(b: Billing, who: Principal, *, provider_id: uuid.UUID | None, payer: str | None,
               period_id: uuid.UUID | None, status: str | None, after: tuple[str, uuid.UUID] | None,
               limit: int) -> list[dict]:
    """Agreements ``who`` may read, filtered, by (number, id) after the keyset ``after``."""
    async with b.runtime.db.transaction() as session:
        rows = (await session.execute(text(
            "SELECT * FROM agreements WHERE (CAST(:scope_payer AS text) IS NULL OR payer_code = :scope_payer) "
            "AND (CAST(:scope_provider AS text) IS NULL OR provider_id::text = :scope_provider) "
            "AND (CAST(:v AS uuid) IS NULL OR provider_id = :v) AND (CAST(:m AS text) IS NULL OR payer_code = :m) "
            "AND (CAST(:p AS uuid) IS NULL OR period_id = :p) AND (CAST(:s AS text) IS NULL OR status = :s) "
            "AND (CAST(:after AS text) IS NULL OR (number, agreement_id) > (CAST(:after AS text), CAST(:after_id AS uuid))) "
            "ORDER BY number, agreement_id LIMIT :l"),
            {**read_scope(who), "v": provider_id, "m": payer, "p": period_id, "s": status,
             "after": after[0] if after else None, "after_id": after[1] if after else None, "l": limit},
        )).mappings().all()
    return [view(agreement_of(dict(r))) for r in rows]


__all__ = ["agreement_of", "change_limit", "conclude", "end", "get", "lock_agreement_for", "page", "view"]
