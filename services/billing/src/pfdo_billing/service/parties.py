"""The two sides of a payment order: the payee (a provider) and the payer (the municipality whose
certificates the money belongs to), with the bank details the registry validated and published.

Kept from the providers topic (``ProviderRegistered`` with details, ``ProviderDetailsChanged``)
into ``payees`` and from the payers topic (``PayerDetailsChanged``) into ``payers``. An event
applies only when its ``revision`` is higher than the stored one: a duplicate or an older event
arriving late changes nothing, so the newest details win whatever the order of arrival.

Other code reads them with :func:`party_details` (or :func:`payee` / :func:`payer`), inside its
own transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.events import registry as g
from pfdo_plumbing import audit

from pfdo_billing.adapters.tables import PAYEES, PAYERS

from .context import Billing


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a payment order, as a bank file names it (Получатель… / Плательщик…)."""

    name: str
    inn: str
    kpp: str | None
    bank_name: str
    bik: str
    account: str
    correspondent_account: str
    revision: int
    changed_on: dt.date


@dataclass(frozen=True, slots=True)
class PartyDetails:
    """The payee and the payer of one order; ``None`` where billing has not learnt them (yet)."""

    payee: Party | None
    payer: Party | None


_FIELDS = ("name", "inn", "kpp", "bank_name", "bik", "account", "correspondent_account", "revision", "changed_on")


def _party(row: Any) -> Party | None:
    return None if row is None else Party(**{f: row[f] for f in _FIELDS})


async def payee(session: AsyncSession, provider_id: uuid.UUID | str) -> Party | None:
    """The provider's payee details, or None if billing has not received them."""
    row = (await session.execute(
        select(PAYEES).where(PAYEES.c.provider_id == uuid.UUID(str(provider_id)))
    )).mappings().first()
    return _party(row)


async def payer(session: AsyncSession, municipality_code: str) -> Party | None:
    """The municipality's payer details, or None if the regional operator has not set them."""
    row = (await session.execute(
        select(PAYERS).where(PAYERS.c.municipality_code == municipality_code)
    )).mappings().first()
    return _party(row)


async def party_details(session: AsyncSession, *, provider_id: uuid.UUID | str | None = None,
                        payer_code: str | None = None) -> PartyDetails:
    """The payee (by ``provider_id``) and the payer (by municipality ``payer_code``) of an order."""
    return PartyDetails(
        payee=await payee(session, provider_id) if provider_id is not None else None,
        payer=await payer(session, payer_code) if payer_code is not None else None,
    )


# --- keeping them: event handlers -------------------------------------------------------------


async def _apply(session: AsyncSession, table: Table, key: dict[str, Any], d: g.PartyDetails,
                 changed_on: dt.date) -> bool:
    """Upsert the details if their revision is newer than the stored one; True if applied."""
    values = {**key, "name": d.title, "inn": d.inn, "kpp": d.kpp, "bank_name": d.bank_title, "bik": d.bik,
              "account": d.account, "correspondent_account": d.correspondent_account, "revision": d.revision,
              "changed_on": changed_on}
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={**{k: stmt.excluded[k] for k in values if k not in key}, "updated_at": func.now()},
        where=table.c.revision < stmt.excluded.revision,
    ).returning(table.c.revision)
    return (await session.execute(stmt)).first() is not None


async def _payee_changed(session: AsyncSession, provider_id: uuid.UUID, d: g.PartyDetails, changed_on: dt.date,
                         env: Envelope) -> None:
    if await _apply(session, PAYEES, {"provider_id": provider_id}, d, changed_on):
        await audit.record(session, None, "billing.payee.changed", "provider", provider_id,
                           details={"cause_event_id": str(env.id), "revision": d.revision})


async def provider_registered(b: Billing, session: AsyncSession, e: g.ProviderRegistered, env: Envelope) -> None:
    if e.details is not None:  # events written before the details existed carry none
        await _payee_changed(session, e.provider_id, e.details, e.registered_on, env)


async def provider_details_changed(b: Billing, session: AsyncSession, e: g.ProviderDetailsChanged,
                                   env: Envelope) -> None:
    await _payee_changed(session, e.provider_id, e.details, e.changed_on, env)


async def payer_details_changed(b: Billing, session: AsyncSession, e: g.PayerDetailsChanged, env: Envelope) -> None:
    if await _apply(session, PAYERS, {"municipality_code": e.municipality_code}, e.details, e.changed_on):
        await audit.record(session, None, "billing.payer.changed", "municipality", e.municipality_code,
                           municipality=e.municipality_code,
                           details={"cause_event_id": str(env.id), "revision": e.details.revision})
