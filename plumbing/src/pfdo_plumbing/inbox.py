"""Inbox: the ids of processed events, written in the same transaction as their effect."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .db import insert_expecting_new

_INSERT = """
    INSERT INTO inbox (event_id, event_type)
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS varchar[]))
    """
_CLAIM_NEW = text(_INSERT)
_CLAIM_SOME = text(_INSERT + " ON CONFLICT (event_id) DO NOTHING RETURNING event_id")


async def claim(session: AsyncSession, events: Sequence[tuple[uuid.UUID, str]]) -> set[uuid.UUID]:
    """Record events as processed; returns the ids that were new (the others are duplicates).

    Concurrent claims of one id by two consumers serialise on the primary key: the loser waits
    for the winner's transaction and then sees a conflict, so only one effect is committed.
    Redeliveries are the exception, so the claim first tries a plain insert of every id.
    """
    if not events:
        return set()
    ids = [e[0] for e in events]
    result = await insert_expecting_new(session, _CLAIM_NEW, _CLAIM_SOME, {"ids": ids, "types": [e[1] for e in events]})
    return set(ids) if result is None else {row[0] for row in result}
