"""The status feed on a real PostgreSQL (migration 0008): rows written by the state changes'
own transactions (enrolments, disputes, attendance events), positions that a reader never sees
filled in below what it has read although writers commit out of order, one sequencer at a time,
and the stream's resume, overflow, retention and shutdown paths."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from pfdo_plumbing.db import Database

from pfdo_navigator.adapters.status_feed import LAGGED, Follower, StatusFeed
from pfdo_navigator.api.events import stream_events

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(databases) -> Any:  # noqa: ANN001
    database = Database(await databases.fresh("navigator"), pool_size=12)
    yield database
    await database.dispose()


async def pending(db: Database, parent: str, provider: uuid.UUID, n: int, *, hold_s: float = 0.0) -> None:
    """``n`` feed rows of one writer, each in its own transaction kept open ``hold_s`` at most."""
    for i in range(n):
        async with db.transaction() as s:
            await s.execute(
                text("INSERT INTO status_feed_pending (parent_id, provider_id, kind, data) "
                     "VALUES (:p, :v, 'enrolment', CAST(:d AS jsonb))"),
                {"p": parent, "v": provider, "d": orjson.dumps({"writer": parent, "i": i}).decode()})
            await asyncio.sleep(random.uniform(0, hold_s))


async def test_readers_never_see_a_position_filled_in_below_what_they_read(db: Database) -> None:
    feeds = [StatusFeed(db, batch=7), StatusFeed(db, batch=7)]  # two instances' sequencers at once
    writers, per_writer = 12, 15
    done = asyncio.Event()
    seen: list[int] = []
    skipped = 0

    async def sequence(feed: StatusFeed) -> None:
        nonlocal skipped
        while not done.is_set():
            if await feed.sequence_once() == 0:
                skipped += 1
            await asyncio.sleep(0.002)

    async def read() -> None:
        while True:
            async with db.transaction() as s:
                rows = (await s.execute(text("SELECT position FROM status_feed WHERE position > :p ORDER BY position"),
                                        {"p": seen[-1] if seen else 0})).scalars().all()
            # what a reader sees is always the next positions, without a hole to be filled later
            assert rows == list(range(len(seen) + 1, len(seen) + 1 + len(rows))), (seen[-3:], rows[:5])
            seen.extend(rows)
            if done.is_set() and len(seen) == writers * per_writer:
                return
            await asyncio.sleep(0.001)

    provider = uuid.uuid4()
    tasks = [asyncio.create_task(sequence(f)) for f in feeds] + [asyncio.create_task(read())]
    await asyncio.gather(*(pending(db, f"w{w}", provider, per_writer, hold_s=0.02) for w in range(writers)))
    while sum(f.sequenced for f in feeds) < writers * per_writer:
        await asyncio.sleep(0.01)
    done.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert seen == list(range(1, writers * per_writer + 1))
    print(f"rows sequenced per instance: {[f.sequenced for f in feeds]}, runs that found the other one busy "
          f"or nothing to do: {skipped}")
    async with db.transaction() as s:
        assert await s.scalar(text("SELECT count(*) FROM status_feed_pending")) == 0
        assert await s.scalar(text("SELECT last_position FROM status_feed_state")) == writers * per_writer
    # each writer's rows keep their order
    for w in range(writers):
        rows = await feeds[0].rows_after(Follower(parent_id=f"w{w}"), 0)
        assert [r.data["i"] for r in rows] == list(range(per_writer))


async def _enrolment(db: Database, parent: str, provider: uuid.UUID) -> uuid.UUID:
    module_id, enrolment_id, certificate_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO certificates (certificate_id, number, parent_id, municipality_code, birth_date, "
                             "valid_until, usage_kind, status, status_on) VALUES (:c, '4801000001', :p, '01', "
                             "DATE '2016-03-14', DATE '2034-03-13', 'funding', 'active', DATE '2026-08-20')"),
                        {"c": certificate_id, "p": parent})
        await s.execute(text("INSERT INTO modules (module_id, program_id, provider_id, revision, capacity, held, start_date, "
                             "end_date, weekdays, schedule, lessons_per_week, waitlist_enabled) VALUES (:m, :g, :v, 1, 5, 0, "
                             "DATE '2026-09-01', DATE '2027-05-31', '{2}', '[]', 1, false)"),
                        {"m": module_id, "g": uuid.uuid4(), "v": provider})
        await s.execute(text(
            "INSERT INTO enrolments (enrolment_id, certificate_id, parent_id, module_id, program_id, provider_id, "
            "municipality_code, direction, funding_kind, payment_mode, state, starts_on, ends_on, requested_at, "
            "released_kopecks) SELECT :e, :c, :p, :m, program_id, provider_id, '01', 'artistic', 'certificate', "
            "'monthly', 'requested', DATE '2026-09-01', DATE '2027-05-31', now(), 0 FROM modules WHERE module_id = :m"),
            {"e": enrolment_id, "c": certificate_id, "p": parent, "m": module_id})
    return enrolment_id


async def test_state_changes_write_feed_rows_in_their_own_transaction(db: Database) -> None:
    feed = StatusFeed(db)
    provider, other_provider = uuid.uuid4(), uuid.uuid4()
    mine = await _enrolment(db, "feed-parent", provider)
    await _enrolment(db, "feed-stranger", other_provider)
    mark_id, dispute_id = uuid.uuid4(), uuid.uuid4()
    async with db.transaction() as s:
        await s.execute(text("UPDATE enrolments SET state = 'reserved' WHERE enrolment_id = :e"), {"e": mine})
        await s.execute(text("UPDATE enrolments SET updated_at = now() WHERE enrolment_id = :e"), {"e": mine})  # no change
    async with db.transaction() as s:
        await s.execute(text("UPDATE enrolments SET state = 'confirmed' WHERE enrolment_id = :e"), {"e": mine})
        await s.execute(text("INSERT INTO attendance_marks (mark_id, enrolment_id, module_id, provider_id, lesson_date, "
                             "status, revision, marked_on) VALUES (:k, :e, (SELECT module_id FROM enrolments WHERE "
                             "enrolment_id = :e), :v, DATE '2026-09-08', 'absent', 1, DATE '2026-09-08')"),
                        {"k": mark_id, "e": mine, "v": provider})
        envelope = {"type": "pfdo.navigator.attendance.recorded.v1", "data": {
            "batch_id": str(uuid.uuid4()), "enrolment_id": str(mine), "module_id": str(uuid.uuid4()), "month": "2026-09",
            "marks": [{"mark_id": str(mark_id), "lesson_date": "2026-09-08", "status": "absent", "revision": 1}]}}
        for event_type, payload in (("pfdo.navigator.attendance.recorded.v1", envelope),
                                    ("pfdo.navigator.enrolment.confirmed.v1", {"data": {"enrolment_id": str(mine)}})):
            await s.execute(text("INSERT INTO outbox (event_id, topic, key, event_type, payload) VALUES "
                                 "(:i, 't', 'k', :t, CAST(:p AS jsonb))"),
                            {"i": uuid.uuid4(), "t": event_type, "p": orjson.dumps(payload).decode()})
        await s.execute(text("INSERT INTO disputes (dispute_id, mark_id, enrolment_id, lesson_date, mark_version, state, "
                             "claimed_status, comment, opened_at, opened_by) VALUES (:d, :k, :e, DATE '2026-09-08', 1, "
                             "'open', 'present', 'был на занятии', now(), 'feed-parent')"),
                        {"d": dispute_id, "k": mark_id, "e": mine})
    async with db.transaction() as s:  # rolled back: leaves nothing in the feed
        await s.execute(text("UPDATE disputes SET state = 'upheld' WHERE dispute_id = :d"), {"d": dispute_id})
        await s.rollback()
    async with db.transaction() as s:
        await s.execute(text("UPDATE disputes SET state = 'upheld', resolved_at = now() WHERE dispute_id = :d"),
                        {"d": dispute_id})
    assert await feed.sequence_once() == 7
    rows = await feed.rows_after(Follower(parent_id="feed-parent"), 0)
    assert [(r.kind, r.data.get("state")) for r in rows] == [
        ("enrolment", "requested"), ("enrolment", "reserved"), ("enrolment", "confirmed"), ("attendance", None),
        ("dispute", "open"), ("dispute", "upheld")]
    assert rows[2].data["previous_state"] == "reserved" and rows[3].data["marks"][0]["status"] == "absent"
    assert "comment" not in rows[4].data and "parent_id" not in rows[4].data  # free text and subjects stay out
    assert [r.position for r in await feed.rows_after(Follower(provider_id=str(provider)), 0)] == [r.position for r in rows]
    assert [r.data["state"] for r in await feed.rows_after(Follower(parent_id="feed-stranger"), 0)] == ["requested"]
    assert await feed.rows_after(Follower(parent_id="feed-parent"), rows[-1].position) == []


async def _collect(stream: Any, until: int) -> list[bytes]:
    out = []
    async for chunk in stream:
        out.append(chunk)
        if sum(c.startswith(b"id:") for c in out) >= until:
            return out
    return out


async def test_a_stream_resumes_exactly_after_its_last_id_catches_up_after_overflow_and_ends_on_close(
    db: Database,
) -> None:
    feed = StatusFeed(db, poll_s=0.05, sequence_interval_s=0.05)
    await feed.start()
    try:
        provider = uuid.uuid4()
        await pending(db, "sse-parent", provider, 3)
        await pending(db, "sse-other", provider, 2)
        while (await feed.state())[0] < 5:
            await asyncio.sleep(0.02)
        follower = Follower(parent_id="sse-parent")
        first = (await feed.rows_after(follower, 0))[0].position
        stream = stream_events(feed, follower, first, heartbeat_s=0.2, max_stream_s=30, retry_ms=1000)
        resumed = await _collect(stream, 2)
        assert resumed[0] == b"retry: 1000\n\n"
        assert [c.split(b"\n")[0] for c in resumed[1:]] == [b"id: 2", b"id: 3"]  # after id 1: exactly 2 and 3

        # live: a new row of this parent arrives; a heartbeat comment while nothing happens
        await pending(db, "sse-parent", provider, 1)
        live = await asyncio.wait_for(_collect(stream, 1), 10)
        assert live[-1].startswith(b"id: 6\nevent: enrolment\ndata: ")
        assert orjson.loads(live[-1].split(b"data: ", 1)[1])["writer"] == "sse-parent"
        assert await asyncio.wait_for(anext(stream), 5) == b": keep-alive\n\n"

        # overflow: the stream reads what it missed from the table, nothing twice
        sub = next(iter(feed._subscriptions))  # noqa: SLF001 - the stream's own subscription
        await pending(db, "sse-parent", provider, 2)
        while (await feed.state())[0] < 8:
            await asyncio.sleep(0.02)
        sub.offer(LAGGED)
        caught = await asyncio.wait_for(_collect(stream, 2), 10)
        assert [c.split(b"\n")[0] for c in caught if c.startswith(b"id:")] == [b"id: 7", b"id: 8"]

        # the service stops: the stream ends
        feed.close_streams()
        rest = [c async for c in stream]
        assert not [c for c in rest if c.startswith(b"id:")]
    finally:
        await feed.stop()


async def test_a_resume_from_before_the_retention_is_told_to_reload(db: Database) -> None:
    feed = StatusFeed(db, retention_days=7)
    await pending(db, "old-parent", uuid.uuid4(), 3)
    await feed.sequence_once()
    async with db.transaction() as s:
        await s.execute(text("UPDATE status_feed SET occurred_at = now() - interval '8 days' WHERE position <= 2"))
    assert await feed.prune() == 2
    assert await feed.state() == (3, 2)
    stream = stream_events(feed, Follower(parent_id="old-parent"), 1, heartbeat_s=5, max_stream_s=1, retry_ms=0)
    chunks = [c async for c in stream]
    assert chunks[1] == b'event: reset\ndata: {"reason": "feed_pruned"}\n\n'
    assert [c.split(b"\n")[0] for c in chunks if c.startswith(b"id:")] == [b"id: 3"]  # then it ended (max_stream_s)
