"""Month close (DESIGN §2): set-based, idempotent, resumable, with progress.

Each chunk of contract-months is one transaction of a few statements over all its rows:
count planned lessons (from the weekly timetable within the contract's days of the month) and
billable attended lessons (present and not disputed), compute the due amounts per payment mode,
mark the months closed, write the journal (post, its budget mirror, release, family invoice),
resolve the reservations, and add the outbox rows: no Python loop per contract. A closed month
is never picked again, so re-running (or resuming after a crash) changes nothing that is done.
After the last chunk the final payment orders are issued per provider.

The unearned part of each contract-month goes back to the available balance as a release of
the month's pending reservation and is published as ``ReservationReleased`` (reason
``month_unearned``, with the month), one INSERT ... SELECT into the outbox per chunk like the
charges.

A month is closed only once its journal is complete (``domain/month_gate.py``): the navigator
froze it and billing applied every attendance event of it; otherwise the close is refused with
``journal_not_frozen`` / ``journal_not_drained`` before anything is written.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import month_of
from pfdo_contracts.events import billing as bev
from pfdo_plumbing import audit, clock, context
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.logging import get_logger

from pfdo_billing.adapters.sql_events import outbox_insert
from pfdo_billing.domain.calendar import month_end, month_start
from pfdo_billing.domain.month_gate import JournalWatermark, check_closable

from . import month_lock
from .context import Billing
from .payment_orders import issue_finals

log = get_logger(__name__)

_PICK = """
WITH picked AS (
    SELECT cm.enrolment_id, c.certificate_id, c.provider_id, c.period_id, c.payer_code AS payer, c.payment_mode,
           cm.certificate_kopecks AS ci, cm.family_kopecks AS fi,
           GREATEST(cm.month, c.start_date) AS d0, LEAST(CAST(:month_end AS date), c.end_date) AS d1, c.weekdays,
           c.reservation_id
    FROM contract_months cm JOIN contracts c ON c.enrolment_id = cm.enrolment_id
    WHERE cm.month = :month AND cm.state = 'reserved' AND c.status IN ('active', 'terminated', 'ended')
      AND cm.enrolment_id > :after
    ORDER BY cm.enrolment_id
    LIMIT :chunk
    FOR UPDATE OF cm
), counted AS MATERIALIZED (
    -- planned: per weekday slot, the days of that weekday within d0..d1 (arithmetics, no day loop)
    SELECT p.*,
        (SELECT COALESCE(sum(CASE WHEN o.off > p.d1 - p.d0 THEN 0 ELSE (p.d1 - p.d0 - o.off) / 7 + 1 END), 0)
           FROM (SELECT (w.wd - extract(isodow FROM p.d0)::int + 7) % 7 AS off FROM unnest(p.weekdays) AS w(wd)) o
        )::int AS planned,
        (SELECT count(*) FROM attendance_marks m
             WHERE m.enrolment_id = p.enrolment_id AND m.lesson_date BETWEEN p.d0 AND p.d1
               AND m.status = 'present' AND NOT m.disputed)::int AS attended
    FROM picked p
), due AS MATERIALIZED (
    SELECT counted.*,
        CASE WHEN payment_mode = 'monthly' THEN ci WHEN planned = 0 THEN 0
             ELSE ci * LEAST(attended, planned) / planned END AS posted,
        CASE WHEN payment_mode = 'monthly' THEN fi WHEN planned = 0 THEN 0
             ELSE fi * LEAST(attended, planned) / planned END AS invoiced
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

    def as_dict(self) -> dict:
        return asdict(self)


async def journal_watermark(session: AsyncSession, month: date) -> JournalWatermark:
    """The navigator's published count of the month's attendance events and billing's applied count."""
    row = (await session.execute(text(
        "SELECT published_events, applied_events FROM attendance_months WHERE month = :m"), {"m": month})).first()
    return JournalWatermark(month_of(month), row.published_events if row else None, row.applied_events if row else 0)


async def close_month(b: Billing, month: date, actor: Principal | None = None) -> MonthCloseResult:
    month = month_start(month)
    mk = month_of(month)
    started = time.perf_counter()
    names, source = b.runtime.names, b.settings.source
    charge_sql = outbox_insert(
        bev.ChargePosted, names=names, source=source, key_sql="r.certificate_id",
        data_sql=("jsonb_build_object('posting_id', md5('post:' || r.enrolment_id || ':' || CAST(:mk AS text))::uuid, "
                  "'enrolment_id', r.enrolment_id, 'certificate_id', r.certificate_id, 'provider_id', r.provider_id, "
                  "'period_id', r.period_id, 'municipality_code', r.payer, 'month', CAST(:mk AS text), "
                  "'payment_mode', r.payment_mode, 'certificate_kopecks', r.posted, 'returned_kopecks', r.ci - r.posted, "
                  "'attended_lessons', r.attended, 'planned_lessons', r.planned)"),
        from_sql="FROM close_rows r WHERE r.ci > 0")
    invoice_sql = outbox_insert(
        bev.CoPaymentInvoiced, names=names, source=source, key_sql="r.certificate_id",
        data_sql=("jsonb_build_object('invoice_id', md5('invoice:' || r.enrolment_id || ':' || CAST(:mk AS text))::uuid, "
                  "'enrolment_id', r.enrolment_id, 'certificate_id', r.certificate_id, 'provider_id', r.provider_id, "
                  "'month', CAST(:mk AS text), 'amount_kopecks', r.invoiced, 'issued_on', CAST(:today AS date))"),
        from_sql="FROM close_rows r WHERE r.invoiced > 0")
    # the month's unearned part back to the available balance: what is still reserved for the
    # contract afterwards is its later months (this month's row is closed by now)
    released_sql = outbox_insert(
        bev.ReservationReleased, names=names, source=source, key_sql="r.certificate_id",
        data_sql=("jsonb_build_object('reservation_id', r.reservation_id, 'enrolment_id', r.enrolment_id, "
                  "'certificate_id', r.certificate_id, 'released_kopecks', r.ci - r.posted, "
                  "'remaining_reserved_kopecks', (SELECT COALESCE(sum(x.certificate_kopecks), 0)::bigint "
                  "FROM contract_months x WHERE x.enrolment_id = r.enrolment_id AND x.state = 'reserved'), "
                  f"'reason', '{bev.ReleaseReason.MONTH_UNEARNED.value}', 'released_on', CAST(:today AS date), "
                  "'month', CAST(:mk AS text))"),
        from_sql="FROM close_rows r WHERE r.ci - r.posted > 0")

    async with b.runtime.db.transaction() as session:
        done = (await session.execute(text("SELECT status FROM month_closes WHERE month = :m"), {"m": month})).scalar()
        if done != "done":
            check_closable(await journal_watermark(session, month))  # raises: retry later
        await session.execute(text("INSERT INTO month_closes (month, status) VALUES (:m, 'running') ON CONFLICT DO NOTHING"),
                              {"m": month})
        state = (await session.execute(text("SELECT status FROM month_closes WHERE month = :m"), {"m": month})).scalar()

    closed_now = chunks = orders = 0
    if state != "done":
        after = uuid.UUID(int=0)
        while True:
            t_chunk = time.perf_counter()
            async with b.runtime.db.transaction() as session:
                await session.execute(text("SET LOCAL jit = off"))  # compiling costs more than it saves here
                await session.execute(text("SELECT 1 FROM month_closes WHERE month = :m FOR UPDATE"), {"m": month})
                await month_lock.close_exclusively(session, month)  # disputes of the month in flight land first
                await session.execute(text(
                    "CREATE TEMP TABLE close_rows (enrolment_id uuid, certificate_id uuid, provider_id uuid, "
                    "period_id uuid, payer varchar(2), payment_mode varchar(10), ci bigint, fi bigint, planned int, "
                    "attended int, posted bigint, invoiced bigint, reservation_id uuid) ON COMMIT DROP"))
                await session.execute(text(_PICK), {"month": month, "month_end": month_end(month), "after": after,
                                                    "chunk": b.settings.month_close_chunk})
                summary = (await session.execute(text(
                    "SELECT count(*) AS n, max(enrolment_id::text) AS last, COALESCE(sum(posted), 0) AS posted, "
                    "COALESCE(sum(ci - posted), 0) AS released, COALESCE(sum(invoiced), 0) AS invoiced FROM close_rows"
                ))).one()
                if summary.n == 0:
                    break
                # the provider-side mirror of the postings is one entry per provider, payer and chunk
                params = {"mk": mk, "month": month, "chunk": str(after)}
                steps = {"pick": time.perf_counter() - t_chunk}
                await session.execute(text(_TRANSFERS), params)
                steps["transfers"] = time.perf_counter() - t_chunk
                await session.execute(text(_RESOLVE), {"mk": mk})
                steps["resolve"] = time.perf_counter() - t_chunk
                events = {"corr": context.correlation_id(), "cause": context.causation_id(), "mk": mk, "today": b.today(),
                          "event_time": clock.now()}
                await session.execute(text(charge_sql), events)
                await session.execute(text(invoice_sql), events)
                await session.execute(text(released_sql), events)
                steps["events"] = time.perf_counter() - t_chunk
                await session.execute(text(
                    "UPDATE month_closes SET contracts_closed = contracts_closed + :n WHERE month = :m"),
                    {"n": summary.n, "m": month})
                await audit.record(session, actor, "billing.month_close.chunk", "month", mk, details={
                    "contracts": summary.n, "posted_kopecks": int(summary.posted),
                    "released_kopecks": int(summary.released), "family_invoiced_kopecks": int(summary.invoiced)})
                after = uuid.UUID(summary.last)
            closed_now += summary.n
            chunks += 1
            log.info("month_close_progress", month=mk, chunk=chunks, closed=closed_now,
                     steps_s={k: round(v, 2) for k, v in steps.items()},
                     elapsed_s=round(time.perf_counter() - started, 2))
        async with b.runtime.db.transaction() as session:
            await session.execute(text("SET LOCAL jit = off"))
            await session.execute(text("SELECT 1 FROM month_closes WHERE month = :m FOR UPDATE"), {"m": month})
            orders = await issue_finals(b, session, month, actor)
            await session.execute(text(
                "UPDATE month_closes SET status = 'done', finished_at = now() WHERE month = :m AND status = 'running'"),
                {"m": month})
    async with b.runtime.db.transaction() as session:
        totals = (await session.execute(text(
            "SELECT m.status, m.contracts_closed, COALESCE(sum(cm.posted_kopecks), 0) AS posted, "
            "COALESCE(sum(cm.released_kopecks), 0) AS released, COALESCE(sum(cm.family_invoiced_kopecks), 0) AS invoiced "
            "FROM month_closes m LEFT JOIN contract_months cm ON cm.month = m.month AND cm.state = 'closed' "
            "WHERE m.month = :m GROUP BY m.status, m.contracts_closed"), {"m": month})).one()
    result = MonthCloseResult(
        month=mk, status=totals.status, contracts_closed=totals.contracts_closed, closed_now=closed_now,
        posted_kopecks=int(totals.posted), released_kopecks=int(totals.released),
        family_invoiced_kopecks=int(totals.invoiced), chunks=chunks, final_orders_issued=orders,
        seconds=round(time.perf_counter() - started, 3))
    log.info("month_close_done", **result.as_dict())
    return result
