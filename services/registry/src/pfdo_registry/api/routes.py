"""HTTP routes of the registry (mounted under /api/registry)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal

from ..domain.program import Module, ScheduleSlot, Weekday
from ..service import certificates, programs, providers, reference
from ..service.context import Registry
from . import schemas as s

CODE = PathParam(pattern=r"^[0-9]{2}$", description="Two-digit code.")


def _module(body: s.ModuleIn, module_id: uuid.UUID | None = None) -> Module:
    return Module(
        module_id=str(module_id or uuid.uuid4()), name=body.name, min_age=body.min_age, max_age=body.max_age,
        municipality_code=body.municipality_code, address=body.address,
        schedule=tuple(ScheduleSlot(Weekday(x.weekday), x.starts_at, x.ends_at) for x in body.schedule),
        hours=body.hours, start_date=body.start_date, end_date=body.end_date, capacity=body.capacity,
        price_kopecks=body.price_kopecks, funding_kind=body.funding_kind,
    )


def build_routers(reg: Registry) -> list[APIRouter]:
    ref = APIRouter(tags=["reference"])
    certs = APIRouter(tags=["certificates"])
    provs = APIRouter(tags=["providers"])
    progs = APIRouter(tags=["programs"])

    # --- reference ----------------------------------------------------------------------------

    @ref.get("/municipalities", response_model=list[s.MunicipalityOut], summary="List the region's municipalities")
    async def list_municipalities(_: Principal = Depends(require("registry.municipality.read"))) -> list[dict]:
        return await reference.list_municipalities(reg)

    @ref.put("/municipalities/{code}", response_model=s.MunicipalityOut, summary="Add or rename a municipality")
    async def put_municipality(body: s.MunicipalityIn, code: str = CODE,
                               who: Principal = Depends(require("registry.settings.manage"))) -> dict:
        return await reference.put_municipality(reg, who, code, body.name)

    @ref.get("/settings", response_model=s.SettingsOut, summary="Region settings (age window, auto-approval)")
    async def get_settings(_: Principal = Depends(require("registry.municipality.read"))) -> dict:
        return await reference.get_settings(reg)

    @ref.put("/settings", response_model=s.SettingsOut, summary="Change the region settings")
    async def put_settings(body: s.SettingsIn, who: Principal = Depends(require("registry.settings.manage"))) -> dict:
        return await reference.put_settings(reg, who, **body.model_dump())

    # --- applications and certificates --------------------------------------------------------

    @certs.post("/applications", response_model=s.ApplicationOut, status_code=201,
                summary="Apply for a certificate (once per child)",
                description="A parent or guardian applies for their child; a child of 14+ may apply alone. "
                            "A second application for the same СНИЛС is refused with 409 certificate_duplicate.")
    async def apply(body: s.ApplicationIn, who: Principal = Depends(require("registry.certificate.apply"))) -> dict:
        c = body.child
        return await certificates.apply(
            reg, who,
            certificates.ChildInput(c.surname, c.first_name, c.patronymic, c.birth_date, c.snils, c.municipality_code),
            body.applicant_role,
        )

    @certs.get("/applications", response_model=list[s.ApplicationOut], summary="List applications in scope")
    async def list_applications(
        status: str | None = Query(default=None, pattern="^(pending|approved|refused)$"),
        limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, le=10_000_000),
        who: Principal = Depends(require("registry.application.read")),
    ) -> list[dict]:
        return await certificates.list_applications(reg, who, status=status, limit=limit, offset=offset)

    @certs.get("/applications/{application_id}", response_model=s.ApplicationOut, summary="One application")
    async def get_application(application_id: uuid.UUID,
                              who: Principal = Depends(require("registry.application.read"))) -> dict:
        return await certificates.get_application(reg, who, application_id)

    @certs.post("/applications/{application_id}/approve", response_model=s.ApplicationOut,
                summary="Approve: issue the certificate with its number")
    async def approve(application_id: uuid.UUID,
                      who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.approve(reg, who, application_id)

    @certs.post("/applications/{application_id}/refuse", response_model=s.ApplicationOut,
                summary="Refuse an application with a reason")
    async def refuse(application_id: uuid.UUID, body: s.ReasonIn,
                     who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.refuse(reg, who, application_id, body.reason)

    @certs.get("/children", response_model=list[s.ChildOut], summary="The parent's own children")
    async def list_children(who: Principal = Depends(require("registry.application.read"))) -> list[dict]:
        return await certificates.list_children(reg, who)

    @certs.get("/certificates", response_model=list[s.CertificateOut], summary="List certificates in scope")
    async def list_certificates(
        status: str | None = Query(default=None, pattern="^(active|suspended|expired|closed)$"),
        limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, le=10_000_000),
        who: Principal = Depends(require("registry.certificate.read")),
    ) -> list[dict]:
        return await certificates.list_certificates(reg, who, status=status, limit=limit, offset=offset)

    @certs.get("/certificates/lookup", response_model=s.LookupOut,
               summary="Check a certificate by number and the child's surname (providers, before enrolling)")
    async def lookup(number: str = Query(min_length=10, max_length=14), surname: str = Query(min_length=1, max_length=200),
                     who: Principal = Depends(require("registry.certificate.lookup"))) -> dict:
        return await certificates.lookup(reg, who, number, surname)

    @certs.get("/certificates/{certificate_id}", response_model=s.CertificateOut, summary="One certificate")
    async def get_certificate(certificate_id: uuid.UUID,
                              who: Principal = Depends(require("registry.certificate.read"))) -> dict:
        return await certificates.get_certificate(reg, who, certificate_id)

    @certs.post("/certificates/{certificate_id}/suspend", response_model=s.CertificateOut, summary="Suspend")
    async def suspend(certificate_id: uuid.UUID, body: s.SuspendIn,
                      who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.suspend(reg, who, certificate_id, body.reason, body.reason_code)

    @certs.post("/certificates/{certificate_id}/reinstate", response_model=s.CertificateOut, summary="Reinstate")
    async def reinstate(certificate_id: uuid.UUID,
                        who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.reinstate(reg, who, certificate_id)

    @certs.post("/certificates/{certificate_id}/close", response_model=s.CertificateOut, summary="Close for good")
    async def close(certificate_id: uuid.UUID, body: s.CloseIn,
                    who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.close(reg, who, certificate_id, body.reason, body.note)

    @certs.post("/jobs/expire-certificates", response_model=s.ExpiryJobOut,
                summary="Run the daily expiry job now (idempotent)")
    async def expire(who: Principal = Depends(require("registry.certificate.expire_job"))) -> dict:
        return {"expired": await certificates.expire_due(reg, who)}

    # --- providers ----------------------------------------------------------------------------

    @provs.post("/providers", response_model=s.ProviderOut, status_code=201,
                summary="Register the caller's organisation (moderation starts)")
    async def register(body: s.ProviderIn, who: Principal = Depends(require("registry.provider.register"))) -> dict:
        return await providers.register(reg, who, providers.ProviderInput(**body.model_dump()))

    @provs.get("/providers", response_model=list[s.ProviderOut], summary="List providers in scope")
    async def list_providers(
        status: str | None = Query(default=None, pattern="^(new|active|refused|suspended|excluded)$"),
        municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$"),
        limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0, le=10_000_000),
        who: Principal = Depends(require("registry.provider.read")),
    ) -> list[dict]:
        return await providers.list_providers(reg, who, status=status, municipality=municipality, limit=limit,
                                              offset=offset)

    @provs.get("/providers/{provider_id}", response_model=s.ProviderOut, summary="One provider")
    async def get_provider(provider_id: uuid.UUID, who: Principal = Depends(require("registry.provider.read"))) -> dict:
        return await providers.get(reg, who, provider_id)

    for action in ("approve", "refuse", "suspend", "reinstate", "exclude"):

        async def moderate(provider_id: uuid.UUID, body: s.ModerationIn | None = None,
                           who: Principal = Depends(require("registry.provider.moderate")), _action: str = action) -> dict:
            body = body or s.ModerationIn()
            return await providers.moderate(reg, who, provider_id, _action, reason=body.reason,
                                            reason_code=body.reason_code)

        provs.add_api_route(f"/providers/{{provider_id}}/{action}", moderate, methods=["POST"],
                            response_model=s.ProviderOut, summary=f"Moderation: {action}", name=f"provider_{action}")

    # --- programs -----------------------------------------------------------------------------

    @progs.post("/programs", response_model=s.ProgramOut, status_code=201, summary="Create a draft program")
    async def create_program(body: s.ProgramIn, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.create(reg, who, name=body.name, description=body.description, direction=body.direction,
                                     modules=tuple(_module(m) for m in body.modules))

    @progs.get("/programs", response_model=list[s.ProgramOut], summary="List programs in scope")
    async def list_programs(
        status: str | None = Query(default=None, pattern="^(draft|submitted|certified|rejected|archived)$"),
        provider_id: uuid.UUID | None = None,
        limit: int = Query(default=100, ge=1, le=500), offset: int = Query(default=0, ge=0, le=10_000_000),
        who: Principal = Depends(require("registry.program.read")),
    ) -> list[dict]:
        return await programs.list_programs(reg, who, status=status, provider_id=provider_id, limit=limit, offset=offset)

    @progs.get("/programs/{program_id}", response_model=s.ProgramOut, summary="One program with its modules")
    async def get_program(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.read"))) -> dict:
        return await programs.get(reg, who, program_id)

    @progs.patch("/programs/{program_id}", response_model=s.ProgramOut,
                 summary="Edit name, description, direction (a certified program goes back to submitted)")
    async def edit_program(program_id: uuid.UUID, body: s.ProgramPatch,
                           who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.edit(reg, who, program_id, name=body.name, description=body.description,
                                   direction=body.direction)

    @progs.post("/programs/{program_id}/modules", response_model=s.ProgramOut, status_code=201, summary="Add a module")
    async def add_module(program_id: uuid.UUID, body: s.ModuleIn,
                         who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.add_module(reg, who, program_id, _module(body))

    @progs.put("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
               summary="Replace a module (a certified program goes back to submitted)")
    async def update_module(program_id: uuid.UUID, module_id: uuid.UUID, body: s.ModuleIn,
                            who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.update_module(reg, who, program_id, _module(body, module_id))

    @progs.delete("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
                  summary="Remove a module (before certification)")
    async def remove_module(program_id: uuid.UUID, module_id: uuid.UUID,
                            who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.remove_module(reg, who, program_id, module_id)

    @progs.post("/programs/{program_id}/submit", response_model=s.ProgramOut, summary="Submit for certification")
    async def submit(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.submit(reg, who, program_id)

    @progs.post("/programs/{program_id}/archive", response_model=s.ProgramOut, summary="Archive a certified program")
    async def archive(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.archive(reg, who, program_id)

    @progs.put("/programs/{program_id}/modules/{module_id}/normative-cost", response_model=s.ProgramOut,
               summary="Certifier sets a module's normative cost")
    async def normative_cost(program_id: uuid.UUID, module_id: uuid.UUID, body: s.NormativeCostIn,
                             who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.set_normative_cost(reg, who, program_id, module_id, body.normative_cost_kopecks)

    @progs.post("/programs/{program_id}/certify", response_model=s.ProgramOut, summary="Certify (operators)")
    async def certify(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.certify(reg, who, program_id)

    @progs.post("/programs/{program_id}/reject", response_model=s.ProgramOut, summary="Reject with a reason")
    async def reject(program_id: uuid.UUID, body: s.ReasonIn,
                     who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.reject(reg, who, program_id, body.reason)

    @progs.get("/programs/{program_id}/history", response_model=list[s.HistoryOut],
               summary="Certification history (owner and certifiers)")
    async def program_history(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.read"))) -> list[dict]:
        return await programs.history(reg, who, program_id)

    return [ref, certs, provs, progs]


__all__ = ["build_routers"]
