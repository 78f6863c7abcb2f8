"""Events published by the navigator: the enrolment saga and the attendance journal.

All keyed by ``certificate_id``: every flow of one certificate stays ordered on one partition.
The saga: ``requested`` → billing answers on RESERVATIONS → the provider confirms (``offered``:
the platform issues the offer) or ``declined``; the parent accepts the offer (``confirmed``: the
contract is made); before the start the request may be ``cancelled``, or ``expired`` by a timeout
(the provider did not answer, or the parent did not accept the offer, in time); a running contract
is ``terminated`` (effective at the end of the current month) and finally ``ended``. Ratings
learns who may rate what from ``ended``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

from pydantic import Field, model_validator

from ..common import (
    AttendanceStatus,
    CertificateNumber,
    Direction,
    FundingKind,
    Kopecks,
    Month,
    MunicipalityCode,
    Part,
    PaymentMode,
    Revision,
    ScheduleSlot,
    SubjectId,
    month_of,
)
from ..envelope import Event
from ..registration import event
from ..topics import ATTENDANCE, ENROLMENTS

# --- enrolments ---------------------------------------------------------------------------


@event("pfdo.navigator.enrolment.requested", version=1, topic=ENROLMENTS)
class EnrolmentRequested(Event):
    """A parent applied for a module; billing must reserve (or reject) the certificate part."""

    enrolment_id: uuid.UUID = Field(description="Enrolment (request, then contract) id.")
    certificate_id: uuid.UUID = Field(description="Certificate paying for it.")
    parent_id: SubjectId = Field(description="Opaque account subject of the applicant.")
    program_id: uuid.UUID = Field(description="Program id.")
    program_revision: Revision = Field(description="Program snapshot revision the request was made on.")
    module_id: uuid.UUID = Field(description="Module (group) id.")
    provider_id: uuid.UUID = Field(description="Provider running the module.")
    municipality_code: MunicipalityCode = Field(description="Municipality where the module runs.")
    direction: Direction = Field(description="Program direction (per-direction caps).")
    funding_kind: FundingKind = Field(description="certificate (paid) or municipal_task (free place).")
    start_date: dt.date = Field(description="Contract start S (first day the child studies).")
    end_date: dt.date = Field(description="Contract end E (the module's end).")
    module_start_date: dt.date = Field(description="Module start: pro-rating uses days(module).")
    module_end_date: dt.date = Field(description="Module end: pro-rating uses days(module).")
    price_kopecks: Kopecks = Field(description="Price of the whole module, kopecks.")
    normative_cost_kopecks: Kopecks = Field(description="Normative cost of the whole module, kopecks.")
    payment_mode: PaymentMode = Field(description="monthly or attendance.")
    schedule: list[ScheduleSlot] = Field(
        min_length=1, description="Weekly timetable: planned lessons of a month are counted from it."
    )
    lessons_per_week: int = Field(ge=1, le=50, description="Planned lessons per week.")
    from_waiting_list: bool = Field(
        default=False,
        description="True when a freed seat went to this application from the group's waiting list "
        "(it was published as enrolment.waitlisted before); start_date may then be later than asked.",
    )

    @model_validator(mode="after")
    def _dates(self) -> EnrolmentRequested:
        if not self.module_start_date <= self.start_date <= self.end_date <= self.module_end_date:
            raise ValueError("expected module_start <= start <= end <= module_end")
        return self


@event("pfdo.navigator.enrolment.offered", version=1, topic=ENROLMENTS)
class EnrolmentOffered(Event):
    """The provider confirmed the application: the platform issued the contract as an offer
    (договор-оферта) to the parent, built from these facts. The contract is made only when the
    parent accepts it (``enrolment.confirmed`` with ``accepted_by``/``accepted_at``); an offer not
    accepted by ``offer_expires_on`` is withdrawn (``enrolment.expired``, reason
    ``offer_not_accepted``). Seat and reservation stay held meanwhile."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id (the contract's number is derived from it).")
    certificate_id: uuid.UUID = Field(description="Certificate paying for it.")
    certificate_number: CertificateNumber = Field(description="The certificate's 10-digit number.")
    module_id: uuid.UUID = Field(description="Module (group) id.")
    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID = Field(description="Provider, the offering party.")
    municipality_code: MunicipalityCode = Field(description="Municipality where the module runs.")
    start_date: dt.date = Field(description="Contract start.")
    end_date: dt.date = Field(description="Contract end.")
    schedule: list[ScheduleSlot] = Field(min_length=1, description="Weekly timetable of the group.")
    total_cost_kopecks: Kopecks | None = Field(
        default=None, description="Cost of the contract (the quote), kopecks; null if billing has not said.")
    certificate_kopecks: Kopecks | None = Field(default=None, description="Part paid by the certificate, kopecks.")
    family_kopecks: Kopecks | None = Field(default=None, description="Part paid by the family, kopecks.")
    payment_mode: PaymentMode = Field(description="monthly or attendance.")
    offered_on: dt.date = Field(description="Regional date the offer was issued.")
    offer_expires_on: dt.date = Field(description="Last regional date the parent may accept it.")

    @model_validator(mode="after")
    def _dates(self) -> EnrolmentOffered:
        if self.start_date > self.end_date or self.offer_expires_on < self.offered_on:
            raise ValueError("expected start <= end and offered_on <= offer_expires_on")
        return self


