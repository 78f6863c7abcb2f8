"""The tools of hot paths in pfdo_plumbing.db, against real PostgreSQL: statements run on the
driver connection belong to the session's transaction, rows queued for the commit are written
by it, in order, and never by a transaction that rolls back, and a reading pool sends no
transaction statements at all."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.db import (
    ONE_STATEMENT_ROWS,
    Database,
    Statement,
    constraint_of,
    driver_connection,
    insert_at_commit,
    sqlstate_of,
)

pytestmark = pytest.mark.integration

NOTES = Table("hot_path_notes", MetaData(), Column("seq", BigInteger), Column("note", String))
TAGS = Table("hot_path_tags", MetaData(), Column("seq", BigInteger), Column("tag", String), Column("data", JSONB))


class Boom(Exception):
    pass


@pytest.fixture
async def db(databases):  # noqa: ANN001, ANN201
    database = Database(await databases.fresh("billing"), pool_size=2, max_overflow=0)
    async with database.transaction() as s:
        await s.execute(text("CREATE TABLE hot_path_notes (seq bigserial PRIMARY KEY, note text NOT NULL)"))
        await s.execute(text("CREATE TABLE hot_path_tags (seq bigserial PRIMARY KEY, tag varchar(8) NOT NULL, "
                             "data jsonb)"))
    yield database
    await database.dispose()


async def notes(db: Database) -> list[str]:
    async with db.transaction() as s:
        return list((await s.execute(text("SELECT note FROM hot_path_notes ORDER BY seq"))).scalars())


def test_named_parameters_become_numbered_ones_and_literals_and_casts_stay() -> None:
    s = Statement("SELECT :a, :b::int, ':x', 'it''s :y' WHERE c = :a AND d = ANY(:list)")
    assert s.sql == "SELECT $1, $2::int, ':x', 'it''s :y' WHERE c = $1 AND d = ANY($3)"
    assert s.names == ["a", "b", "list"]
    with pytest.raises(TypeError, match="do not match"):
        s._args({"a": 1, "b": 2})  # noqa: SLF001


async def test_a_driver_statement_is_part_of_the_sessions_transaction(db: Database) -> None:
    add = Statement("INSERT INTO hot_path_notes (note) VALUES (:note)")
    with pytest.raises(Boom):
        async with db.transaction() as s:
            await add.execute(s, note="first statement of a transaction that fails")  # nothing ran before it
            raise Boom
    assert await notes(db) == []
    async with db.transaction() as s:
        await add.execute(s, note="kept")
        assert await s.scalar(text("SELECT count(*) FROM hot_path_notes")) == 1  # one transaction, one view
    assert await notes(db) == ["kept"]
    async with db.transaction() as s:
        assert (await Statement("SELECT note FROM hot_path_notes WHERE note = :n").fetchrow(s, n="kept"))["note"] == "kept"
        assert await Statement("SELECT count(*) FROM hot_path_notes").fetchval(s) == 1


async def test_rows_queued_for_the_commit_are_written_by_it_in_order(db: Database) -> None:
    async with db.transaction() as s:
        insert_at_commit(s, NOTES, [{"note": "a"}, {"note": "b"}])
        await s.execute(text("SELECT 1"))
        insert_at_commit(s, NOTES, [{"note": "c"}])
        assert await s.scalar(text("SELECT count(*) FROM hot_path_notes")) == 0, "not before the commit"
    assert await notes(db) == ["a", "b", "c"]

    async with db.transaction() as s:
        insert_at_commit(s, NOTES, [])  # nothing to write: no statement (not a row of defaults)
    assert await notes(db) == ["a", "b", "c"]

    marker = uuid.uuid4().hex
    with pytest.raises(Boom):
        async with db.transaction() as s:
            insert_at_commit(s, NOTES, [{"note": marker}])
            raise Boom
    assert marker not in await notes(db), "a rolled-back transaction writes none of its queued rows"


async def tags(db: Database) -> list[tuple[str, object]]:
    async with db.transaction() as s:
        return [(r.tag, r.data) for r in await s.execute(text("SELECT tag, data FROM hot_path_tags ORDER BY seq"))]


async def test_a_few_rows_for_several_tables_go_in_one_statement_in_order(db: Database) -> None:
    statements: list[str] = []
    async with db.transaction() as s:
        (await driver_connection(s)).add_query_logger(lambda record: statements.append(record.query))
        insert_at_commit(s, NOTES, [{"note": "n1"}, {"note": "n2"}])
        insert_at_commit(s, TAGS, [{"tag": "t1", "data": {"k": [1, 2]}}, {"tag": "t2", "data": None}])
        insert_at_commit(s, NOTES, [{"note": "n3"}])
    assert [q.split()[0] for q in statements] == ["WITH", "COMMIT;"], statements  # one statement, then the commit
    assert await notes(db) == ["n1", "n2", "n3"]
    assert await tags(db) == [("t1", {"k": [1, 2]}), ("t2", None)]

    # too long for its column: the statement fails whole, as the insert of that row alone would
    with pytest.raises(Exception, match="too long"):  # noqa: PT011 - the driver's StringDataRightTruncationError
        async with db.transaction() as s:
            insert_at_commit(s, NOTES, [{"note": "not kept"}])
            insert_at_commit(s, TAGS, [{"tag": "much too long", "data": None}])
    assert await notes(db) == ["n1", "n2", "n3"]

    # many rows: one statement per table, still in order
    many = [{"note": f"m{i}"} for i in range(ONE_STATEMENT_ROWS + 1)]
    async with db.transaction() as s:
        insert_at_commit(s, NOTES, many)
        insert_at_commit(s, TAGS, [{"tag": "t3", "data": {"n": 3}}])
    assert await notes(db) == ["n1", "n2", "n3", *(row["note"] for row in many)]
    assert await tags(db) == [("t1", {"k": [1, 2]}), ("t2", None), ("t3", {"n": 3})]


async def test_a_reading_pool_sends_its_statements_alone_with_its_settings(db: Database) -> None:
    async def transaction_control(session: AsyncSession) -> tuple[list[str], bool]:
        """The transaction statements the driver sent around two reads, and whether one is open."""
        driver = (await (await session.connection()).get_raw_connection()).driver_connection
        sent: list[str] = []
        driver.add_query_logger(lambda record: sent.append(record.query.split()[0].rstrip(";")))
        await session.execute(text("SELECT count(*) FROM hot_path_notes"))
        await session.execute(text("SELECT 1"))
        return [q for q in sent if q in ("BEGIN", "COMMIT", "ROLLBACK")], driver.is_in_transaction()

    async with db.transaction() as s:  # the control: a unit of work opens a transaction
        assert await transaction_control(s) == (["BEGIN"], True)
    reader = Database(db.engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0,
                      autocommit=True, server_settings={"plan_cache_mode": "force_custom_plan"})
    try:
        async with reader.reading() as s:
            assert await transaction_control(s) == ([], False)
            assert await s.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
        with pytest.raises(RuntimeError, match="autocommit"):
            async with db.reading():
                pass
    finally:
        await reader.dispose()


async def test_a_statement_built_with_sqlalchemy_runs_on_the_driver_in_both_kinds_of_session(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO hot_path_notes (note) VALUES ('a'), ('bb'), ('ccc'), ('dddd')"))
    query = Statement.compiled(
        select(NOTES.c.note, func.length(NOTES.c.note).label("size"))
        .where(NOTES.c.note != bindparam("skip", type_=String), func.length(NOTES.c.note) >= bindparam("shortest"))
        .order_by(NOTES.c.seq.desc())
        .limit(bindparam("limit", type_=Integer))
    )
    assert query.names == ["skip", "shortest", "limit"] and "$3" in query.sql
    # values picked from a dict that also holds other statements' (in the statement's order)
    assert query.args_from({"limit": 5, "other": 0, "skip": "x", "shortest": 2}) == ["x", 2, 5]
    async with db.transaction() as s:
        rows = await query.fetch(s, skip="ccc", shortest=2, limit=5)
    assert [(r["note"], r["size"]) for r in rows] == [("dddd", 4), ("bb", 2)]

    reader = Database(db.engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0,
                      autocommit=True)
    try:
        async with reader.reading() as s:  # no transaction to join: the statement runs alone
            assert [r["note"] for r in await query.fetch(s, skip="a", shortest=1, limit=2)] == ["dddd", "ccc"]
            assert not (await driver_connection(s)).is_in_transaction()
            picked = await query.fetch_from(s, {"skip": "a", "shortest": 3, "limit": 9, "other": 0})
            assert [r["note"] for r in picked] == ["dddd", "ccc"]
    finally:
        await reader.dispose()
    # a value built into the statement would be sent with every run; it must be a parameter
    with pytest.raises(ValueError, match="named parameter"):
        Statement.compiled(select(NOTES.c.note).where(NOTES.c.note == "fixed"))


async def test_a_violated_constraint_is_named_whichever_layer_raised_it(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(text("INSERT INTO hot_path_notes (seq, note) VALUES (1, 'first')"))
    with pytest.raises(Exception) as through_sqlalchemy:  # noqa: PT011 - SQLAlchemy's IntegrityError
        async with db.transaction() as s:
            await s.execute(text("INSERT INTO hot_path_notes (seq, note) VALUES (1, 'twin')"))
    with pytest.raises(Exception) as through_the_driver:  # noqa: PT011 - the driver's UniqueViolationError
        async with db.transaction() as s:  # a row queued for the commit, written by the driver
            insert_at_commit(s, NOTES, [{"seq": 1, "note": "twin"}])
    for caught in (through_sqlalchemy.value, through_the_driver.value):
        assert (sqlstate_of(caught), constraint_of(caught)) == ("23505", "hot_path_notes_pkey")
    assert constraint_of(ValueError("not from the server")) is None
