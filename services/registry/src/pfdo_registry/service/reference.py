"""Reference data: municipalities with their payer details, and the region's settings (regional operators)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pfdo_contracts.events import registry as ev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal

from ..adapters.tables import MUNICIPALITIES, REGION_SETTINGS
from ..domain.bank_details import validate_payer_details
from ..domain.certificate_number import is_valid_code
from ..domain.errors import DomainError
from .context import Registry, not_found, region_settings

_PAYER_FIELDS = ("authority_name", "inn", "kpp", "bank_name", "bik", "settlement_account", "correspondent_account")
_PAYER_COLUMNS = dict(zip(_PAYER_FIELDS, ("payer_title", "payer_inn", "payer_kpp", "payer_bank_name", "payer_bik",
                                          "payer_account", "payer_correspondent_account"), strict=True))


@dataclass(frozen=True)
class PayerDetailsInput:
    authority_name: str
    inn: str
    kpp: str
    bank_name: str
    bik: str
    settlement_account: str
    correspondent_account: str


def _view(row: Any) -> dict:
    """A municipality with its payer details nested (``payer`` is None until they are set)."""
    data = {k: row[k] for k in ("code", "name", "region_code", "children_count")}
    data["payer"] = None if row["payer_revision"] == 0 else {
        **{field: row[column] for field, column in _PAYER_COLUMNS.items()},
        "revision": row["payer_revision"], "changed_on": row["payer_changed_on"],
    }
    return data


def payer_details(row: Any) -> ev.PartyDetails:
    """The municipality's payer details as the payers topic carries them."""
    return ev.PartyDetails(
        title=row["payer_title"], inn=row["payer_inn"], kpp=row["payer_kpp"], bank_title=row["payer_bank_name"],
        bik=row["payer_bik"], account=row["payer_account"], correspondent_account=row["payer_correspondent_account"],
        revision=row["payer_revision"],
    )


async def list_municipalities(reg: Registry) -> list[dict]:
    async with reg.runtime.db.transaction() as session:
        rows = (await session.execute(select(MUNICIPALITIES).order_by(MUNICIPALITIES.c.code))).mappings().all()
    return [_view(r) for r in rows]


async def put_payer_details(reg: Registry, who: Principal, code: str, data: PayerDetailsInput) -> dict:
    """The regional operator sets the payer of a municipality's certificates (checked like a payee's details);
    publishes ``PayerDetailsChanged`` with the next revision. Unchanged details change nothing."""
    checked = validate_payer_details(**{field: getattr(data, field) for field in _PAYER_FIELDS})
    values = {"payer_title": checked.authority_name, "payer_inn": checked.inn, "payer_kpp": checked.kpp,
              "payer_bank_name": checked.bank.bank_name, "payer_bik": checked.bank.bik,
              "payer_account": checked.bank.settlement_account,
              "payer_correspondent_account": checked.bank.correspondent_account}
    async with reg.runtime.db.transaction() as session:
        row = (await session.execute(
            select(MUNICIPALITIES).where(MUNICIPALITIES.c.code == code).with_for_update()
        )).mappings().first()
        if row is None:
            raise not_found("Municipality")
        if any(row[k] != v for k, v in values.items()):
            row = (await session.execute(
                update(MUNICIPALITIES).where(MUNICIPALITIES.c.code == code).values(
                    **values, payer_changed_on=reg.today(), payer_revision=MUNICIPALITIES.c.payer_revision + 1,
                ).returning(MUNICIPALITIES)
            )).mappings().one()
            await reg.runtime.outbox.put(session, ev.PayerDetailsChanged(
                municipality_code=code, details=payer_details(row), changed_on=row["payer_changed_on"],
            ))
            await audit.record(session, who, "municipality.payer_changed", "municipality", code, municipality=code,
                               details={"fields": sorted(_PAYER_FIELDS), "revision": row["payer_revision"]})
    return _view(row)


UNCHANGED = object()
"""``children_count`` left out of the request: the stored figure stays."""


async def put_municipality(reg: Registry, who: Principal, code: str, name: str, *,
                           children_count: int | None | object = UNCHANGED) -> dict:
    if not is_valid_code(code):
        raise DomainError("municipality_code_invalid", "A municipality code is two digits 01..99.")
    if not name.strip():
        raise DomainError("name_required", "The municipality's name is required.")
    async with reg.runtime.db.transaction() as session:
        region = (await region_settings(session))["region_code"]
        values = {"code": code, "name": name.strip(), "region_code": region, "last_certificate_seq": 0}
        changed = {"name": MUNICIPALITIES.c.name}
        if children_count is not UNCHANGED:
            values["children_count"] = children_count
            changed["children_count"] = MUNICIPALITIES.c.children_count
        stmt = pg_insert(MUNICIPALITIES).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=[MUNICIPALITIES.c.code],
                                          set_={name_: stmt.excluded[column.key] for name_, column in changed.items()})
        await session.execute(stmt)
        await audit.record(session, who, "municipality.saved", "municipality", code, municipality=code,
                           details={"fields": sorted(changed)})
        row = (await session.execute(select(MUNICIPALITIES).where(MUNICIPALITIES.c.code == code))).mappings().one()
    return _view(row)


async def get_settings(reg: Registry) -> dict:
    async with reg.runtime.db.transaction() as session:
        return await region_settings(session)


async def put_settings(reg: Registry, who: Principal, *, region_code: str, auto_approve: bool, min_age: int,
                       max_age: int) -> dict:
    if not is_valid_code(region_code):
        raise DomainError("region_code_invalid", "A region code is two digits 01..99.")
    if not 0 <= min_age <= max_age <= 17:
        raise DomainError("age_window_invalid", "The age window must satisfy 0 <= min <= max <= 17.")
    async with reg.runtime.db.transaction() as session:
        await session.execute(update(REGION_SETTINGS).where(REGION_SETTINGS.c.id == 1).values(
            region_code=region_code, auto_approve=auto_approve, min_age=min_age, max_age=max_age))
        await audit.record(session, who, "settings.saved", "region_settings", 1,
                           details={"auto_approve": auto_approve, "min_age": min_age, "max_age": max_age})
        return await region_settings(session)
