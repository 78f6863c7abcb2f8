"""Figures for the operators' dashboard: applications and certificates issued per day, and per
municipality the certificates in force beside the number of children living there.

Counted in the database (a region has hundreds of thousands of children: the dashboard never
pages through the lists). A municipal operator gets its own municipality only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.auth.principal import Principal, Role

from .context import Registry


def municipality_scope(who: Principal, wanted: str | None) -> str | None:
    """The municipality the figures are limited to: the operator's own, or the one asked for
    (None: the whole region)."""
    if who.role == Role.MUNICIPAL_OPERATOR:
        return who.municipality or "--"
    return wanted


async def _per_day(session: AsyncSession, first: dt.date, last: dt.date, muni: str | None) -> list[dict]:
    rows = (await session.execute(text(
        """
        SELECT d::date AS day, COALESCE(a.n, 0) AS applications, COALESCE(c.n, 0) AS certificates_issued
          FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 day') AS d
          LEFT JOIN (SELECT applied_on AS day, count(*) AS n FROM applications
                      WHERE applied_on BETWEEN :first AND :last
                        AND (CAST(:m AS text) IS NULL OR municipality_code = :m) GROUP BY applied_on) a
            ON a.day = d::date
          LEFT JOIN (SELECT issued_on AS day, count(*) AS n FROM certificates
                      WHERE issued_on BETWEEN :first AND :last
                        AND (CAST(:m AS text) IS NULL OR municipality_code = :m) GROUP BY issued_on) c
            ON c.day = d::date
         ORDER BY d
        """), {"first": first, "last": last, "m": muni})).mappings().all()
    return [dict(r) for r in rows]


async def _per_municipality(session: AsyncSession, muni: str | None) -> list[dict]:
    rows = (await session.execute(text(
        """
        SELECT m.code, m.name, m.children_count,
               count(c.id) FILTER (WHERE c.status = 'active') AS certificates_active,
               count(c.id) AS certificates_issued
          FROM municipalities m LEFT JOIN certificates c ON c.municipality_code = m.code
         WHERE CAST(:m AS text) IS NULL OR m.code = :m
         GROUP BY m.code, m.name, m.children_count ORDER BY m.code
        """), {"m": muni})).mappings().all()
    return [dict(r) for r in rows]


async def statistics(reg: Registry, who: Principal, *, days: int, municipality: str | None) -> dict:
    """The last ``days`` days up to today (the region's date), both ends included."""
    last = reg.today()
    first = last - dt.timedelta(days=days - 1)
    muni = municipality_scope(who, municipality)
    async with reg.runtime.db.transaction() as session:
        per_day = await _per_day(session, first, last, muni)
        municipalities = await _per_municipality(session, muni)
    return {"from_date": first, "to_date": last, "municipality_code": muni, "days": per_day,
            "municipalities": municipalities}
