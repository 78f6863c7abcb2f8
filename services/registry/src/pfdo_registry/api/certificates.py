"""Certificate applications, the issued certificates, their lookup by providers and the expiry job."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from fastapi import APIRouter, Depends, Query

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from ..service import certificates
from . import schemas as s
from .context import SIGNED_IN, RegistryContext, service_problems as _problems

router = APIRouter(tags=["certificates"])


class ApplicationStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class IssuedCertificateStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CLOSED = "closed"


@router.post("/applications", response_model=s.ApplicationOut, status_code=201,
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
async def apply(
    reg: RegistryContext, body: s.ApplicationIn, who: Principal = Depends(require("registry.certificate.apply")),
) -> dict:
    c = body.child
    return await certificates.apply(
        reg, who,
        certificates.ChildInput(c.surname, c.first_name, c.patronymic, c.birth_date, c.snils, c.municipality_code),
        body.applicant_role,
    )


@router.get("/applications", response_model=Page[s.ApplicationOut], summary="List applications in scope",
             operation_id="listApplications",
             description=("Parents see their own applications, municipal operators those of their municipality; "
                          "oldest first, paged with `limit` and `cursor`."),
             responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_applications(
    reg: RegistryContext,
    status: ApplicationStatus | None = Query(default=None, description="Only this status."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("registry.application.read")),
) -> dict:
    scope = f"applications|{status}"
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, uuid.UUID)
    rows = await certificates.list_applications(reg, who, status=status, limit=paging.limit + 1, after=keyset)
    return paging.page(rows, scope, lambda a: [a["created_at"].isoformat(), str(a["id"])])


@router.get("/applications/{application_id}", response_model=s.ApplicationOut, summary="One application",
             operation_id="getApplication",
             description="One application in the caller's scope (404 otherwise).",
             responses=_problems(*SIGNED_IN, "not_found"))
async def get_application(reg: RegistryContext, application_id: uuid.UUID,
                          who: Principal = Depends(require("registry.application.read"))) -> dict:
    return await certificates.get_application(reg, who, application_id)


@router.post("/applications/{application_id}/approve", response_model=s.ApplicationOut,
              summary="Approve: issue the certificate with its number",
              operation_id="approveApplication",
              description=("Issues the certificate: its 10-digit number is the region code, the municipality code "
                           "and a 6-digit sequence; it is valid until the day before the child's 18th birthday."),
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "certificate_duplicate",
                                  "age_too_old"))
async def approve(reg: RegistryContext, application_id: uuid.UUID,
                  who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
    return await certificates.approve(reg, who, application_id)


@router.post("/applications/{application_id}/refuse", response_model=s.ApplicationOut,
              summary="Refuse an application with a reason",
              operation_id="refuseApplication",
              description="Refuses a pending application with a reason the applicant sees.",
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
async def refuse(reg: RegistryContext, application_id: uuid.UUID, body: s.ReasonIn,
                 who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
    return await certificates.refuse(reg, who, application_id, body.reason)


@router.get("/children", response_model=Page[s.ChildOut], summary="The parent's own children",
             operation_id="listChildren",
             description="The signed-in parent's children with their certificates.",
             responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_children(reg: RegistryContext, paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
                        who: Principal = Depends(require("registry.application.read"))) -> dict:
    return paging.page_of_all(await certificates.list_children(reg, who), "children",
                              lambda c: [c["birth_date"].isoformat(), str(c["id"])])


@router.get("/certificates", response_model=Page[s.CertificateOut], summary="List certificates in scope",
             operation_id="listCertificates",
             description=("Certificates in the caller's scope (parents: own children; municipal operators: their "
                          "municipality), by number; paged with `limit` and `cursor`."),
             responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_certificates(
    reg: RegistryContext,
    status: IssuedCertificateStatus | None = Query(default=None, description="Only this status."),
    paging: PageRequest = Depends(paging_params(default=100, maximum=1000)),
    who: Principal = Depends(require("registry.certificate.read")),
) -> dict:
    scope = f"certificates|{status}"
    (after_number,) = paging.after_keyset(scope, str) or (None,)
    rows = await certificates.list_certificates(reg, who, status=status, limit=paging.limit + 1,
                                                after_number=after_number)
    return paging.page(rows, scope, lambda c: [c["number"]])


@router.get("/certificates/lookup", response_model=s.LookupOut,
             summary="Check a certificate by number and the child's surname (providers, before enrolling)",
             operation_id="lookupCertificate",
             description=("A provider checks a certificate number with the child's surname before enrolling; the "
                          "answer carries no personal data."),
             responses=_problems(*SIGNED_IN, "certificate_not_found", "certificate_number_format",
                                 "certificate_number_length", "certificate_number_region",
                                 "certificate_number_municipality", "certificate_number_sequence"))
async def lookup(
    reg: RegistryContext,
    number: str = Query(min_length=10, max_length=14),
    surname: str = Query(min_length=1, max_length=200),
    who: Principal = Depends(require("registry.certificate.lookup")),
) -> dict:
    return await certificates.lookup(reg, who, number, surname)


@router.post("/certificates/lookup", response_model=s.LookupOut,
              summary="Check a certificate by number and the child's surname, sent in the body (preferred)",
              operation_id="lookupCertificateByBody",
              description=("The same check as GET /certificates/lookup with the number and the surname in the "
                           "JSON body, so that they stay out of URLs, which proxies and browsers keep in their logs "
                           "and histories. Reads only; changes nothing."),
              responses=_problems(*SIGNED_IN, "certificate_not_found", "certificate_number_format",
                                  "certificate_number_length", "certificate_number_region",
                                  "certificate_number_municipality", "certificate_number_sequence"))
async def lookup_by_body(
    reg: RegistryContext, body: s.LookupIn, who: Principal = Depends(require("registry.certificate.lookup")),
) -> dict:
    return await certificates.lookup(reg, who, body.number, body.surname)


@router.get("/certificates/{certificate_id}", response_model=s.CertificateOut, summary="One certificate",
             operation_id="getCertificate",
             description="One certificate in the caller's scope (404 otherwise).",
             responses=_problems(*SIGNED_IN, "not_found"))
async def get_certificate(reg: RegistryContext, certificate_id: uuid.UUID,
                          who: Principal = Depends(require("registry.certificate.read"))) -> dict:
    return await certificates.get_certificate(reg, who, certificate_id)


@router.post("/certificates/{certificate_id}/suspend", response_model=s.CertificateOut, summary="Suspend",
              operation_id="suspendCertificate",
              description=("The operator suspends an active certificate with a reason; new enrolments are refused "
                           "while it is suspended."),
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
async def suspend(reg: RegistryContext, certificate_id: uuid.UUID, body: s.SuspendIn,
                  who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
    return await certificates.suspend(reg, who, certificate_id, body.reason, body.reason_code)


@router.post("/certificates/{certificate_id}/reinstate", response_model=s.CertificateOut, summary="Reinstate",
              operation_id="reinstateCertificate",
              description="A suspended certificate becomes active again.",
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition"))
async def reinstate(reg: RegistryContext, certificate_id: uuid.UUID,
                    who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
    return await certificates.reinstate(reg, who, certificate_id)


@router.post("/certificates/{certificate_id}/close", response_model=s.CertificateOut, summary="Close for good",
              operation_id="closeCertificate",
              description="Closes a certificate for good: the child left the region, or it is a duplicate.",
              responses=_problems(*SIGNED_IN, "not_found", "illegal_transition", "reason_required"))
async def close(reg: RegistryContext, certificate_id: uuid.UUID, body: s.CloseIn,
                who: Principal = Depends(require("registry.certificate.moderate"))) -> dict:
    return await certificates.close(reg, who, certificate_id, body.reason, body.note)


@router.post("/jobs/expire-certificates", response_model=s.ExpiryJobOut,
              summary="Run the daily expiry job now (idempotent)",
              operation_id="expireCertificates",
              description=("Expires every certificate whose validity ended (the day before the 18th birthday), each"
                           " as an event; the daily job does the same."),
              responses=_problems(*SIGNED_IN))
async def expire(reg: RegistryContext, who: Principal = Depends(require("registry.certificate.expire_job"))) -> dict:
    return {"expired": await certificates.expire_due(reg, who)}

