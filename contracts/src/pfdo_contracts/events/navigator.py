"""Events published by the navigator: the enrolment saga and the attendance journal.

All keyed by ``certificate_id``: every flow of one certificate stays ordered on one partition.
The saga: ``requested`` → billing answers on RESERVATIONS → ``confirmed`` or ``declined``;
before the start the request may be ``cancelled`` or its hold ``expired``; a running contract
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
from ..registry import event
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

    @model_validator(mode="after")
    def _dates(self) -> EnrolmentRequested:
        if not self.module_start_date <= self.start_date <= self.end_date <= self.module_end_date:
            raise ValueError("expected module_start <= start <= end <= module_end")
        return self


@event("pfdo.navigator.enrolment.confirmed", version=1, topic=ENROLMENTS)
class EnrolmentConfirmed(Event):
    """Seat and reservation hold: the contract is concluded."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    module_id: uuid.UUID = Field(description="Module id.")
    provider_id: uuid.UUID = Field(description="Provider id.")
    start_date: dt.date = Field(description="Contract start.")
    end_date: dt.date = Field(description="Contract end.")
    confirmed_on: dt.date = Field(description="Date the contract was concluded.")


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


@event("pfdo.navigator.enrolment.expired", version=1, topic=ENROLMENTS)
class EnrolmentExpired(Event):
    """The request's hold timed out unconfirmed: everything reserved is released."""

    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    expired_on: dt.date = Field(description="Date the hold timed out.")


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

    Corrections reuse this event with higher mark revisions; allowed until the month closes.
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
        if any(month_of(m.lesson_date) != self.month for m in self.marks):
            raise ValueError("every lesson_date must fall in month")
        if len({m.mark_id for m in self.marks}) != len(self.marks):
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
