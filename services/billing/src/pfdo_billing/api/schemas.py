"""Request and response bodies of the billing API (amounts are integer kopecks)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, Field

from pfdo_plumbing.http.examples import document_examples


class QuoteLine(BaseModel):
    month: str = Field(description="Month, 'YYYY-MM'.")
    certificate_kopecks: int = Field(description="Certificate instalment of the month.")
    family_kopecks: int = Field(description="Family (co-payment) instalment of the month.")
    planned_lessons: int = Field(
        description="Lessons of the month by the module's timetable, less the production calendar's days off.")


class QuoteError(BaseModel):
    code: str = Field(description="Machine-readable reason: module_not_available, period_not_open, start_outside_module, ...")
    detail: str = Field(description="Human explanation.")


class ModuleQuote(BaseModel):
    module_id: uuid.UUID = Field(description="Module quoted.")
    error: QuoteError | None = Field(default=None, description="Set when this module cannot be quoted.")
    free_place: bool | None = Field(default=None, description="A free municipal-task place (costs nothing).")
    cost_kopecks: int | None = Field(default=None, description="Pro-rated cost of the enrolment.")
    normative_cost_kopecks: int | None = Field(default=None, description="Pro-rated normative cost.")
    certificate_kopecks: int | None = Field(default=None, description="Paid by the certificate: min(cost, normative, available).")
    family_kopecks: int | None = Field(default=None, description="Paid by the family (co-payment).")
    enrolled_days: int | None = Field(default=None, description="days(start..effective end): the days paid.")
    module_days: int | None = Field(default=None, description="days(module).")
    schedule: list[QuoteLine] | None = Field(default=None, description="Monthly instalments, kopeck-exact.")
    certificate_valid_until: dt.date | None = Field(
        default=None, description="Last day of the certificate's validity (the day before the 18th birthday).",
        examples=["2027-03-14"])
    ends_early_on: dt.date | None = Field(
        default=None,
        description=("Set when the certificate's validity ends before the module does: the last day paid, the end "
                     "of the month in which the validity ends. Cost, parts and schedule stop there."),
        examples=["2027-03-31"])
    note: str | None = Field(
        default=None, description="Explanation for the parent (Russian) when the enrolment is paid only up to ends_early_on.",
        examples=["Сертификат действует до 14.03.2027: обучение оплачивается до 31.03.2027."])


class BatchQuoteRequest(BaseModel):
    certificate_id: uuid.UUID = Field(description="Certificate to quote for.")
    start_date: dt.date = Field(description="Enrolment start date for every module.")
    module_ids: list[uuid.UUID] = Field(min_length=1, max_length=100, description="Up to 100 modules (one search page).")


class BatchQuoteResponse(BaseModel):
    certificate_id: uuid.UUID
    start_date: dt.date
    quotes: list[ModuleQuote] = Field(description="One answer per requested module, in request order.")


class PeriodBalance(BaseModel):
    period_id: uuid.UUID
    starts_on: dt.date
    ends_on: dt.date
    period_status: str
    nominal: int = Field(description="Credited for the period, minus what returned to the budget.")
    available: int = Field(description="Free to commit.")
    reserved: int = Field(description="Set aside for enrolments.")
    spent: int = Field(description="Paid to providers.")


class BalanceResponse(BaseModel):
    certificate_id: uuid.UUID
    status: str
    usage_kind: str
    balances: list[PeriodBalance]


class HistoryItem(BaseModel):
    transfer_id: str = Field(description="Idempotency key of the movement (derived from its cause).")
    kind: str = Field(description="credit_nominal, reserve, post, release, return_unused, invoice_family.")
    effect: str = Field(description="What the movement did to the balance.")
    period_id: uuid.UUID
    amount: int
    pending_state: str | None = Field(default=None, description="For a reservation: pending, posted or voided.")
    enrolment_id: uuid.UUID | None = None
    month: str | None = None
    cause_event_id: uuid.UUID | None = Field(default=None, description="The event that caused it.")
    cause: str | None = Field(default=None, description="A non-event cause: month_close:YYYY-MM, period_open, period_close.")
    created_at: dt.datetime


class PaymentOrder(BaseModel):
    order_id: uuid.UUID
    provider_id: uuid.UUID
    period_id: uuid.UUID
    month: str
    kind: str = Field(description="advance or final.")
    base_kopecks: int
    advance_paid_kopecks: int
    offset_applied_kopecks: int
    amount_kopecks: int
    offset_carried_kopecks: int
    contract_count: int
    issued_on: dt.date
    payer_code: str = Field(description="The payer: the municipality whose certificates the order pays for.")
    number: str = Field(description="The order's number, a sequence per year ('2026-000123').")
    status: str = Field(description="The treasury's status: issued, accepted, paid or returned.")
    status_on: dt.date | None = Field(default=None, description="Date of the status, as the treasury reported it.")
    treasury_reference: str | None = Field(default=None, description="The treasury's reference of the order.")
    return_reason: str | None = Field(default=None, description="Why the treasury returned the order.")
    reissue_of: uuid.UUID | None = Field(default=None, description="The returned order this one reissues.")
    reissued_as: uuid.UUID | None = Field(default=None, description="The order reissuing this returned one.")


class TreasuryStatusIn(BaseModel):
    """The treasury's status of a payment order, as the finance system reports it."""

    status: Literal["accepted", "paid", "returned"] = Field(description="accepted, paid or returned.")
    status_on: dt.date = Field(description="Date of the status in the treasury.")
    treasury_reference: str | None = Field(default=None, max_length=64,
                                           description="The treasury's reference of the order.")
    reason: str | None = Field(default=None, max_length=500, description="Why the order was returned (required then).")


