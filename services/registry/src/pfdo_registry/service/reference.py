"""Reference data: municipalities and the region's settings (regional operators)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal

from ..adapters.tables import MUNICIPALITIES, REGION_SETTINGS
from ..domain.certificate_number import is_valid_code
from ..domain.errors import DomainError
from .context import Registry, region_settings


async def list_municipalities(reg: Registry) -> list[dict]:
    async with reg.runtime.db.transaction() as session:
        rows = (await session.execute(select(MUNICIPALITIES).order_by(MUNICIPALITIES.c.code))).mappings().all()
    return [dict(r) for r in rows]


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
    return dict(row)


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
