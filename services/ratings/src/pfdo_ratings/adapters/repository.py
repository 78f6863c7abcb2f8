"""Reads and writes of the ratings database (SQLAlchemy Core, inside the caller's transaction)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.aggregate import DEFAULT_PRIOR_MEAN, AggregateState, Prior
from ..domain.rating import RatableEnrolment, Rating, Scores
from .tables import PROGRAM_AGGREGATE, PROVIDER_AGGREGATE, RATABLE_ENROLMENT, RATING, REGIONAL_PRIOR, SUM_COLUMNS


@dataclass(frozen=True)
class EnrolmentRow:
    enrolment: RatableEnrolment
    outcome: str
    end_date: date


@dataclass(frozen=True)
class StoredAggregate:
    state: AggregateState
    revision: int
    provider_id: uuid.UUID | None = None  # programs: their provider
    program_count: int = 0  # providers: programs with at least one rating


# ------------------------------------------------------------------ enrolments
async def upsert_enrolment(session: AsyncSession, values: dict[str, Any]) -> str:
    """Insert a ratable enrolment or refresh its outcome and end date from a NEWER event.

    Who may rate and what is rated (parent, program, provider, certificate) never change once
    known: a rating may already hang on them. Returns ``inserted``, ``updated`` or ``kept``.
    """
    stmt = insert(RATABLE_ENROLMENT).values(**values, received_at=func.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=[RATABLE_ENROLMENT.c.enrolment_id],
        set_={"outcome": stmt.excluded.outcome, "end_date": stmt.excluded.end_date, "event_time": stmt.excluded.event_time},
        where=stmt.excluded.event_time > RATABLE_ENROLMENT.c.event_time,
    ).returning(text("(xmax = 0) AS inserted"))
    row = (await session.execute(stmt)).first()
    if row is None:
        return "kept"
    return "inserted" if row.inserted else "updated"


async def get_enrolment(session: AsyncSession, enrolment_id: uuid.UUID, *, lock: bool = False) -> EnrolmentRow | None:
    query = select(RATABLE_ENROLMENT).where(RATABLE_ENROLMENT.c.enrolment_id == enrolment_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else _enrolment(row)


def _enrolment(row: Any) -> EnrolmentRow:
    return EnrolmentRow(
        enrolment=RatableEnrolment(
            enrolment_id=str(row["enrolment_id"]), certificate_id=str(row["certificate_id"]),
            parent_id=row["parent_id"], program_id=str(row["program_id"]), provider_id=str(row["provider_id"]),
            finished=row["outcome"] in ("completed", "terminated"),
        ),
        outcome=row["outcome"],
        end_date=row["end_date"],
    )


async def enrolments_of_parent(session: AsyncSession, parent_id: str) -> list[EnrolmentRow]:
    rows = (
        await session.execute(
            select(RATABLE_ENROLMENT)
            .where(RATABLE_ENROLMENT.c.parent_id == parent_id)
            .order_by(RATABLE_ENROLMENT.c.end_date.desc(), RATABLE_ENROLMENT.c.enrolment_id)
        )
    ).mappings().all()
    return [_enrolment(r) for r in rows]


# ------------------------------------------------------------------ ratings
def _rating(row: Any) -> Rating:
    return Rating(
        enrolment_id=str(row["enrolment_id"]), certificate_id=str(row["certificate_id"]),
        program_id=str(row["program_id"]), provider_id=str(row["provider_id"]), rater_id=row["rater_id"],
        scores=Scores(row["results"], row["teachers_and_group"], row["materials_and_equipment"], row["overall_satisfaction"]),
        comment=row["comment"], submitted_at=row["submitted_at"], updated_at=row["updated_at"], version=row["version"],
    )


async def get_rating(session: AsyncSession, enrolment_id: uuid.UUID, *, lock: bool = False) -> Rating | None:
    query = select(RATING).where(RATING.c.enrolment_id == enrolment_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().first()
    return None if row is None else _rating(row)


async def ratings_of_rater(session: AsyncSession, rater_id: str) -> dict[str, Rating]:
    rows = (await session.execute(select(RATING).where(RATING.c.rater_id == rater_id))).mappings().all()
    return {str(r["enrolment_id"]): _rating(r) for r in rows}


def _rating_values(rating: Rating) -> dict[str, Any]:
    return {
        **rating.scores.as_dict(), "comment": rating.comment, "updated_at": rating.updated_at, "version": rating.version,
    }


async def insert_rating(session: AsyncSession, rating: Rating) -> None:
    await session.execute(
        insert(RATING).values(
            enrolment_id=uuid.UUID(rating.enrolment_id), certificate_id=uuid.UUID(rating.certificate_id),
            program_id=uuid.UUID(rating.program_id), provider_id=uuid.UUID(rating.provider_id),
            rater_id=rating.rater_id, submitted_at=rating.submitted_at, **_rating_values(rating),
        )
    )


async def update_rating(session: AsyncSession, rating: Rating, *, expected_version: int) -> None:
    result = await session.execute(
        update(RATING)
        .where(RATING.c.enrolment_id == uuid.UUID(rating.enrolment_id), RATING.c.version == expected_version)
        .values(**_rating_values(rating))
    )
    if result.rowcount != 1:  # the row is locked by the caller: this cannot happen unless the lock was skipped
        raise RuntimeError("rating changed concurrently")


async def comments_page(
    session: AsyncSession, program_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[int, list[Rating]]:
    where = (RATING.c.program_id == program_id, RATING.c.comment.is_not(None))
    total = int(await session.scalar(select(func.count()).select_from(RATING).where(*where)) or 0)
    rows = (
        await session.execute(
            select(RATING).where(*where)
            .order_by(RATING.c.submitted_at.desc(), RATING.c.enrolment_id).limit(limit).offset(offset)
        )
    ).mappings().all()
    return total, [_rating(r) for r in rows]


async def stream_ratings_by_program(session: AsyncSession):  # noqa: ANN201 - async iterator of rows
    result = await session.stream(
        select(
            RATING.c.program_id, RATING.c.provider_id, RATING.c.results, RATING.c.teachers_and_group,
            RATING.c.materials_and_equipment, RATING.c.overall_satisfaction,
        ).order_by(RATING.c.program_id),
        execution_options={"yield_per": 2000},
    )
    async for row in result:
        yield row


# ------------------------------------------------------------------ aggregates
def _state(row: Any) -> AggregateState:
    return AggregateState(row["count"], tuple(int(row[c]) for c in SUM_COLUMNS))  # type: ignore[arg-type]


def _sum_values(state: AggregateState) -> dict[str, int]:
    return {"count": state.count, **dict(zip(SUM_COLUMNS, state.sums, strict=True))}


async def lock_program_aggregate(session: AsyncSession, program_id: uuid.UUID, provider_id: uuid.UUID) -> StoredAggregate:
    """The program's aggregate row, created empty if missing, locked for this transaction."""
    await session.execute(
        insert(PROGRAM_AGGREGATE).values(program_id=program_id, provider_id=provider_id, **_sum_values(AggregateState()),
                                         revision=0, updated_at=func.now()).on_conflict_do_nothing()
    )
    row = (
        await session.execute(select(PROGRAM_AGGREGATE).where(PROGRAM_AGGREGATE.c.program_id == program_id).with_for_update())
    ).mappings().one()
    return StoredAggregate(_state(row), row["revision"], provider_id=row["provider_id"])