class TreasuryStatusOut(BaseModel):
    order_id: uuid.UUID
    number: str
    status: str = Field(description="The order's status after the report.")
    outcome: str = Field(description="applied, duplicate (the same status again) or stale (behind the order's status).")


class PaymentOrderLine(BaseModel):
    enrolment_id: uuid.UUID
    certificate_id: uuid.UUID
    amount_kopecks: int


class PaymentOrderAdjustment(BaseModel):
    """A late adjustment of a closed month settled by this (final) order."""

    adjustment_id: uuid.UUID
    enrolment_id: uuid.UUID
    certificate_id: uuid.UUID
    month: str = Field(description="The closed month adjusted, 'YYYY-MM'.")
    reason: str = Field(description="dispute_opened or dispute_resolved.")
    charged_kopecks: int = Field(description="Paid to the provider with this order.")
    refunded_kopecks: int = Field(description="Deducted from this order (or carried on).")


class PaymentOrderDetail(PaymentOrder):
    lines: list[PaymentOrderLine]
    adjustments: list[PaymentOrderAdjustment] = Field(
        default_factory=list, description="Late adjustments of earlier closed months settled here.")


class Check(BaseModel):
    name: str
    ok: bool
    value: Any = Field(description="The figures behind the check.")


class Outstanding(BaseModel):
    """Money the ledger holds that no one has settled yet: not an error, but finance's to follow."""

    unsettled_adjustments: int = Field(description="Late adjustments no final payment order has settled yet.")
    unsettled_charged_kopecks: int = Field(description="What they owe the providers (late charges).")
    unsettled_refunded_kopecks: int = Field(description="What the providers owe back (late refunds).")
    oldest_unsettled_month: str | None = Field(
        description="The earliest month (YYYY-MM) they adjust; a provider with no later final order (after the "
        "school year, say) has to be settled by hand.")
    uncovered_kopecks: int = Field(
        description="Late charges the certificate's balance could not cover: owed to providers, charged to no one.")


class ReconciliationReport(BaseModel):
    period_id: uuid.UUID | None
    ok: bool = Field(description="True when every check holds.")
    checks: list[Check]
    outstanding: Outstanding


class PeriodCreate(BaseModel):
    starts_on: dt.date = Field(description="First day (normally 1 September).")
    ends_on: dt.date = Field(description="Last day (normally 31 August).")


class PeriodOut(BaseModel):
    period_id: uuid.UUID
    starts_on: dt.date
    ends_on: dt.date
    status: str


class NominalIn(BaseModel):
    municipality_code: str = Field(pattern=r"^[0-9]{2}$", description="Municipality (payer) code.")
    age_min: int = Field(ge=0, le=18, description="Youngest age of the group.")
    age_max: int = Field(ge=0, le=18, description="Oldest age of the group.")
    amount_kopecks: int = Field(ge=0, le=10**11, description="Nominal per funding certificate, kopecks.")


class NominalsIn(BaseModel):
    nominals: list[NominalIn] = Field(min_length=1, max_length=1000)


