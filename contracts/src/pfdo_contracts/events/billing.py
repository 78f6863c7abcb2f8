"""Events published by billing: reservations, ledger movements, payment orders.

Every topic here is finance-facing (treasury and accounting read it): no personal data at all,
only ids, codes, dates and kopecks. Reservations and ledger events are keyed by
``certificate_id``; period events concern all certificates and are keyed by ``period_id``;
payment orders are keyed by ``provider_id``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from ..common import Kopecks, Month, MunicipalityCode, Part, PaymentMode
from ..envelope import Event
from ..registration import event
from ..topics import LEDGER, PAYMENT_ORDERS, RESERVATIONS

_PERIOD_KEY = (
    "A period concerns every certificate: keyed by period_id so that one period's opening "
    "and closing stay ordered on one partition."
)

# --- reservations -------------------------------------------------------------------------


class Instalment(Part):
    """The money of one month of a contract."""

    month: Month = Field(description="Month, 'YYYY-MM'.")
    certificate_kopecks: Kopecks = Field(description="Certificate instalment of the month.")
    family_kopecks: Kopecks = Field(description="Family (co-payment) instalment of the month.")
    planned_lessons: int = Field(ge=0, description="Planned lessons of the month under the contract.")


@event("pfdo.billing.reservation.created", version=1, topic=RESERVATIONS)
class ReservationCreated(Event):
    """The certificate part of an enrolment is set aside (a pending transfer)."""

    reservation_id: uuid.UUID = Field(description="Reservation (pending transfer) id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment the money is set aside for.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider that will be paid.")
    period_id: uuid.UUID = Field(description="Program period the money belongs to.")
    payment_mode: PaymentMode = Field(description="monthly or attendance.")
    total_cost_kopecks: Kopecks = Field(description="Pro-rated cost of the enrolment.")
    reserved_kopecks: Kopecks = Field(description="Certificate part, reserved now.")
    family_kopecks: Kopecks = Field(description="Family part (co-payment) over the whole contract.")
    funding_activated: bool = Field(
        description="True if this enrolment made the certificate a funding certificate."
    )
    schedule: list[Instalment] = Field(min_length=1, description="Monthly instalments, in order.")

    @model_validator(mode="after")
    def _sums(self) -> ReservationCreated:
        if self.reserved_kopecks + self.family_kopecks != self.total_cost_kopecks:
            raise ValueError("reserved + family must equal total cost")
        if sum(i.certificate_kopecks for i in self.schedule) != self.reserved_kopecks:
            raise ValueError("certificate instalments must add up to reserved_kopecks")
        if sum(i.family_kopecks for i in self.schedule) != self.family_kopecks:
            raise ValueError("family instalments must add up to family_kopecks")
        months = [i.month for i in self.schedule]
        if months != sorted(set(months)):
            raise ValueError("instalment months must be unique and in order")
        return self


class RejectionReason(StrEnum):
    CERTIFICATE_UNKNOWN = "certificate_unknown"
    CERTIFICATE_NOT_ACTIVE = "certificate_not_active"
    PERIOD_NOT_OPEN = "period_not_open"
    AGE_GROUP_NOT_FUNDED = "age_group_not_funded"  # no nominal set for the child's age group
    DIRECTION_CAP_REACHED = "direction_cap_reached"
    NO_FREE_PLACES = "no_free_places"  # the yearly count of free municipal-task places is used up
    FUNDING_CAP_QUEUED = "funding_cap_queued"  # not final: waits in the municipality's queue
    INSUFFICIENT_BALANCE = "insufficient_balance"  # available balance moved below what was quoted
    NO_AGREEMENT = "no_agreement"  # the provider has no agreement in force with the certificate's payer
    AGREEMENT_LIMIT_REACHED = "agreement_limit_reached"  # the agreement's yearly limit cannot take the money


@event("pfdo.billing.reservation.rejected", version=1, topic=RESERVATIONS)
class ReservationRejected(Event):
    """Billing cannot reserve money for the enrolment.

    ``funding_cap_queued`` is not final: the request keeps its place in the first-come queue
    and billing later publishes ``reservation.created`` (or another rejection) for it.
    """

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    reason: RejectionReason = Field(description="Why (a code).")
    queue_position: int | None = Field(
        default=None, ge=1, description="Position in the funding queue; set only for funding_cap_queued."
    )

    @model_validator(mode="after")
    def _queue(self) -> ReservationRejected:
        queued = self.reason is RejectionReason.FUNDING_CAP_QUEUED
        if queued != (self.queue_position is not None):
            raise ValueError("queue_position is set exactly when reason is funding_cap_queued")
        return self


class ReleaseReason(StrEnum):
    ENROLMENT_DECLINED = "enrolment_declined"
    ENROLMENT_CANCELLED = "enrolment_cancelled"
    HOLD_EXPIRED = "hold_expired"  # an application the provider did not answer in time
    OFFER_NOT_ACCEPTED = "offer_not_accepted"  # an offer the parent did not accept in time
    TERMINATED = "terminated"  # money of the months after the termination
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_CLOSED = "certificate_closed"
    PERIOD_CLOSED = "period_closed"
    MONTH_UNEARNED = "month_unearned"  # month close: the part of the month's instalment not earned


@event("pfdo.billing.reservation.released", version=1, topic=RESERVATIONS)
class ReservationReleased(Event):
    """Reserved money returned to the available balance (a void, whole or for later months)."""

    reservation_id: uuid.UUID = Field(description="Reservation id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    released_kopecks: Kopecks = Field(description="Amount returned to the available balance.")
    remaining_reserved_kopecks: Kopecks = Field(description="Still reserved for this enrolment after.")
    reason: ReleaseReason = Field(description="Why it was released.")
    released_on: dt.date = Field(description="Date of the release.")
    month: Month | None = Field(
        default=None, description="The month released, 'YYYY-MM' (set for month_unearned: the closed month)."
    )


# --- ledger -------------------------------------------------------------------------------


class Nominal(Part):
    """The yearly nominal of a municipality and age group."""

    municipality_code: MunicipalityCode = Field(description="Municipality (payer).")
    age_min: int = Field(ge=0, le=18, description="Youngest age of the group, years.")
    age_max: int = Field(ge=0, le=18, description="Oldest age of the group, years.")
    nominal_kopecks: Kopecks = Field(description="Nominal credited per funding certificate.")


@event("pfdo.billing.period.opened", version=1, topic=LEDGER, key="period_id", key_note=_PERIOD_KEY)
class PeriodOpened(Event):
    """A program period opened: funding certificates are about to be credited."""

    period_id: uuid.UUID = Field(description="Period id.")
    starts_on: dt.date = Field(description="First day (normally 1 September).")
    ends_on: dt.date = Field(description="Last day (normally 31 August).")
    nominals: list[Nominal] = Field(description="Nominals per municipality and age group.")

    @model_validator(mode="after")
    def _dates(self) -> PeriodOpened:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on before starts_on")
        return self


@event("pfdo.billing.certificate.credited", version=1, topic=LEDGER)
class CertificateCredited(Event):
    """A funding certificate received its nominal for a period (whole or pro rata)."""

    credit_id: uuid.UUID = Field(description="Posting id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    period_id: uuid.UUID = Field(description="Period id.")
    municipality_code: MunicipalityCode = Field(description="Municipality (payer).")
    amount_kopecks: Kopecks = Field(description="Amount credited.")
    pro_rata: bool = Field(description="True when credited mid-period by remaining months.")
    months_covered: int = Field(ge=1, le=12, description="Months of the period the amount covers.")
    credited_on: dt.date = Field(description="Date of the credit.")


@event("pfdo.billing.certificate.funding_returned", version=1, topic=LEDGER)
class CertificateFundingReturned(Event):
    """A funding certificate gave its slot of the municipality's yearly cap back without using
    any of the period's money (its funding request ended before the contract started, or it
    left the registry with nothing spent): its nominal went back to the budget. If the family
    applies again, a new ``certificate.credited`` follows (the credits of a certificate and
    period exceed its returns by at most one)."""

    return_id: uuid.UUID = Field(description="Posting id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    period_id: uuid.UUID = Field(description="Period id.")
    municipality_code: MunicipalityCode = Field(description="Municipality (payer) whose budget gets the money back.")
    amount_kopecks: Kopecks = Field(description="Amount returned to the budget (the whole available balance).")
    returned_on: dt.date = Field(description="Date of the return.")


@event("pfdo.billing.charge.posted", version=1, topic=LEDGER)
class ChargePosted(Event):
    """Month close of one contract: the due amount moved from reserved to spent (to the provider)."""

    posting_id: uuid.UUID = Field(description="Posting id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider paid.")
    period_id: uuid.UUID = Field(description="Period id.")
    municipality_code: MunicipalityCode = Field(description="Municipality (payer).")
    month: Month = Field(description="Month closed, 'YYYY-MM'.")
    payment_mode: PaymentMode = Field(description="monthly or attendance.")
    certificate_kopecks: Kopecks = Field(description="Certificate amount charged for the month.")
    returned_kopecks: Kopecks = Field(description="Unearned part of the instalment back to available.")
    attended_lessons: int = Field(ge=0, description="Billable attended lessons (disputed marks excluded).")
    planned_lessons: int = Field(ge=0, description="Planned lessons of the month.")


@event("pfdo.billing.copayment.invoiced", version=1, topic=LEDGER)
class CoPaymentInvoiced(Event):
    """The family's part of a month is invoiced (no names: the invoice points at ids only)."""

    invoice_id: uuid.UUID = Field(description="Invoice id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider the family pays.")
    month: Month = Field(description="Month invoiced, 'YYYY-MM'.")
    amount_kopecks: Kopecks = Field(description="Amount due from the family.")
    issued_on: dt.date = Field(description="Date of the invoice.")


