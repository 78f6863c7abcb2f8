"""Use cases of the providers' registry: registration, the payee details, moderation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import ProviderStatus as ContractProviderStatus
from pfdo_contracts.common import ProviderType as ContractProviderType
from pfdo_contracts.events import registry as ev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role

from ..adapters.tables import PROVIDERS
from ..domain import provider as pdomain
from ..domain.bank_details import BankDetails, validate_bank_details
from ..domain.errors import DomainError
from ..domain.provider import Provider, ProviderIdentifiers, ProviderStatus, ProviderType
from .context import Registry, not_found, require_municipality


@dataclass(frozen=True)
class ProviderInput:
    provider_type: ProviderType
    name: str
    inn: str
    ogrn: str
    kpp: str | None
    municipality_code: str
    address: str
    bank_name: str
    bik: str
    settlement_account: str
    correspondent_account: str


@dataclass(frozen=True)
class BankDetailsInput:
    bank_name: str
    bik: str
    settlement_account: str
    correspondent_account: str


def check_bank_details(data: ProviderInput | BankDetailsInput) -> BankDetails:
    """The payee's bank details, checked with the accounts' control keys (domain.bank_details)."""
    return validate_bank_details(bank_name=data.bank_name, bik=data.bik, settlement_account=data.settlement_account,
                                 correspondent_account=data.correspondent_account)


def payee_details(row: Any) -> ev.PartyDetails | None:
    """The provider's payee details as events carry them (None for a row registered before 0006)."""
    if row["correspondent_account"] is None:
        return None
    return ev.PartyDetails(
        title=row["name"], inn=row["inn"], kpp=row["kpp"], bank_title=row["bank_name"], bik=row["bik"],
        account=row["settlement_account"], correspondent_account=row["correspondent_account"],
        revision=row["details_revision"],
    )


def owns(who: Principal, row: Any) -> bool:
    return who.role == Role.PROVIDER and (who.is_provider(row["id"]) or row["owner_sub"] == who.sub)


def can_see(who: Principal, row: Any) -> bool:
    if owns(who, row) or who.covers_municipality(row["municipality_code"]):
        return True
    if who.role in (Role.FINANCE,):
        return True
    return row["status"] == ProviderStatus.ACTIVE.value  # the public registry lists active providers


async def register(reg: Registry, who: Principal, data: ProviderInput) -> dict:
    if who.provider_id:
        try:
            provider_id = uuid.UUID(who.provider_id)
        except ValueError as exc:
            raise DomainError("provider_id_invalid", "The token's provider id is not a UUID.") from exc
    else:
        provider_id = uuid.uuid4()
    new = pdomain.register(
        provider_id=str(provider_id), provider_type=data.provider_type, name=data.name, inn=data.inn,
        ogrn=data.ogrn, kpp=data.kpp, municipality_code=data.municipality_code,
    ).state
    bank = check_bank_details(data)
    today = reg.today()
    try:
        async with reg.runtime.db.transaction() as session:
            await require_municipality(session, data.municipality_code)
            clash = (
                await session.execute(
                    select(PROVIDERS.c.id).where(
                        or_(PROVIDERS.c.id == provider_id, PROVIDERS.c.inn == new.identifiers.inn,
                            PROVIDERS.c.ogrn == new.identifiers.ogrn)
                    )
                )
            ).first()
            if clash is not None:
                raise DomainError("provider_duplicate", "A provider with these identifiers is already registered.")
            row = (await session.execute(
                insert(PROVIDERS).values(
                    id=provider_id, owner_sub=who.sub, provider_type=new.provider_type.value, name=new.name,
                    inn=new.identifiers.inn, ogrn=new.identifiers.ogrn, kpp=new.identifiers.kpp,
                    municipality_code=new.municipality_code, address=(data.address or "").strip(),
                    bank_name=bank.bank_name, bik=bank.bik, settlement_account=bank.settlement_account,
                    correspondent_account=bank.correspondent_account, details_revision=1,
                    status=new.status.value, registered_on=today,
                ).returning(PROVIDERS)
            )).mappings().one()
            await reg.runtime.outbox.put(session, ev.ProviderRegistered(
                provider_id=provider_id, provider_type=ContractProviderType(new.provider_type.value),
                municipality_code=new.municipality_code, status=ContractProviderStatus.NEW, registered_on=today,
                details=payee_details(row),
            ))
            await audit.record(session, who, "provider.registered", "provider", provider_id,
                               municipality=new.municipality_code, details={"status": "new"})
    except IntegrityError as exc:
        raise DomainError("provider_duplicate", "A provider with these identifiers is already registered.") from exc
    return await get(reg, who, provider_id)


async def change_bank_details(reg: Registry, who: Principal, provider_id: uuid.UUID, data: BankDetailsInput) -> dict:
    """The provider itself, or an operator of its municipality, replaces its payee details (any status: an
    excluded provider is still paid what it earned). Publishes ``ProviderDetailsChanged`` with the next revision;
    an unchanged set of details changes nothing."""
    bank = check_bank_details(data)
    async with reg.runtime.db.transaction() as session:
        row = await load_for_update(session, provider_id)
        operator = who.is_operator() and who.covers_municipality(row["municipality_code"]) if row else False
        if row is None or not (owns(who, row) or operator):
            raise not_found("Provider")
        values = {"bank_name": bank.bank_name, "bik": bank.bik, "settlement_account": bank.settlement_account,
                  "correspondent_account": bank.correspondent_account}
        if any(row[k] != v for k, v in values.items()):
            row = (await session.execute(
                update(PROVIDERS).where(PROVIDERS.c.id == provider_id).values(
                    **values, details_revision=PROVIDERS.c.details_revision + 1, updated_at=func.now(),
                ).returning(PROVIDERS)
            )).mappings().one()
            await reg.runtime.outbox.put(session, ev.ProviderDetailsChanged(
                provider_id=provider_id, details=payee_details(row), changed_on=reg.today(),
            ))
            await audit.record(session, who, "provider.details_changed", "provider", provider_id,
                               municipality=row["municipality_code"],
                               details={"fields": sorted(values), "revision": row["details_revision"]})
    return await get(reg, who, provider_id)


