"""Use cases of children, applications and certificates."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import UsageKind as ContractUsageKind
from pfdo_contracts.events import registry as ev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role

from ..adapters.tables import APPLICATIONS, CERTIFICATES, CHILDREN, MUNICIPALITIES
from ..domain import certificate as cert_domain
from ..domain.age import age_on, expiry_date
from ..domain.certificate import ApplicantRole, Certificate, CertificateStatus, CloseReason, UsageKind
from ..domain.certificate_number import format_certificate_number, parse_certificate_number
from ..domain.errors import DomainError, DuplicateCertificate, IllegalTransition
from ..domain.identifiers import validate_snils
from .context import Registry, not_found, region_settings, require_municipality


@dataclass(frozen=True)
class ChildInput:
    surname: str
    first_name: str
    patronymic: str | None
    birth_date: dt.date
    snils: str
    municipality_code: str


def _clean(text: str | None, field: str, *, required: bool = True) -> str | None:
    value = (text or "").strip()
    if required and not value:
        raise DomainError("name_required", f"The child's {field} is required.")
    return value or None


# --- reading -----------------------------------------------------------------------------------


def _application_scope(query: Any, who: Principal) -> Any:
    if who.role == Role.PARENT:
        return query.where(APPLICATIONS.c.applicant_id == who.sub)
    if who.role == Role.MUNICIPAL_OPERATOR:
        return query.where(APPLICATIONS.c.municipality_code == who.municipality)
    if who.role in (Role.REGIONAL_OPERATOR, Role.SERVICE):
        return query
    return query.where(False)


def _certificate_scope(query: Any, who: Principal) -> Any:
    if who.role == Role.PARENT:
        return query.where(CHILDREN.c.parent_id == who.sub)
    if who.role == Role.MUNICIPAL_OPERATOR:
        return query.where(CERTIFICATES.c.municipality_code == who.municipality)
    if who.role in (Role.REGIONAL_OPERATOR, Role.SERVICE):
        return query
    return query.where(False)  # providers use the lookup by number and surname


_APP_COLS = [
    APPLICATIONS, CHILDREN.c.surname, CHILDREN.c.first_name, CHILDREN.c.birth_date,
    CERTIFICATES.c.number.label("certificate_number"),
]


def _app_query() -> Any:
    return select(*_APP_COLS).select_from(
        APPLICATIONS.join(CHILDREN, CHILDREN.c.id == APPLICATIONS.c.child_id).outerjoin(
            CERTIFICATES, CERTIFICATES.c.id == APPLICATIONS.c.certificate_id
        )
    )


def _application_out(who: Principal, row: Any) -> dict:
    """An application as ``who`` may see it: the possible-duplicate flag is for operators only (an
    applicant, perhaps a stranger trying a СНИЛС, gets the same answer whatever it says)."""
    out = dict(row)
    reason = out.pop("duplicate_reason", None)
    if who.is_operator() or who.role == Role.SERVICE:
        out["possible_duplicate"], out["duplicate_reason"] = reason is not None, reason
    else:
        out["possible_duplicate"], out["duplicate_reason"] = None, None
    return out


async def list_applications(reg: Registry, who: Principal, *, status: str | None, limit: int,
                            after: tuple[dt.datetime, uuid.UUID] | None = None) -> list[dict]:
    """Applications in scope, oldest first (created_at, then id), after the keyset ``after``."""
    query = _application_scope(_app_query(), who)
    if status:
        query = query.where(APPLICATIONS.c.status == status)
    if after is not None:
        query = query.where(tuple_(APPLICATIONS.c.created_at, APPLICATIONS.c.id) > tuple_(*after))
    query = query.order_by(APPLICATIONS.c.created_at, APPLICATIONS.c.id).limit(limit)
    async with reg.runtime.db.transaction() as session:
        return [_application_out(who, r) for r in (await session.execute(query)).mappings()]


async def get_application(reg: Registry, who: Principal, application_id: uuid.UUID) -> dict:
    query = _application_scope(_app_query().where(APPLICATIONS.c.id == application_id), who)
    async with reg.runtime.db.transaction() as session:
        row = (await session.execute(query)).mappings().first()
    if row is None:
        raise not_found("Application")
    return _application_out(who, row)


_CERT_COLS = [
    CERTIFICATES, CHILDREN.c.surname, CHILDREN.c.first_name, CHILDREN.c.patronymic, CHILDREN.c.birth_date,
    CHILDREN.c.parent_id,
]


def _cert_query() -> Any:
    return select(*_CERT_COLS).select_from(CERTIFICATES.join(CHILDREN, CHILDREN.c.id == CERTIFICATES.c.child_id))


async def list_certificates(reg: Registry, who: Principal, *, status: str | None, limit: int,
                            after_number: str | None = None) -> list[dict]:
    """Certificates in scope by number (unique), after ``after_number``."""
    query = _certificate_scope(_cert_query(), who)
    if status:
        query = query.where(CERTIFICATES.c.status == status)
    if after_number is not None:
        query = query.where(CERTIFICATES.c.number > after_number)
    query = query.order_by(CERTIFICATES.c.number).limit(limit)
    async with reg.runtime.db.transaction() as session:
        return [dict(r) for r in (await session.execute(query)).mappings()]


async def get_certificate(reg: Registry, who: Principal, certificate_id: uuid.UUID) -> dict:
    query = _certificate_scope(_cert_query().where(CERTIFICATES.c.id == certificate_id), who)
    async with reg.runtime.db.transaction() as session:
        row = (await session.execute(query)).mappings().first()
    if row is None:
        raise not_found("Certificate")
    return dict(row)


async def list_children(reg: Registry, who: Principal) -> list[dict]:
    query = (
        select(CHILDREN.c.id, CHILDREN.c.surname, CHILDREN.c.first_name, CHILDREN.c.patronymic, CHILDREN.c.birth_date,
               CHILDREN.c.municipality_code, CERTIFICATES.c.id.label("certificate_id"),
               CERTIFICATES.c.number.label("certificate_number"), CERTIFICATES.c.status.label("certificate_status"))
        .select_from(CHILDREN.outerjoin(CERTIFICATES, CERTIFICATES.c.child_id == CHILDREN.c.id))
        .where(CHILDREN.c.parent_id == who.sub)
        .order_by(CHILDREN.c.birth_date)
    )
    async with reg.runtime.db.transaction() as session:
        return [dict(r) for r in (await session.execute(query)).mappings()]


async def lookup(reg: Registry, who: Principal, number: str, surname: str) -> dict:
    """A provider checks a certificate before enrolling: number + the child's surname must
    match; the answer is minimal (no names, no СНИЛС, only the birth year)."""
    canonical = str(parse_certificate_number(number))
    query = (
        select(CERTIFICATES.c.id, CERTIFICATES.c.number, CERTIFICATES.c.status, CERTIFICATES.c.usage_kind,
               CERTIFICATES.c.municipality_code, CERTIFICATES.c.valid_until, CHILDREN.c.birth_date)
        .select_from(CERTIFICATES.join(CHILDREN, CHILDREN.c.id == CERTIFICATES.c.child_id))
        .where(CERTIFICATES.c.number == canonical, func.lower(CHILDREN.c.surname) == surname.strip().lower())
    )
    if who.role == Role.MUNICIPAL_OPERATOR:
        query = query.where(CERTIFICATES.c.municipality_code == who.municipality)
    async with reg.runtime.db.transaction() as session:
        row = (await session.execute(query)).mappings().first()
    if row is None:
        raise DomainError("certificate_not_found", "No certificate with this number and surname.")
    return {
        "certificate_id": row["id"], "number": row["number"], "status": row["status"], "usage_kind": row["usage_kind"],
        "municipality_code": row["municipality_code"], "valid_until": row["valid_until"],
        "birth_year": row["birth_date"].year, "age": age_on(row["birth_date"], reg.today()),
    }


# --- applying ----------------------------------------------------------------------------------


async def apply(reg: Registry, who: Principal, child: ChildInput, applicant_role: ApplicantRole) -> dict:
    today = reg.today()
    surname = _clean(child.surname, "surname")
    first_name = _clean(child.first_name, "first name")
    patronymic = _clean(child.patronymic, "patronymic", required=False)
    snils = validate_snils(child.snils)
    snils_hash = reg.pii.lookup_hash(snils)
    try:
        async with reg.runtime.db.transaction() as session:
            settings = await region_settings(session)
            await require_municipality(session, child.municipality_code)
            await _lock_snils(session, snils_hash)
            known = await _known_for_snils(session, snils_hash)
            reason = cert_domain.duplicate_reason(st for k in known for st in k["statuses"])
            application_id = uuid.uuid4()
            # the applicant's own earlier claim for this child (all refused) is taken over; any other
            # applicant's claim stays as it is: each application carries the child as its applicant says
            own = next((k for k in known if k["parent_id"] == who.sub and not k["statuses"] & cert_domain.LIVE_STATUSES),
                       None)
            child_id = own["child_id"] if own is not None else uuid.uuid4()
            cert_domain.apply(
                certificate_id=str(application_id), child_id=str(child_id), snils=snils, birth_date=child.birth_date,
                municipality_code=child.municipality_code, applicant_role=applicant_role, on_date=today,
                min_age=settings["min_age"], max_age=settings["max_age"],
            )
            values = {
                "parent_id": who.sub, "surname": surname, "first_name": first_name, "patronymic": patronymic,
                "birth_date": child.birth_date, "municipality_code": child.municipality_code,
                "snils_encrypted": reg.pii.encrypt(snils), "snils_hash": snils_hash,
            }
            if own is None:
                await session.execute(insert(CHILDREN).values(id=child_id, **values))
            else:
                await session.execute(update(CHILDREN).where(CHILDREN.c.id == child_id).values(**values))
            await session.execute(
                insert(APPLICATIONS).values(
                    id=application_id, child_id=child_id, applicant_id=who.sub, applicant_role=applicant_role.value,
                    municipality_code=child.municipality_code, status="pending", applied_on=today,
                    duplicate_reason=reason.value if reason is not None else None,
                )
            )
            if reason is not None:  # the other pending applications for this СНИЛС are flagged too
                await session.execute(
                    update(APPLICATIONS).where(
                        APPLICATIONS.c.child_id.in_([k["child_id"] for k in known]), APPLICATIONS.c.status == "pending",
                        APPLICATIONS.c.duplicate_reason.is_(None),
                    ).values(duplicate_reason=cert_domain.DuplicateReason.PENDING_APPLICATION.value)
                )
            await audit.record(
                session, who, "certificate.applied", "application", application_id, municipality=child.municipality_code,
                details={"child_id": str(child_id), "fields": ["surname", "first_name", "patronymic", "birth_date", "snils"],
                         "duplicate_reason": reason.value if reason is not None else None},
            )
            # a possible duplicate waits for the operator even where certificates are issued at once
            if settings["auto_approve"] and reason is None:
                await _approve(reg, session, who, application_id, today, auto=True)
    except IntegrityError as exc:  # the applicant's own second application raced the first
        if "applications_one_pending_uq" in str(exc):
            raise DuplicateCertificate("certificate_duplicate", "This child already has a pending application.") from exc
        raise
    return await get_application(reg, who, application_id)


async def _lock_snils(session: AsyncSession, snils_hash: bytes) -> None:
    """Serialise the applications and approvals of one СНИЛС (until the transaction ends)."""
    key = int.from_bytes(snils_hash[:8], "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def _known_for_snils(session: AsyncSession, snils_hash: bytes) -> list[dict]:
    """Every child record claimed for this СНИЛС, with the statuses of its applications and certificate."""
    rows = (
        await session.execute(
            select(CHILDREN.c.id, CHILDREN.c.parent_id, APPLICATIONS.c.status.label("application"),
                   CERTIFICATES.c.status.label("certificate"))
            .select_from(CHILDREN.outerjoin(APPLICATIONS, APPLICATIONS.c.child_id == CHILDREN.c.id)
                         .outerjoin(CERTIFICATES, CERTIFICATES.c.child_id == CHILDREN.c.id))
            .where(CHILDREN.c.snils_hash == snils_hash)
        )
    ).mappings().all()
    known: dict[uuid.UUID, dict] = {}
    for r in rows:
        entry = known.setdefault(r["id"], {"child_id": r["id"], "parent_id": r["parent_id"], "statuses": set()})
        if r["application"] in ("pending", "refused"):
            entry["statuses"].add(CertificateStatus(r["application"]))
        if r["certificate"] is not None:
            entry["statuses"].add(CertificateStatus(r["certificate"]))
    return list(known.values())


async def _load_application(session: AsyncSession, who: Principal, application_id: uuid.UUID) -> dict:
    row = (
        await session.execute(
            select(APPLICATIONS, CHILDREN.c.birth_date, CHILDREN.c.parent_id, CHILDREN.c.snils_hash)
            .select_from(APPLICATIONS.join(CHILDREN, CHILDREN.c.id == APPLICATIONS.c.child_id))
            .where(APPLICATIONS.c.id == application_id)
            .with_for_update(of=APPLICATIONS)
        )
    ).mappings().first()
    if row is None or not (who.covers_municipality(row["municipality_code"]) or who.sub == row["applicant_id"]):
        raise not_found("Application")
    return dict(row)


def _pending_certificate(app: dict) -> Certificate:
    return Certificate(
        certificate_id=str(app["id"]), child_id=str(app["child_id"]), snils="", birth_date=app["birth_date"],
        municipality_code=app["municipality_code"], applicant_role=ApplicantRole(app["applicant_role"]),
        applied_on=app["applied_on"],
        status=CertificateStatus.PENDING if app["status"] == "pending" else CertificateStatus.REFUSED,
    )


async def _approve(
    reg: Registry, session: AsyncSession, who: Principal, application_id: uuid.UUID, today: dt.date, *, auto: bool = False
) -> uuid.UUID:
    app = await _load_application(session, Principal(sub="system", role=Role.SERVICE) if auto else who, application_id)
    if not auto and not who.covers_municipality(app["municipality_code"]):
        raise not_found("Application")
    pending = _pending_certificate(app)
    if app["status"] != "pending":
        raise IllegalTransition("application", app["status"], "approve")
    # one certificate per child: none is issued while the СНИЛС has a live one (the operator
    # refuses this application, or closes the other certificate as a duplicate first)
    await _lock_snils(session, app["snils_hash"])
    cert_domain.check_not_duplicate(CertificateStatus(st) for st in (await session.execute(
        select(CERTIFICATES.c.status).where(CERTIFICATES.c.snils_hash == app["snils_hash"]))).scalars())
    # allocate the next number of the municipality atomically (row lock on its counter)
    seq_row = (
        await session.execute(
            update(MUNICIPALITIES)
            .where(MUNICIPALITIES.c.code == app["municipality_code"])
            .values(last_certificate_seq=MUNICIPALITIES.c.last_certificate_seq + 1)
            .returning(MUNICIPALITIES.c.last_certificate_seq)
        )
    ).one()
    settings = await region_settings(session)
    number = format_certificate_number(settings["region_code"], app["municipality_code"], seq_row.last_certificate_seq)
    issued = cert_domain.issue(pending, number=number, on_date=today).state
    certificate_id = uuid.uuid4()
    await session.execute(
        insert(CERTIFICATES).values(
            id=certificate_id, number=number, child_id=app["child_id"], municipality_code=app["municipality_code"],
            sequence=seq_row.last_certificate_seq, status="active", usage_kind=UsageKind.ACCOUNTING.value,
            issued_on=today, valid_until=issued.valid_until, expires_on=expiry_date(issued.birth_date),
            snils_hash=app["snils_hash"],
        )
    )
    await session.execute(
        update(APPLICATIONS).where(APPLICATIONS.c.id == application_id).values(
            status="approved", decided_on=today, decided_by="auto" if auto else who.sub, certificate_id=certificate_id
        )
    )
    await reg.runtime.outbox.put(
        session,
        ev.CertificateIssued(
            certificate_id=certificate_id, number=number, region_code=settings["region_code"],
            municipality_code=app["municipality_code"], birth_date=issued.birth_date, issued_on=today,
            valid_until=issued.valid_until, usage_kind=ContractUsageKind.ACCOUNTING, parent_id=app["parent_id"],
        ),
    )
    await audit.record(
        session, who, "certificate.issued", "certificate", certificate_id, municipality=app["municipality_code"],
        details={"application_id": str(application_id), "number": number, "auto": auto},
    )
    return certificate_id


async def approve(reg: Registry, who: Principal, application_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        await _approve(reg, session, who, application_id, reg.today())
    return await get_application(reg, who, application_id)


async def refuse(reg: Registry, who: Principal, application_id: uuid.UUID, reason: str) -> dict:
    async with reg.runtime.db.transaction() as session:
        app = await _load_application(session, who, application_id)
        if not who.covers_municipality(app["municipality_code"]):
            raise not_found("Application")
        refused = cert_domain.refuse(_pending_certificate(app), reason=reason).state
        await session.execute(
            update(APPLICATIONS).where(APPLICATIONS.c.id == application_id).values(
                status="refused", reason=refused.status_reason, decided_on=reg.today(), decided_by=who.sub
            )
        )
        await audit.record(session, who, "certificate.refused", "application", application_id,
                           municipality=app["municipality_code"], details={"status": "refused"})
    return await get_application(reg, who, application_id)


# --- certificate moves -------------------------------------------------------------------------


async def _load_certificate(session: AsyncSession, who: Principal, certificate_id: uuid.UUID) -> tuple[dict, Certificate]:
    row = (
        await session.execute(
            select(CERTIFICATES, CHILDREN.c.birth_date)
            .select_from(CERTIFICATES.join(CHILDREN, CHILDREN.c.id == CERTIFICATES.c.child_id))
            .where(CERTIFICATES.c.id == certificate_id)
            .with_for_update(of=CERTIFICATES)
        )
    ).mappings().first()
    if row is None or not who.covers_municipality(row["municipality_code"]):
        raise not_found("Certificate")
    return dict(row), _as_domain(row)


def _as_domain(row: Any) -> Certificate:
    return Certificate(
        certificate_id=str(row["id"]), child_id=str(row["child_id"]), snils="", birth_date=row["birth_date"],
        municipality_code=row["municipality_code"], applicant_role=ApplicantRole.PARENT, applied_on=row["issued_on"],
        status=CertificateStatus(row["status"]), usage=UsageKind(row["usage_kind"]), number=row["number"],
        issued_on=row["issued_on"], status_reason=row["status_reason"],
        close_reason=CloseReason(row["close_reason"]) if row["close_reason"] else None, ended_on=row["ended_on"],
    )


async def _save(session: AsyncSession, new: Certificate) -> None:
    await session.execute(
        update(CERTIFICATES).where(CERTIFICATES.c.id == uuid.UUID(new.certificate_id)).values(
            status=new.status.value, status_reason=new.status_reason,
            close_reason=new.close_reason.value if new.close_reason else None, ended_on=new.ended_on,
            updated_at=func.now(),
        )
    )


async def suspend(reg: Registry, who: Principal, certificate_id: uuid.UUID, reason: str,
                  code: ev.SuspensionReason) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, cert = await _load_certificate(session, who, certificate_id)
        new = cert_domain.suspend(cert, reason=reason).state
        await _save(session, new)
        await reg.runtime.outbox.put(session, ev.CertificateSuspended(
            certificate_id=certificate_id, suspended_on=reg.today(), reason=code))
        await audit.record(session, who, "certificate.suspended", "certificate", certificate_id,
                           municipality=row["municipality_code"], details={"status": "suspended", "reason": code.value})
    return await get_certificate(reg, who, certificate_id)


async def reinstate(reg: Registry, who: Principal, certificate_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, cert = await _load_certificate(session, who, certificate_id)
        new = cert_domain.reinstate(cert).state
        await _save(session, new)
        await reg.runtime.outbox.put(session, ev.CertificateReinstated(
            certificate_id=certificate_id, reinstated_on=reg.today()))
        await audit.record(session, who, "certificate.reinstated", "certificate", certificate_id,
                           municipality=row["municipality_code"], details={"status": "active"})
    return await get_certificate(reg, who, certificate_id)


async def close(reg: Registry, who: Principal, certificate_id: uuid.UUID, reason: ev.CloseReason,
                note: str | None) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, cert = await _load_certificate(session, who, certificate_id)
        today = reg.today()
        new = cert_domain.close(cert, reason=CloseReason(reason.value), on_date=today, note=note).state
        await _save(session, new)
        await reg.runtime.outbox.put(session, ev.CertificateClosed(
            certificate_id=certificate_id, closed_on=today, reason=reason))
        await audit.record(session, who, "certificate.closed", "certificate", certificate_id,
                           municipality=row["municipality_code"], details={"status": "closed", "reason": reason.value})
    return await get_certificate(reg, who, certificate_id)


async def expire_due(reg: Registry, who: Principal | None = None, *, on_date: dt.date | None = None,
                     batch: int = 1000) -> int:
    """Expire every active or suspended certificate whose child has turned 18 by ``on_date``.

    Idempotent: an expired certificate is no longer selected, so a second run changes nothing.
    Works in batches, each its own transaction; rows are locked and skipped if another
    instance is expiring them right now."""
    on_date = on_date or reg.today()
    total = 0
    while True:
        async with reg.runtime.db.transaction() as session:
            rows = (
                await session.execute(
                    select(CERTIFICATES, CHILDREN.c.birth_date)
                    .select_from(CERTIFICATES.join(CHILDREN, CHILDREN.c.id == CERTIFICATES.c.child_id))
                    .where(CERTIFICATES.c.status.in_(("active", "suspended")), CERTIFICATES.c.expires_on <= on_date)
                    .order_by(CERTIFICATES.c.expires_on)
                    .limit(batch)
                    .with_for_update(of=CERTIFICATES, skip_locked=True)
                )
            ).mappings().all()
            for row in rows:
                cert = _as_domain(row)
                if not cert_domain.is_due_for_expiry(cert, on_date):
                    continue
                new = cert_domain.expire(cert, on_date=on_date).state
                await _save(session, new)
                await reg.runtime.outbox.put(session, ev.CertificateExpired(
                    certificate_id=row["id"], expired_on=expiry_date(row["birth_date"])))
                await audit.record(session, who, "certificate.expired", "certificate", row["id"],
                                   municipality=row["municipality_code"], details={"status": "expired"})
                total += 1
        if len(rows) < batch:
            return total