@event("pfdo.navigator.enrolment.confirmed", version=1, topic=ENROLMENTS)
class EnrolmentConfirmed(Event):
    """The parent accepted the offer: the contract is concluded (seat and reservation hold)."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    module_id: uuid.UUID = Field(description="Module id.")
    provider_id: uuid.UUID = Field(description="Provider id.")
    start_date: dt.date = Field(description="Contract start.")
    end_date: dt.date = Field(description="Contract end.")
    confirmed_on: dt.date = Field(description="Date the contract was concluded (the acceptance's date).")
    accepted_by: SubjectId | None = Field(
        default=None, description="Opaque account subject of the parent who accepted the offer.")
    accepted_at: dt.datetime | None = Field(default=None, description="When the offer was accepted (UTC).")


class DeclineReason(StrEnum):
    RESERVATION_REJECTED = "reservation_rejected"  # billing said no (see its reason code)
    NO_SEAT = "no_seat"  # the module is full
    PROVIDER_REFUSED = "provider_refused"
    PROGRAM_UNAVAILABLE = "program_unavailable"  # archived or no longer certified
    AGE_NOT_ADMITTED = "age_not_admitted"


@event("pfdo.navigator.enrolment.declined", version=1, topic=ENROLMENTS)
class EnrolmentDeclined(Event):
    """The request was refused; any reservation for it must be released."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    reason: DeclineReason = Field(description="Why the request was declined.")
    declined_on: dt.date = Field(description="Date of the decision.")


class Actor(StrEnum):
    PARENT = "parent"
    PROVIDER = "provider"
    OPERATOR = "operator"


@event("pfdo.navigator.enrolment.cancelled", version=1, topic=ENROLMENTS)
class EnrolmentCancelled(Event):
    """Cancelled before the contract started: everything reserved is released."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    cancelled_by: Actor = Field(description="Who cancelled.")
    cancelled_on: dt.date = Field(description="Date of cancellation (before start_date).")


class ExpiryReason(StrEnum):
    APPLICATION_UNANSWERED = "application_unanswered"  # the provider did not answer in time: refused
    OFFER_NOT_ACCEPTED = "offer_not_accepted"  # the parent did not accept the offer in time: withdrawn


@event("pfdo.navigator.enrolment.expired", version=1, topic=ENROLMENTS)
class EnrolmentExpired(Event):
    """A timeout ended the application: the provider did not answer it in time (refused), or the
    parent did not accept the offer in time (withdrawn). Everything reserved is released."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    expired_on: dt.date = Field(description="Date the timeout struck.")
    reason: ExpiryReason = Field(
        default=ExpiryReason.APPLICATION_UNANSWERED, description="Which timeout: application_unanswered or "
        "offer_not_accepted.")


class TerminatedBy(StrEnum):
    PARENT = "parent"
    PROVIDER = "provider"
    EXPIRY = "expiry"  # the certificate expired (age 18) or was closed


class TerminationReason(StrEnum):
    PARENT_REQUEST = "parent_request"
    PROVIDER_DECISION = "provider_decision"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_CLOSED = "certificate_closed"
    PROVIDER_EXCLUDED = "provider_excluded"
    PROGRAM_ARCHIVED = "program_archived"


