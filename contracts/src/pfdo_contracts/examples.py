"""One valid, deterministic example per event type: documentation and test fixtures.

``example(cls)`` returns an instance; tests check there is one for every registered event, and
the AsyncAPI documents show them. The ids are fixed so that generated documents are stable.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from .common import (
    AttendanceStatus,
    CertificateStatus,
    Direction,
    FundingKind,
    PaymentMode,
    ProgramState,
    ProviderStatus,
    ProviderType,
    ScheduleSlot,
    UsageKind,
)
from .envelope import Event
from .events import billing as b
from .events import navigator as n
from .events import ratings as r
from .events import registry as g
from .events import treasury as t


def _id(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-example:{name}")


CERTIFICATE_ID = _id("certificate")
PROVIDER_ID = _id("provider")
PROGRAM_ID = _id("program")
MODULE_ID = _id("module")
ENROLMENT_ID = _id("enrolment")
PERIOD_ID = _id("period")
PARENT_ID = "3f0c1d52-parent-subject"
D = dt.date

_SCHEDULE = [
    ScheduleSlot(weekday=2, starts_at=dt.time(16, 0), ends_at=dt.time(16, 45)),
    ScheduleSlot(weekday=4, starts_at=dt.time(16, 0), ends_at=dt.time(16, 45)),
]


def _module(normative: int | None = 1_800_000) -> g.ModuleSnapshot:
    return g.ModuleSnapshot(
        module_id=MODULE_ID, title="Robotics, year 1", start_date=D(2025, 9, 1), end_date=D(2026, 5, 31),
        schedule=_SCHEDULE, hours=72, capacity=12, price_kopecks=2_000_000,
        normative_cost_kopecks=normative, lessons_per_week=2,
    )


def _payee(revision: int) -> g.PartyDetails:
    return g.PartyDetails(
        title="ООО «Робототехника»", inn="7707083893", kpp="773601001", bank_title="ПАО Сбербанк",
        bik="044525225", account="40702810938000000001", correspondent_account="30101810400000000225",
        revision=revision,
    )


def _program_fields() -> dict:
    return dict(
        program_id=PROGRAM_ID, provider_id=PROVIDER_ID, revision=3, title="Robotics",
        description="LEGO-based robotics for beginners.", direction=Direction.TECHNICAL,
        municipality_code="01", venue_address="Lipetsk, Lenina st. 1", age_min=7, age_max=12,
        funding_kind=FundingKind.CERTIFICATE, modules=[_module()],
    )


def _aggregate() -> dict:
    return dict(
        count=4, means=r.ScaleMeans(results=80.0, teachers=90.0, materials=70.0, satisfaction=85.0),
        score=79.5, prior_mean=75.0, prior_weight=10.0, revision=4,
    )


_EXAMPLES: dict[type[Event], Callable[[], Event]] = {
    g.CertificateIssued: lambda: g.CertificateIssued(
        certificate_id=CERTIFICATE_ID, number="4801000123", region_code="48", municipality_code="01",
        birth_date=D(2016, 3, 14), issued_on=D(2025, 8, 20), valid_until=D(2034, 3, 13),
        usage_kind=UsageKind.ACCOUNTING, parent_id=PARENT_ID, status=CertificateStatus.ACTIVE,
    ),
    g.CertificateSuspended: lambda: g.CertificateSuspended(
        certificate_id=CERTIFICATE_ID, suspended_on=D(2025, 10, 1), reason=g.SuspensionReason.DATA_VERIFICATION,
    ),
    g.CertificateReinstated: lambda: g.CertificateReinstated(certificate_id=CERTIFICATE_ID, reinstated_on=D(2025, 10, 8)),
    g.CertificateExpired: lambda: g.CertificateExpired(certificate_id=CERTIFICATE_ID, expired_on=D(2034, 3, 14)),
    g.CertificateClosed: lambda: g.CertificateClosed(
        certificate_id=CERTIFICATE_ID, closed_on=D(2027, 6, 30), reason=g.CloseReason.LEFT_REGION,
    ),
    g.ProviderRegistered: lambda: g.ProviderRegistered(
        provider_id=PROVIDER_ID, provider_type=ProviderType.PRIVATE_ORG, municipality_code="01",
        status=ProviderStatus.NEW, registered_on=D(2025, 5, 12), details=_payee(1),
    ),
    g.ProviderDetailsChanged: lambda: g.ProviderDetailsChanged(
        provider_id=PROVIDER_ID, details=_payee(2), changed_on=D(2025, 6, 2),
    ),
    g.PayerDetailsChanged: lambda: g.PayerDetailsChanged(
        municipality_code="01", changed_on=D(2025, 5, 1),
        details=g.PartyDetails(
            title="Управление образования администрации города", inn="4831776784", kpp="483101001",
            bank_title="Отделение Липецк", bik="044206601", account="40204810500000000001",
            correspondent_account="30101810900000000601", revision=1,
        ),
    ),
    g.ProviderStatusChanged: lambda: g.ProviderStatusChanged(
        provider_id=PROVIDER_ID, old_status=ProviderStatus.NEW, new_status=ProviderStatus.ACTIVE,
        reason=g.ProviderStatusReason.MODERATION_PASSED, changed_on=D(2025, 5, 20),
    ),
    g.ProgramCertified: lambda: g.ProgramCertified(**_program_fields(), certified_on=D(2025, 6, 10)),
    g.ProgramChanged: lambda: g.ProgramChanged(**_program_fields(), state=ProgramState.SUBMITTED),
    g.ProgramArchived: lambda: g.ProgramArchived(
        program_id=PROGRAM_ID, provider_id=PROVIDER_ID, revision=5, archived_on=D(2026, 6, 30),
    ),
    n.EnrolmentRequested: lambda: n.EnrolmentRequested(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, parent_id=PARENT_ID,
        program_id=PROGRAM_ID, program_revision=3, module_id=MODULE_ID, provider_id=PROVIDER_ID,
        municipality_code="01", direction=Direction.TECHNICAL, funding_kind=FundingKind.CERTIFICATE,
        start_date=D(2025, 10, 1), end_date=D(2026, 5, 31), module_start_date=D(2025, 9, 1),
        module_end_date=D(2026, 5, 31), price_kopecks=2_000_000, normative_cost_kopecks=1_800_000,
        payment_mode=PaymentMode.MONTHLY, schedule=_SCHEDULE, lessons_per_week=2,
    ),
    n.EnrolmentOffered: lambda: n.EnrolmentOffered(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, certificate_number="4801000123",
        module_id=MODULE_ID, program_id=PROGRAM_ID, provider_id=PROVIDER_ID, municipality_code="01",
        start_date=D(2025, 10, 1), end_date=D(2026, 5, 31), schedule=_SCHEDULE,
        total_cost_kopecks=1_600_000, certificate_kopecks=1_440_000, family_kopecks=160_000,
        payment_mode=PaymentMode.MONTHLY, offered_on=D(2025, 9, 23), offer_expires_on=D(2025, 10, 3),
    ),
    n.EnrolmentConfirmed: lambda: n.EnrolmentConfirmed(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, module_id=MODULE_ID,
        provider_id=PROVIDER_ID, start_date=D(2025, 10, 1), end_date=D(2026, 5, 31),
        confirmed_on=D(2025, 9, 25), accepted_by=PARENT_ID,
        accepted_at=dt.datetime(2025, 9, 25, 7, 30, tzinfo=dt.UTC),
    ),
    n.EnrolmentDeclined: lambda: n.EnrolmentDeclined(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        reason=n.DeclineReason.RESERVATION_REJECTED, declined_on=D(2025, 9, 25),
    ),
    n.EnrolmentCancelled: lambda: n.EnrolmentCancelled(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, cancelled_by=n.Actor.PARENT,
        cancelled_on=D(2025, 9, 28),
    ),
    n.EnrolmentExpired: lambda: n.EnrolmentExpired(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, expired_on=D(2025, 9, 30),
        reason=n.ExpiryReason.APPLICATION_UNANSWERED,
    ),
    n.EnrolmentTerminated: lambda: n.EnrolmentTerminated(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, provider_id=PROVIDER_ID,
        terminated_by=n.TerminatedBy.PARENT, reason=n.TerminationReason.PARENT_REQUEST,
        requested_on=D(2026, 2, 10), effective_end_date=D(2026, 2, 28),
    ),
    n.EnrolmentEnded: lambda: n.EnrolmentEnded(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, parent_id=PARENT_ID,
        program_id=PROGRAM_ID, provider_id=PROVIDER_ID, module_id=MODULE_ID,
        outcome=n.EndOutcome.COMPLETED, end_date=D(2026, 5, 31),
    ),
    n.EnrolmentWaitlisted: lambda: n.EnrolmentWaitlisted(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, parent_id=PARENT_ID, module_id=MODULE_ID,
        program_id=PROGRAM_ID, provider_id=PROVIDER_ID, municipality_code="01", position=3,
        start_date=D(2025, 10, 1), waitlisted_at=dt.datetime(2025, 9, 1, 6, 0, 1, tzinfo=dt.UTC),
    ),
    n.EnrolmentWaitlistLeft: lambda: n.EnrolmentWaitlistLeft(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID, module_id=MODULE_ID,
        reason=n.WaitlistLeaveReason.PARENT_LEFT, left_on=D(2025, 9, 20),
    ),
    n.WaitingListChanged: lambda: n.WaitingListChanged(
        module_id=MODULE_ID, provider_id=PROVIDER_ID, enabled=True, max_length=20, changed_on=D(2025, 8, 20),
    ),
    n.AttendanceRecorded: lambda: n.AttendanceRecorded(
        batch_id=_id("batch"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, module_id=MODULE_ID, month="2025-10",
        marks=[
            n.AttendanceMark(mark_id=_id("mark-1"), lesson_date=D(2025, 10, 2), status=AttendanceStatus.PRESENT, revision=1),
            n.AttendanceMark(mark_id=_id("mark-2"), lesson_date=D(2025, 10, 7), status=AttendanceStatus.EXCUSED, revision=2),
        ],
    ),
    n.DisputeOpened: lambda: n.DisputeOpened(
        dispute_id=_id("dispute"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, mark_id=_id("mark-1"), lesson_date=D(2025, 10, 2), month="2025-10",
        claimed_status=AttendanceStatus.ABSENT, opened_on=D(2025, 10, 5),
    ),
    n.DisputeResolved: lambda: n.DisputeResolved(
        dispute_id=_id("dispute"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, mark_id=_id("mark-1"), lesson_date=D(2025, 10, 2), month="2025-10",
        outcome=n.DisputeOutcome.UPHELD, final_status=AttendanceStatus.ABSENT, resolved_on=D(2025, 10, 12),
    ),
    n.AttendanceMonthFrozen: lambda: n.AttendanceMonthFrozen(
        month="2025-10", attendance_events=1234, frozen_on=D(2025, 11, 5), frozen_by=n.FrozenBy.SCHEDULE,
    ),
    b.ReservationCreated: lambda: b.ReservationCreated(
        reservation_id=_id("reservation"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, period_id=PERIOD_ID, payment_mode=PaymentMode.MONTHLY,
        total_cost_kopecks=300_000, reserved_kopecks=250_000, family_kopecks=50_000, funding_activated=True,
        schedule=[
            b.Instalment(month="2025-10", certificate_kopecks=125_000, family_kopecks=25_000, planned_lessons=9),
            b.Instalment(month="2025-11", certificate_kopecks=125_000, family_kopecks=25_000, planned_lessons=8),
        ],
    ),
    b.ReservationRejected: lambda: b.ReservationRejected(
        enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        reason=b.RejectionReason.FUNDING_CAP_QUEUED, queue_position=17,
    ),
    b.ReservationReleased: lambda: b.ReservationReleased(
        reservation_id=_id("reservation"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        released_kopecks=125_000, remaining_reserved_kopecks=0, reason=b.ReleaseReason.TERMINATED,
        released_on=D(2025, 10, 20),
    ),
    b.PeriodOpened: lambda: b.PeriodOpened(
        period_id=PERIOD_ID, starts_on=D(2025, 9, 1), ends_on=D(2026, 8, 31),
        nominals=[
            b.Nominal(municipality_code="01", age_min=5, age_max=13, nominal_kopecks=1_500_000),
            b.Nominal(municipality_code="01", age_min=14, age_max=17, nominal_kopecks=1_200_000),
        ],
    ),
    b.CertificateCredited: lambda: b.CertificateCredited(
        credit_id=_id("credit"), certificate_id=CERTIFICATE_ID, period_id=PERIOD_ID, municipality_code="01",
        amount_kopecks=1_250_000, pro_rata=True, months_covered=10, credited_on=D(2025, 10, 1),
    ),
    b.CertificateFundingReturned: lambda: b.CertificateFundingReturned(
        return_id=_id("return"), certificate_id=CERTIFICATE_ID, period_id=PERIOD_ID, municipality_code="01",
        amount_kopecks=1_250_000, returned_on=D(2025, 10, 3),
    ),
    b.ChargePosted: lambda: b.ChargePosted(
        posting_id=_id("posting"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, period_id=PERIOD_ID, municipality_code="01", month="2025-10",
        payment_mode=PaymentMode.ATTENDANCE, certificate_kopecks=111_111, returned_kopecks=13_889,
        attended_lessons=8, planned_lessons=9,
    ),
    b.CoPaymentInvoiced: lambda: b.CoPaymentInvoiced(
        invoice_id=_id("invoice"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, month="2025-10", amount_kopecks=22_222, issued_on=D(2025, 11, 3),
    ),
    b.ChargeAdjusted: lambda: b.ChargeAdjusted(
        adjustment_id=_id("adjustment"), enrolment_id=ENROLMENT_ID, certificate_id=CERTIFICATE_ID,
        provider_id=PROVIDER_ID, period_id=PERIOD_ID, municipality_code="01", month="2025-10",
        reason=b.AdjustmentReason.DISPUTE_RESOLVED, dispute_id=_id("dispute"), mark_id=_id("mark"),
        attended_lessons=9, planned_lessons=9, charged_kopecks=13_889, refunded_kopecks=0,
        certificate_total_kopecks=125_000, uncovered_kopecks=0, family_invoiced_kopecks=2_778,
        family_credited_kopecks=0, family_total_kopecks=25_000, adjusted_on=D(2025, 11, 12),
    ),
    b.PeriodClosed: lambda: b.PeriodClosed(
        period_id=PERIOD_ID, closed_on=D(2026, 9, 1), returned_kopecks=9_000_000,
        returned_by_municipality=[b.MunicipalityAmount(municipality_code="01", amount_kopecks=9_000_000)],
    ),
    b.PaymentOrderIssued: lambda: b.PaymentOrderIssued(
        order_id=_id("order"), provider_id=PROVIDER_ID, period_id=PERIOD_ID, month="2025-10",
        kind=b.OrderKind.FINAL, base_kopecks=1_111_110, advance_paid_kopecks=1_000_000,
        offset_applied_kopecks=0, amount_kopecks=111_110, offset_carried_kopecks=0, contract_count=10,
        issued_on=D(2025, 11, 5), payer_code="01", number="2025-000042",
    ),
    b.PaymentOrderStatusChanged: lambda: b.PaymentOrderStatusChanged(
        order_id=_id("order"), provider_id=PROVIDER_ID, payer_code="01", number="2025-000042", month="2025-10",
        kind=b.OrderKind.FINAL, amount_kopecks=111_110, previous_status=b.PaymentOrderStatus.ACCEPTED,
        status=b.PaymentOrderStatus.PAID, status_on=D(2025, 11, 7), treasury_reference="ПП-0042",
    ),
    b.AgreementChanged: lambda: b.AgreementChanged(
        agreement_id=_id("agreement"), number="С-2025/017", provider_id=PROVIDER_ID, payer_code="01",
        period_id=PERIOD_ID, change=b.AgreementChange.CONCLUDED, status=b.AgreementStatus.ACTIVE,
        limit_kopecks=150_000_000, used_kopecks=0, concluded_on=D(2025, 8, 25),
    ),
    t.PaymentStatusReported: lambda: t.PaymentStatusReported(
        order_id=_id("order"), status=t.ReportedStatus.PAID, status_on=D(2025, 11, 7), treasury_reference="ПП-0042",
    ),
    r.ProgramRatingChanged: lambda: r.ProgramRatingChanged(program_id=PROGRAM_ID, provider_id=PROVIDER_ID, **_aggregate()),
    r.ProviderRatingChanged: lambda: r.ProviderRatingChanged(provider_id=PROVIDER_ID, program_count=2, **_aggregate()),
}


def example(cls: type[Event]) -> Event:
    """A valid example instance of an event model."""
    try:
        return _EXAMPLES[cls]()
    except KeyError:
        raise LookupError(f"no example for {cls.__name__}") from None


def has_example(cls: type[Event]) -> bool:
    return cls in _EXAMPLES
