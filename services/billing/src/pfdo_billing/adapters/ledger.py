"""The persisted ledger: domain operations become journal rows, after the domain has decided.

:func:`apply` is how production moves money outside the set-based month and period closes. For
a batch of operations, in one transaction, it

1. locks the pending transfers that posts and voids name (one ``SELECT ... FOR UPDATE``), and the
   balances the other operations are checked against (one statement per kind of balance);
2. asks the domain (``domain/ledger_decisions.py``: :func:`move`, and :func:`resolve` for the
   two-phase rule) for the entries of every operation, in order, each seeing those before it; a
   refusal raises the domain's error before any row is written, unless the refused operation is
   one written before (a redelivery: its rows are there with the same payload), which is then
   answered as a no-op and the others decided again without it;
3. writes the entries as transfer rows (one INSERT for the batch) and marks the resolved pending
   transfers posted or voided (one UPDATE). A row already there with the same payload is a no-op,
   with another payload an :class:`IdempotencyConflict` (TigerBeetle's rule).

The database stays the second line: a statement-level trigger (migration 0002) applies the rows to
the balances, CHECK constraints refuse any balance that breaks an invariant, and transfers are
immutable except a pending one becoming posted or voided, once.

Row shapes: an entry's leg is the row's ``kind``; the row of an operation's principal leg carries
the operation's id, a mirror (``post_mirror``, ``late_mirror``) or the release of a post's unposted
rest swaps the id's first segment for its leg (``late_charge:X`` -> ``late_mirror:X``,
``post:X`` -> ``release:X``), as month close names them. Mirror rows name no certificate.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.db import Statement

from pfdo_billing.domain.errors import BillingDomainError, IdempotencyConflict
from pfdo_billing.domain.ledger_decisions import KnownBalances, entries_for, move, resolve
from pfdo_billing.domain.ledger_model import (
    AccountId,
    AccountKind,
    CreditFamily,
    Entry,
    LateCharge,
    LateRefund,
    Operation,
    PendingState,
    PendingTransfer,
    Post,
    Reserve,
    ReturnUnused,
    Void,
    certificate_account,
)


@dataclass(frozen=True)
class Booking:
    """A domain operation with what its rows record about it: the enrolment and month it is for,
    the event that caused it (or a ``cause`` in words), and, for an operation that names no
    certificate (a family co-payment), the certificate its rows are listed under."""

    operation: Operation
    enrolment_id: uuid.UUID | None = None
    month: date | None = None
    cause_event_id: uuid.UUID | None = None
    cause: str | None = None
    certificate_id: uuid.UUID | None = None


_MIRROR_LEGS = frozenset({"post_mirror", "late_mirror"})
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
_STORED = Statement(f"SELECT transfer_id, {', '.join(_PAYLOAD)} FROM transfers WHERE transfer_id = ANY(:ids::text[])")
_LOCK_PENDINGS = Statement(
    "SELECT t.transfer_id, t.amount, t.pending_state, t.debit_owner AS certificate_id, t.period_id, "
    "c.provider_id, c.payer_code FROM transfers t LEFT JOIN contracts c ON c.enrolment_id = t.enrolment_id "
    "WHERE t.transfer_id = ANY(:ids::text[]) AND t.kind = 'reserve' ORDER BY t.transfer_id FOR UPDATE OF t"
)
_LOCK_AVAILABLE = Statement(
    "SELECT b.certificate_id, b.period_id, b.available FROM certificate_balances b "
    "JOIN unnest(:c::uuid[], :p::uuid[]) k(c, p) ON b.certificate_id = k.c AND b.period_id = k.p "
    "ORDER BY b.certificate_id, b.period_id FOR UPDATE OF b"
)
_LOCK_RECEIVABLE = Statement(
    "SELECT a.owner, a.period_id, a.balance FROM accounts a "
    "JOIN unnest(:o::text[], :p::uuid[]) k(o, p) ON a.owner = k.o AND a.period_id = k.p "
    "WHERE a.kind = 'family_receivable' ORDER BY a.owner, a.period_id FOR UPDATE OF a"
)
_SPENT_WITH = Statement(
    "SELECT COALESCE(sum(CASE WHEN t.kind = 'late_refund' THEN -t.amount ELSE t.amount END), 0) "
    "FROM transfers t JOIN contracts c ON c.enrolment_id = t.enrolment_id "
    "WHERE t.certificate_id = :c AND t.period_id = :p AND c.provider_id = :provider "
    "AND t.kind IN ('post', 'late_charge', 'late_refund')"
)
_RESOLVE = Statement(
    "UPDATE transfers t SET pending_state = r.state FROM unnest(:ids::text[], :states::text[]) r(id, state) "
    "WHERE t.transfer_id = r.id AND t.pending_state = 'pending' RETURNING t.transfer_id"
)


async def apply(session: AsyncSession, bookings: Sequence[Booking]) -> set[str]:
    """Apply the operations of ``bookings`` in order, each exactly once; returns the ids of the
    operations that moved money now (not those already there, nor those of zero amount).
    Raises the domain's refusal, or :class:`IdempotencyConflict`, before writing anything."""
    if not bookings:
        return set()
    pendings = await _lock_pendings(session, bookings)
    balances = await _balances_for(session, [b.operation for b in bookings])
    try:
        plan = _decide(bookings, pendings, balances)
    except BillingDomainError:
        # an operation written before (a redelivery) is answered from its rows, not refused
        replays = await _replays(session, bookings, pendings)
        if not replays:
            raise
        plan = _decide([b for i, b in enumerate(bookings) if i not in replays], pendings, balances)
    inserted = await _write(session, plan.rows)
    if plan.resolutions:
        resolved = await _RESOLVE.fetch(
            session, ids=list(plan.resolutions), states=[state.value for state in plan.resolutions.values()]
        )
        if len(resolved) != len(plan.resolutions):  # cannot happen while the pending rows are locked
            raise RuntimeError("a pending transfer was resolved by another transaction")
    return {plan.operation_of[row_id] for row_id in inserted}