class AdjustmentReason(StrEnum):
    DISPUTE_OPENED = "dispute_opened"  # a billed mark went under dispute after the close
    DISPUTE_RESOLVED = "dispute_resolved"  # the operator decided on a mark of a closed month


@event("pfdo.billing.charge.adjusted", version=1, topic=LEDGER)
class ChargeAdjusted(Event):
    """A closed contract-month is billed again after a dispute changed its attended lessons.

    The certificate part moves by ``charged_kopecks`` (available -> spent, owed to the provider)
    or ``refunded_kopecks`` (spent -> available, deducted from the provider's next final
    settlement); what the certificate's balance could not cover is ``uncovered_kopecks``, left to
    finance and the operator. The family part moves by an extra invoice or a credit.
    """

    adjustment_id: uuid.UUID = Field(description="Adjustment id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider paid.")
    period_id: uuid.UUID = Field(description="Period id.")
    municipality_code: MunicipalityCode = Field(description="Municipality (payer).")
    month: Month = Field(description="The closed month adjusted, 'YYYY-MM'.")
    reason: AdjustmentReason = Field(description="What changed the month's attended lessons.")
    dispute_id: uuid.UUID = Field(description="The dispute.")
    mark_id: uuid.UUID = Field(description="The disputed mark.")
    attended_lessons: int = Field(ge=0, description="Billable attended lessons of the month now.")
    planned_lessons: int = Field(ge=0, description="Planned lessons of the month.")
    charged_kopecks: Kopecks = Field(description="Certificate amount charged late by this adjustment.")
    refunded_kopecks: Kopecks = Field(description="Certificate amount refunded by this adjustment.")
    certificate_total_kopecks: Kopecks = Field(description="Certificate amount charged for the month, all told.")
    uncovered_kopecks: Kopecks = Field(
        description="Owed for the month beyond what the certificate's balance covered, all told."
    )
    family_invoiced_kopecks: Kopecks = Field(description="Family amount invoiced late by this adjustment.")
    family_credited_kopecks: Kopecks = Field(description="Family amount credited by this adjustment.")
    family_total_kopecks: Kopecks = Field(description="Family amount invoiced for the month, all told.")
    adjusted_on: dt.date = Field(description="Date of the adjustment.")

    @model_validator(mode="after")
    def _one_direction(self) -> ChargeAdjusted:
        if self.charged_kopecks and self.refunded_kopecks:
            raise ValueError("an adjustment charges or refunds the certificate, not both")
        if self.family_invoiced_kopecks and self.family_credited_kopecks:
            raise ValueError("an adjustment invoices or credits the family, not both")
        return self


