"""One month's close against the disputes of that month, in PostgreSQL advisory locks.

A chunk of month close counts the billable marks in one statement, over a snapshot taken when
that statement starts. A dispute committed after that moment, on a month the dispute's handler
still saw open, would be billed by the close and never adjusted (the handler only adjusts
closed months). So the handler holds the month's lock shared from before it looks at the month
until it commits, and each close chunk takes it exclusively before its counting statement: a
chunk then counts every dispute whose handler saw the month open, and a handler that waited
for a chunk sees the month closed and adjusts it. Advisory locks need no row to exist (the
month's close row may not yet be written)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_CLASS = 0x4D43  # "MC": billing's month-close locks (the first key of the two-key form)


def _key(month: date) -> dict[str, int]:
    return {"c": _CLASS, "k": month.year * 12 + month.month - 1}


async def close_exclusively(session: AsyncSession, month: date) -> None:
    """Taken by each close chunk before it counts: waits for the month's dispute handlers."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:c, :k)"), _key(month))


async def hold_off_close(session: AsyncSession, month: date) -> None:
    """Taken by a dispute's handler before it looks at the month, held to its commit."""
    await session.execute(text("SELECT pg_advisory_xact_lock_shared(:c, :k)"), _key(month))
