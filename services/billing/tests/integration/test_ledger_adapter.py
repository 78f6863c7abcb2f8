"""The persisted ledger asks the domain before it writes: on a real PostgreSQL, an over-post and a
second resolution of one pending transfer are refused before any row is written, a replay is a
no-op, and the rows keep the shapes month close and the reports read."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import text

from pfdo_plumbing.db import Database

from pfdo_billing.adapters import ledger
from pfdo_billing.adapters.ledger import Booking
from pfdo_billing.domain.errors import (
    CreditExceedsInvoiced,
    IdempotencyConflict,
    InsufficientFunds,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingNotFound,
    PostExceedsPending,
    RefundExceedsSpent,
)
from pfdo_billing.domain.ledger_model import (
    CreditFamily,
    CreditNominal,
    InvoiceFamily,
    LateCharge,
    LateRefund,
    Post,
    Reserve,
    Void,
)

pytestmark = pytest.mark.integration

PAYER = "01"
MONTH = dt.date(2026, 10, 1)


@pytest_asyncio.fixture
async def db(databases) -> AsyncIterator[Database]:  # noqa: ANN001
    database = Database(await databases.fresh("billing"))
    try:
        yield database
    finally:
        await database.dispose()


async def _contract(db: Database, enrolment: uuid.UUID, certificate: uuid.UUID, provider: uuid.UUID,
                    period: uuid.UUID) -> None:
    """The contract a reservation belongs to (the post's mirror names its provider and payer)."""
    async with db.transaction() as s:
        await s.execute(text(
            "INSERT INTO contracts (enrolment_id, certificate_id, module_id, program_id, provider_id, municipality_code, "
            "payer_code, direction, funding_kind, period_id, payment_mode, start_date, end_date, weekdays, status, "
            "reservation_id) VALUES (:e, :c, :m, :m, :provider, :payer, :payer, 'technical', 'certificate', :p, "
            "'monthly', '2026-09-01', '2027-05-31', '{2,4}', 'active', :e)"),
            {"e": enrolment, "c": certificate, "m": uuid.uuid4(), "provider": provider, "payer": PAYER, "p": period})


async def _apply(db: Database, *bookings: Booking) -> set[str]:
    async with db.transaction() as s:
        return await ledger.apply(s, list(bookings))


async def _count(db: Database) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(text("SELECT count(*) FROM transfers")))


async def _balance(db: Database, certificate: uuid.UUID, period: uuid.UUID) -> tuple[int, int, int, int]:
    async with db.transaction() as s:
        row = (await s.execute(text(
            "SELECT nominal, available, reserved, spent FROM certificate_balances "
            "WHERE certificate_id = :c AND period_id = :p"), {"c": certificate, "p": period})).one()
    return tuple(row)


@pytest.fixture
def ids() -> dict[str, uuid.UUID]:
    return {name: uuid.uuid4() for name in ("certificate", "period", "provider", "enrolment", "event")}


async def _funded_and_reserved(db: Database, ids: dict[str, uuid.UUID]) -> tuple[str, str]:
    cert, period, provider = str(ids["certificate"]), str(ids["period"]), str(ids["provider"])
    await _contract(db, ids["enrolment"], ids["certificate"], ids["provider"], ids["period"])
    pending = ledger.reserve_id(ids["enrolment"], MONTH)
    created = await _apply(
        db,
        Booking(CreditNominal(f"credit:{cert}:{period}", PAYER, cert, period, 10_000), cause="test"),
        Booking(Reserve(pending, cert, period, provider, PAYER, 4_000), enrolment_id=ids["enrolment"], month=MONTH,
                cause_event_id=ids["event"]),
    )
    assert created == {f"credit:{cert}:{period}", pending}
    return cert, pending


