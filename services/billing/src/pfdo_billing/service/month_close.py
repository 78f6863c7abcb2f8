"""Month close (docs/domain-rules.md, "Month close"): set-based, idempotent, resumable, with progress
(:func:`progress` reads it while it runs).

Each chunk of contract-months is one transaction of a few statements over all its rows:
count planned lessons (from the weekly timetable within the contract's days of the month, less
the production calendar's days off: the same count as ``pfdo_contracts.rules.lessons``) and
billable attended lessons (present and not disputed), compute the due amounts per payment mode,
mark the months closed, write the journal (post, its budget mirror, release, family invoice),
resolve the reservations, and add the outbox rows: no Python loop per contract. A closed month
is never picked again, so re-running (or resuming after a crash) changes nothing that is done.
After the last chunk the final payment orders are issued per provider and payer.

A month is closed region-wide or for one municipality (the contracts of its certificates, whose
payer it is; ``municipality_code`` '' in ``month_closes`` is the region-wide close). A close
never picks a contract-month another close closed already, so closing municipalities one by one
and then the region (or the region after some municipalities) posts each month once.

The unearned part of each contract-month goes back to the available balance as a release of
the month's pending reservation and is published as ``ReservationReleased`` (reason
``month_unearned``, with the month), one INSERT ... SELECT into the outbox per chunk like the
charges.

A month is closed only once its journal is complete (``domain/month_gate.py``): the navigator
froze it and billing applied every attendance event of it; otherwise the close is refused with
``journal_not_frozen`` / ``journal_not_drained`` before anything is written.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.events import billing as bev
from pfdo_contracts.rules import calendar
from pfdo_contracts.rules.due import amount_due_sql
from pfdo_contracts.rules.lessons import is_billable_sql, planned_lessons_sql
from pfdo_plumbing import audit, clock, context
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.logging import get_logger
from pfdo_plumbing.tables import AUDIT

from pfdo_billing.adapters.sql_events import outbox_insert
from pfdo_billing.adapters.sql_lists import sql_list
from pfdo_billing.domain.calendar import month_end, month_start
from pfdo_billing.domain.contract import IN_FORCE
from pfdo_billing.domain.month_gate import JournalWatermark, check_closable

from . import month_lock
from .context import Billing
from .payment_orders import issue_finals

log = get_logger(__name__)

_PLANNED = planned_lessons_sql("p.d0", "p.d1", "p.weekdays", "CAST(:days_off AS date[])")

_PICK = f"""
WITH picked AS (
    SELECT cm.enrolment_id, c.certificate_id, c.provider_id, c.period_id, c.payer_code AS payer, c.payment_mode,
           cm.certificate_kopecks AS ci, cm.family_kopecks AS fi,
           GREATEST(cm.month, c.start_date) AS d0, LEAST(CAST(:month_end AS date), c.end_date) AS d1, c.weekdays,
           c.reservation_id
    FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
    WHERE cm.month = :month AND cm.state = 'reserved' AND c.status IN ({sql_list(IN_FORCE)})
      AND (CAST(:scope AS text) = '' OR c.payer_code = :scope)
      AND cm.enrolment_id > :after
    ORDER BY cm.enrolment_id
    LIMIT :chunk
    FOR UPDATE OF cm
), counted AS MATERIALIZED (
    -- planned: the timetable's lessons within d0..d1 less the month's days off of the production
    -- calendar, by the one rule's SQL twin (arithmetics, no day loop)
    SELECT p.*,
        {_PLANNED} AS planned,
        (SELECT count(*) FROM attendance_marks m
             WHERE m.enrolment_id = p.enrolment_id AND m.lesson_date BETWEEN p.d0 AND p.d1
               AND {is_billable_sql("m.status", "m.disputed")})::int AS attended
    FROM picked p
), due AS MATERIALIZED (
    SELECT counted.*,
        {amount_due_sql("ci", "payment_mode", "attended", "planned")} AS posted,
        {amount_due_sql("fi", "payment_mode", "attended", "planned")} AS invoiced
    FROM counted
), upd AS (
    UPDATE contract_months cm SET state = 'closed', planned_lessons = d.planned, attended_lessons = d.attended,
        posted_kopecks = d.posted, released_kopecks = d.ci - d.posted, family_invoiced_kopecks = d.invoiced,
        closed_at = now()
    FROM due d WHERE cm.enrolment_id = d.enrolment_id AND cm.month = :month
    RETURNING d.enrolment_id, d.certificate_id, d.provider_id, d.period_id, d.payer, d.payment_mode,
              d.ci, d.fi, d.planned, d.attended, d.posted, d.invoiced, d.reservation_id
)
INSERT INTO close_rows SELECT * FROM upd
"""

_TRANSFERS = """
INSERT INTO transfers (transfer_id, kind, period_id, debit_kind, debit_owner, credit_kind, credit_owner, amount,
                       pending_id, certificate_id, enrolment_id, month, cause)
