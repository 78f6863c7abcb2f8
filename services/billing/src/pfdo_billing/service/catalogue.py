"""Read models billing keeps from the registry: certificates and certified modules."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import registry as g
from pfdo_plumbing import audit

from pfdo_billing.adapters.tables import CERTIFICATES, MODULES, PROGRAMS
from pfdo_billing.domain.validity import last_valid_day

from .context import Billing


async def certificate_issued(b: Billing, session: AsyncSession, e: g.CertificateIssued, env: Envelope) -> None:
    stmt = insert(CERTIFICATES).values(
        certificate_id=e.certificate_id, municipality_code=e.municipality_code, birth_date=e.birth_date,
        status=e.status.value, usage_kind=e.usage_kind.value, parent_id=e.parent_id, valid_until=e.valid_until,
        funded_on=e.issued_on if e.usage_kind.value == "funding" else None, number=e.number,
    ).on_conflict_do_nothing(index_elements=["certificate_id"]).returning(CERTIFICATES.c.certificate_id)
    created = (await session.execute(stmt)).first()
    if created is None:
        # known before its number was kept (migration 0009): a replayed event fills it in
        await session.execute(text("UPDATE certificates SET number = :n WHERE certificate_id = :c AND number IS NULL"),
                              {"n": e.number, "c": e.certificate_id})
        return
    await audit.record(session, None, "billing.certificate.registered", "certificate", e.certificate_id,
                       municipality=e.municipality_code,
                       details={"cause_event_id": str(env.id), "fields": ["status", "usage_kind"]})
    if e.usage_kind.value == "funding":
        # a funding certificate issued while a period is open is credited pro rata at once
        from .reservations import credit_if_open_period

        await credit_if_open_period(b, session, e.certificate_id, e.issued_on, env)


async def _set_status(session: AsyncSession, certificate_id, status: str, env: Envelope) -> dict | None:  # noqa: ANN001
    row = (
        await session.execute(
            text(
                "UPDATE certificates SET status = :s, updated_at = now() WHERE certificate_id = :c "
                "RETURNING certificate_id, municipality_code, birth_date"
            ),
            {"s": status, "c": certificate_id},
        )
    ).mappings().first()
    if row is None:
        raise LookupError(f"certificate {certificate_id} is not known to billing yet")  # retried, then DLQ
    await audit.record(session, None, f"billing.certificate.{status}", "certificate", certificate_id,
                       municipality=row["municipality_code"],
                       details={"cause_event_id": str(env.id), "fields": ["status"]})
    return dict(row)


async def certificate_suspended(b: Billing, session: AsyncSession, e: g.CertificateSuspended, env: Envelope) -> None:
    await _set_status(session, e.certificate_id, "suspended", env)


async def certificate_reinstated(b: Billing, session: AsyncSession, e: g.CertificateReinstated, env: Envelope) -> None:
    await _set_status(session, e.certificate_id, "active", env)


async def certificate_expired(b: Billing, session: AsyncSession, e: g.CertificateExpired, env: Envelope) -> None:
    from .reservations import end_contracts_of_certificate

    row = await _set_status(session, e.certificate_id, "expired", env)
    assert row is not None
    # contracts end with the month of the last valid day: for a birthday on the 1st, the month before
    await end_contracts_of_certificate(b, session, e.certificate_id, last_valid_day(e.expired_on),
                                       "certificate_expired", env)


async def certificate_closed(b: Billing, session: AsyncSession, e: g.CertificateClosed, env: Envelope) -> None:
    from .reservations import end_contracts_of_certificate

    await _set_status(session, e.certificate_id, "closed", env)
    await end_contracts_of_certificate(b, session, e.certificate_id, e.closed_on, "certificate_closed", env)


async def _program_revision_applies(session: AsyncSession, program_id, provider_id, revision: int, state: str,  # noqa: ANN001
                                    *, same_revision: bool = False) -> bool:
    """Upsert the program row if ``revision`` is newer than the applied one (last revision wins)."""
    stmt = insert(PROGRAMS).values(program_id=program_id, provider_id=provider_id, revision=revision, state=state)
    stmt = stmt.on_conflict_do_update(
        index_elements=["program_id"],
        set_={"revision": stmt.excluded.revision, "state": stmt.excluded.state, "provider_id": stmt.excluded.provider_id},
        where=(PROGRAMS.c.revision <= stmt.excluded.revision) if same_revision else (PROGRAMS.c.revision < stmt.excluded.revision),
    ).returning(PROGRAMS.c.program_id)
    return (await session.execute(stmt)).first() is not None


async def program_snapshot(b: Billing, session: AsyncSession, e: g.ProgramCertified | g.ProgramChanged, env: Envelope) -> None:
    state = e.state.value if isinstance(e, g.ProgramChanged) else "certified"
    if not await _program_revision_applies(session, e.program_id, e.provider_id, e.revision, state):
        return  # stale or duplicate snapshot
    for m in e.modules:
        values = dict(
            module_id=m.module_id, program_id=e.program_id, provider_id=e.provider_id,
            municipality_code=e.municipality_code, direction=e.direction.value, funding_kind=e.funding_kind.value,
            start_date=m.start_date, end_date=m.end_date, price_kopecks=m.price_kopecks,
            normative_cost_kopecks=m.normative_cost_kopecks, weekdays=sorted(s.weekday for s in m.schedule),
            lessons_per_week=m.lessons_per_week, revision=e.revision, state=state,
        )
        stmt = insert(MODULES).values(**values)
        await session.execute(
            stmt.on_conflict_do_update(index_elements=["module_id"], set_={k: stmt.excluded[k] for k in values if k != "module_id"})
        )
    # modules dropped from the snapshot no longer take enrolments
    await session.execute(
        text("UPDATE modules SET state = 'archived' WHERE program_id = :p AND NOT (module_id = ANY(:ids))"),
        {"p": e.program_id, "ids": [m.module_id for m in e.modules]},
    )


async def program_archived(b: Billing, session: AsyncSession, e: g.ProgramArchived, env: Envelope) -> None:
    if await _program_revision_applies(session, e.program_id, e.provider_id, e.revision, "archived", same_revision=True):
        await session.execute(
            text("UPDATE modules SET state = 'archived', revision = :r WHERE program_id = :p"),
            {"p": e.program_id, "r": e.revision},
        )


async def module(session: AsyncSession, module_id) -> dict | None:  # noqa: ANN001
    row = (await session.execute(select(MODULES).where(MODULES.c.module_id == module_id))).mappings().first()
    return dict(row) if row else None
