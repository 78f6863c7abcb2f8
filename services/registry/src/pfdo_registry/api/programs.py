"""Programs and their modules: drafting, certification (normative cost, certify, reject) and history."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..domain.program import Module, ProgramStatus, ScheduleSlot, Weekday
from ..service import programs
from . import schemas as s
from .context import SIGNED_IN, RegistryContext, service_problems as _problems

router = APIRouter(tags=["programs"])


def _module(body: s.ModuleIn, module_id: uuid.UUID | None = None) -> Module:
    return Module(
        module_id=str(module_id or uuid.uuid4()), name=body.name, min_age=body.min_age, max_age=body.max_age,
        municipality_code=body.municipality_code, address=body.address,
        schedule=tuple(ScheduleSlot(Weekday(x.weekday), x.starts_at, x.ends_at) for x in body.schedule),
        hours=body.hours, start_date=body.start_date, end_date=body.end_date, capacity=body.capacity,
        price_kopecks=body.price_kopecks, funding_kind=body.funding_kind,
    )


@router.post("/programs", response_model=s.ProgramOut, status_code=201, summary="Create a draft program",
             operation_id="createProgram",
             description=("A draft program of the caller's organisation with its modules; it is submitted for "
                          "certification later."),
             responses=_problems(*SIGNED_IN, "address_required", "age_range_invalid", "capacity_invalid",
                                 "hours_invalid", "module_dates_invalid", "municipality_unknown",
                                 "municipality_code_invalid", "name_required", "price_invalid",
                                 "price_must_be_positive", "schedule_invalid", "duplicate_module_id",
                                 "provider_not_registered"))
async def create_program(
    reg: RegistryContext, body: s.ProgramIn, who: Principal = Depends(require("registry.program.manage")),
) -> dict:
    return await programs.create(reg, who, name=body.name, description=body.description, direction=body.direction,
                                 modules=tuple(_module(m) for m in body.modules))


@router.get("/programs", response_model=Page[s.ProgramOut], summary="List programs in scope",
            operation_id="listPrograms",
            description=("Programs in the caller's scope (providers: their own), by creation; paged with `limit` "
                         "and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_programs(
    reg: RegistryContext,
    status: ProgramStatus | None = Query(default=None, description="Only this status."),
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's programs."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=500)),
    who: Principal = Depends(require("registry.program.read")),
) -> dict:
    scope = f"programs|{status}|{provider_id}"
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
    rows = await programs.list_programs(reg, who, status=status, provider_id=provider_id,
                                        limit=paging.limit + 1, after=keyset)
    return paging.page(rows, scope, lambda p: [p["created_at"].isoformat(), str(p["id"])])


@router.get("/programs/{program_id}", response_model=s.ProgramOut, summary="One program with its modules",
            operation_id="getProgram",
            description="One program with its modules, in the caller's scope (404 otherwise).",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_program(
    reg: RegistryContext, program_id: uuid.UUID, who: Principal = Depends(require("registry.program.read")),
) -> dict:
    return await programs.get(reg, who, program_id)


@router.patch("/programs/{program_id}", response_model=s.ProgramOut,
              summary="Edit name, description, direction (a certified program goes back to submitted)",
              operation_id="editProgram",
              description=("Changes the name, description or direction; a certified program goes back to submitted"
                           " (existing enrolments continue)."),
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "name_required"))
async def edit_program(reg: RegistryContext, program_id: uuid.UUID, body: s.ProgramPatch,
                       who: Principal = Depends(require("registry.program.manage"))) -> dict:
    return await programs.edit(reg, who, program_id, name=body.name, description=body.description,
                               direction=body.direction)


@router.post("/programs/{program_id}/modules", response_model=s.ProgramOut, status_code=201, summary="Add a module",
             operation_id="addModule",
             description="Adds a module (a group of study) to a program that is not certified yet.",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "duplicate_module_id",
                                 "address_required", "age_range_invalid", "capacity_invalid", "hours_invalid",
                                 "module_dates_invalid", "municipality_unknown", "municipality_code_invalid",
                                 "name_required", "price_invalid", "price_must_be_positive", "schedule_invalid"))
async def add_module(reg: RegistryContext, program_id: uuid.UUID, body: s.ModuleIn,
                     who: Principal = Depends(require("registry.program.manage"))) -> dict:
    return await programs.add_module(reg, who, program_id, _module(body))


@router.put("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
            summary="Replace a module (a certified program goes back to submitted)",
            operation_id="replaceModule",
            description=("Replaces a module; a certified program goes back to submitted (existing enrolments "
                         "continue)."),
            responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition",
                                "address_required", "age_range_invalid", "capacity_invalid", "hours_invalid",
                                "module_dates_invalid", "municipality_unknown", "municipality_code_invalid",
                                "name_required", "price_invalid", "price_must_be_positive", "schedule_invalid"))
async def update_module(reg: RegistryContext, program_id: uuid.UUID, module_id: uuid.UUID, body: s.ModuleIn,
                        who: Principal = Depends(require("registry.program.manage"))) -> dict:
    return await programs.update_module(reg, who, program_id, _module(body, module_id))


@router.delete("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
               summary="Remove a module (before certification)",
               operation_id="removeModule",
               description="Removes a module of a program that is not certified yet.",
               responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition"))
async def remove_module(reg: RegistryContext, program_id: uuid.UUID, module_id: uuid.UUID,
                        who: Principal = Depends(require("registry.program.manage"))) -> dict:
    return await programs.remove_module(reg, who, program_id, module_id)


@router.post("/programs/{program_id}/submit", response_model=s.ProgramOut, summary="Submit for certification",
             operation_id="submitProgram",
             description="Sends a draft or rejected program to certification.",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "program_has_no_modules",
                                 "provider_not_active"))
async def submit(
    reg: RegistryContext, program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage")),
) -> dict:
    return await programs.submit(reg, who, program_id)


@router.post("/programs/{program_id}/archive", response_model=s.ProgramOut, summary="Archive a certified program",
             operation_id="archiveProgram",
             description="A certified program leaves the navigator; existing enrolments continue.",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def archive(
    reg: RegistryContext, program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage")),
) -> dict:
    return await programs.archive(reg, who, program_id)


@router.put("/programs/{program_id}/modules/{module_id}/normative-cost", response_model=s.ProgramOut,
            summary="Certifier sets a module's normative cost",
            operation_id="setNormativeCost",
            description=("The certifier sets a module's normative cost in kopecks (the most the certificate pays "
                         "for it)."),
            responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition",
                                "normative_cost_invalid"))
async def normative_cost(reg: RegistryContext, program_id: uuid.UUID, module_id: uuid.UUID, body: s.NormativeCostIn,
                         who: Principal = Depends(require("registry.program.certify"))) -> dict:
    return await programs.set_normative_cost(reg, who, program_id, module_id, body.normative_cost_kopecks)


@router.post("/programs/{program_id}/certify", response_model=s.ProgramOut, summary="Certify (operators)",
             operation_id="certifyProgram",
             description=("Certifies a submitted program whose modules all have a normative cost; it appears in "
                          "the navigator."),
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "normative_cost_missing",
                                 "program_has_no_modules"))
async def certify(
    reg: RegistryContext, program_id: uuid.UUID, who: Principal = Depends(require("registry.program.certify")),
) -> dict:
    return await programs.certify(reg, who, program_id)


@router.post("/programs/{program_id}/reject", response_model=s.ProgramOut, summary="Reject with a reason",
             operation_id="rejectProgram",
             description="Rejects a submitted program with a reason the provider sees.",
             responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
async def reject(reg: RegistryContext, program_id: uuid.UUID, body: s.ReasonIn,
                 who: Principal = Depends(require("registry.program.certify"))) -> dict:
    return await programs.reject(reg, who, program_id, body.reason)


@router.get("/programs/{program_id}/history", response_model=Page[s.HistoryOut],
            summary="Certification history (owner and certifiers)",
            operation_id="listProgramHistory",
            description="Every certification step of a program (who, when, from which status to which, why).",
            responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
async def program_history(reg: RegistryContext, program_id: uuid.UUID,
                          paging: PageRequest = Depends(paging_params(default=100, maximum=500)),
                          who: Principal = Depends(require("registry.program.read"))) -> dict:
    return paging.page_of_all(await programs.history(reg, who, program_id), f"history|{program_id}",
                              lambda h: [f"{h['id']:020d}"])

