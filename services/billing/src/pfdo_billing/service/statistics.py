"""Money per month for the operators' dashboard: what the certificates still hold reserved for a
month, what was spent (posted to the providers) and what was released back to the balances,
summed over the contract-months of the certificates in scope (docs/domain-rules.md: a month's
reservation is posted or released when the month closes).

Counted in the database (the dashboard never pages through a region's contracts). A municipal
operator gets its own municipality's certificates only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from pfdo_plumbing.auth.principal import Principal, Role

from .context import Billing


def municipality_scope(who: Principal, wanted: str | None) -> str | None:
    if who.role == Role.MUNICIPAL_OPERATOR:
        return who.municipality or "--"
    return wanted


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


async def money_per_month(b: Billing, who: Principal, *, first: dt.date | None, months: int,
                          municipality: str | None) -> dict:
    """``months`` months from ``first`` (by default: five months before the current one)."""
    first = first or add_months(b.today().replace(day=1), -5)
    last = add_months(first, months - 1)
    muni = municipality_scope(who, municipality)
    async with b.runtime.db.transaction() as session:
        rows = (await session.execute(text(
            """
            SELECT m::date AS month,
                   COALESCE(sum(cm.certificate_kopecks - cm.posted_kopecks - cm.released_kopecks)
                            FILTER (WHERE cm.state = 'reserved'), 0) AS reserved_kopecks,
                   COALESCE(sum(cm.posted_kopecks), 0) AS spent_kopecks,
                   COALESCE(sum(cm.released_kopecks), 0) AS released_kopecks,
                   count(cm.enrolment_id) AS contracts
              FROM generate_series(CAST(:first AS date), CAST(:last AS date), interval '1 month') AS m
              LEFT JOIN (contract_months cm
                         JOIN contracts c ON c.enrolment_id = cm.enrolment_id
                         JOIN certificates cert ON cert.certificate_id = c.certificate_id)
                ON cm.month = m::date AND (CAST(:muni AS text) IS NULL OR cert.municipality_code = :muni)
             GROUP BY m ORDER BY m
            """), {"first": first, "last": last, "muni": muni})).mappings().all()
    return {"municipality_code": muni,
            "months": [{**dict(r), "month": f"{r['month']:%Y-%m}"} for r in rows]}
