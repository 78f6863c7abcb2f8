"""Enrolments per day for the operators' dashboard: applications for a group made each day (the
region's calendar date of ``requested_at``) and the enrolments in scope by their state now.

Counted in the database (the dashboard never pages through a region's enrolments). A municipal
operator gets its own municipality only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.auth.principal import Principal, Role


def municipality_scope(who: Principal, wanted: str | None) -> str | None:
    if who.role == Role.MUNICIPAL_OPERATOR:
        return who.municipality or "--"
    return wanted


async def enrolments_per_day(session: AsyncSession, who: Principal, *, today: dt.date, days: int, timezone: str,
                             municipality: str | None) -> dict:
    """The last ``days`` days up to ``today``, both ends included."""
    first = today - dt.timedelta(days=days - 1)
    muni = municipality_scope(who, municipality)
    params = {"first": first, "last": today, "tz": timezone, "m": muni}
    per_day = (await session.execute(text(
        """
        SELECT d::date AS day, COALESCE(e.n, 0) AS requested
          FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
          LEFT JOIN (SELECT (requested_at AT TIME ZONE :tz)::date AS day, count(*) AS n FROM enrolments
                      WHERE requested_at >= (CAST(:first AS date)::timestamp AT TIME ZONE :tz)
                        AND requested_at < ((CAST(:last AS date) + 1)::timestamp AT TIME ZONE :tz)
                        AND (CAST(:m AS text) IS NULL OR municipality_code = :m)
                      GROUP BY 1) e ON e.day = d::date
         ORDER BY d
        """), params)).mappings().all()
    states = (await session.execute(text(
        "SELECT state, count(*) AS n FROM enrolments WHERE CAST(:m AS text) IS NULL OR municipality_code = :m "
        "GROUP BY state ORDER BY state"), {"m": muni})).mappings().all()
    return {"from_date": first, "to_date": today, "municipality_code": muni,
            "days": [dict(r) for r in per_day], "by_state": {r["state"]: r["n"] for r in states}}