@event("pfdo.navigator.enrolment.terminated", version=1, topic=ENROLMENTS)
class EnrolmentTerminated(Event):
    """A running contract will end early: the current month is still billed by its mode,
    reserved money for later months returns to the balance at once."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider id.")
    terminated_by: TerminatedBy = Field(description="parent, provider or expiry.")
    reason: TerminationReason = Field(description="Why (a code).")
    requested_on: dt.date = Field(description="Date of the termination request or expiry.")
    effective_end_date: dt.date = Field(description="Last contract day: end of the current month.")

    @model_validator(mode="after")
    def _dates(self) -> EnrolmentTerminated:
        if self.effective_end_date < self.requested_on:
            raise ValueError("effective_end_date before requested_on")
        return self


class EndOutcome(StrEnum):
    COMPLETED = "completed"
    TERMINATED = "terminated"


@event("pfdo.navigator.enrolment.ended", version=1, topic=ENROLMENTS)
class EnrolmentEnded(Event):
    """The contract is over; the parent may now rate the program."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    parent_id: SubjectId = Field(description="Opaque account subject allowed to rate.")
    program_id: uuid.UUID = Field(description="Program to rate.")
    provider_id: uuid.UUID = Field(description="Provider of the program.")
    module_id: uuid.UUID = Field(description="Module attended.")
    outcome: EndOutcome = Field(description="completed or terminated.")
    end_date: dt.date = Field(description="Last contract day.")


# --- waiting list -------------------------------------------------------------------------