SELECT 'post:' || enrolment_id || ':' || :mk, 'post', period_id, 'certificate_reserved', certificate_id::text,
       'certificate_spent', certificate_id::text, posted, 'reserve:' || enrolment_id || ':' || :mk,
       certificate_id, enrolment_id, CAST(:month AS date), 'month_close:' || :mk
  FROM close_rows WHERE posted > 0
UNION ALL
SELECT 'post_mirror:' || provider_id || ':' || payer || ':' || :mk || ':' || CAST(:chunk AS text), 'post_mirror',
       period_id, 'budget_outlay', payer, 'provider_payable', provider_id::text, sum(posted), NULL,
       NULL, NULL, CAST(:month AS date), 'month_close:' || :mk
  FROM close_rows WHERE posted > 0 GROUP BY provider_id, payer, period_id
UNION ALL
SELECT 'release:' || enrolment_id || ':' || :mk, 'release', period_id, 'certificate_reserved', certificate_id::text,
       'certificate_available', certificate_id::text, ci - posted, 'reserve:' || enrolment_id || ':' || :mk,
       certificate_id, enrolment_id, CAST(:month AS date), 'month_close:' || :mk
  FROM close_rows WHERE ci - posted > 0
UNION ALL
SELECT 'invoice:' || enrolment_id || ':' || :mk, 'invoice_family', period_id, 'family_receivable',
       enrolment_id::text, 'provider_copayment', provider_id::text, invoiced, NULL,
       certificate_id, enrolment_id, CAST(:month AS date), 'month_close:' || :mk
  FROM close_rows WHERE invoiced > 0
ON CONFLICT (transfer_id) DO NOTHING
"""

_RESOLVE = """
UPDATE transfers t SET pending_state = CASE WHEN r.posted > 0 THEN 'posted' ELSE 'voided' END
FROM close_rows r
WHERE t.transfer_id = 'reserve:' || r.enrolment_id || ':' || :mk AND t.pending_state = 'pending'
"""

# the unearned part frees the limit of the agreement the contract was reserved under
# (domain/agreements.py): one statement per chunk, agreements in id order
_FREE_AGREEMENTS = """
UPDATE agreements a SET used_kopecks = GREATEST(0, a.used_kopecks - f.released), updated_at = now()
FROM (SELECT c.agreement_id, sum(r.ci - r.posted) AS released FROM close_rows r
        JOIN contracts c ON c.enrolment_id = r.enrolment_id
       WHERE c.agreement_id IS NOT NULL AND r.ci - r.posted > 0 GROUP BY c.agreement_id ORDER BY c.agreement_id) f
WHERE a.agreement_id = f.agreement_id
"""


@dataclass
class MonthCloseResult:
    month: str
    status: str
    contracts_closed: int
    closed_now: int
    posted_kopecks: int
    released_kopecks: int
    family_invoiced_kopecks: int
    chunks: int
    final_orders_issued: int
    seconds: float
    municipality_code: str | None = None  # None: the region-wide close

    def as_dict(self) -> dict:
        return asdict(self)


async def journal_watermark(session: AsyncSession, month: date) -> JournalWatermark:
    """The navigator's published count of the month's attendance events and billing's applied count."""
    row = (await session.execute(text(
        "SELECT published_events, applied_events FROM attendance_months WHERE month = :m"), {"m": month})).first()
    return JournalWatermark(month_of(month), row.published_events if row else None, row.applied_events if row else 0)


@dataclass(frozen=True)
class _EventStatements:
    """The outbox rows of a chunk, each one INSERT ... SELECT over ``close_rows``."""

    charges: str
    invoices: str
    releases: str


