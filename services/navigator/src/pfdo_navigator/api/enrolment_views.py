"""How an enrolment is shown (with its billing history link and waiting-list place) and paged newest first;
shared by the enrolment routes and the parent cabinet."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import tuple_

from pfdo_plumbing.http.paging import PageRequest

from ..adapters.tables import ENROLMENTS
from ..service import enrolments as enr
from . import schemas as s


def history_url(certificate_id: uuid.UUID) -> str:
    return f"/api/billing/certificates/{certificate_id}/history"


def enrolment_out(row: Any, positions: dict[uuid.UUID, int] | None = None) -> s.EnrolmentOut:
    data = dict(row._mapping)
    data["billing_history_url"] = history_url(row.certificate_id)
    data["waiting_position"] = (positions or {}).get(row.enrolment_id)
    return s.EnrolmentOut.model_validate(data)


def newest_first(query: Any, paging: PageRequest, scope: str) -> Any:
    """Enrolments newest first (requested_at, then id, both descending), after the cursor's keyset."""
    query = query.order_by(ENROLMENTS.c.requested_at.desc(), ENROLMENTS.c.enrolment_id.desc()).limit(paging.limit + 1)
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
    if keyset:
        query = query.where(tuple_(ENROLMENTS.c.requested_at, ENROLMENTS.c.enrolment_id) < tuple_(*keyset))
    return query


def enrolments_page(paging: PageRequest, scope: str, items: list[s.EnrolmentOut]) -> dict:
    return paging.page(items, scope, lambda e: [e.requested_at.isoformat(), str(e.enrolment_id)])


async def enrolments_out(session: Any, rows: Any) -> list[s.EnrolmentOut]:
    rows = list(rows)
    positions = await enr.waiting_positions(session, rows)
    return [enrolment_out(r, positions) for r in rows]