@event("pfdo.navigator.enrolment.waitlisted", version=1, topic=ENROLMENTS)
class EnrolmentWaitlisted(Event):
    """The group was full and its provider keeps a waiting list: the application waits for a
    seat (none is held, billing reserves nothing yet). When a seat frees, the first waiting
    application gets it and ``enrolment.requested`` (``from_waiting_list``) follows."""

    enrolment_id: uuid.UUID = Field(description="Enrolment (application) id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    parent_id: SubjectId = Field(description="Opaque account subject of the applicant.")
    module_id: uuid.UUID = Field(description="Module (group) id.")
    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID = Field(description="Provider running the module.")
    municipality_code: MunicipalityCode = Field(description="Municipality where the module runs.")
    position: int = Field(ge=1, description="1-based place on the group's waiting list when joining.")
    start_date: dt.date = Field(description="Start date asked for (moves to the offer day if it has passed).")
    waitlisted_at: dt.datetime = Field(description="When the application joined the list (UTC): the order.")


class WaitlistLeaveReason(StrEnum):
    PARENT_LEFT = "parent_left"
    NO_LONGER_ELIGIBLE = "no_longer_eligible"  # re-checked when a seat was offered
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_CLOSED = "certificate_closed"


@event("pfdo.navigator.enrolment.waitlist_left", version=1, topic=ENROLMENTS)
class EnrolmentWaitlistLeft(Event):
    """The application left the waiting list without ever holding a seat (nothing to release)."""

    enrolment_id: uuid.UUID = Field(description="Enrolment (application) id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    module_id: uuid.UUID = Field(description="Module (group) id.")
    reason: WaitlistLeaveReason = Field(description="Why it left.")
    details: list[str] = Field(
        default_factory=list, max_length=20,
        description="Reason codes behind no_longer_eligible (e.g. age_out_of_range, certificate_not_active).",
    )
    left_on: dt.date = Field(description="Regional date it left.")


@event(
    "pfdo.navigator.waiting_list.changed", version=1, topic=ENROLMENTS, key="module_id",
    key_note="A setting of a module group, not of a certificate: keyed by module id (no per-certificate order).",
)
class WaitingListChanged(Event):
    """The provider turned a group's waiting list on or off or changed its maximum length.
    Turning it off stops new entries; applications already waiting keep their place."""

    module_id: uuid.UUID = Field(description="Module (group) id.")
    provider_id: uuid.UUID = Field(description="Provider running the module.")
    enabled: bool = Field(description="Whether the group takes applications onto a waiting list when full.")
    max_length: int | None = Field(default=None, ge=1, description="Most waiting applications (null: no limit).")
    changed_on: dt.date = Field(description="Regional date of the change.")


# --- attendance ---------------------------------------------------------------------------


class AttendanceMark(Part):
    """One lesson's mark; a correction repeats the mark id with a higher revision."""

    mark_id: uuid.UUID = Field(description="Stable id of the lesson mark across corrections.")
    lesson_date: dt.date = Field(description="Date of the lesson.")
    status: AttendanceStatus = Field(description="present, absent or excused (excused is not attended).")
    revision: Revision = Field(description="Per mark, monotonic: the highest revision wins.")


@event("pfdo.navigator.attendance.recorded", version=1, topic=ATTENDANCE)
class AttendanceRecorded(Event):
    """A batch of marks for ONE enrolment and month (one lesson or a whole journal).

    Corrections reuse this event with higher mark revisions; allowed until the month's journal
    is frozen (see ``AttendanceMonthFrozen``).
    """

    batch_id: uuid.UUID = Field(description="Id of this batch (one journal posting).")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider that posted the marks.")
    module_id: uuid.UUID = Field(description="Module (group) id.")
    month: Month = Field(description="Month of every lesson in the batch, 'YYYY-MM'.")
    marks: list[AttendanceMark] = Field(min_length=1, description="The marks.")

    @model_validator(mode="after")
    def _one_month(self) -> AttendanceRecorded:
        # runs for every journal posting a consumer reads (floods of them): integer compares and
        # the UUIDs' integers, not a formatted month string and UUID.__hash__ per mark
        year, month = int(self.month[:4]), int(self.month[5:7])
        if any(m.lesson_date.month != month or m.lesson_date.year != year for m in self.marks):
            raise ValueError("every lesson_date must fall in month")
        if len({m.mark_id.int for m in self.marks}) != len(self.marks):
            raise ValueError("a mark appears once per batch")
        return self


class _DisputeBase(Event):
    dispute_id: uuid.UUID = Field(description="Dispute id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    provider_id: uuid.UUID = Field(description="Provider id.")
    mark_id: uuid.UUID = Field(description="The disputed mark.")
    lesson_date: dt.date = Field(description="Date of the disputed lesson.")
    month: Month = Field(description="Month of the lesson, 'YYYY-MM'.")

    @model_validator(mode="after")
    def _month(self) -> _DisputeBase:
        if month_of(self.lesson_date) != self.month:
            raise ValueError("lesson_date must fall in month")
        return self


@event("pfdo.navigator.dispute.opened", version=1, topic=ATTENDANCE)
class DisputeOpened(_DisputeBase):
    """A parent disputes a mark (within 7 days): it is not billed until the operator decides."""

    claimed_status: AttendanceStatus = Field(description="The status the parent says is right.")
    opened_on: dt.date = Field(description="Date the dispute was opened.")


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"  # the parent is right: the mark takes the claimed status
    REJECTED = "rejected"  # the mark stands


@event("pfdo.navigator.dispute.resolved", version=1, topic=ATTENDANCE)
class DisputeResolved(_DisputeBase):
    """The operator decided; the mark is billable again with ``final_status``."""

    outcome: DisputeOutcome = Field(description="upheld or rejected.")
    final_status: AttendanceStatus = Field(description="The status to bill the lesson by.")
    resolved_on: dt.date = Field(description="Date of the decision.")


class FrozenBy(StrEnum):
    OPERATOR = "operator"  # a regional operator's command
    SCHEDULE = "schedule"  # the navigator's job on the configured freeze day


@event(
    "pfdo.navigator.attendance.month_frozen", version=1, topic=ATTENDANCE, key="month",
    key_note=(
        "Concerns every enrolment of the month: keyed by month. Its place in the partitions does "
        "not matter: billing compares the count it carries with the attendance events it applied."
    ),
)
class AttendanceMonthFrozen(Event):
    """The month's journal is frozen: no more marks or corrections for it. Billing closes the
    month only after this event and after it has applied ``attendance_events`` attendance.recorded
    events of the month (every one the navigator published), whatever their partitions.

    Disputes of the month's marks stay possible after the freeze (a parent's 7-day right); they
    are billed as before: a dispute open when billing closes the month keeps its mark unbilled.
    """

    month: Month = Field(description="The frozen month, 'YYYY-MM'.")
    attendance_events: int = Field(
        ge=0, description="How many attendance.recorded events the navigator published for this month in total."
    )
    frozen_on: dt.date = Field(description="Regional date of the freeze.")
    frozen_by: FrozenBy = Field(description="operator or schedule.")