def _event_statements(b: Billing) -> _EventStatements:
    names, source = b.runtime.names, b.settings.source
    return _EventStatements(
        charges=outbox_insert(
            bev.ChargePosted, names=names, source=source, key_sql="r.certificate_id",
            data_sql=("jsonb_build_object('posting_id', md5('post:' || r.enrolment_id || ':' || CAST(:mk AS text))::uuid, "
                      "'enrolment_id', r.enrolment_id, 'certificate_id', r.certificate_id, 'provider_id', r.provider_id, "
                      "'period_id', r.period_id, 'municipality_code', r.payer, 'month', CAST(:mk AS text), "
                      "'payment_mode', r.payment_mode, 'certificate_kopecks', r.posted, 'returned_kopecks', r.ci - r.posted, "
                      "'attended_lessons', r.attended, 'planned_lessons', r.planned)"),
            from_sql="FROM close_rows r WHERE r.ci > 0"),
        invoices=outbox_insert(
            bev.CoPaymentInvoiced, names=names, source=source, key_sql="r.certificate_id",
            data_sql=("jsonb_build_object('invoice_id', md5('invoice:' || r.enrolment_id || ':' || CAST(:mk AS text))::uuid, "
                      "'enrolment_id', r.enrolment_id, 'certificate_id', r.certificate_id, 'provider_id', r.provider_id, "
                      "'month', CAST(:mk AS text), 'amount_kopecks', r.invoiced, 'issued_on', CAST(:today AS date))"),
            from_sql="FROM close_rows r WHERE r.invoiced > 0"),
        # the month's unearned part back to the available balance: what is still reserved for the
        # contract afterwards is its later months (this month's row is closed by now)
        releases=outbox_insert(
            bev.ReservationReleased, names=names, source=source, key_sql="r.certificate_id",
            data_sql=("jsonb_build_object('reservation_id', r.reservation_id, 'enrolment_id', r.enrolment_id, "
                      "'certificate_id', r.certificate_id, 'released_kopecks', r.ci - r.posted, "
                      "'remaining_reserved_kopecks', (SELECT COALESCE(sum(x.certificate_kopecks), 0)::bigint "
                      "FROM contract_months x WHERE x.enrolment_id = r.enrolment_id AND x.state = 'reserved'), "
                      f"'reason', '{bev.ReleaseReason.MONTH_UNEARNED.value}', 'released_on', CAST(:today AS date), "
                      "'month', CAST(:mk AS text))"),
            from_sql="FROM close_rows r WHERE r.ci - r.posted > 0"),
    )


REGION = ""
"""The scope of the region-wide close (``month_closes.municipality_code``)."""

_STATUS = "SELECT status FROM month_closes WHERE month = :m AND municipality_code = :scope"
_LOCK_CLOSE = "SELECT 1 FROM month_closes WHERE month = :m AND municipality_code = :scope FOR UPDATE"


def _subject(mk: str, scope: str) -> str:
    """The audit subject of a close: the month, or the month and the municipality."""
    return f"{mk}:{scope}" if scope else mk


async def close_status(session: AsyncSession, month: date, municipality: str | None = None) -> str | None:
    """The status of the month's close (region-wide, or of one municipality): running, done or None."""
    return (await session.execute(text(_STATUS), {"m": month, "scope": municipality or REGION})).scalar()


async def _start(b: Billing, month: date, scope: str) -> str:
    """Mark the month's close running (checking first that its journal is complete, unless it is
    done already); returns its status."""
    async with b.runtime.db.transaction() as session:
        done = (await session.execute(text(_STATUS), {"m": month, "scope": scope})).scalar()
        if done != "done":
            check_closable(await journal_watermark(session, month))  # raises: retry later
        await session.execute(text("INSERT INTO month_closes (month, municipality_code, status) "
                                   "VALUES (:m, :scope, 'running') ON CONFLICT DO NOTHING"), {"m": month, "scope": scope})
        return (await session.execute(text(_STATUS), {"m": month, "scope": scope})).scalar()


@dataclass(frozen=True)
class _Chunk:
    closed: int
    last: uuid.UUID
    steps: dict[str, float]