class MunicipalityAmount(Part):
    municipality_code: MunicipalityCode = Field(description="Municipality (payer).")
    amount_kopecks: Kopecks = Field(description="Amount, kopecks.")


@event("pfdo.billing.period.closed", version=1, topic=LEDGER, key="period_id", key_note=_PERIOD_KEY)
class PeriodClosed(Event):
    """A period closed: unused money returns to the budget (no carry-over)."""

    period_id: uuid.UUID = Field(description="Period id.")
    closed_on: dt.date = Field(description="Date of closing.")
    returned_kopecks: Kopecks = Field(description="Total returned to the budget.")
    returned_by_municipality: list[MunicipalityAmount] = Field(description="Returned, per payer.")

    @model_validator(mode="after")
    def _sum(self) -> PeriodClosed:
        if sum(r.amount_kopecks for r in self.returned_by_municipality) != self.returned_kopecks:
            raise ValueError("returned_by_municipality must add up to returned_kopecks")
        return self


# --- payment orders -----------------------------------------------------------------------


OrderNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{6}$")]
"""A payment order's number: the year and a sequence within it, '2026-000123'."""


class OrderKind(StrEnum):
    ADVANCE = "advance"  # start of month: a share (80 % by default) of the planned instalments
    FINAL = "final"  # after month close: actual charges minus the advance


