"""HTTP routes of the registry (mounted under /api/registry)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.errors import problems
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..domain.program import Module, ProgramStatus, ScheduleSlot, Weekday
from ..domain.provider import ProviderStatus
from ..service import certificates, programs, providers, reference
from ..service.context import Registry
from . import schemas as s


SIGNED_IN = ("unauthenticated", "forbidden", "validation_error")
"""Codes any signed-in call may answer with (rate limits and outages are documented for every operation)."""


def _problems(*codes: str) -> dict[int | str, dict]:
    """The ``responses=`` of an operation: the problem answers it can give, with this service's texts."""
    return problems(*codes, service="registry")

class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class IssuedCertificateStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CLOSED = "closed"


CODE = PathParam(pattern=r"^[0-9]{2}$", description="Two-digit code.")


def _module(body: s.ModuleIn, module_id: uuid.UUID | None = None) -> Module:
    return Module(
        module_id=str(module_id or uuid.uuid4()), name=body.name, min_age=body.min_age, max_age=body.max_age,
        municipality_code=body.municipality_code, address=body.address,
        schedule=tuple(ScheduleSlot(Weekday(x.weekday), x.starts_at, x.ends_at) for x in body.schedule),
        hours=body.hours, start_date=body.start_date, end_date=body.end_date, capacity=body.capacity,
        price_kopecks=body.price_kopecks, funding_kind=body.funding_kind,
    )


_MODERATION = {
    "approve": "A new provider enters the providers' registry (new -> active); its certified programs appear in the "
               "navigator.",
    "refuse": "A new provider is refused with a reason (new -> refused).",
    "suspend": "An active provider is suspended with a reason (active -> suspended); its programs leave the navigator, "
               "running contracts continue.",
    "reinstate": "A suspended provider becomes active again (suspended -> active).",
    "exclude": "A provider leaves the registry for good with a reason (active or suspended -> excluded).",
}


