"""Attendance marks into billing's table, against real PostgreSQL: a batch of first postings
goes in with a plain insert; corrections, a mark posted twice in one batch and a mark that a
dispute overtook take the upsert, where the highest revision of a mark wins."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from pfdo_contracts.common import AttendanceStatus as S
from pfdo_contracts.envelope import wrap
from pfdo_contracts.events import navigator as n
from pfdo_plumbing.db import Database

from pfdo_billing.service import attendance

pytestmark = pytest.mark.integration

ENROLMENT = uuid.uuid4()
DAY = dt.date(2026, 11, 2)


@pytest.fixture
async def db(databases):  # noqa: ANN001, ANN201
    database = Database(await databases.fresh("billing"))
    yield database
    await database.dispose()


def posting(*marks: tuple[uuid.UUID, int, S, int]) -> tuple[n.AttendanceRecorded, object]:
    """Marks as (mark id, day of November, status, revision)."""
    event = n.AttendanceRecorded(
        batch_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=uuid.uuid4(), provider_id=uuid.uuid4(),
        module_id=uuid.uuid4(), month="2026-11",
        marks=[n.AttendanceMark(mark_id=m, lesson_date=dt.date(2026, 11, d), status=s, revision=r) for m, d, s, r in marks])
    return event, wrap(event, source="pfdo/navigator", correlation_id="c")


async def ingest(db: Database, *batch: tuple[n.AttendanceRecorded, object]) -> int:
    async with db.transaction() as s:
        return await attendance.attendance_recorded(None, s, list(batch))  # type: ignore[arg-type]


async def marks(db: Database) -> dict[uuid.UUID, tuple[str, int, bool]]:
    async with db.transaction() as s:
        rows = await s.execute(text("SELECT mark_id, status, revision, disputed FROM attendance_marks"))
        return {r.mark_id: (r.status, r.revision, r.disputed) for r in rows}


async def applied_events(db: Database) -> int:
    async with db.transaction() as s:
        return await s.scalar(text("SELECT applied_events FROM attendance_months WHERE month = '2026-11-01'"))


async def test_first_postings_then_corrections_and_repeats(db: Database) -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    assert await ingest(db, posting((a, 2, S.PRESENT, 1), (b, 4, S.ABSENT, 1))) == 2
    assert await marks(db) == {a: ("present", 1, False), b: ("absent", 1, False)}

    # one batch: a corrected (revision 2), c posted twice in it (revisions 1 then 3), d new
    await ingest(db, posting((a, 2, S.EXCUSED, 2), (c, 6, S.ABSENT, 1)),
                 posting((c, 6, S.PRESENT, 3), (d, 9, S.PRESENT, 1)))
    # an older revision arriving late changes nothing, in a batch of its own or beside a new mark
    await ingest(db, posting((a, 2, S.PRESENT, 1)))
    await ingest(db, posting((c, 6, S.ABSENT, 2), (b, 4, S.PRESENT, 2)))
    assert await marks(db) == {
        a: ("excused", 2, False), b: ("present", 2, False), c: ("present", 3, False), d: ("present", 1, False),
    }
    assert await applied_events(db) == 5  # every event counts once toward the month's watermark


async def test_a_mark_overtaken_by_its_dispute_keeps_the_dispute(db: Database) -> None:
    mark = uuid.uuid4()
    dispute = n.DisputeOpened(
        dispute_id=uuid.uuid4(), enrolment_id=ENROLMENT, certificate_id=uuid.uuid4(), provider_id=uuid.uuid4(),
        mark_id=mark, lesson_date=DAY, month="2026-11", claimed_status=S.PRESENT, opened_on=DAY)
    async with db.transaction() as s:  # no month is closed here: the use case needs no billing context
        await attendance.dispute_opened(None, s, dispute, wrap(dispute, source="pfdo/test", correlation_id="t"))  # type: ignore[arg-type]
    other = uuid.uuid4()
    await ingest(db, posting((other, 3, S.PRESENT, 1), (mark, 2, S.ABSENT, 1)))
    stored = await marks(db)
    assert set(stored) == {mark, other}
    assert stored[mark][2] is True, "the disputed mark stays out of billing until the dispute is resolved"
    assert stored[other] == ("present", 1, False)