async def get(reg: Registry, who: Principal, provider_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row = (await session.execute(select(PROVIDERS).where(PROVIDERS.c.id == provider_id))).mappings().first()
    if row is None or not can_see(who, row):
        raise not_found("Provider")
    return _view(who, row)


def _view(who: Principal, row: Any) -> dict:
    data = dict(row)
    if not (owns(who, row) or who.is_operator() or who.role in (Role.FINANCE, Role.SERVICE)):
        for field in ("bank_name", "bik", "settlement_account", "correspondent_account", "details_revision"):
            data[field] = None  # bank details: the provider itself and staff only
    return data


async def list_providers(reg: Registry, who: Principal, *, status: str | None, municipality: str | None,
                         limit: int, after: tuple[str, uuid.UUID] | None = None) -> list[dict]:
    """Providers in scope by name (then id), after the keyset ``after``."""
    query = select(PROVIDERS)
    if who.role == Role.PROVIDER:
        query = query.where(or_(PROVIDERS.c.owner_sub == who.sub, PROVIDERS.c.id == _uuid_or_none(who.provider_id),
                                PROVIDERS.c.status == "active"))
    elif who.role == Role.MUNICIPAL_OPERATOR:
        query = query.where(or_(PROVIDERS.c.municipality_code == who.municipality, PROVIDERS.c.status == "active"))
    elif who.role == Role.PARENT:
        query = query.where(PROVIDERS.c.status == "active")
    if status:
        query = query.where(PROVIDERS.c.status == status)
    if municipality:
        query = query.where(PROVIDERS.c.municipality_code == municipality)
    if after is not None:
        query = query.where(tuple_(PROVIDERS.c.name, PROVIDERS.c.id) > tuple_(*after))
    query = query.order_by(PROVIDERS.c.name, PROVIDERS.c.id).limit(limit)
    async with reg.runtime.db.transaction() as session:
        return [_view(who, r) for r in (await session.execute(query)).mappings()]


def _uuid_or_none(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def load_for_update(session: AsyncSession, provider_id: uuid.UUID) -> dict | None:
    row = (
        await session.execute(select(PROVIDERS).where(PROVIDERS.c.id == provider_id).with_for_update())
    ).mappings().first()
    return dict(row) if row else None


def as_domain(row: Any) -> Provider:
    return Provider(
        provider_id=str(row["id"]), provider_type=ProviderType(row["provider_type"]), name=row["name"],
        identifiers=ProviderIdentifiers(inn=row["inn"], ogrn=row["ogrn"], kpp=row["kpp"]),
        municipality_code=row["municipality_code"], status=ProviderStatus(row["status"]),
        status_reason=row["status_reason"],
    )


_DEFAULT_REASON = {
    "approve": ev.ProviderStatusReason.MODERATION_PASSED,
    "refuse": ev.ProviderStatusReason.MODERATION_FAILED,
    "suspend": ev.ProviderStatusReason.OPERATOR_DECISION,
    "reinstate": ev.ProviderStatusReason.OPERATOR_DECISION,
    "exclude": ev.ProviderStatusReason.VIOLATION,
}


async def moderate(reg: Registry, who: Principal, provider_id: uuid.UUID, action: str, *, reason: str | None,
                   reason_code: ev.ProviderStatusReason | None) -> dict:
    async with reg.runtime.db.transaction() as session:
        row = await load_for_update(session, provider_id)
        if row is None or not who.covers_municipality(row["municipality_code"]):
            raise not_found("Provider")
        current = as_domain(row)
        if action == "approve":
            new = pdomain.approve(current).state
        elif action == "refuse":
            new = pdomain.refuse(current, reason=reason or "").state
        elif action == "suspend":
            new = pdomain.suspend(current, reason=reason or "").state
        elif action == "reinstate":
            new = pdomain.reinstate(current).state
        elif action == "exclude":
            new = pdomain.exclude(current, reason=reason or "").state
        else:  # pragma: no cover - the router only offers the five
            raise ValueError(action)
        today = reg.today()
        await session.execute(
            update(PROVIDERS).where(PROVIDERS.c.id == provider_id).values(
                status=new.status.value, status_reason=new.status_reason, updated_at=func.now()
            )
        )
        code = reason_code or _DEFAULT_REASON[action]
        await reg.runtime.outbox.put(session, ev.ProviderStatusChanged(
            provider_id=provider_id, old_status=ContractProviderStatus(current.status.value),
            new_status=ContractProviderStatus(new.status.value), reason=code, changed_on=today,
        ))
        await audit.record(session, who, f"provider.{action}", "provider", provider_id,
                           municipality=row["municipality_code"],
                           details={"from": current.status.value, "to": new.status.value, "reason": code.value})
    return await get(reg, who, provider_id)