@dataclass
class _Plan:
    rows: list[dict[str, object]] = field(default_factory=list)
    resolutions: dict[str, PendingState] = field(default_factory=dict)
    operation_of: dict[str, str] = field(default_factory=dict)


def _decide(bookings: Sequence[Booking], pendings: dict[str, PendingTransfer], balances: KnownBalances) -> _Plan:
    """The domain's decision on every operation in order (each sees those before it), as rows."""
    pendings, view, plan = dict(pendings), balances.copy(), _Plan()
    for booking in bookings:
        op = booking.operation
        if isinstance(op, Post | Void):
            resolution = resolve(pendings.get(op.pending_id), op)
            pendings[op.pending_id] = resolution.pending
            plan.resolutions[op.pending_id] = resolution.pending.state
            entries = resolution.entries
            view.take(op, entries, resolution.pending.reserve)
        else:
            entries = move(op, view)
            view.take(op, entries)
        for row in _rows(booking, entries):
            plan.rows.append(row)
            plan.operation_of[str(row["transfer_id"])] = op.transfer_id
    return plan


async def _replays(session: AsyncSession, bookings: Sequence[Booking],
                   pendings: dict[str, PendingTransfer]) -> set[int]:
    """The positions of the operations whose rows are already written, with the same payload
    (another payload under their ids is an :class:`IdempotencyConflict`)."""
    shapes = [_rows(b, _shape(b.operation, pendings)) for b in bookings]
    stored = await _stored(session, [row["transfer_id"] for rows in shapes for row in rows])
    return {i for i, rows in enumerate(shapes) if _already_written(rows, stored)}


_LOCK_BALANCE = Statement("SELECT nominal, available, reserved, spent FROM certificate_balances "
                          "WHERE certificate_id = :c AND period_id = :p FOR UPDATE")


async def lock_balance(session: AsyncSession, certificate_id: uuid.UUID, period_id: uuid.UUID) -> dict | None:
    """The certificate's balances of the period, locked for the transaction (None: no balance row)."""
    row = await _LOCK_BALANCE.fetchrow(session, c=certificate_id, p=period_id)
    return dict(row) if row else None


def reserve_id(enrolment_id: uuid.UUID, month: date) -> str:
    """The id of the pending transfer reserving an enrolment's month (month close derives it too)."""
    return f"reserve:{enrolment_id}:{month:%Y-%m}"


# -- loading what the decisions read ----------------------------------------------------------

async def _lock_pendings(session: AsyncSession, bookings: Sequence[Booking]) -> dict[str, PendingTransfer]:
    ids = sorted({b.operation.pending_id for b in bookings if isinstance(b.operation, Post | Void)})
    if not ids:
        return {}
    return {
        row["transfer_id"]: PendingTransfer(
            Reserve(row["transfer_id"], row["certificate_id"], str(row["period_id"]),
                    str(row["provider_id"] or "unknown"), row["payer_code"] or "unknown", int(row["amount"])),
            PendingState(row["pending_state"]),
        )
        for row in await _LOCK_PENDINGS.fetch(session, ids=ids)
    }


