"""The persisted ledger: transfers are journal rows; balances follow from them in the database.

A statement-level trigger (migration 0002) applies every inserted transfer to its two accounts,
and CHECK constraints refuse any balance that breaks an invariant. This module writes transfers
idempotently: a transfer id already present with the same payload is a no-op ("exists"), with a
different payload it is an :class:`IdempotencyConflict` (TigerBeetle's rule).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.db import Statement

from pfdo_billing.domain.errors import IdempotencyConflict
from pfdo_billing.domain.ledger import AccountKind

from .tables import TRANSFERS

AK = AccountKind


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    kind: str
    period_id: uuid.UUID
    debit: tuple[AccountKind, str]
    credit: tuple[AccountKind, str]
    amount: int
    certificate_id: uuid.UUID | None = None
    enrolment_id: uuid.UUID | None = None
    month: date | None = None
    cause_event_id: uuid.UUID | None = None
    pending_id: str | None = None
    cause: str | None = None

    def row(self) -> dict[str, object]:
        return {
            "transfer_id": self.transfer_id, "kind": self.kind, "period_id": self.period_id,
            "debit_kind": self.debit[0].value, "debit_owner": self.debit[1],
            "credit_kind": self.credit[0].value, "credit_owner": self.credit[1],
            "amount": self.amount, "pending_state": "pending" if self.kind == "reserve" else None,
            "pending_id": self.pending_id, "certificate_id": self.certificate_id,
            "enrolment_id": self.enrolment_id, "month": self.month, "cause_event_id": self.cause_event_id,
            "cause": self.cause if self.cause or self.cause_event_id else "unspecified",
        }


_PAYLOAD = ("kind", "period_id", "debit_kind", "debit_owner", "credit_kind", "credit_owner", "amount")


_COLUMNS = (
    ("transfer_id", "text"), ("kind", "text"), ("period_id", "uuid"), ("debit_kind", "text"), ("debit_owner", "text"),
    ("credit_kind", "text"), ("credit_owner", "text"), ("amount", "bigint"), ("pending_state", "text"),
    ("pending_id", "text"), ("certificate_id", "uuid"), ("enrolment_id", "uuid"), ("month", "date"),
    ("cause_event_id", "uuid"), ("cause", "text"),
)
# every row in one statement, one array per column: its text never changes with the row count
_RECORD = Statement(
    f"INSERT INTO transfers ({', '.join(name for name, _ in _COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f':{name}::{kind}[]' for name, kind in _COLUMNS)}) "
    "ON CONFLICT (transfer_id) DO NOTHING RETURNING transfer_id"
)


async def record(session: AsyncSession, transfers: list[Transfer]) -> set[str]:
    """Write transfers (zero amounts are skipped); returns the ids that were new."""
    rows = [t.row() for t in transfers if t.amount > 0]
    if not rows:
        return set()
    columns = {name: [row[name] for row in rows] for name, _ in _COLUMNS}
    inserted = {r["transfer_id"] for r in await _RECORD.fetch(session, **columns)}
    existing = [r for r in rows if r["transfer_id"] not in inserted]
    if existing:
        stored = {
            row.transfer_id: row
            for row in await session.execute(
                select(*(TRANSFERS.c[name] for name in ("transfer_id", *_PAYLOAD))).where(
                    TRANSFERS.c.transfer_id.in_([r["transfer_id"] for r in existing])
                )
            )
        }
        for wanted in existing:
            have = stored[wanted["transfer_id"]]
            if any(getattr(have, name) != wanted[name] for name in _PAYLOAD):
                raise IdempotencyConflict(
                    "a transfer id was reused with a different payload", transfer_id=wanted["transfer_id"]
                )
    return inserted


async def resolve_pendings(session: AsyncSession, pending_ids: list[str], state: str) -> None:
    """Mark reserve transfers posted or voided (each at most once: a trigger refuses more)."""
    if pending_ids:
        await session.execute(
            update(TRANSFERS)
            .where(TRANSFERS.c.transfer_id.in_(pending_ids), TRANSFERS.c.pending_state == "pending")
            .values(pending_state=state)
        )


_LOCK_BALANCE = Statement("SELECT nominal, available, reserved, spent FROM certificate_balances "
                          "WHERE certificate_id = :c AND period_id = :p FOR UPDATE")


async def lock_balance(session: AsyncSession, certificate_id: uuid.UUID, period_id: uuid.UUID) -> dict | None:
    row = await _LOCK_BALANCE.fetchrow(session, c=certificate_id, p=period_id)
    return dict(row) if row else None


def cert(kind: AccountKind, certificate_id: uuid.UUID) -> tuple[AccountKind, str]:
    return (kind, str(certificate_id))


def reserve_id(enrolment_id: uuid.UUID, month: date) -> str:
    return f"reserve:{enrolment_id}:{month:%Y-%m}"
