"""A month's journal with thousands of marks in one posting, through the use cases against the
real database: every valid mark stored once, one AttendanceRecorded event per enrolment and
month, and a re-posting of the same journal changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import pytest
from sqlalchemy import text

from navigator_testkit import module, program, provider_active
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import billing as b
from pfdo_plumbing.auth.principal import Principal, Role
from pfdo_plumbing.runtime import ServiceRuntime
from pfdo_testkit import new_namespace, service_settings

from pfdo_navigator.domain.attendance import MarkStatus
from pfdo_navigator.service import attendance as att
from pfdo_navigator.service import enrolments as enr
from pfdo_navigator.service.catalogue import apply_catalogue_event

pytestmark = pytest.mark.integration

CHILDREN = 250


async def test_a_month_journal_of_thousands_of_marks(infra, databases, auth) -> None:  # noqa: ANN001
    settings = service_settings("navigator", infra=infra, database_url=await databases.fresh("navigator"),
                                namespace=new_namespace(), auth=auth)
    runtime = ServiceRuntime(settings, configure_logs=False)
    provider_id = uuid.uuid4()
    group = module(capacity=CHILDREN)
    event = program(provider_id=provider_id, title="Плавание", modules=[group])
    certs = [uuid.uuid4() for _ in range(CHILDREN)]
    provider = Principal(sub="coach", role=Role.PROVIDER, provider_id=str(provider_id))
    start = dt.date(2026, 9, 1)
    try:
        async with runtime.db.transaction() as s:
            for e in [*provider_active(provider_id), event]:
                await apply_catalogue_event(s, e, wrap(e, source="pfdo/registry", correlation_id="t"))
            await s.execute(
                text("INSERT INTO certificates SELECT c, lpad(n::text, 10, '0'), 'p' || n, '01', DATE '2016-03-14', "
                     "DATE '2034-03-13', 'funding', 'active', DATE '2026-08-20' "
                     "FROM unnest(CAST(:c AS uuid[])) WITH ORDINALITY AS t(c, n)"),
                {"c": certs},
            )
        async def enrol(n: int, cert: uuid.UUID) -> uuid.UUID:
            async with runtime.db.transaction() as s:
                row = await enr.apply(s, runtime.outbox, Principal(sub=f"p{n}", role=Role.PARENT),
                                      enr.ApplyCommand(cert, group.module_id, start), today=start,
                                      now=dt.datetime.now(dt.UTC))
                await enr.on_reservation_created(s, runtime.outbox, b.ReservationCreated(
                    reservation_id=uuid.uuid4(), enrolment_id=row.enrolment_id, certificate_id=cert,
                    provider_id=provider_id, period_id=uuid.uuid4(), payment_mode="monthly", total_cost_kopecks=100,
                    reserved_kopecks=100, family_kopecks=0, funding_activated=True,
                    schedule=[b.Instalment(month="2026-09", certificate_kopecks=100, family_kopecks=0, planned_lessons=9)],
                ), start)
                await enr.confirm(s, runtime.outbox, provider, row.enrolment_id, start, acceptance_days=10)
                await enr.accept(s, runtime.outbox, Principal(sub=f"p{n}", role=Role.PARENT), row.enrolment_id,
                                 today=start, now=dt.datetime.now(dt.UTC))
                return row.enrolment_id

        enrolment_ids = list(await asyncio.gather(*(enrol(n, c) for n, c in enumerate(certs, start=1))))
        lessons = [dt.date(2026, 9, d) for d in (1, 3, 8, 10, 15, 17, 22, 24, 29)]  # Tuesdays and Thursdays
        marks = [att.MarkInput(eid, group.module_id, day, MarkStatus.PRESENT if (i + j) % 4 else MarkStatus.ABSENT)
                 for i, eid in enumerate(enrolment_ids) for j, day in enumerate(lessons)]
        async with runtime.db.transaction() as s:
            before = await s.scalar(text("SELECT count(*) FROM outbox"))
        t0 = time.perf_counter()
        async with runtime.db.transaction() as s:
            report = await att.post_marks(s, runtime.outbox, provider, marks, today=dt.date(2026, 9, 30))
        elapsed = time.perf_counter() - t0
        assert report["recorded"] == CHILDREN * len(lessons) == 2250 and report["rejected"] == []
        assert report["events"] == CHILDREN
        async with runtime.db.transaction() as s:
            assert await s.scalar(text("SELECT count(*) FROM attendance_marks")) == 2250
            assert await s.scalar(text("SELECT count(*) FROM outbox")) - before == CHILDREN
            sizes = await s.scalar(text(
                "SELECT array_agg(DISTINCT jsonb_array_length(payload->'data'->'marks')) FROM outbox "
                "WHERE event_type = 'pfdo.navigator.attendance.recorded.v1'"))
            assert sizes == [len(lessons)]
        async with runtime.db.transaction() as s:
            again = await att.post_marks(s, runtime.outbox, provider, marks, today=dt.date(2026, 9, 30))
        assert again["unchanged"] == 2250 and again["events"] == 0
        assert elapsed < 20, f"a 2250-mark journal took {elapsed:.1f} s"
        print(f"2250-mark journal posted in {elapsed:.2f} s")
    finally:
        await runtime.db.dispose()
