"""The audit log: who changed what (money, status, personal data), when, under which request.

Rows are written in the same transaction as the change they describe (at its commit); the
table refuses UPDATE, DELETE and TRUNCATE (a trigger), so the log is append-only in the database
itself.
Details must not carry personal data values: name the fields that changed, not their contents.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import context
from .auth.policy import require
from .auth.principal import Principal, Role
from .db import insert_at_commit
from .tables import AUDIT

if TYPE_CHECKING:
    from .runtime import ServiceRuntime

SYSTEM = Principal(sub="system", role=Role.SERVICE)


async def record(
    session: AsyncSession, actor: Principal | None, action: str, subject_type: str, subject_id: object,
    *, municipality: str | None = None, details: dict[str, Any] | None = None, request_id: str | None = None,
) -> None:
    actor = actor or SYSTEM
    if request_id is None:  # the HTTP request being served (bound by the request-context middleware)
        request_id = structlog.contextvars.get_contextvars().get("request_id")
    insert_at_commit(session, AUDIT, [dict(
        actor_sub=actor.sub, actor_role=actor.role.value, action=action, subject_type=subject_type,
        subject_id=str(subject_id), municipality_code=municipality, request_id=request_id,
        correlation_id=context.correlation_id(), details=details or {},
    )])


class AuditEntry(BaseModel):
    id: int
    at: dt.datetime
    actor_sub: str
    actor_role: str
    action: str
    subject_type: str
    subject_id: str
    municipality_code: str | None
    request_id: str | None
    correlation_id: str | None
    details: dict[str, Any]


def audit_router(runtime: "ServiceRuntime") -> APIRouter:
    """`GET /api/<service>/audit`: operators read the log (municipal operators: their municipality)."""
    service = runtime.service
    router = APIRouter(tags=["audit"])

    @router.get("/audit", response_model=list[AuditEntry], summary="Read the audit log (operators)")
    async def read_audit(
        subject_type: str | None = Query(default=None, max_length=60),
        subject_id: str | None = Query(default=None, max_length=120),
        after_id: int = Query(default=0, ge=0, le=2**62),
        limit: int = Query(default=100, ge=1, le=1000),
        who: Principal = Depends(require(f"{service}.audit.read")),
    ) -> list[AuditEntry]:
        query = select(AUDIT).where(AUDIT.c.id > after_id).order_by(AUDIT.c.id).limit(limit)
        if subject_type:
            query = query.where(AUDIT.c.subject_type == subject_type)
        if subject_id:
            query = query.where(AUDIT.c.subject_id == subject_id)
        if who.role == Role.MUNICIPAL_OPERATOR:
            query = query.where(AUDIT.c.municipality_code == who.municipality)
        async with runtime.db.transaction() as session:
            rows = (await session.execute(query)).mappings().all()
        return [AuditEntry(**row) for row in rows]

    return router
