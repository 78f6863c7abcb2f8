"""Benchmark: month close of N contracts (default 100 000) by the billing use case, beside a raw
PostgreSQL baseline (one set-based UPDATE of the same rows) in the same run.

Target: 100 000 contracts in <= 20 s, billing process RSS < 200 MB.
Run: uv run python bench/billing_month_close.py [contracts]
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from billing_common import infra, rss_mb  # noqa: E402
from sqlalchemy import text  # noqa: E402

from pfdo_plumbing.runtime import ServiceRuntime  # noqa: E402
from pfdo_testkit import DatabaseFactory  # noqa: E402

from pfdo_billing.service.context import Billing  # noqa: E402
from pfdo_billing.service.month_close import close_month  # noqa: E402
from pfdo_billing.settings import BillingSettings  # noqa: E402

MONTH = date(2026, 11, 1)
SEED = [
    "INSERT INTO periods (period_id, starts_on, ends_on, status) VALUES (:p, '2026-09-01', '2027-08-31', 'open')",
    """INSERT INTO certificates (certificate_id, municipality_code, birth_date, status, usage_kind, parent_id)
       SELECT md5('c' || i)::uuid, lpad((i % 20 + 1)::text, 2, '0'), '2015-01-01', 'active', 'funding', 'p' || i
       FROM generate_series(1, :n) i""",
    """INSERT INTO transfers (transfer_id, kind, period_id, debit_kind, debit_owner, credit_kind, credit_owner, amount,
                              certificate_id, cause)
       SELECT 'credit:' || certificate_id || ':' || CAST(:pt AS text), 'credit_nominal', CAST(:p AS uuid), 'budget',
              municipality_code, 'certificate_available', certificate_id::text, 3000000, certificate_id, 'seed'
       FROM certificates""",
    """INSERT INTO contracts (enrolment_id, certificate_id, module_id, program_id, provider_id, municipality_code,
                              payer_code, direction, funding_kind, period_id, payment_mode, start_date, end_date,
                              weekdays, status, total_cost_kopecks, certificate_kopecks, family_kopecks, reservation_id)
       SELECT md5('e' || c.certificate_id)::uuid, c.certificate_id, md5('m')::uuid, md5('pr')::uuid,
              md5('prov' || (abs(hashtext(c.certificate_id::text)) % 200))::uuid, c.municipality_code,
              c.municipality_code, 'technical', 'certificate', CAST(:p AS uuid),
              CASE WHEN abs(hashtext(c.certificate_id::text)) % 2 = 0 THEN 'attendance' ELSE 'monthly' END,
              '2026-10-01', '2027-05-31', '{2,4}', 'active', 1068132, 890110, 178022,
              md5('r' || c.certificate_id)::uuid
       FROM certificates c""",
    """INSERT INTO contract_months (enrolment_id, month, certificate_kopecks, family_kopecks, planned_lessons)
       SELECT enrolment_id, CAST(:m AS date), 111263, 22252, 8 FROM contracts""",
    """INSERT INTO transfers (transfer_id, kind, period_id, debit_kind, debit_owner, credit_kind, credit_owner, amount,
                              pending_state, certificate_id, enrolment_id, month, cause)
       SELECT 'reserve:' || enrolment_id || ':' || '2026-11', 'reserve', period_id, 'certificate_available',
              certificate_id::text, 'certificate_reserved', certificate_id::text, 111263, 'pending', certificate_id,
              enrolment_id, CAST(:m AS date), 'seed'
       FROM contracts""",
    """INSERT INTO attendance_marks (mark_id, enrolment_id, lesson_date, status, revision)
       SELECT md5(c.enrolment_id::text || d)::uuid, c.enrolment_id, d::date,
              CASE WHEN extract(day FROM d)::int % 4 = 0 THEN 'absent' ELSE 'present' END, 1
       FROM contracts c, generate_series(DATE '2026-11-01', DATE '2026-11-30', interval '1 day') d
       WHERE c.payment_mode = 'attendance' AND extract(isodow FROM d) IN (2, 4)""",
    # the navigator froze November and billing applied every attendance event of it (one per
    # attendance-mode contract): the month-close gate is open
    """INSERT INTO attendance_months (month, published_events, frozen_on, applied_events)
       SELECT CAST(:m AS date), count(*), '2026-12-05', count(*) FROM contracts WHERE payment_mode = 'attendance'""",
    "ANALYZE",
]


async def main(n: int) -> None:
    bench_infra = infra()
    url = await DatabaseFactory(bench_infra).fresh("billing")
    settings = BillingSettings(database_url=url, kafka_bootstrap=bench_infra.kafka_bootstrap, log_level="WARNING",
                               kafka_namespace=f"bench{uuid.uuid4().hex[:6]}.")
    runtime = ServiceRuntime(settings, configure_logs=False)
    billing = Billing(runtime, settings)
    pid = uuid.uuid4()
    started = time.perf_counter()
    async with runtime.db.transaction() as s:
        await s.execute(text("SET LOCAL jit = off"))
        for sql in SEED:
            await s.execute(text(sql), {"p": pid, "pt": str(pid), "n": n, "m": MONTH})
    print(f"seeded {n} contracts in {time.perf_counter() - started:.1f} s")

    # baseline: the raw cost of touching the same rows once, set-based, in the same database
    async with runtime.db.transaction() as s:
        await s.execute(text("CREATE TABLE raw_copy AS SELECT * FROM contract_months"))
    t0 = time.perf_counter()
    async with runtime.db.transaction() as s:
        await s.execute(text("UPDATE raw_copy SET posted_kopecks = certificate_kopecks, state = 'closed'"))
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = await close_month(billing, MONTH)
    close_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = await close_month(billing, MONTH)
    again_s = time.perf_counter() - t0
    async with runtime.db.transaction() as s:
        outbox = await s.scalar(text("SELECT count(*) FROM outbox"))
        releases = await s.scalar(text(
            "SELECT count(*) FROM outbox WHERE event_type = 'pfdo.billing.reservation.released.v1'"))
        bad = await s.scalar(text("SELECT count(*) FROM certificate_balances WHERE nominal <> available + reserved + spent"))
    await runtime.db.dispose()

    print(f"month close: {result.contracts_closed} contracts in {close_s:.2f} s "
          f"({result.contracts_closed / close_s:,.0f} contracts/s), {result.chunks} chunks, "
          f"posted {result.posted_kopecks} released {result.released_kopecks} invoiced {result.family_invoiced_kopecks} "
          f"kopecks, {outbox} outbox events ({releases} reservation releases), {result.final_orders_issued} final orders")
    print(f"repeat close (idempotent): closed {again.closed_now} in {again_s:.2f} s")
    print(f"baseline raw set-based UPDATE of the same {n} rows: {raw_s:.2f} s")
    print(f"peak RSS of this process: {rss_mb():.0f} MB (target < 200 MB); invariant violations: {bad}")
    print(f"target 100 000 contracts <= 20 s: {'met' if close_s <= 20 * n / 100_000 else 'NOT met'}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
