"""A parent disputes an attendance mark; the municipal operator decides."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing import clock
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.problems import ProblemError

from ..domain.disputes import DisputeState
from ..service import attendance as att
from . import schemas as s
from .context import SIGNED_IN, NavigatorContext, service_problems as _problems

router = APIRouter(tags=["disputes"])


def _dispute_out(row: Any) -> s.DisputeOut:
    return s.DisputeOut.model_validate(dict(row._mapping))


@router.post("/disputes", response_model=s.DisputeOut, status_code=201, summary="Parent disputes a mark (7 days)",
             operation_id="openDispute",
             description=("The parent disputes a mark within 7 days of its recording; a disputed mark is not "
                          "billed until the municipal operator decides."),
             responses=_problems(*SIGNED_IN, "not_found", "dispute_already_open", "dispute_window_closed",
                                 "claim_matches_mark", "month_closed"))
async def open_dispute(
    nav: NavigatorContext, body: s.DisputeIn, who: Principal = Depends(require("navigator.dispute.open")),
) -> s.DisputeOut:
    try:
        async with nav.runtime.db.transaction() as session:
            row = await att.open_dispute(session, nav.runtime.outbox, who, body.mark_id, body.claimed_status,
                                         body.comment, today=nav.settings.today(), now=clock.now())
    except Exception as exc:
        if type(exc).__name__ == "IntegrityError" and "ux_disputes_open" in str(exc):
            raise ProblemError(409, "dispute_already_open", "This mark already has an open dispute.") from exc
        raise
    return _dispute_out(row)


@router.post("/disputes/{dispute_id}/resolve", response_model=s.DisputeOut, summary="Operator decides a dispute",
             operation_id="resolveDispute",
             description=("The municipal operator upholds the dispute (the claimed status replaces the mark) or"
                          " rejects it (the mark stands)."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def resolve(
    nav: NavigatorContext, dispute_id: uuid.UUID, body: s.ResolveIn,
    who: Principal = Depends(require("navigator.dispute.resolve")),
) -> s.DisputeOut:
    async with nav.runtime.db.transaction() as session:
        return _dispute_out(await att.resolve_dispute(session, nav.runtime.outbox, who, dispute_id, body.upheld,
                                                      body.note, today=nav.settings.today(), now=clock.now()))


@router.get("/disputes", response_model=Page[s.DisputeOut], summary="Disputes in scope",
            operation_id="listDisputes",
            description=("Parents see their own disputes, providers those of their groups, municipal operators "
                         "those of their municipality; oldest first, paged with `limit` and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_disputes(
    nav: NavigatorContext,
    state: DisputeState | None = Query(default=None, description="Only this state."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("navigator.dispute.read")),
) -> dict:
    scope = f"disputes|{state}"
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
    async with nav.runtime.db.transaction() as session:
        try:
            rows = await att.list_disputes(session, who, state, paging.limit + 1, after=keyset)
        except ValueError:
            return {"items": [], "next_cursor": None}
    return paging.page([_dispute_out(r) for r in rows], scope,
                       lambda d: [d.opened_at.isoformat(), str(d.dispute_id)])


@router.get("/disputes/{dispute_id}", response_model=s.DisputeOut, summary="One dispute",
            operation_id="getDispute",
            description="One dispute in the caller's scope (404 otherwise).",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_dispute(
    nav: NavigatorContext, dispute_id: uuid.UUID, who: Principal = Depends(require("navigator.dispute.read")),
) -> s.DisputeOut:
    async with nav.runtime.db.transaction() as session:
        row, _ = await att.read_dispute(session, who, dispute_id)
        return s.DisputeOut.model_validate(await att.with_mark(session, row))