async def test_an_over_post_and_a_second_resolution_are_refused_before_any_row(db, ids) -> None:  # noqa: ANN001
    cert, pending = await _funded_and_reserved(db, ids)
    eid = ids["enrolment"]
    before = await _count(db)

    with pytest.raises(PostExceedsPending):
        await _apply(db, Booking(Post(f"post:{eid}:2026-10", pending, 4_001), enrolment_id=eid, month=MONTH))
    assert await _count(db) == before

    await _apply(db, Booking(Post(f"post:{eid}:2026-10", pending, 3_000), enrolment_id=eid, month=MONTH,
                             cause="month_close:2026-10"))
    rows = {r.transfer_id: r for r in (await _rows(db, eid))}
    assert {tid: (r.kind, r.amount, r.pending_id) for tid, r in rows.items() if r.kind != "reserve"} == {
        f"post:{eid}:2026-10": ("post", 3_000, pending),
        f"post_mirror:{eid}:2026-10": ("post_mirror", 3_000, None),
        f"release:{eid}:2026-10": ("release", 1_000, pending),
    }
    assert rows[pending].pending_state == "posted"
    assert rows[f"post_mirror:{eid}:2026-10"].certificate_id is None
    assert await _balance(db, ids["certificate"], ids["period"]) == (10_000, 7_000, 0, 3_000)
    after_post = await _count(db)

    # the same post again is a replay: nothing written, nothing refused
    assert await _apply(db, Booking(Post(f"post:{eid}:2026-10", pending, 3_000), enrolment_id=eid, month=MONTH,
                                    cause="month_close:2026-10")) == set()
    # a second resolution of the pending, by a post or a void, is refused before any row
    with pytest.raises(PendingAlreadyPosted):
        await _apply(db, Booking(Post(f"post-again:{eid}", pending, 1), enrolment_id=eid, month=MONTH))
    with pytest.raises(PendingAlreadyPosted):
        await _apply(db, Booking(Void(f"void:{eid}:2026-10", pending), enrolment_id=eid, month=MONTH))
    with pytest.raises(IdempotencyConflict):  # the post's id with another amount
        await _apply(db, Booking(Post(f"post:{eid}:2026-10", pending, 2_000), enrolment_id=eid, month=MONTH))
    assert await _count(db) == after_post
    assert await _balance(db, ids["certificate"], ids["period"]) == (10_000, 7_000, 0, 3_000)


async def test_a_void_resolves_once_and_a_batch_cannot_resolve_twice(db, ids) -> None:  # noqa: ANN001
    cert, pending = await _funded_and_reserved(db, ids)
    eid = ids["enrolment"]
    before = await _count(db)
    # two resolutions of one pending in one batch: the second is refused, so neither is written
    with pytest.raises(PendingAlreadyVoided):
        await _apply(db, Booking(Void(f"void:{eid}:2026-10", pending), enrolment_id=eid, month=MONTH),
                     Booking(Post(f"post:{eid}:2026-10", pending, 10), enrolment_id=eid, month=MONTH))
    with pytest.raises(PendingNotFound):
        await _apply(db, Booking(Void(f"void:{eid}:2027-01", ledger.reserve_id(eid, dt.date(2027, 1, 1)))))
    assert await _count(db) == before

    assert await _apply(db, Booking(Void(f"void:{eid}:2026-10", pending), enrolment_id=eid, month=MONTH,
                                    cause_event_id=ids["event"])) == {f"void:{eid}:2026-10"}
    row = (await _rows(db, eid, f"void:{eid}:2026-10"))[0]
    assert (row.kind, row.amount, row.pending_id, row.certificate_id, row.debit_kind, row.credit_kind) == (
        "release", 4_000, pending, ids["certificate"], "certificate_reserved", "certificate_available")
    assert (await _rows(db, eid, pending))[0].pending_state == "voided"
    assert await _balance(db, ids["certificate"], ids["period"]) == (10_000, 10_000, 0, 0)
    # redelivered: the same void is a no-op
    assert await _apply(db, Booking(Void(f"void:{eid}:2026-10", pending), enrolment_id=eid, month=MONTH,
                                    cause_event_id=ids["event"])) == set()
    assert await _count(db) == before + 1


