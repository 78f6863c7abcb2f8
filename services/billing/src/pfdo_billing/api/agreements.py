"""Agreements (соглашения) between providers and payer municipalities: operators conclude, change
and end them; providers, operators and finance read theirs (``service/agreements.py``)."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from pfdo_contracts.common import MunicipalityCode
from pfdo_contracts.events.billing import AgreementStatus
from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.examples import document_examples
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params

from pfdo_billing.service import agreements

from .context import SIGNED_IN, BillingContext, service_problems as _problems

router = APIRouter(tags=["billing"])


class AgreementIn(BaseModel):
    number: str = Field(min_length=1, max_length=40, description="The agreement's number.", examples=["С-2026/017"])
    provider_id: uuid.UUID = Field(description="Provider.")
    payer_code: MunicipalityCode = Field(description="The payer municipality (the operator's own for a municipal one).")
    period_id: uuid.UUID = Field(description="The program period (the year) the agreement covers.")
    limit_kopecks: int = Field(ge=0, description="Yearly limit of certificate money under the agreement, kopecks.")
    concluded_on: dt.date | None = Field(default=None, description="Date concluded; today when omitted.")


class AgreementLimitIn(BaseModel):
    limit_kopecks: int = Field(ge=0, description="The new yearly limit (not below what is used).")


class AgreementEndIn(BaseModel):
    ended_on: dt.date | None = Field(default=None, description="Date it ends; today when omitted.")


class AgreementOut(BaseModel):
    agreement_id: uuid.UUID
    number: str
    provider_id: uuid.UUID
    payer_code: str = Field(description="The payer municipality.")
    period_id: uuid.UUID
    limit_kopecks: int = Field(description="Yearly limit.")
    used_kopecks: int = Field(description="Certificate money reserved or spent under it (released money freed).")
    available_kopecks: int = Field(description="What the limit can still take.")
    concluded_on: dt.date
    ended_on: dt.date | None = None
    status: AgreementStatus


document_examples(globals(), overrides={
    "AgreementIn": {"number": "С-2026/017", "provider_id": "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48", "payer_code": "01",
                    "period_id": "f1a8c3e6-2d9b-4f7a-8c51-3e0b7d4a2f96", "limit_kopecks": 1_500_000_00,
                    "concluded_on": "2026-07-01"},
    "AgreementOut": {"agreement_id": "4a7c2e9b-1d3f-4b86-a0c5-9e2d7f1b3c48", "number": "С-2026/017",
                     "provider_id": "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48", "payer_code": "01",
                     "period_id": "f1a8c3e6-2d9b-4f7a-8c51-3e0b7d4a2f96", "limit_kopecks": 1_500_000_00,
                     "used_kopecks": 405_000_00, "available_kopecks": 1_095_000_00, "concluded_on": "2026-07-01",
                     "ended_on": None, "status": "active"},
})


@router.post("/agreements", response_model=AgreementOut, status_code=201,
             summary="Conclude an agreement between a provider and a payer", operation_id="concludeAgreement",
             description=("A municipal operator concludes for its own municipality, the regional operator for any. "
                          "Without an agreement in force the payer's certificates cannot pay the provider "
                          "(reservations are refused `no_agreement`); its yearly limit caps the certificate money "
                          "reserved under it (`agreement_limit_reached`)."),
             responses=_problems(*SIGNED_IN, "not_found", "invalid_agreement", "invalid_amount", "agreement_exists",
                                 "period_closed"))
async def conclude(b: BillingContext, body: AgreementIn,
                   who: Principal = Depends(require("billing.agreement.manage"))) -> dict:
    return await agreements.conclude(b, who, number=body.number, provider_id=body.provider_id, payer=body.payer_code,
                                     period_id=body.period_id, limit=body.limit_kopecks, concluded_on=body.concluded_on)


@router.get("/agreements", response_model=Page[AgreementOut], summary="Agreements",
            operation_id="listAgreements",
            description=("The agreements the caller may read: a provider its own, a municipal operator its "
                         "municipality's, the regional operator and finance all; by number, paged with `limit` "
                         "and `cursor`."),
            responses=_problems(*SIGNED_IN, "invalid_cursor"))
async def list_agreements(
    b: BillingContext,
    provider_id: uuid.UUID | None = Query(default=None, description="Only this provider's."),
    payer_code: MunicipalityCode | None = Query(default=None, description="Only this payer's."),
    period_id: uuid.UUID | None = Query(default=None, description="Only this period's."),
    status: AgreementStatus | None = Query(default=None, description="Only active or ended ones."),
    paging: PageRequest = Depends(paging_params(default=50, maximum=200)),
    who: Principal = Depends(require("billing.agreement.read")),
) -> dict:
    after = paging.after_keyset("agreements", str, uuid.UUID)
    rows = await agreements.page(b, who, provider_id=provider_id, payer=payer_code, period_id=period_id,
                                 status=status.value if status else None, after=after, limit=paging.limit + 1)
    return paging.page(rows, "agreements", lambda r: [r["number"], str(r["agreement_id"])])


@router.get("/agreements/{agreement_id}", response_model=AgreementOut, summary="An agreement",
            operation_id="getAgreement", description="The agreement with its limit and what is used of it.",
            responses=_problems(*SIGNED_IN, "not_found"))
async def get_agreement(b: BillingContext, agreement_id: uuid.UUID,
                        who: Principal = Depends(require("billing.agreement.read"))) -> dict:
    return await agreements.get(b, who, agreement_id)


@router.put("/agreements/{agreement_id}/limit", response_model=AgreementOut,
            summary="Change an agreement's yearly limit", operation_id="setAgreementLimit",
            description="Raise or lower the limit of an agreement in force (never below what is used).",
            responses=_problems(*SIGNED_IN, "not_found", "invalid_amount", "agreement_ended",
                                "agreement_limit_below_used"))
async def set_limit(b: BillingContext, agreement_id: uuid.UUID, body: AgreementLimitIn,
                    who: Principal = Depends(require("billing.agreement.manage"))) -> dict:
    return await agreements.change_limit(b, who, agreement_id, body.limit_kopecks)


@router.post("/agreements/{agreement_id}/end", response_model=AgreementOut, summary="End an agreement",
             operation_id="endAgreement",
             description=("No new reservations of the payer's certificates with the provider; the contracts made "
                          "under it go on."),
             responses=_problems(*SIGNED_IN, "not_found", "invalid_agreement", "agreement_ended"))
async def end_agreement(b: BillingContext, agreement_id: uuid.UUID, body: AgreementEndIn | None = None,
                        who: Principal = Depends(require("billing.agreement.manage"))) -> dict:
    return await agreements.end(b, who, agreement_id, body.ended_on if body else None)