@event("pfdo.billing.payment_order.issued", version=1, topic=PAYMENT_ORDERS)
class PaymentOrderIssued(Event):
    """A payment order to a provider for one month.

    For a final order: ``amount - offset_carried = base - advance_paid - offset_applied``
    (a negative difference is not paid but carried to the next month).
    """

    order_id: uuid.UUID = Field(description="Payment order id.")
    provider_id: uuid.UUID = Field(description="Provider paid.")
    period_id: uuid.UUID = Field(description="Period id.")
    month: Month = Field(description="Month the order is for, 'YYYY-MM'.")
    kind: OrderKind = Field(description="advance or final.")
    base_kopecks: Kopecks = Field(
        description="Advance: the month's planned certificate instalments; final: actual charges, with the late "
        "charges of earlier closed months (charge.adjusted) settled here."
    )
    advance_paid_kopecks: Kopecks = Field(description="Final only: the advance paid; 0 for an advance.")
    offset_applied_kopecks: Kopecks = Field(
        description="Earlier negative differences, and late refunds of closed months (charge.adjusted), deducted here."
    )
    amount_kopecks: Kopecks = Field(description="Amount to pay.")
    offset_carried_kopecks: Kopecks = Field(description="Negative difference carried to the next month.")
    contract_count: int = Field(ge=0, description="Contracts the order covers.")
    issued_on: dt.date = Field(description="Date of the order.")
    payer_code: MunicipalityCode | None = Field(
        default=None, description="The payer: the municipality whose certificates the order pays for.")
    number: OrderNumber | None = Field(
        default=None,
        description="The order's number, a sequence per year ('2026-000123'; the bank file's Номер).")
    reissue_of: uuid.UUID | None = Field(
        default=None, description="The returned order this one reissues (same money, a new number).")

    @model_validator(mode="after")
    def _balance(self) -> PaymentOrderIssued:
        if self.kind is OrderKind.ADVANCE and self.advance_paid_kopecks:
            raise ValueError("an advance order has advance_paid_kopecks = 0")
        if self.amount_kopecks and self.offset_carried_kopecks:
            raise ValueError("an order either pays or carries an offset, not both")
        if self.kind is OrderKind.FINAL:
            due = self.base_kopecks - self.advance_paid_kopecks - self.offset_applied_kopecks
            if self.amount_kopecks - self.offset_carried_kopecks != due:
                raise ValueError("amount - offset_carried must equal base - advance_paid - offset_applied")
        return self


class PaymentOrderStatus(StrEnum):
    ISSUED = "issued"
    ACCEPTED = "accepted"  # the treasury took the order
    PAID = "paid"  # the money left the payer's account
    RETURNED = "returned"  # the treasury refused it (see reason); billing reissues it


@event("pfdo.billing.payment_order.status_changed", version=1, topic=PAYMENT_ORDERS)
class PaymentOrderStatusChanged(Event):
    """The treasury's status of a payment order changed (duplicates and late reports change nothing)."""

    order_id: uuid.UUID = Field(description="Payment order id.")
    provider_id: uuid.UUID = Field(description="Provider paid.")
    payer_code: MunicipalityCode = Field(description="The payer (municipality).")
    number: OrderNumber = Field(description="The order's number.")
    month: Month = Field(description="Month the order is for, 'YYYY-MM'.")
    kind: OrderKind = Field(description="advance or final.")
    amount_kopecks: Kopecks = Field(description="Amount of the order.")
    previous_status: PaymentOrderStatus = Field(description="Status before the report.")
    status: PaymentOrderStatus = Field(description="Status now.")
    status_on: dt.date = Field(description="Date of the status, as the treasury reports it.")
    treasury_reference: str | None = Field(default=None, max_length=64,
                                           description="The treasury's reference of the order.")
    reason: str | None = Field(default=None, max_length=500, description="Why the order was returned.")


# --- agreements with payers ---------------------------------------------------------------


class AgreementStatus(StrEnum):
    ACTIVE = "active"  # in force: reservations of the payer's certificates with the provider are allowed
    ENDED = "ended"  # no new reservations; the contracts made under it go on


class AgreementChange(StrEnum):
    CONCLUDED = "concluded"
    CHANGED = "changed"  # the yearly limit was changed
    ENDED = "ended"


@event("pfdo.billing.agreement.changed", version=1, topic=PAYMENT_ORDERS)
class AgreementChanged(Event):
    """An agreement (соглашение) between a provider and a payer municipality was concluded, its
    yearly limit changed, or it ended. Carries the agreement as it is after the change."""

    agreement_id: uuid.UUID = Field(description="Agreement id.")
    number: str = Field(min_length=1, max_length=40, description="The agreement's number, as the parties wrote it.")
    provider_id: uuid.UUID = Field(description="Provider.")
    payer_code: MunicipalityCode = Field(description="The payer: the municipality whose certificates it covers.")
    period_id: uuid.UUID = Field(description="The program period (the year) it covers.")
    change: AgreementChange = Field(description="concluded, changed or ended.")
    status: AgreementStatus = Field(description="Status after the change.")
    limit_kopecks: Kopecks = Field(description="The yearly limit of certificate money under the agreement.")
    used_kopecks: Kopecks = Field(description="Certificate money reserved or spent under it now.")
    concluded_on: dt.date = Field(description="Date the agreement was concluded.")
    ended_on: dt.date | None = Field(default=None, description="Date it ended; set when ended.")