async def test_balances_are_checked_by_the_domain_first(db, ids) -> None:  # noqa: ANN001
    cert, pending = await _funded_and_reserved(db, ids)
    period, provider, eid = str(ids["period"]), str(ids["provider"]), ids["enrolment"]
    before = await _count(db)
    # two reserves in one batch see each other: 6 000 is available, 3 000 + 3 001 is not
    with pytest.raises(InsufficientFunds):
        await _apply(db, Booking(Reserve("reserve:a", cert, period, provider, PAYER, 3_000)),
                     Booking(Reserve("reserve:b", cert, period, provider, PAYER, 3_001)))
    with pytest.raises(RefundExceedsSpent):  # nothing was spent with the provider yet
        await _apply(db, Booking(LateRefund("late_refund:x", cert, period, provider, PAYER, 1), enrolment_id=eid))
    with pytest.raises(CreditExceedsInvoiced):
        await _apply(db, Booking(CreditFamily("late_credit:x", str(eid), provider, period, 1), enrolment_id=eid))
    assert await _count(db) == before

    await _apply(db, Booking(Post(f"post:{eid}:2026-10", pending, 4_000), enrolment_id=eid, month=MONTH),
                 Booking(LateCharge("late_charge:y", cert, period, provider, PAYER, 500), enrolment_id=eid,
                         month=MONTH),
                 Booking(InvoiceFamily(f"invoice:{eid}:2026-10", str(eid), provider, period, 700), enrolment_id=eid,
                         month=MONTH, certificate_id=ids["certificate"]))
    with pytest.raises(RefundExceedsSpent):  # 4 500 spent with the provider
        await _apply(db, Booking(LateRefund("late_refund:z", cert, period, provider, PAYER, 4_501), enrolment_id=eid))
    await _apply(db, Booking(LateRefund("late_refund:z", cert, period, provider, PAYER, 4_500), enrolment_id=eid,
                             month=MONTH),
                 Booking(CreditFamily("late_credit:z", str(eid), provider, period, 700), enrolment_id=eid,
                         month=MONTH, certificate_id=ids["certificate"]))
    mirror = (await _rows(db, eid, "late_mirror:z"))[0]
    assert (mirror.kind, mirror.debit_kind, mirror.credit_kind, mirror.certificate_id) == (
        "late_mirror", "provider_payable", "budget_outlay", None)
    assert await _balance(db, ids["certificate"], ids["period"]) == (10_000, 10_000, 0, 0)


async def _rows(db: Database, enrolment: uuid.UUID, transfer_id: str | None = None) -> list:
    async with db.transaction() as s:
        return list((await s.execute(text(
            "SELECT * FROM transfers WHERE (enrolment_id = :e OR transfer_id LIKE '%' || :es || '%') "
            "AND (CAST(:t AS text) IS NULL OR transfer_id = :t) ORDER BY transfer_id"),
            {"e": enrolment, "es": str(enrolment), "t": transfer_id})).all())


async def test_a_redelivered_operation_is_answered_from_its_rows(db, ids) -> None:  # noqa: ANN001
    cert, pending = await _funded_and_reserved(db, ids)
    period, provider, eid = str(ids["period"]), str(ids["provider"]), ids["enrolment"]
    await _apply(db, Booking(Reserve("reserve:rest", cert, period, provider, PAYER, 6_000)))  # nothing left
    before = await _count(db)
    # the first reserve again: the balance would refuse it now, yet it is a no-op, not a refusal
    again = [Booking(Reserve(pending, cert, period, provider, PAYER, 4_000), enrolment_id=eid, month=MONTH,
                     cause_event_id=ids["event"]),
             Booking(CreditNominal(f"credit:{cert}:{period}", PAYER, cert, period, 10_000), cause="test")]
    assert await _apply(db, *again) == set()
    with pytest.raises(IdempotencyConflict):
        await _apply(db, Booking(Reserve(pending, cert, period, provider, PAYER, 3_999)))
    with pytest.raises(InsufficientFunds):  # a new reserve beside a replay is still decided
        await _apply(db, again[0], Booking(Reserve("reserve:more", cert, period, provider, PAYER, 1)))
    assert await _count(db) == before
    assert await _balance(db, ids["certificate"], ids["period"]) == (10_000, 0, 10_000, 0)
