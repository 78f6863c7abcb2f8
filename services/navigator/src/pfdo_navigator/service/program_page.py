"""A program's public page, from the catalogue read model: the program as certified, its provider's
rating, its visible module groups with timetable, dates, hours, capacity, seats left, price and
normative cost, and its rating per scale.

Public fields only: nothing here is about a child or a parent (seats left is a count). A program
that is not in the catalogue (not certified, archived, or its provider not active) is not found,
like one that does not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.tables import LIVE, MODULES

_PROGRAM_FIELDS = (
    "title", "description", "direction", "municipality_code", "venue_address", "age_min", "age_max", "funding_kind",
)
_MODULE_FIELDS = (
    "module_id", "module_title", "start_date", "end_date", "schedule", "lessons_per_week", "hours", "capacity",
    "price_kopecks", "normative_cost_kopecks",
)


@dataclass(frozen=True)
class ProgramPage:
    program: dict[str, Any]
    modules: list[dict[str, Any]]


async def program_page(session: AsyncSession, program_id: uuid.UUID) -> ProgramPage | None:
    """The page of a program in the catalogue, or None (not in the catalogue)."""
    e, p, pr, rt = LIVE.entries, LIVE.programs, LIVE.providers, LIVE.program_ratings
    free = (MODULES.c.capacity - MODULES.c.held).label("free_seats")
    rows = (
        await session.execute(
            select(*(e.c[name] for name in (*_PROGRAM_FIELDS, *_MODULE_FIELDS)), e.c.provider_id, e.c.certified_on, free)
            .select_from(e.outerjoin(MODULES, MODULES.c.module_id == e.c.module_id))
            .where(e.c.program_id == program_id, e.c.visible)
            .order_by(e.c.start_date, e.c.module_title, e.c.module_id)
        )
    ).all()
    if not rows:
        return None
    first = rows[0]._mapping
    rating = (await session.execute(select(rt.c.score, rt.c.count, rt.c.means).where(rt.c.program_id == program_id))).first()
    provider = (
        await session.execute(select(pr.c.rating_score, pr.c.rating_count).where(pr.c.provider_id == first["provider_id"]))
    ).first()
    certified_on = await session.scalar(select(p.c.certified_on).where(p.c.program_id == program_id))
    program = {name: first[name] for name in _PROGRAM_FIELDS}
    program.update(
        program_id=program_id,
        certified_on=certified_on or first["certified_on"],
        provider={
            "provider_id": first["provider_id"],
            "rating_score": provider.rating_score if provider else None,
            "rating_count": provider.rating_count if provider else 0,
        },
        rating={"score": rating.score, "count": rating.count, "means": rating.means} if rating else None,
    )
    modules = []
    for row in rows:
        m = row._mapping
        module = {name: m[name] for name in _MODULE_FIELDS}
        module["title"] = module.pop("module_title")
        module["normative_cost_kopecks"] = module["normative_cost_kopecks"] or None  # 0: not set by the certifier
        module["free_seats"] = max(int(m["free_seats"]), 0) if m["free_seats"] is not None else m["capacity"]
        modules.append(module)
    return ProgramPage(program, modules)
