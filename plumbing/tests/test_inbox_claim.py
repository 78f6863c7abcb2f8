"""The inbox claim against real PostgreSQL: new ids are claimed with a plain insert, a claim
with known ids (or one id twice) falls back to the conflict-tolerant insert in the same
transaction, and two transactions claiming one id give exactly one winner."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import text

from pfdo_plumbing import inbox
from pfdo_plumbing.db import Database

pytestmark = pytest.mark.integration

TYPE = "pfdo.test.thing.v1"


@pytest.fixture
async def db(databases):  # noqa: ANN001, ANN201
    database = Database(await databases.fresh("billing"))
    yield database
    await database.dispose()


async def stored(db: Database) -> set[uuid.UUID]:
    async with db.transaction() as s:
        return {row[0] for row in await s.execute(text("SELECT event_id FROM inbox"))}


async def test_new_known_and_repeated_ids(db: Database) -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    async with db.transaction() as s:
        assert await inbox.claim(s, [(a, TYPE), (b, TYPE)]) == {a, b}
    async with db.transaction() as s:
        # b is known: the plain insert fails, its savepoint is undone and the fallback claims c
        assert await inbox.claim(s, [(b, TYPE), (c, TYPE)]) == {c}
        # the transaction is still usable after the undone savepoint, and keeps what it did
        assert await inbox.claim(s, [(d, TYPE), (d, TYPE)]) == {d}
    assert await stored(db) == {a, b, c, d}
    async with db.transaction() as s:
        assert await inbox.claim(s, [(a, TYPE), (c, TYPE)]) == set()


async def test_a_failed_transaction_claims_nothing(db: Database) -> None:
    a = uuid.uuid4()
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            assert await inbox.claim(s, [(a, TYPE)]) == {a}
            raise RuntimeError("the effect failed")
    async with db.transaction() as s:
        assert await inbox.claim(s, [(a, TYPE)]) == {a}


async def test_two_transactions_claiming_one_id_have_one_winner(db: Database) -> None:
    shared = uuid.uuid4()
    first_claimed, let_first_commit = asyncio.Event(), asyncio.Event()

    async def first() -> set[uuid.UUID]:
        async with db.transaction() as s:
            got = await inbox.claim(s, [(shared, TYPE), (uuid.uuid4(), TYPE)])
            first_claimed.set()
            await let_first_commit.wait()
            return got

    async def second() -> set[uuid.UUID]:
        await first_claimed.wait()
        own = uuid.uuid4()
        async with db.transaction() as s:
            # waits on the first transaction's uncommitted key, then sees it as known
            return await inbox.claim(s, [(own, TYPE), (shared, TYPE)]) | {own}

    winner = asyncio.create_task(first())
    loser = asyncio.create_task(second())
    await first_claimed.wait()
    await asyncio.sleep(0.3)
    assert not loser.done(), "the second claim must wait for the first transaction"
    let_first_commit.set()
    won, lost = await winner, await loser
    assert shared in won
    assert shared not in lost