async def lock_provider_aggregate(session: AsyncSession, provider_id: uuid.UUID) -> StoredAggregate:
    await session.execute(
        insert(PROVIDER_AGGREGATE).values(provider_id=provider_id, program_count=0, **_sum_values(AggregateState()),
                                          revision=0, updated_at=func.now()).on_conflict_do_nothing()
    )
    row = (
        await session.execute(
            select(PROVIDER_AGGREGATE).where(PROVIDER_AGGREGATE.c.provider_id == provider_id).with_for_update()
        )
    ).mappings().one()
    return StoredAggregate(_state(row), row["revision"], program_count=row["program_count"])


async def save_program_aggregate(
    session: AsyncSession, program_id: uuid.UUID, provider_id: uuid.UUID, state: AggregateState, revision: int, now: datetime
) -> None:
    stmt = insert(PROGRAM_AGGREGATE).values(
        program_id=program_id, provider_id=provider_id, **_sum_values(state), revision=revision, updated_at=now
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[PROGRAM_AGGREGATE.c.program_id],
            set_={"provider_id": provider_id, **_sum_values(state), "revision": revision, "updated_at": now},
        )
    )


async def save_provider_aggregate(
    session: AsyncSession, provider_id: uuid.UUID, state: AggregateState, program_count: int, revision: int, now: datetime
) -> None:
    stmt = insert(PROVIDER_AGGREGATE).values(
        provider_id=provider_id, program_count=program_count, **_sum_values(state), revision=revision, updated_at=now
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[PROVIDER_AGGREGATE.c.provider_id],
            set_={"program_count": program_count, **_sum_values(state), "revision": revision, "updated_at": now},
        )
    )


