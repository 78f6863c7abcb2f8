"""Quotes and a certificate's account: what a module costs a certificate, its balance and history."""

from __future__ import annotations

import datetime as dt
import uuid

from fastapi import APIRouter, Depends, Query, Request

from pfdo_plumbing.auth.policy import require
from pfdo_plumbing.auth.principal import Principal
from pfdo_plumbing.http.paging import Page, PageRequest
from pfdo_plumbing.http.paging import paging as paging_params
from pfdo_plumbing.http.problems import ProblemError, localised_detail

from pfdo_billing.service import queries

from . import schemas as s
from .context import SIGNED_IN, BillingContext, service_problems as _problems

router = APIRouter(tags=["billing"])


# --- quotes ---------------------------------------------------------------------------
@router.get("/quote", response_model=s.ModuleQuote, summary="Quote one module for a certificate",
            operation_id="getQuote",
            description=("The cost of enrolling a certificate's child in one module from a start date: the "
                         "pro-rated cost and normative cost, the part the certificate pays (the least of the "
                         "cost, the normative cost and the available balance), the family's co-payment and the "
                         "kopeck-exact monthly instalments. Parents quote their own children; operators their "
                         "municipality's. The certificate's part reveals its balance, so nobody else may quote "
                         "it: providers get 403, anyone else the same 404 as for an unknown certificate. "
                         "A certificate pays only up to the end of the month in which its validity ends (the day "
                         "before the 18th birthday): when that comes before the module's end, `ends_early_on` "
                         "and `note` say so and every figure stops there."),
            responses=_problems(*SIGNED_IN, "not_found", "module_not_available", "period_not_open",
                                "no_age_group", "ambiguous_age_group", "start_after_module_end",
                                "start_outside_module", "certificate_expires_before_start"))
async def get_quote(
    b: BillingContext,
    certificate_id: uuid.UUID = Query(description="Certificate."),
    module_id: uuid.UUID = Query(description="Module."),
    start_date: dt.date = Query(description="Enrolment start."),
    who: Principal = Depends(require("billing.quote.read")),
) -> dict:
    async with b.runtime.db.transaction() as session:
        cert = await queries.certificate_for(session, certificate_id, who)
        answer = (await queries.quote_modules(b, session, cert, [module_id], start_date))[0]
    if answer["error"]:
        status = 404 if answer["error"]["code"] == "module_not_available" else 422
        raise ProblemError(status, answer["error"]["code"], answer["error"]["detail"],
                           details=answer["error"].get("details"))
    return answer


@router.post("/quotes:batch", response_model=s.BatchQuoteResponse,
             summary="Quote up to 100 modules for one certificate in one call (navigator search pages)",
             operation_id="quoteModules",
             description=("One answer per module, in request order; a module that cannot be quoted carries "
                          "`error` instead of figures. The navigator prices a search page with one call, with the "
                          "parent's own token. Who may quote: as for GET /quote."),
             responses=_problems(*SIGNED_IN, "not_found"))
async def batch_quote(b: BillingContext, request: Request, body: s.BatchQuoteRequest,
                      who: Principal = Depends(require("billing.quote.read"))) -> dict:
    async with b.runtime.db.transaction() as session:
        cert = await queries.certificate_for(session, body.certificate_id, who)
        answers = await queries.quote_modules(b, session, cert, list(body.module_ids), body.start_date)
    for answer in answers:
        if answer["error"]:
            answer["error"]["detail"] = localised_detail(request, answer["error"]["code"], answer["error"]["detail"],
                                                         "billing")
    return {"certificate_id": body.certificate_id, "start_date": body.start_date, "quotes": answers}


# --- certificates ---------------------------------------------------------------------
@router.get("/certificates/{certificate_id}/balance", response_model=s.BalanceResponse,
            summary="Balance of a certificate per period",
            operation_id="getCertificateBalance",
            description=("Per program period: nominal, available, reserved and spent, in kopecks (nominal = "
                         "available + reserved + spent). The child's parent, the municipality's operator and "
                         "finance only."),
            responses=_problems(*SIGNED_IN, "not_found"))
async def balance(
    b: BillingContext, certificate_id: uuid.UUID, who: Principal = Depends(require("billing.account.read")),
) -> dict:
    async with b.runtime.db.transaction() as session:
        cert = await queries.certificate_for(session, certificate_id, who)
        rows = await queries.balances(session, certificate_id)
    return {"certificate_id": certificate_id, "status": cert["status"], "usage_kind": cert["usage_kind"],
            "balances": rows}


@router.get("/certificates/{certificate_id}/history", response_model=Page[s.HistoryItem],
            summary="Every credit, reservation, posting and release of a certificate, with its cause",
            operation_id="listCertificateHistory",
            description=("Every transfer of the certificate's ledger, oldest first, with the event that caused "
                         "it; paged with `limit` and `cursor`."),
            responses=_problems(*SIGNED_IN, "not_found", "invalid_cursor"))
async def history(
    b: BillingContext,
    certificate_id: uuid.UUID,
    paging: PageRequest = Depends(paging_params(default=200, maximum=1000)),
    who: Principal = Depends(require("billing.account.read")),
) -> dict:
    scope = f"history|{certificate_id}"
    keyset = paging.after_keyset(scope, dt.datetime.fromisoformat, str)
    async with b.runtime.db.transaction() as session:
        await queries.certificate_for(session, certificate_id, who)
        rows = await queries.history(session, certificate_id, paging.limit + 1, keyset)
    return paging.page(rows, scope, lambda r: [r["created_at"].isoformat(), r["transfer_id"]])