async def _close_chunk(b: Billing, month: date, scope: str, after: uuid.UUID, days_off: list[date],
                       events: _EventStatements, actor: Principal | None) -> _Chunk | None:
    """Close the next chunk of contract-months after ``after`` in one transaction; None when none is left."""
    mk, t_chunk = month_of(month), time.perf_counter()
    async with b.runtime.db.transaction() as session:
        await session.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
        await session.execute(text(_LOCK_CLOSE), {"m": month, "scope": scope})
        await month_lock.close_exclusively(session, month)  # disputes of the month in flight land first
        await session.execute(text(
            "CREATE TEMP TABLE close_rows (enrolment_id uuid, certificate_id uuid, provider_id uuid, "
            "period_id uuid, payer varchar(2), payment_mode varchar(10), ci bigint, fi bigint, planned int, "
            "attended int, posted bigint, invoiced bigint, reservation_id uuid) ON COMMIT DROP"))
        await session.execute(text(_PICK), {"month": month, "month_end": month_end(month), "after": after,
                                            "chunk": b.settings.month_close_chunk, "days_off": days_off,
                                            "scope": scope})
        summary = (await session.execute(text(
            "SELECT count(*) AS n, max(enrolment_id::text) AS last, COALESCE(sum(posted), 0) AS posted, "
            "COALESCE(sum(ci - posted), 0) AS released, COALESCE(sum(invoiced), 0) AS invoiced FROM close_rows"
        ))).one()
        if summary.n == 0:
            return None
        # the provider-side mirror of the postings is one entry per provider, payer and chunk (a
        # municipality's chunks named apart from the region's)
        steps = {"pick": time.perf_counter() - t_chunk}
        await session.execute(text(_TRANSFERS), {"mk": mk, "month": month, "chunk": str(after) if not scope else f"{scope}:{after}"})
        steps["transfers"] = time.perf_counter() - t_chunk
        await session.execute(text(_RESOLVE), {"mk": mk})
        await session.execute(text(_FREE_AGREEMENTS))
        steps["resolve"] = time.perf_counter() - t_chunk
        params = {"corr": context.correlation_id(), "cause": context.causation_id(), "mk": mk, "today": b.today(),
                  "event_time": clock.now()}
        for statement in (events.charges, events.invoices, events.releases):
            await session.execute(text(statement), params)
        steps["events"] = time.perf_counter() - t_chunk
        await session.execute(text("UPDATE month_closes SET contracts_closed = contracts_closed + :n "
                                   "WHERE month = :m AND municipality_code = :scope"),
                              {"n": summary.n, "m": month, "scope": scope})
        await audit.record(session, actor, "billing.month_close.chunk", "month", _subject(mk, scope),
                           municipality=scope or None, details={
            "contracts": summary.n, "posted_kopecks": int(summary.posted),
            "released_kopecks": int(summary.released), "family_invoiced_kopecks": int(summary.invoiced)})
        return _Chunk(closed=summary.n, last=uuid.UUID(summary.last), steps=steps)


async def _finish(b: Billing, month: date, scope: str, actor: Principal | None) -> int:
    """Issue the month's final payment orders (of the scope's payers) and mark the close done;
    returns the orders issued."""
    async with b.runtime.db.transaction() as session:
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text(_LOCK_CLOSE), {"m": month, "scope": scope})
        orders = await issue_finals(b, session, month, actor, scope or None)
        await session.execute(text(
            "UPDATE month_closes SET status = 'done', finished_at = now() WHERE month = :m AND municipality_code = :scope "
            "AND status = 'running'"), {"m": month, "scope": scope})
        return orders


_SUMS = """
SELECT COALESCE(sum(cm.posted_kopecks), 0) AS posted, COALESCE(sum(cm.released_kopecks), 0) AS released,
       COALESCE(sum(cm.family_invoiced_kopecks), 0) AS invoiced
FROM contract_months cm
WHERE cm.month = :m AND cm.state = 'closed'
  AND (CAST(:scope AS text) = '' OR EXISTS (SELECT 1 FROM contracts c WHERE c.enrolment_id = cm.enrolment_id
                                             AND c.payer_code = :scope))
"""


async def _totals(b: Billing, month: date, scope: str):  # noqa: ANN202
    async with b.runtime.db.transaction() as session:
        row = (await session.execute(text(
            "SELECT status, contracts_closed FROM month_closes WHERE month = :m AND municipality_code = :scope"),
            {"m": month, "scope": scope})).one()
        sums = (await session.execute(text(_SUMS), {"m": month, "scope": scope})).one()
    return row, sums