def build_routers(reg: Registry) -> list[APIRouter]:
    ref = APIRouter(tags=["reference"])
    certs = APIRouter(tags=["certificates"])
    provs = APIRouter(tags=["providers"])
    progs = APIRouter(tags=["programs"])

    # --- reference ----------------------------------------------------------------------------

    @ref.get("/municipalities", response_model=Page[s.MunicipalityOut], summary="List the region's municipalities",
             operation_id="listMunicipalities",
             description=("The region's municipalities with their two-digit codes (the payer code inside certificate "
                          "numbers)."),
             responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_municipalities(paging: PageRequest = Depends(paging_params(default=100, maximum=200)),
                                  _: Principal = Depends(require("registry.municipality.read"))) -> dict:
        return paging.page_of_all(await reference.list_municipalities(reg), "municipalities", lambda m: [m["code"]])

    @ref.put("/municipalities/{code}", response_model=s.MunicipalityOut, summary="Add or rename a municipality",
             operation_id="putMunicipality",
             description="Creates the municipality with this two-digit code, or renames it.",
             responses=_problems(*SIGNED_IN, "municipality_code_invalid", "name_required"))
    async def put_municipality(body: s.MunicipalityIn, code: str = CODE,
                               who: Principal = Depends(require("registry.settings.manage"))) -> dict:
        return await reference.put_municipality(reg, who, code, body.name)

    @ref.get("/settings", response_model=s.SettingsOut, summary="Region settings (age window, auto-approval)",
             operation_id="getRegionSettings",
             description=("The region's settings: the age window of applications and whether applications are "
                          "approved automatically."),
             responses=_problems(*SIGNED_IN))
    async def get_settings(_: Principal = Depends(require("registry.municipality.read"))) -> dict:
        return await reference.get_settings(reg)

    @ref.put("/settings", response_model=s.SettingsOut, summary="Change the region settings",
             operation_id="updateRegionSettings",
             description="Replaces the region's settings (audited).",
             responses=_problems(*SIGNED_IN, "age_window_invalid", "region_code_invalid"))
    async def put_settings(body: s.SettingsIn, who: Principal = Depends(require("registry.settings.manage"))) -> dict:
        return await reference.put_settings(reg, who, **body.model_dump())

    # --- applications and certificates --------------------------------------------------------

    @certs.post("/applications", response_model=s.ApplicationOut, status_code=201,
                summary="Apply for a certificate (once per child)",
                description="A parent or guardian applies for their child; a child of 14+ may apply alone. "
                            "An application for a СНИЛС that already has a certificate or a pending application "
                            "is accepted like any other (the answer tells nobody whether a child is registered) "
                            "and flagged for the operator as a possible duplicate; the operator's approval never "
                            "issues a second live certificate (409 certificate_duplicate). Where certificates are "
                            "issued at once (auto_approve), a flagged application waits for the operator.",
                operation_id="applyForCertificate",
                responses=_problems(*SIGNED_IN, "age_too_old", "age_too_young", "applicant_too_young",
                                    "birth_date_in_future", "certificate_duplicate", "municipality_unknown",
                                    "municipality_code_invalid", "name_required", "snils_checksum", "snils_format",
                                    "snils_length"))
    async def apply(body: s.ApplicationIn, who: Principal = Depends(require("registry.certificate.apply"))) -> dict:
        c = body.child
        return await certificates.apply(
            reg, who,
            certificates.ChildInput(c.surname, c.first_name, c.patronymic, c.birth_date, c.snils, c.municipality_code),
            body.applicant_role,
        )

    @certs.get("/applications", response_model=Page[s.ApplicationOut], summary="List applications in scope",
               operation_id="listApplications",
               description=("Parents see their own applications, municipal operators those of their municipality; "
                            "oldest first, paged with `limit` and `cursor`."),
               responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_applications(
        status: ApplicationStatus | None = Query(default=None, description="Only this status."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("registry.application.read")),
    ) -> dict:
        scope = f"applications|{status}"
        keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
        rows = await certificates.list_applications(reg, who, status=status, limit=paging.limit + 1, after=keyset)
        return paging.page(rows, scope, lambda a: [a["created_at"].isoformat(), str(a["id"])])

    @certs.get("/applications/{application_id}", response_model=s.ApplicationOut, summary="One application",
               operation_id="getApplication",
               description="One application in the caller's scope (404 otherwise).",
               responses=_problems(*SIGNED_IN, "not_found"))
    async def get_application(application_id: uuid.UUID,
                              who: Principal = Depends(require("registry.application.read"))) -> dict:
        return await certificates.get_application(reg, who, application_id)

    @certs.post("/applications/{application_id}/approve", response_model=s.ApplicationOut,
                summary="Approve: issue the certificate with its number",
                operation_id="approveApplication",
                description=("Issues the certificate: its 10-digit number is the region code, the municipality code "
                             "and a 6-digit sequence; it is valid until the day before the child's 18th birthday."),
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "certificate_duplicate",
                                    "age_too_old"))
    async def approve(application_id: uuid.UUID,
                      who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.approve(reg, who, application_id)

    @certs.post("/applications/{application_id}/refuse", response_model=s.ApplicationOut,
                summary="Refuse an application with a reason",
                operation_id="refuseApplication",
                description="Refuses a pending application with a reason the applicant sees.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
    async def refuse(application_id: uuid.UUID, body: s.ReasonIn,
                     who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.refuse(reg, who, application_id, body.reason)

    @certs.get("/children", response_model=Page[s.ChildOut], summary="The parent's own children",
               operation_id="listChildren",
               description="The signed-in parent's children with their certificates.",
               responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_children(paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                            who: Principal = Depends(require("registry.application.read"))) -> dict:
        return paging.page_of_all(await certificates.list_children(reg, who), "children",
                                  lambda c: [c["birth_date"].isoformat(), str(c["id"])])

    @certs.get("/certificates", response_model=Page[s.CertificateOut], summary="List certificates in scope",
               operation_id="listCertificates",
               description=("Certificates in the caller's scope (parents: own children; municipal operators: their "
                            "municipality), by number; paged with `limit` and `cursor`."),
               responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_certificates(
        status: IssuedCertificateStatus | None = Query(default=None, description="Only this status."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("registry.certificate.read")),
    ) -> dict:
        scope = f"certificates|{status}"
        (after_number,) = paging.after_keyset(scope, str) or (None,)
        rows = await certificates.list_certificates(reg, who, status=status, limit=paging.limit + 1,
                                                    after_number=after_number)
        return paging.page(rows, scope, lambda c: [c["number"]])

    @certs.get("/certificates/lookup", response_model=s.LookupOut,
               summary="Check a certificate by number and the child's surname (providers, before enrolling)",
               operation_id="lookupCertificate",
               description=("A provider checks a certificate number with the child's surname before enrolling; the "
                            "answer carries no personal data."),
               responses=_problems(*SIGNED_IN, "certificate_not_found", "certificate_number_format",
                                   "certificate_number_length", "certificate_number_region",
                                   "certificate_number_municipality", "certificate_number_sequence"))
    async def lookup(number: str = Query(min_length=10, max_length=14), surname: str = Query(min_length=1, max_length=200),
                     who: Principal = Depends(require("registry.certificate.lookup"))) -> dict:
        return await certificates.lookup(reg, who, number, surname)

    @certs.post("/certificates/lookup", response_model=s.LookupOut,
                summary="Check a certificate by number and the child's surname, sent in the body (preferred)",
                operation_id="lookupCertificateByBody",
                description=("The same check as GET /certificates/lookup with the number and the surname in the "
                             "JSON body, so that they stay out of URLs, which proxies and browsers keep in their logs "
                             "and histories. Reads only; changes nothing."),
                responses=_problems(*SIGNED_IN, "certificate_not_found", "certificate_number_format",
                                    "certificate_number_length", "certificate_number_region",
                                    "certificate_number_municipality", "certificate_number_sequence"))
    async def lookup_by_body(body: s.LookupIn, who: Principal = Depends(require("registry.certificate.lookup"))) -> dict:
        return await certificates.lookup(reg, who, body.number, body.surname)

    @certs.get("/certificates/{certificate_id}", response_model=s.CertificateOut, summary="One certificate",
               operation_id="getCertificate",
               description="One certificate in the caller's scope (404 otherwise).",
               responses=_problems(*SIGNED_IN, "not_found"))
    async def get_certificate(certificate_id: uuid.UUID,
                              who: Principal = Depends(require("registry.certificate.read"))) -> dict:
        return await certificates.get_certificate(reg, who, certificate_id)

    @certs.post("/certificates/{certificate_id}/suspend", response_model=s.CertificateOut, summary="Suspend",
                operation_id="suspendCertificate",
                description=("The operator suspends an active certificate with a reason; new enrolments are refused "
                             "while it is suspended."),
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
    async def suspend(certificate_id: uuid.UUID, body: s.SuspendIn,
                      who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.suspend(reg, who, certificate_id, body.reason, body.reason_code)

    @certs.post("/certificates/{certificate_id}/reinstate", response_model=s.CertificateOut, summary="Reinstate",
                operation_id="reinstateCertificate",
                description="A suspended certificate becomes active again.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def reinstate(certificate_id: uuid.UUID,
                        who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.reinstate(reg, who, certificate_id)

    @certs.post("/certificates/{certificate_id}/close", response_model=s.CertificateOut, summary="Close for good",
                operation_id="closeCertificate",
                description="Closes a certificate for good: the child left the region, or it is a duplicate.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
    async def close(certificate_id: uuid.UUID, body: s.CloseIn,
                    who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
        return await certificates.close(reg, who, certificate_id, body.reason, body.note)

    @certs.post("/jobs/expire-certificates", response_model=s.ExpiryJobOut,
                summary="Run the daily expiry job now (idempotent)",
                operation_id="expireCertificates",
                description=("Expires every certificate whose validity ended (the day before the 18th birthday), each"
                             " as an event; the daily job does the same."),
                responses=_problems(*SIGNED_IN))
    async def expire(who: Principal = Depends(require("registry.certificate.expire_job"))) -> dict:
        return {"expired": await certificates.expire_due(reg, who)}

    # --- providers ----------------------------------------------------------------------------

    @provs.post("/providers", response_model=s.ProviderOut, status_code=201,
                summary="Register the caller's organisation (moderation starts)",
                operation_id="registerProvider",
                description=("Registers the caller's organisation with its ИНН, ОГРН or ОГРНИП and КПП (checksums "
                             "validated); it stays `new` until a moderator decides."),
                responses=_problems(*SIGNED_IN, "account_format", "bik_format", "inn_checksum", "inn_format",
                                    "inn_length", "kpp_format", "kpp_length", "kpp_not_allowed", "kpp_required",
                                    "ogrn_checksum", "ogrn_format", "ogrn_length", "ogrn_sign", "ogrnip_checksum",
                                    "ogrnip_format", "ogrnip_length", "ogrnip_sign", "municipality_unknown",
                                    "municipality_code_invalid", "name_required", "provider_duplicate"))
    async def register(body: s.ProviderIn, who: Principal = Depends(require("registry.provider.register"))) -> dict:
        return await providers.register(reg, who, providers.ProviderInput(**body.model_dump()))

    @provs.get("/providers", response_model=Page[s.ProviderOut], summary="List providers in scope",
               operation_id="listProviders",
               description="Providers in the caller's scope, by name; paged with `limit` and `cursor`.",
               responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_providers(
        status: ProviderStatus | None = Query(default=None, description="Only this status."),
        municipality: str | None = Query(default=None, pattern=r"^[0-9]{2}$", description="Only this municipality."),
        paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
        who: Principal = Depends(require("registry.provider.read")),
    ) -> dict:
        scope = f"providers|{status}|{municipality}"
        keyset = paging.after_keyset(scope, str, uuid.UUID)
        rows = await providers.list_providers(reg, who, status=status, municipality=municipality,
                                              limit=paging.limit + 1, after=keyset)
        return paging.page(rows, scope, lambda p: [p["name"], str(p["id"])])

    @provs.get("/providers/{provider_id}", response_model=s.ProviderOut, summary="One provider",
               operation_id="getProvider",
               description="One provider in the caller's scope (404 otherwise).",
               responses=_problems(*SIGNED_IN, "not_found"))
    async def get_provider(provider_id: uuid.UUID, who: Principal = Depends(require("registry.provider.read"))) -> dict:
        return await providers.get(reg, who, provider_id)

    for action in ("approve", "refuse", "suspend", "reinstate", "exclude"):

        async def moderate(provider_id: uuid.UUID, body: s.ModerationIn | None = None,
                           who: Principal = Depends(require("registry.provider.moderate")), _action: str = action) -> dict:
            body = body or s.ModerationIn()
            return await providers.moderate(reg, who, provider_id, _action, reason=body.reason,
                                            reason_code=body.reason_code)

        provs.add_api_route(f"/providers/{{provider_id}}/{action}", moderate, methods=["POST"],
                            response_model=s.ProviderOut, summary=f"Moderation: {action}", name=f"provider_{action}",
                            operation_id=f"{action}Provider", description=_MODERATION[action],
                            responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))

    # --- programs -----------------------------------------------------------------------------

    @progs.post("/programs", response_model=s.ProgramOut, status_code=201, summary="Create a draft program",
                operation_id="createProgram",
                description=("A draft program of the caller's organisation with its modules; it is submitted for "
                             "certification later."),
                responses=_problems(*SIGNED_IN, "address_required", "age_range_invalid", "capacity_invalid",
                                    "hours_invalid", "module_dates_invalid", "municipality_unknown",
                                    "municipality_code_invalid", "name_required", "price_invalid",
                                    "price_must_be_positive", "schedule_invalid", "duplicate_module_id",
                                    "provider_not_registered"))
    async def create_program(body: s.ProgramIn, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.create(reg, who, name=body.name, description=body.description, direction=body.direction,
                                     modules=tuple(_module(m) for m in body.modules))

    @progs.get("/programs", response_model=Page[s.ProgramOut], summary="List programs in scope",
               operation_id="listPrograms",
               description=("Programs in the caller's scope (providers: their own), by creation; paged with `limit` "
                            "and `cursor`."),
               responses=_problems(*SIGNED_IN, "invalid_cursor"))
    async def list_programs(
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

    @progs.get("/programs/{program_id}", response_model=s.ProgramOut, summary="One program with its modules",
               operation_id="getProgram",
               description="One program with its modules, in the caller's scope (404 otherwise).",
               responses=_problems(*SIGNED_IN, "not_found"))
    async def get_program(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.read"))) -> dict:
        return await programs.get(reg, who, program_id)

    @progs.patch("/programs/{program_id}", response_model=s.ProgramOut,
                 summary="Edit name, description, direction (a certified program goes back to submitted)",
                 operation_id="editProgram",
                 description=("Changes the name, description or direction; a certified program goes back to submitted"
                              " (existing enrolments continue)."),
                 responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "name_required"))
    async def edit_program(program_id: uuid.UUID, body: s.ProgramPatch,
                           who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.edit(reg, who, program_id, name=body.name, description=body.description,
                                   direction=body.direction)

    @progs.post("/programs/{program_id}/modules", response_model=s.ProgramOut, status_code=201, summary="Add a module",
                operation_id="addModule",
                description="Adds a module (a group of study) to a program that is not certified yet.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "duplicate_module_id",
                                    "address_required", "age_range_invalid", "capacity_invalid", "hours_invalid",
                                    "module_dates_invalid", "municipality_unknown", "municipality_code_invalid",
                                    "name_required", "price_invalid", "price_must_be_positive", "schedule_invalid"))
    async def add_module(program_id: uuid.UUID, body: s.ModuleIn,
                         who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.add_module(reg, who, program_id, _module(body))

    @progs.put("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
               summary="Replace a module (a certified program goes back to submitted)",
               operation_id="replaceModule",
               description=("Replaces a module; a certified program goes back to submitted (existing enrolments "
                            "continue)."),
               responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition",
                                   "address_required", "age_range_invalid", "capacity_invalid", "hours_invalid",
                                   "module_dates_invalid", "municipality_unknown", "municipality_code_invalid",
                                   "name_required", "price_invalid", "price_must_be_positive", "schedule_invalid"))
    async def update_module(program_id: uuid.UUID, module_id: uuid.UUID, body: s.ModuleIn,
                            who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.update_module(reg, who, program_id, _module(body, module_id))

    @progs.delete("/programs/{program_id}/modules/{module_id}", response_model=s.ProgramOut,
                  summary="Remove a module (before certification)",
                  operation_id="removeModule",
                  description="Removes a module of a program that is not certified yet.",
                  responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition"))
    async def remove_module(program_id: uuid.UUID, module_id: uuid.UUID,
                            who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.remove_module(reg, who, program_id, module_id)

    @progs.post("/programs/{program_id}/submit", response_model=s.ProgramOut, summary="Submit for certification",
                operation_id="submitProgram",
                description="Sends a draft or rejected program to certification.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "program_has_no_modules",
                                    "provider_not_active"))
    async def submit(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.submit(reg, who, program_id)

    @progs.post("/programs/{program_id}/archive", response_model=s.ProgramOut, summary="Archive a certified program",
                operation_id="archiveProgram",
                description="A certified program leaves the navigator; existing enrolments continue.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
    async def archive(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.manage"))) -> dict:
        return await programs.archive(reg, who, program_id)

    @progs.put("/programs/{program_id}/modules/{module_id}/normative-cost", response_model=s.ProgramOut,
               summary="Certifier sets a module's normative cost",
               operation_id="setNormativeCost",
               description=("The certifier sets a module's normative cost in kopecks (the most the certificate pays "
                            "for it)."),
               responses=_problems(*SIGNED_IN, "not_found", "module_not_found", "illegal_transition",
                                   "normative_cost_invalid"))
    async def normative_cost(program_id: uuid.UUID, module_id: uuid.UUID, body: s.NormativeCostIn,
                             who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.set_normative_cost(reg, who, program_id, module_id, body.normative_cost_kopecks)

    @progs.post("/programs/{program_id}/certify", response_model=s.ProgramOut, summary="Certify (operators)",
                operation_id="certifyProgram",
                description=("Certifies a submitted program whose modules all have a normative cost; it appears in "
                             "the navigator."),
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "normative_cost_missing",
                                    "program_has_no_modules"))
    async def certify(program_id: uuid.UUID, who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.certify(reg, who, program_id)

    @progs.post("/programs/{program_id}/reject", response_model=s.ProgramOut, summary="Reject with a reason",
                operation_id="rejectProgram",
                description="Rejects a submitted program with a reason the provider sees.",
                responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
    async def reject(program_id: uuid.UUID, body: s.ReasonIn,
                     who: Principal = Depends(require("registry.program.certify"))) -> dict:
        return await programs.reject(reg, who, program_id, body.reason)

    @progs.get("/programs/{program_id}/history", response_model=Page[s.HistoryOut],
               summary="Certification history (owner and certifiers)",
               operation_id="listProgramHistory",
               description="Every certification step of a program (who, when, from which status to which, why).",
               responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
    async def program_history(program_id: uuid.UUID,
                              paging: PageRequest = Depends(paging_params(default=100, maximum=500)),
                              who: Principal = Depends(require("registry.program.read"))) -> dict:
        return paging.page_of_all(await programs.history(reg, who, program_id), f"history|{program_id}",
                                  lambda h: [f"{h['id']:020d}"])

    return [ref, certs, provs, progs]


__all__ = ["build_routers"]
