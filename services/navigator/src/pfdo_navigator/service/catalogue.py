"""The catalogue read model: registry program/provider events and ratings aggregates.

Every handler here is idempotent and order-tolerant, so the same functions serve the live
consumer and a rebuild that replays the topics from offset zero:

* programs: the snapshot with the highest ``revision`` wins; an equal or lower revision is
  skipped (an archival is a tombstone with its own revision);
* providers: the status of the last event of the provider's partition wins;
* ratings: the aggregate with the highest ``revision`` wins.

The searchable rows (``entries``, one per module) are a pure function of the three sources,
recomputed whenever one of them changes, so the order in which topics interleave does not
change the final catalogue.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import and_, delete, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope, Event
from pfdo_contracts.events import ratings as r
from pfdo_contracts.events import registry as g

from ..adapters.tables import LIVE, MODULES, Catalogue

CERTIFIED = "certified"
ARCHIVED = "archived"
ACTIVE = "active"
UNKNOWN = "unknown"

#: Live catalogue handlers take this lock shared; a rebuild's final swap takes it exclusively.
CATALOGUE_LOCK = 0x4E415643  # "NAVC"

CATALOGUE_EVENTS: tuple[type[Event], ...] = (
    g.ProgramCertified, g.ProgramChanged, g.ProgramArchived,
    g.ProviderRegistered, g.ProviderStatusChanged,
    r.ProgramRatingChanged, r.ProviderRatingChanged,
)


async def apply_catalogue_event(
    session: AsyncSession, event: Event, envelope: Envelope, cat: Catalogue = LIVE, *, own_state: bool = True
) -> None:
    """Apply one catalogue event to ``cat`` (``own_state``: also keep the navigator's module
    records, which a rebuild leaves alone)."""
    if isinstance(event, g.ProgramCertified):
        await _apply_snapshot(session, cat, event, CERTIFIED, event.certified_on, envelope, own_state)
    elif isinstance(event, g.ProgramChanged):
        await _apply_snapshot(session, cat, event, event.state.value, None, envelope, own_state)
    elif isinstance(event, g.ProgramArchived):
        await _apply_archive(session, cat, event)
    elif isinstance(event, g.ProviderRegistered):
        await _apply_provider_status(session, cat, event.provider_id, event.status.value, event.municipality_code,
                                     registration=True)
    elif isinstance(event, g.ProviderStatusChanged):
        await _apply_provider_status(session, cat, event.provider_id, event.new_status.value, None, registration=False)
    elif isinstance(event, r.ProgramRatingChanged):
        await _apply_program_rating(session, cat, event)
    elif isinstance(event, r.ProviderRatingChanged):
        await _apply_provider_rating(session, cat, event)
    else:  # pragma: no cover - registration and dispatch are kept in step above
        raise TypeError(f"not a catalogue event: {type(event).__name__}")


async def _provider_active(session: AsyncSession, cat: Catalogue, provider_id: uuid.UUID) -> bool:
    status = await session.scalar(select(cat.providers.c.status).where(cat.providers.c.provider_id == provider_id))
    return status == ACTIVE


async def _apply_snapshot(
    session: AsyncSession, cat: Catalogue, event: g.ProgramCertified | g.ProgramChanged, state: str,
    certified_on: dt.date | None, envelope: Envelope, own_state: bool,
) -> None:
    p = cat.programs
    existing = (
        await session.execute(select(p.c.revision, p.c.certified_on).where(p.c.program_id == event.program_id).with_for_update())
    ).first()
    if existing is not None and existing.revision >= event.revision:
        return  # stale or duplicate snapshot
    first_certified = (existing.certified_on if existing else None) or certified_on or envelope.time.date()
    values = {
        "provider_id": event.provider_id, "revision": event.revision, "state": state,
        "certified_on": first_certified, "snapshot": event.model_dump(mode="json"),
    }
    await session.execute(
        insert(p).values(program_id=event.program_id, **values)
        .on_conflict_do_update(index_elements=[p.c.program_id], set_=values)
    )
    await session.execute(delete(cat.entries).where(cat.entries.c.program_id == event.program_id))
    visible = state == CERTIFIED and await _provider_active(session, cat, event.provider_id)
    rating = (
        await session.execute(
            select(cat.program_ratings.c.score, cat.program_ratings.c.count)
            .where(cat.program_ratings.c.program_id == event.program_id)
        )
    ).first()
    rows = []
    for m in event.modules:
        rows.append({
            "module_id": m.module_id, "program_id": event.program_id, "provider_id": event.provider_id,
            "program_revision": event.revision, "title": event.title, "module_title": m.title,
            "description": event.description, "direction": event.direction.value,
            "municipality_code": event.municipality_code, "venue_address": event.venue_address,
            "age_min": event.age_min, "age_max": event.age_max, "funding_kind": event.funding_kind.value,
            "start_date": m.start_date, "end_date": m.end_date,
            "weekdays": sorted({s.weekday for s in m.schedule}),
            "schedule": [s.model_dump(mode="json") for s in m.schedule],
            "hours": m.hours, "lessons_per_week": m.lessons_per_week, "capacity": m.capacity,
            "price_kopecks": m.price_kopecks, "normative_cost_kopecks": m.normative_cost_kopecks or 0,
            "certified_on": first_certified, "visible": visible,
            "rating_score": rating.score if rating else None, "rating_count": rating.count if rating else 0,
        })
    if rows:
        cols = [c for c in cat.entries.c if c.name not in ("sort_rating", "search")]
        await session.execute(insert(cat.entries).values([{c.name: row[c.name] for c in cols} for row in rows]))
    if own_state:
        await _upsert_modules(session, event)


async def _upsert_modules(session: AsyncSession, event: g.ProgramCertified | g.ProgramChanged) -> None:
    """The navigator's seat records: capacity and timetable follow the newest revision; the
    seats held are kept (a lowered capacity evicts nobody)."""
    for m in event.modules:
        values: dict[str, Any] = {
            "program_id": event.program_id, "provider_id": event.provider_id, "revision": event.revision,
            "capacity": m.capacity, "start_date": m.start_date, "end_date": m.end_date,
            "weekdays": sorted({s.weekday for s in m.schedule}),
            "schedule": [s.model_dump(mode="json") for s in m.schedule], "lessons_per_week": m.lessons_per_week,
        }
        stmt = insert(MODULES).values(module_id=m.module_id, held=0, **values)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[MODULES.c.module_id], set_=values, where=MODULES.c.revision < stmt.excluded.revision
            )
        )


async def _apply_archive(session: AsyncSession, cat: Catalogue, event: g.ProgramArchived) -> None:
    p = cat.programs
    existing = await session.scalar(select(p.c.revision).where(p.c.program_id == event.program_id).with_for_update())
    if existing is not None and existing > event.revision:
        return
    values = {"provider_id": event.provider_id, "revision": event.revision, "state": ARCHIVED}
    await session.execute(
        insert(p).values(program_id=event.program_id, certified_on=None, snapshot=None, **values)
        .on_conflict_do_update(index_elements=[p.c.program_id], set_=values)
    )
    await session.execute(delete(cat.entries).where(cat.entries.c.program_id == event.program_id))


async def _apply_provider_status(
    session: AsyncSession, cat: Catalogue, provider_id: uuid.UUID, status: str, municipality: str | None,
    *, registration: bool,
) -> None:
    pr = cat.providers
    stmt = insert(pr).values(
        provider_id=provider_id, status=status, municipality_code=municipality, rating_count=0, rating_revision=0
    )
    if registration:  # a registration never overrides a status already learnt
        stmt = stmt.on_conflict_do_update(
            index_elements=[pr.c.provider_id], set_={"status": status, "municipality_code": municipality},
            where=pr.c.status == UNKNOWN,
        )
    else:
        stmt = stmt.on_conflict_do_update(index_elements=[pr.c.provider_id], set_={"status": status})
    await session.execute(stmt)
    current = await session.scalar(select(pr.c.status).where(pr.c.provider_id == provider_id))
    e, p = cat.entries, cat.programs
    if current == ACTIVE:
        await session.execute(
            update(e)
            .where(and_(e.c.provider_id == provider_id, e.c.program_id == p.c.program_id))
            .values(visible=p.c.state == CERTIFIED)
        )
    else:
        await session.execute(update(e).where(e.c.provider_id == provider_id).values(visible=False))


async def _apply_program_rating(session: AsyncSession, cat: Catalogue, event: r.ProgramRatingChanged) -> None:
    pr = cat.program_ratings
    values = {"score": event.score, "count": event.count, "means": event.means.model_dump(), "revision": event.revision}
    stmt = insert(pr).values(program_id=event.program_id, **values)
    result = await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[pr.c.program_id], set_=values, where=pr.c.revision < stmt.excluded.revision
        ).returning(pr.c.program_id)
    )
    if result.first() is None:
        return  # stale aggregate
    await session.execute(
        update(cat.entries).where(cat.entries.c.program_id == event.program_id)
        .values(rating_score=event.score, rating_count=event.count)
    )


async def _apply_provider_rating(session: AsyncSession, cat: Catalogue, event: r.ProviderRatingChanged) -> None:
    pr = cat.providers
    values = {"rating_score": event.score, "rating_count": event.count, "rating_revision": event.revision}
    stmt = insert(pr).values(provider_id=event.provider_id, status=UNKNOWN, **values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[pr.c.provider_id], set_=values, where=pr.c.rating_revision < stmt.excluded.rating_revision
        )
    )


async def live_handler(session: AsyncSession, event: Event, envelope: Envelope) -> None:
    """The consumer's entry point: the same function a rebuild calls, on the live tables."""
    await session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": CATALOGUE_LOCK})
    await apply_catalogue_event(session, event, envelope, LIVE)