async def get_program_aggregate(session: AsyncSession, program_id: uuid.UUID) -> StoredAggregate | None:
    row = (
        await session.execute(select(PROGRAM_AGGREGATE).where(PROGRAM_AGGREGATE.c.program_id == program_id))
    ).mappings().first()
    return None if row is None else StoredAggregate(_state(row), row["revision"], provider_id=row["provider_id"])


async def get_provider_aggregate(session: AsyncSession, provider_id: uuid.UUID) -> StoredAggregate | None:
    row = (
        await session.execute(select(PROVIDER_AGGREGATE).where(PROVIDER_AGGREGATE.c.provider_id == provider_id))
    ).mappings().first()
    return None if row is None else StoredAggregate(_state(row), row["revision"], program_count=row["program_count"])


async def all_program_aggregates(session: AsyncSession, *, lock: bool = False) -> dict[uuid.UUID, StoredAggregate]:
    query = select(PROGRAM_AGGREGATE)
    if lock:
        query = query.with_for_update()
    rows = (await session.execute(query)).mappings().all()
    return {r["program_id"]: StoredAggregate(_state(r), r["revision"], provider_id=r["provider_id"]) for r in rows}


async def all_provider_aggregates(session: AsyncSession, *, lock: bool = False) -> dict[uuid.UUID, StoredAggregate]:
    query = select(PROVIDER_AGGREGATE)
    if lock:
        query = query.with_for_update()
    rows = (await session.execute(query)).mappings().all()
    return {r["provider_id"]: StoredAggregate(_state(r), r["revision"], program_count=r["program_count"]) for r in rows}


# ------------------------------------------------------------------ the regional prior
@dataclass(frozen=True)
class PriorRow:
    count: int
    scale_total: int

    def mean(self) -> Fraction:
        """The region's mean review value (a review's value is the mean of its four scales)."""
        return Fraction(self.scale_total, 4 * self.count) if self.count else DEFAULT_PRIOR_MEAN

    def prior(self, weight: int) -> Prior:
        return Prior(weight=weight, mean=self.mean())


async def get_prior(session: AsyncSession, *, lock: bool = False) -> PriorRow:
    query = select(REGIONAL_PRIOR).where(REGIONAL_PRIOR.c.id == 1)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).mappings().one()
    return PriorRow(row["count"], int(row["scale_total"]))


async def save_prior(session: AsyncSession, prior: PriorRow, now: datetime) -> None:
    await session.execute(
        update(REGIONAL_PRIOR).where(REGIONAL_PRIOR.c.id == 1)
        .values(count=prior.count, scale_total=prior.scale_total, refreshed_at=now)
    )


async def lock_ratings_for_recompute(session: AsyncSession) -> None:
    """Block rating writes (not reads) until the transaction ends: a consistent snapshot."""
    await session.execute(text("LOCK TABLE rating IN SHARE MODE"))
