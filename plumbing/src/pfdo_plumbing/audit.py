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
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from . import context
from .auth.policy import require
from .auth.principal import Principal, Role
from .db import insert_at_commit
from .http.errors import problems
from .http.paging import Page, PageRequest
from .http.paging import paging as paging_params
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": 1042, "at": "2027-10-14T08:15:02Z", "actor_sub": "operator-01", "actor_role": "municipal_operator",
        "action": "certificate.suspended", "subject_type": "certificate",
        "subject_id": "0b6f1c1e-7a43-4c36-9d0a-5b1d2f7e8a91", "municipality_code": "01",
        "request_id": "2f6c1d9a-7b3e-4a85-9c0d-1e4f8b2a6d37", "correlation_id": "2f6c1d9a-7b3e-4a85-9c0d-1e4f8b2a6d37",
        "details": {"fields": ["status"], "reason_code": "operator_decision"},
    }]})

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

    @router.get("/audit", response_model=Page[AuditEntry], summary="Read the audit log (operators)",
                operation_id="listAuditEntries",
                description=("Who changed what (money, status, personal data fields), when and under which request, "
                             "oldest first; municipal operators see their municipality's entries. Paged with `limit` "
                             "and `cursor`."),
                responses=problems("unauthenticated", "forbidden", "validation_error", "invalid_cursor",
                                   service=service))
    async def read_audit(
        subject_type: str | None = Query(default=None, max_length=60, description="Only this kind of subject."),
        subject_id: str | None = Query(default=None, max_length=120, description="Only this subject."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require(f"{service}.audit.read")),
    ) -> dict:
        scope = f"audit|{subject_type}|{subject_id}"
        keyset = paging.after_keyset(scope, int)
        query = select(AUDIT).order_by(AUDIT.c.id).limit(paging.limit + 1)
        if keyset:
            query = query.where(AUDIT.c.id > keyset[0])
        if subject_type:
            query = query.where(AUDIT.c.subject_type == subject_type)
        if subject_id:
            query = query.where(AUDIT.c.subject_id == subject_id)
        if who.role == Role.MUNICIPAL_OPERATOR:
            query = query.where(AUDIT.c.municipality_code == who.municipality)
        async with runtime.db.transaction() as session:
            rows = (await session.execute(query)).mappings().all()
        return paging.page([AuditEntry(**row) for row in rows], scope, lambda e: [e.id])

    return router
