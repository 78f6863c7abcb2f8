"""Use cases of programs, their modules and their certification.

Every saved change increments the program's ``revision``; the published snapshots carry it,
so consumers keep the newest one. Programs that were never certified are private to their
provider and the certifiers: nothing is published until the first certification.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import Direction as ContractDirection
from pfdo_contracts.common import FundingKind as ContractFundingKind
from pfdo_contracts.common import ProgramState, ScheduleSlot as ContractSlot
from pfdo_contracts.events import registry as ev
from pfdo_plumbing import audit
from pfdo_plumbing.auth.principal import Principal, Role

from ..adapters.tables import CERTIFICATION_HISTORY, MODULES, PROGRAMS, PROVIDERS
from ..domain import program as pd
from ..domain.errors import DomainError
from ..domain.program import Direction, FundingKind, Module, Program, ProgramStatus, ScheduleSlot, Weekday
from ..domain.provider import ProviderStatus
from .context import Registry, not_found, require_municipality

# --- mapping -----------------------------------------------------------------------------------


def schedule_to_json(slots: tuple[ScheduleSlot, ...]) -> list[dict]:
    return [{"weekday": int(s.weekday), "starts_at": s.starts_at.isoformat("minutes"),
             "ends_at": s.ends_at.isoformat("minutes")} for s in slots]


def schedule_from_json(items: list[dict]) -> tuple[ScheduleSlot, ...]:
    return tuple(
        ScheduleSlot(Weekday(int(i["weekday"])), dt.time.fromisoformat(i["starts_at"]), dt.time.fromisoformat(i["ends_at"]))
        for i in items
    )


def module_row(program_id: uuid.UUID, position: int, m: Module) -> dict:
    return {
        "id": uuid.UUID(m.module_id), "program_id": program_id, "position": position, "name": m.name,
        "min_age": m.min_age, "max_age": m.max_age, "municipality_code": m.municipality_code, "address": m.address,
        "schedule": schedule_to_json(m.schedule), "hours": m.hours, "start_date": m.start_date,
        "end_date": m.end_date, "capacity": m.capacity, "price_kopecks": m.price_kopecks,
        "funding_kind": FundingKind(m.funding_kind).value, "normative_cost_kopecks": m.normative_cost_kopecks,
    }


def module_from_row(r: Any) -> Module:
    return Module(
        module_id=str(r["id"]), name=r["name"], min_age=r["min_age"], max_age=r["max_age"],
        municipality_code=r["municipality_code"], address=r["address"], schedule=schedule_from_json(r["schedule"]),
        hours=r["hours"], start_date=r["start_date"], end_date=r["end_date"], capacity=r["capacity"],
        price_kopecks=r["price_kopecks"], funding_kind=FundingKind(r["funding_kind"]),
        normative_cost_kopecks=r["normative_cost_kopecks"],
    )


def snapshot_fields(p: Program, revision: int) -> dict:
    first = p.modules[0]
    funding = (
        ContractFundingKind.CERTIFICATE
        if any(m.funding_kind is FundingKind.CERTIFICATE for m in p.modules)
        else ContractFundingKind.MUNICIPAL_TASK
    )
    return {
        "program_id": uuid.UUID(p.program_id), "provider_id": uuid.UUID(p.provider_id), "revision": revision,
        "title": p.name, "description": p.description, "direction": ContractDirection(p.direction.value),
        "municipality_code": first.municipality_code, "venue_address": first.address,
        "age_min": p.min_age, "age_max": p.max_age, "funding_kind": funding,
        "modules": [
            ev.ModuleSnapshot(
                module_id=uuid.UUID(m.module_id), title=m.name, start_date=m.start_date, end_date=m.end_date,
                schedule=[ContractSlot(weekday=int(s.weekday), starts_at=s.starts_at, ends_at=s.ends_at) for s in m.schedule],
                hours=m.hours, capacity=m.capacity, price_kopecks=m.price_kopecks,
                normative_cost_kopecks=m.normative_cost_kopecks, lessons_per_week=len(m.schedule),
            )
            for m in p.modules
        ],
    }


def certified_event(p: Program, revision: int, on: dt.date) -> ev.ProgramCertified:
    return ev.ProgramCertified(**snapshot_fields(p, revision), certified_on=on)


# --- loading and saving ------------------------------------------------------------------------


async def _load(session: AsyncSession, program_id: uuid.UUID, *, lock: bool) -> tuple[dict, Program] | None:
    query = select(PROGRAMS, PROVIDERS.c.owner_sub, PROVIDERS.c.municipality_code.label("provider_municipality"),
                   PROVIDERS.c.status.label("provider_status")).select_from(
        PROGRAMS.join(PROVIDERS, PROVIDERS.c.id == PROGRAMS.c.provider_id)).where(PROGRAMS.c.id == program_id)
    if lock:
        query = query.with_for_update(of=PROGRAMS)
    row = (await session.execute(query)).mappings().first()
    if row is None:
        return None
    modules = (
        await session.execute(select(MODULES).where(MODULES.c.program_id == program_id).order_by(MODULES.c.position))
    ).mappings().all()
    program = Program(
        program_id=str(row["id"]), provider_id=str(row["provider_id"]), name=row["name"],
        description=row["description"], direction=Direction(row["direction"]),
        modules=tuple(module_from_row(m) for m in modules), status=ProgramStatus(row["status"]),
        status_reason=row["status_reason"], certified_before=row["certified_before"],
    )
    return dict(row), program


def _owns(who: Principal, row: dict) -> bool:
    return who.role == Role.PROVIDER and (who.is_provider(row["provider_id"]) or row["owner_sub"] == who.sub)


def _visible(who: Principal, row: dict) -> bool:
    if _owns(who, row) or who.covers_municipality(row["provider_municipality"]):
        return True
    return row["status"] == ProgramStatus.CERTIFIED.value


async def _for_provider(session: AsyncSession, who: Principal, program_id: uuid.UUID) -> tuple[dict, Program]:
    loaded = await _load(session, program_id, lock=True)
    if loaded is None or not _owns(who, loaded[0]):
        raise not_found("Program")
    return loaded


async def _for_operator(session: AsyncSession, who: Principal, program_id: uuid.UUID) -> tuple[dict, Program]:
    loaded = await _load(session, program_id, lock=True)
    if loaded is None or not who.covers_municipality(loaded[0]["provider_municipality"]):
        raise not_found("Program")
    return loaded


async def _save(reg: Registry, session: AsyncSession, who: Principal, row: dict, old: Program, new: Program,
                *, action: str, domain_event: str | None, reason: str | None = None) -> int:
    """Write the program and its modules, bump the revision, publish, record history + audit."""
    program_id = uuid.UUID(new.program_id)
    revision = row["revision"] + 1
    certified_before = new.certified_before or old.certified_before
    await session.execute(
        update(PROGRAMS).where(PROGRAMS.c.id == program_id).values(
            name=new.name, description=new.description, direction=new.direction.value, status=new.status.value,
            status_reason=new.status_reason, certified_before=certified_before, revision=revision,
            updated_at=func.now(),
        )
    )
    if new.modules != old.modules:
        await session.execute(delete(MODULES).where(MODULES.c.program_id == program_id))
        if new.modules:
            await session.execute(insert(MODULES), [module_row(program_id, i, m) for i, m in enumerate(new.modules)])
    today = reg.today()
    event: Any = None
    if domain_event == pd.ProgramEvent.CERTIFIED.value:
        event = certified_event(new, revision, today)
    elif domain_event == pd.ProgramEvent.ARCHIVED.value:
        event = ev.ProgramArchived(program_id=program_id, provider_id=uuid.UUID(new.provider_id), revision=revision,
                                   archived_on=today)
    elif certified_before and new.modules:
        event = ev.ProgramChanged(**snapshot_fields(new, revision), state=ProgramState(new.status.value))
    if event is not None:
        await reg.runtime.outbox.put(session, event)
    if old.status != new.status or action in ("certify", "reject", "archive", "submit"):
        await session.execute(insert(CERTIFICATION_HISTORY).values(
            program_id=program_id, action=action, from_status=old.status.value, to_status=new.status.value,
            revision=revision, actor_sub=who.sub, actor_role=who.role.value, reason=reason,
        ))
    await audit.record(session, who, f"program.{action}", "program", program_id,
                       municipality=row["provider_municipality"],
                       details={"from": old.status.value, "to": new.status.value, "revision": revision})
    return revision


# --- provider side -----------------------------------------------------------------------------


async def _my_provider(session: AsyncSession, who: Principal) -> dict:
    conds = [PROVIDERS.c.owner_sub == who.sub]
    if who.provider_id:
        try:
            conds.append(PROVIDERS.c.id == uuid.UUID(who.provider_id))
        except ValueError:
            pass
    row = (await session.execute(select(PROVIDERS).where(or_(*conds)).limit(1))).mappings().first()
    if row is None:
        raise DomainError("provider_not_registered", "Register your organisation first.")
    return dict(row)


async def _check_municipalities(session: AsyncSession, modules: tuple[Module, ...]) -> None:
    for code in sorted({m.municipality_code for m in modules}):
        await require_municipality(session, code)


async def create(reg: Registry, who: Principal, *, name: str, description: str, direction: Direction,
                 modules: tuple[Module, ...]) -> dict:
    program_id = uuid.uuid4()
    async with reg.runtime.db.transaction() as session:
        provider = await _my_provider(session, who)
        program = pd.create_program(program_id=str(program_id), provider_id=str(provider["id"]), name=name,
                                    description=description, direction=direction, modules=modules).state
        program = replace(program, modules=tuple(replace(m, normative_cost_kopecks=None) for m in program.modules))
        await _check_municipalities(session, program.modules)
        await session.execute(insert(PROGRAMS).values(
            id=program_id, provider_id=provider["id"], name=program.name, description=program.description,
            direction=program.direction.value, status=program.status.value, certified_before=False, revision=1,
        ))
        if program.modules:
            await session.execute(insert(MODULES), [module_row(program_id, i, m) for i, m in enumerate(program.modules)])
        await audit.record(session, who, "program.created", "program", program_id,
                           municipality=provider["municipality_code"], details={"status": "draft"})
    return await get(reg, who, program_id)


async def edit(reg: Registry, who: Principal, program_id: uuid.UUID, *, name: str | None, description: str | None,
               direction: Direction | None) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.edit_details(old, name=name, description=description, direction=direction)
        await _save(reg, session, who, row, old, t.state, action="edit", domain_event=t.event)
    return await get(reg, who, program_id)


async def add_module(reg: Registry, who: Principal, program_id: uuid.UUID, module: Module) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.add_module(old, module)
        await _check_municipalities(session, (module,))
        await _save(reg, session, who, row, old, t.state, action="add_module", domain_event=t.event)
    return await get(reg, who, program_id)


async def update_module(reg: Registry, who: Principal, program_id: uuid.UUID, module: Module) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.update_module(old, module)
        await _check_municipalities(session, (module,))
        await _save(reg, session, who, row, old, t.state, action="update_module", domain_event=t.event)
    return await get(reg, who, program_id)


async def remove_module(reg: Registry, who: Principal, program_id: uuid.UUID, module_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.remove_module(old, str(module_id))
        await _save(reg, session, who, row, old, t.state, action="remove_module", domain_event=t.event)
    return await get(reg, who, program_id)


async def submit(reg: Registry, who: Principal, program_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.submit(old, provider_status=ProviderStatus(row["provider_status"]))
        await _save(reg, session, who, row, old, t.state, action="submit", domain_event=t.event)
    return await get(reg, who, program_id)


async def archive(reg: Registry, who: Principal, program_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_provider(session, who, program_id)
        t = pd.archive(old)
        await _save(reg, session, who, row, old, t.state, action="archive", domain_event=t.event)
    return await get(reg, who, program_id)


# --- certifier side ----------------------------------------------------------------------------


async def set_normative_cost(reg: Registry, who: Principal, program_id: uuid.UUID, module_id: uuid.UUID,
                             cost_kopecks: int) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_operator(session, who, program_id)
        t = pd.set_normative_cost(old, str(module_id), cost_kopecks)
        await _save(reg, session, who, row, old, t.state, action="set_normative_cost", domain_event=t.event)
    return await get(reg, who, program_id)


async def certify(reg: Registry, who: Principal, program_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_operator(session, who, program_id)
        t = pd.certify(old)
        await _save(reg, session, who, row, old, t.state, action="certify", domain_event=t.event)
    return await get(reg, who, program_id)


async def reject(reg: Registry, who: Principal, program_id: uuid.UUID, reason: str) -> dict:
    async with reg.runtime.db.transaction() as session:
        row, old = await _for_operator(session, who, program_id)
        t = pd.reject(old, reason=reason)
        await _save(reg, session, who, row, old, t.state, action="reject", domain_event=t.event, reason=t.state.status_reason)
    return await get(reg, who, program_id)


# --- reading -----------------------------------------------------------------------------------


def _view(row: dict, program: Program) -> dict:
    return {
        "id": row["id"], "provider_id": row["provider_id"], "name": program.name, "description": program.description,
        "direction": program.direction.value, "status": program.status.value, "status_reason": program.status_reason,
        "revision": row["revision"], "certified_before": row["certified_before"],
        "modules": [{**module_row(row["id"], i, m), "schedule": schedule_to_json(m.schedule)}
                    for i, m in enumerate(program.modules)],
    }


async def get(reg: Registry, who: Principal, program_id: uuid.UUID) -> dict:
    async with reg.runtime.db.transaction() as session:
        loaded = await _load(session, program_id, lock=False)
    if loaded is None or not _visible(who, loaded[0]):
        raise not_found("Program")
    return _view(*loaded)


async def list_programs(reg: Registry, who: Principal, *, status: str | None, provider_id: uuid.UUID | None,
                        limit: int, after: tuple[dt.datetime, uuid.UUID] | None = None) -> list[dict]:
    """Programs in scope, oldest first (created_at, then id), after the keyset ``after``; each with its
    ``created_at`` (the key of the next page)."""
    query = select(PROGRAMS.c.id, PROGRAMS.c.created_at).select_from(PROGRAMS.join(PROVIDERS, PROVIDERS.c.id == PROGRAMS.c.provider_id))
    if who.role == Role.PROVIDER:
        mine = [PROVIDERS.c.owner_sub == who.sub]
        if who.provider_id:
            try:
                mine.append(PROVIDERS.c.id == uuid.UUID(who.provider_id))
            except ValueError:
                pass
        query = query.where(or_(*mine, PROGRAMS.c.status == "certified"))
    elif who.role == Role.MUNICIPAL_OPERATOR:
        query = query.where(or_(PROVIDERS.c.municipality_code == who.municipality, PROGRAMS.c.status == "certified"))
    elif who.role not in (Role.REGIONAL_OPERATOR, Role.SERVICE):
        query = query.where(PROGRAMS.c.status == "certified")
    if status:
        query = query.where(PROGRAMS.c.status == status)
    if provider_id:
        query = query.where(PROGRAMS.c.provider_id == provider_id)
    if after is not None:
        query = query.where(tuple_(PROGRAMS.c.created_at, PROGRAMS.c.id) > tuple_(*after))
    query = query.order_by(PROGRAMS.c.created_at, PROGRAMS.c.id).limit(limit)
    out = []
    async with reg.runtime.db.transaction() as session:
        keys = [(r.id, r.created_at) for r in (await session.execute(query))]
        for pid, created_at in keys:
            loaded = await _load(session, pid, lock=False)
            if loaded is not None:
                out.append({**_view(*loaded), "created_at": created_at})
    return out


async def history(reg: Registry, who: Principal, program_id: uuid.UUID) -> list[dict]:
    async with reg.runtime.db.transaction() as session:
        loaded = await _load(session, program_id, lock=False)
        if loaded is None or not (_owns(who, loaded[0]) or who.covers_municipality(loaded[0]["provider_municipality"])):
            raise not_found("Program")
        rows = (await session.execute(
            select(CERTIFICATION_HISTORY).where(CERTIFICATION_HISTORY.c.program_id == program_id)
            .order_by(CERTIFICATION_HISTORY.c.id))).mappings().all()
    return [dict(r) for r in rows]