async def _balances_for(session: AsyncSession, operations: Sequence[Operation]) -> KnownBalances:
    view = KnownBalances()
    certificates = sorted({(op.certificate_id, op.period_id) for op in operations
                           if isinstance(op, Reserve | ReturnUnused | LateCharge)})
    if certificates:
        for row in await _LOCK_AVAILABLE.fetch(session, c=[uuid.UUID(c) for c, _ in certificates],
                                               p=[uuid.UUID(p) for _, p in certificates]):
            account = certificate_account(AccountKind.CERTIFICATE_AVAILABLE, str(row["certificate_id"]),
                                          str(row["period_id"]))
            view.balances[account] = int(row["available"])
    contracts = sorted({(op.contract_id, op.period_id) for op in operations if isinstance(op, CreditFamily)})
    if contracts:
        for row in await _LOCK_RECEIVABLE.fetch(session, o=[c for c, _ in contracts],
                                                p=[uuid.UUID(p) for _, p in contracts]):
            account = AccountId(AccountKind.FAMILY_RECEIVABLE, row["owner"], str(row["period_id"]))
            view.balances[account] = int(row["balance"])
    for key in sorted({(op.certificate_id, op.period_id, op.provider_id) for op in operations
                       if isinstance(op, LateRefund)}):
        view.spent[key] = int(await _SPENT_WITH.fetchval(
            session, c=uuid.UUID(key[0]), p=uuid.UUID(key[1]), provider=uuid.UUID(key[2])))
    return view


# -- rows --------------------------------------------------------------------------------------

def _shape(operation: Operation, pendings: dict[str, PendingTransfer]) -> tuple[Entry, ...]:
    """The entries the operation writes when it is accepted (for the idempotency check)."""
    if isinstance(operation, Post | Void):
        pending = pendings.get(operation.pending_id)
        return entries_for(operation, pending.reserve) if pending else ()
    return entries_for(operation)


def _rows(booking: Booking, entries: tuple[Entry, ...]) -> list[dict[str, object]]:
    op = booking.operation
    cause = booking.cause if booking.cause or booking.cause_event_id else "unspecified"
    rows = []
    for entry in entries:
        mirror = entry.leg in _MIRROR_LEGS
        rows.append({
            "transfer_id": _row_id(op, entry.leg), "kind": entry.leg, "period_id": uuid.UUID(entry.debit.period_id),
            "debit_kind": entry.debit.kind.value, "debit_owner": entry.debit.owner,
            "credit_kind": entry.credit.kind.value, "credit_owner": entry.credit.owner, "amount": entry.amount,
            "pending_state": PendingState.PENDING.value if entry.leg == "reserve" else None,
            "pending_id": op.pending_id if isinstance(op, Post | Void) and not mirror else None,
            "certificate_id": None if mirror else booking.certificate_id or _certificate_of(entry),
            "enrolment_id": booking.enrolment_id, "month": booking.month,
            "cause_event_id": booking.cause_event_id, "cause": cause,
        })
    return rows


def _row_id(operation: Operation, leg: str) -> str:
    principal = leg not in _MIRROR_LEGS and not (isinstance(operation, Post) and leg == "release")
    if principal:
        return operation.transfer_id
    return f"{leg}:{operation.transfer_id.partition(':')[2]}"


def _certificate_of(entry: Entry) -> uuid.UUID | None:
    for account in (entry.debit, entry.credit):
        if account.kind.value.startswith("certificate_"):
            return uuid.UUID(account.owner)
    return None


async def _stored(session: AsyncSession, ids: list[str]) -> dict[str, tuple]:
    if not ids:
        return {}
    return {row["transfer_id"]: tuple(row[name] for name in _PAYLOAD) for row in await _STORED.fetch(session, ids=ids)}


def _already_written(rows: list[dict[str, object]], stored: dict[str, tuple]) -> bool:
    """True when the operation's rows are there (a replay); a different payload is a conflict."""
    found = [row for row in rows if row["transfer_id"] in stored]
    if not found:
        return False
    if len(found) != len(rows) or any(stored[row["transfer_id"]] != tuple(row[n] for n in _PAYLOAD) for row in found):
        raise IdempotencyConflict("a transfer id was reused with a different payload",
                                  transfer_id=found[0]["transfer_id"])
    return True


async def _write(session: AsyncSession, rows: list[dict[str, object]]) -> set[str]:
    """Insert the rows; returns the ids inserted. A row already there (an operation accepted
    again, or written by a concurrent transaction) must have the same payload."""
    if not rows:
        return set()
    columns = {name: [row[name] for row in rows] for name, _ in _COLUMNS}
    inserted = {r["transfer_id"] for r in await _RECORD.fetch(session, **columns)}
    there = [row for row in rows if row["transfer_id"] not in inserted]
    if there:
        _already_written(there, await _stored(session, [row["transfer_id"] for row in there]))
    return inserted