class CapIn(BaseModel):
    municipality_code: str = Field(pattern=r"^[0-9]{2}$", description="Municipality code.")
    funding_cap: int | None = Field(default=None, ge=0, le=10_000_000, description="Max funding certificates this period (null: no cap).")
    free_places: int | None = Field(default=None, ge=0, le=10_000_000, description="Free municipal-task places this period (null: no cap).")
    direction_cap: int | None = Field(default=None, ge=1, le=1000, description="Max active enrolments per certificate and direction.")


class CapsIn(BaseModel):
    caps: list[CapIn] = Field(min_length=1, max_length=1000)


class CapsOut(BaseModel):
    admitted_from_queue: int = Field(description="Queued requests admitted because the cap allows them now.")


class PeriodAction(BaseModel):
    period_id: uuid.UUID
    status: str
    credited: int | None = Field(default=None, description="Certificates credited on opening.")
    returned_kopecks: int | None = Field(default=None, description="Returned to the budget on closing.")


class MonthCloseOut(BaseModel):
    month: str
    status: str = Field(description="running (resumable) or done.")
    contracts_closed: int = Field(description="Contract-months closed for the month in total.")
    closed_now: int = Field(description="Closed by this call (0 on a repeat).")
    posted_kopecks: int
    released_kopecks: int
    family_invoiced_kopecks: int
    chunks: int
    final_orders_issued: int
    seconds: float
    municipality_code: str | None = Field(default=None, description="The municipality closed; null: the whole region.")


class NominalsOut(BaseModel):
    nominals: list[NominalIn] = Field(description="Per municipality and age group, oldest group last.")


class CapOut(CapIn):
    funding_used: int = Field(description="Funding certificates counted against the cap so far.")
    free_places_used: int = Field(description="Free places taken so far.")


class CapsListOut(BaseModel):
    caps: list[CapOut] = Field(description="Per municipality (only the ones set).")


class MonthCloseProgressOut(BaseModel):
    month: str = Field(description="Month, 'YYYY-MM'.")
    status: str = Field(description="not_started, running (resumable: close again to go on) or done.")
    contracts_closed: int = Field(description="Contract-months of the month closed so far.")
    contracts_total: int = Field(description="Contract-months the close takes: closed so far and still to close.")
    chunks_done: int = Field(description="Chunks committed so far (each one transaction).")
    chunks_total: int = Field(description="Chunks the close takes: done and still to do.")
    posted_kopecks: int = Field(description="Posted from reserved to spent so far.")
    released_kopecks: int = Field(description="Returned to the available balance so far.")
    family_invoiced_kopecks: int = Field(description="Invoiced to the families so far.")
    municipality_code: str | None = Field(default=None, description="The municipality's close; null: the region-wide close.")


class JournalStateOut(BaseModel):
    month: str = Field(description="Month, 'YYYY-MM'.")
    frozen: bool = Field(description="The navigator froze the month's journal (AttendanceMonthFrozen received).")
    published_events: int | None = Field(description="Attendance events of the month the navigator published (when frozen).")
    applied_events: int = Field(description="Attendance events of the month billing has applied.")
    closable: bool = Field(description="Frozen and drained: month close may run.")
    close_status: str | None = Field(description="running, done, or null when the close has not started.")


class AdvanceOut(BaseModel):
    month: str
    orders_issued: int = Field(description="New advance orders (0 on a repeat).")


class StoredDocumentOut(BaseModel):
    """A document billing has issued, one version of it (its body: the document's own route)."""

    model_config = {"json_schema_extra": {"examples": [{
        "number": "СЧ-1A2B-3C4D-5E6F", "version": 2, "kind": "invoice",
        "provider_id": "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48", "payer_code": "01", "month": "2027-10",
        "content_hash": "82e8de4a866d7264b1f0c1d1e36a5a7b1f2a0c77e0b5c5b8d3e1a9f0c2d4e6f8",
        "created_at": "2027-11-03T09:15:00Z"}]}}

    number: str = Field(description="The document's number: the same for every version ('СЧ-1A2B-3C4D-5E6F').")
    version: int = Field(description="1 for the first issue; a changed fact makes the next version.")
    kind: str = Field(description="invoice, act or advance_request.")
    provider_id: uuid.UUID
    payer_code: str = Field(description="The payer: the municipality whose certificates the money is of.")
    month: str = Field(description="Month, 'YYYY-MM'.")
    content_hash: str = Field(description="SHA-256 (hex) of the document's canonical JSON body.")
    created_at: dt.datetime = Field(description="When this version was issued.")


document_examples(globals())