@dataclass
class MonthCloseProgress:
    """How far a month's close is: what the operator's page shows while it runs."""

    month: str
    status: str
    contracts_closed: int
    contracts_total: int
    chunks_done: int
    chunks_total: int
    posted_kopecks: int
    released_kopecks: int
    family_invoiced_kopecks: int
    municipality_code: str | None = None  # None: the region-wide close

    def as_dict(self) -> dict:
        return asdict(self)


_LEFT = f"""
SELECT count(*) FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
WHERE cm.month = :month AND cm.state = 'reserved' AND c.status IN ({sql_list(IN_FORCE)})
  AND (CAST(:scope AS text) = '' OR c.payer_code = :scope)
"""


_CLOSED_HERE = """
SELECT count(*) FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
WHERE cm.month = :m AND cm.state = 'closed' AND c.payer_code = :scope
"""


async def progress(b: Billing, month: date, municipality: str | None = None) -> MonthCloseProgress:
    """The close's progress, read while it runs (each chunk commits on its own): the contract-months
    closed of those the close picks, the chunks done (one audit entry each) of the chunks it takes,
    and the totals so far. ``not_started`` before the first call. A municipality without a close of
    its own reports the region-wide close's status and its own contract-months closed by it."""
    month = month_start(month)
    mk, chunk, scope = month_of(month), b.settings.month_close_chunk, municipality or REGION
    async with b.runtime.db.transaction() as session:
        row = (await session.execute(text(
            "SELECT status, contracts_closed FROM month_closes WHERE month = :m AND municipality_code = :scope"),
            {"m": month, "scope": scope})).first()
        left = int((await session.execute(text(_LEFT), {"month": month, "scope": scope})).scalar() or 0)
        chunks_done = int((await session.execute(select(func.count()).select_from(AUDIT).where(
            AUDIT.c.subject_type == "month", AUDIT.c.subject_id == _subject(mk, scope),
            AUDIT.c.action == "billing.month_close.chunk"))).scalar() or 0)
        sums = (await session.execute(text(_SUMS), {"m": month, "scope": scope})).one()
        status, closed = (row.status, row.contracts_closed) if row else ("not_started", 0)
        if row is None and scope != REGION:  # a region-wide close closes the municipality's contracts too
            region = (await session.execute(text(_STATUS), {"m": month, "scope": REGION})).first()
            if region is not None:
                status = region.status
                closed = int((await session.execute(text(_CLOSED_HERE), {"m": month, "scope": scope})).scalar() or 0)
    return MonthCloseProgress(
        month=mk, status=status, contracts_closed=closed,
        contracts_total=closed + left, chunks_done=chunks_done, chunks_total=chunks_done + math.ceil(left / chunk),
        posted_kopecks=int(sums.posted), released_kopecks=int(sums.released),
        family_invoiced_kopecks=int(sums.invoiced), municipality_code=scope or None)


async def close_month(b: Billing, month: date, actor: Principal | None = None,
                      municipality: str | None = None) -> MonthCloseResult:
    """Close ``month`` (region-wide, or only ``municipality``'s certificates' contracts) chunk by
    chunk (each chunk one transaction), then issue the final orders of the payers closed."""
    month = month_start(month)
    mk, started, scope = month_of(month), time.perf_counter(), municipality or REGION
    closed_now = chunks = orders = 0
    if await _start(b, month, scope) != "done":
        events = _event_statements(b)
        days_off = sorted(calendar.days_off_between(month, month_end(month), b.settings.region_days_off))
        after = uuid.UUID(int=0)
        while (chunk := await _close_chunk(b, month, scope, after, days_off, events, actor)) is not None:
            after, closed_now, chunks = chunk.last, closed_now + chunk.closed, chunks + 1
            log.info("month_close_progress", month=mk, municipality=scope or None, chunk=chunks, closed=closed_now,
                     steps_s={k: round(v, 2) for k, v in chunk.steps.items()},
                     elapsed_s=round(time.perf_counter() - started, 2))
        orders = await _finish(b, month, scope, actor)
    row, sums = await _totals(b, month, scope)
    result = MonthCloseResult(
        month=mk, status=row.status, contracts_closed=row.contracts_closed, closed_now=closed_now,
        posted_kopecks=int(sums.posted), released_kopecks=int(sums.released),
        family_invoiced_kopecks=int(sums.invoiced), chunks=chunks, final_orders_issued=orders,
        seconds=round(time.perf_counter() - started, 3), municipality_code=scope or None)
    log.info("month_close_done", **result.as_dict())
    return result
