"""Request and response bodies of the navigator API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from pfdo_contracts.common import Direction, FundingKind, PaymentMode
from pfdo_plumbing.http.examples import document_examples
from pfdo_plumbing.http.params import KOPECKS_MAX, Kopecks

from ..domain.attendance import MarkStatus
from ..domain.search_query import CHILD_AGE_MAX, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, TEXT_MAX_LENGTH, SearchQuery, SortOrder


class Quote(BaseModel):
    total_cost_kopecks: int = Field(description="Cost of the enrolment from the start date, kopecks (billing's quote).")
    certificate_kopecks: int = Field(description="Part the certificate pays, kopecks.")
    family_kopecks: int = Field(description="Part the family pays (co-payment), kopecks.")


class QuoteError(BaseModel):
    code: str = Field(description="Billing's reason for this module (e.g. start_outside_module, module_not_available).")
    message: str = Field(description="The reason in words a parent understands (Russian).")


class ProgramFields(BaseModel):
    """The public fields of a certified program, shared by a search hit and a program's page."""

    program_id: uuid.UUID = Field(description="Program id.")
    title: str = Field(description="Program title.")
    description: str = Field(description="Program description.")
    direction: str = Field(description="One of the six directions.")
    municipality_code: str = Field(description="Municipality where it runs.")
    venue_address: str = Field(description="Venue address.")
    age_min: int = Field(description="Youngest age admitted.")
    age_max: int = Field(description="Oldest age admitted.")
    funding_kind: str = Field(description="certificate or municipal_task.")
    certified_on: dt.date = Field(description="Date the program was first certified.")


class ProgramHit(ProgramFields):
    """One module group of a search page, with its program's public fields."""

    module_id: uuid.UUID = Field(description="Module (group) id: what a parent enrols in.")
    provider_id: uuid.UUID = Field(description="Provider id.")
    module_title: str = Field(description="Module title.")
    start_date: dt.date = Field(description="Module start.")
    end_date: dt.date = Field(description="Module end.")
    schedule: list[dict[str, Any]] = Field(description="Weekly timetable.")
    lessons_per_week: int = Field(description="Planned lessons per week.")
    hours: int = Field(description="Academic hours.")
    capacity: int = Field(description="Group capacity.")
    free_seats: int = Field(description="Seats not held right now.")
    price_kopecks: int = Field(description="Price of the whole module, kopecks.")
    rating_score: float | None = Field(description="Shrunk rating score (percent), null when not rated.")
    rating_count: int = Field(description="Number of ratings.")
    relevance: float | None = Field(description="Full-text rank (text searches).")
    quote: Quote | None = Field(description="Cost to this family (with child=…), from billing; null when billing "
                                "could not answer, or could not quote this module (then `quote_error` says why).")
    quote_error: QuoteError | None = Field(
        default=None, description="With child=…: why billing could not quote this one module (the other results keep "
        "their prices).")


def _comma_separated(value: Any) -> Any:
    """``weekday=1,3`` as well as ``weekday=1&weekday=3``."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return [part.strip() for item in value for part in (item.split(",") if isinstance(item, str) else [item])
                if part != ""]
    return value


Weekday = Annotated[int, Field(ge=1, le=7)]


class SearchParams(BaseModel):
    """The query string of a search: every parameter with its real type and range, validated in
    one pass (one model is about 45 us of CPU per request cheaper than 17 separate parameters).
    Unknown parameters are refused (422) so that a typo does not silently widen a search; the
    rules between parameters (``age_on`` needs ``child_age``, ``relevance`` needs ``text``, the
    price range) are :class:`SearchQuery`'s, built by :meth:`to_query`."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=TEXT_MAX_LENGTH,
                             description="Words to find (Russian stemming, prefixes).", examples=["робототехника"])
    municipality: str | None = Field(default=None, pattern=r"^[0-9]{2}$", description="Municipality code (2 digits).",
                                     examples=["42"])
    direction: Direction | None = Field(default=None, description="One of the six directions.")
    child_age: int | None = Field(default=None, ge=0, le=CHILD_AGE_MAX, description="Child's age in years.",
                                  examples=[9])
    age_on: dt.date | None = Field(default=None, description="Date the age is taken on (with child_age; default today).")
    funding_kind: FundingKind | None = Field(default=None, description="certificate money or a free municipal_task place.")
    free_seats_only: bool = Field(default=False, description="Only groups with a free seat.")
    weekday: Annotated[list[Weekday], BeforeValidator(_comma_separated)] | None = Field(
        default=None, description="ISO weekdays 1 (Monday) .. 7 (Sunday), repeated or comma-separated; any of them.",
        examples=[[2, 4]],
    )
    provider_id: uuid.UUID | None = Field(default=None, description="Only this provider's programs.")
    price_min: Kopecks | None = Field(default=None, description=f"Lowest module price, kopecks (0..{KOPECKS_MAX}).",
                                      examples=[0])
    price_max: Kopecks | None = Field(default=None, description=f"Highest module price, kopecks (0..{KOPECKS_MAX}).",
                                      examples=[1_500_000])
    sort: SortOrder | None = Field(
        default=None, description="relevance (needs text; the default with text), rating (the default without), "
        "price (ascending) or newest.")
    limit: int | None = Field(default=None, ge=1, le=PAGE_SIZE_MAX,
                              description=f"Most results on the page (1..{PAGE_SIZE_MAX}, default {PAGE_SIZE_DEFAULT}).")
    page_size: int | None = Field(default=None, ge=1, le=PAGE_SIZE_MAX, deprecated=True,
                                  description="Old name of `limit`.")
    cursor: str | None = Field(default=None, max_length=4096, description="`next_cursor` of the previous page.")
    child: uuid.UUID | None = Field(default=None, description="Parent's own child's certificate id: show prices.")
    start_date: dt.date | None = Field(default=None, description="Start date for the quotes (default today).")
    no_copayment: bool = Field(default=False, description="With child: only results the family pays nothing for.")

    def to_query(self) -> SearchQuery:
        """The domain query (filters, sort, page size); 422 ``invalid_query`` on a broken rule."""
        return SearchQuery(
            text=self.text, municipality=self.municipality, direction=self.direction, child_age=self.child_age,
            age_on=self.age_on, funding_kind=self.funding_kind, free_seats_only=self.free_seats_only,
            weekdays=frozenset(self.weekday or ()), provider_id=None if self.provider_id is None else str(self.provider_id),
            price_min=self.price_min, price_max=self.price_max, sort=self.sort,
            page_size=self.limit or self.__dict__.get("page_size") or PAGE_SIZE_DEFAULT,
        )


class SearchResult(BaseModel):
    items: list[ProgramHit] = Field(description="One page of module groups.")
    next_cursor: str | None = Field(description="Opaque signed cursor of the next page; null on the last page.")
    total: int = Field(description="Matches of the filters (all pages).")
    facets: dict[str, dict[str, int]] = Field(description="Counts by direction, municipality and funding kind.")
    prices_available: bool | None = Field(
        default=None, description="With child=…: false when billing could not answer at all (results come without prices); true "
        "when it answered, even if some modules carry `quote_error` instead of a price."
    )


class ApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    certificate_id: uuid.UUID = Field(description="The child's certificate (must be the parent's own).")
    module_id: uuid.UUID = Field(description="Module group to enrol in.")
    start_date: dt.date = Field(description="First day the child studies.")
    payment_mode: PaymentMode = Field(default=PaymentMode.MONTHLY, description="monthly or attendance.")


class EnrolmentOut(BaseModel):
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    module_id: uuid.UUID = Field(description="Module group.")
    program_id: uuid.UUID = Field(description="Program.")
    provider_id: uuid.UUID = Field(description="Provider.")
    municipality_code: str = Field(description="Municipality of the module.")
    direction: str = Field(description="Direction.")
    payment_mode: str = Field(description="monthly or attendance.")
    state: str = Field(
        description="requested, reserved, offered (the provider confirmed: the offer waits for the parent's "
        "acceptance until offer_expires_on), rejected, confirmed (the offer accepted: the contract is made), "
        "declined, expired (a timeout: see reason), cancelled, terminated, ended; "
        "waitlisted (the group was full: waiting for a seat, see waiting_position) or withdrawn (left the list)."
    )
    starts_on: dt.date = Field(description="Contract start.")
    ends_on: dt.date = Field(description="Contract last day.")
    requested_at: dt.datetime = Field(description="When the parent applied (UTC).")
    reason: str | None = Field(description="Reason code of the closing transition.")
    end_outcome: str | None = Field(description="completed or terminated, once ended.")
    queue_position: int | None = Field(description="Position in billing's funding queue, when queued.")
    total_cost_kopecks: int | None = Field(description="Total cost (from billing's reservation).")
    reserved_kopecks: int | None = Field(description="Certificate part still reserved.")
    family_kopecks: int | None = Field(description="Family part (co-payment) over the contract.")
    released_kopecks: int = Field(description="Reserved money returned to the balance so far.")
    instalments: list[dict[str, Any]] | None = Field(description="Monthly instalments (certificate and family).")
    billing_history_url: str | None = Field(default=None, description="Billing history of the certificate.")
    waiting_position: int | None = Field(
        default=None, description="While waitlisted: the current 1-based place on the group's waiting list."
    )
    waitlisted_at: dt.datetime | None = Field(default=None, description="When it joined the waiting list (UTC).")
    offered_on: dt.date | None = Field(default=None, description="Date the offer (договор-оферта) was issued.")
    offer_expires_on: dt.date | None = Field(
        default=None, description="Last date the parent may accept the offer; not accepted by then, it is withdrawn.")
    accepted_at: dt.datetime | None = Field(default=None, description="When the parent accepted the offer (UTC).")
    accepted_by: str | None = Field(default=None, description="Account subject of the parent who accepted it.")


class WaitingListIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(description="Take applications to a full group onto a waiting list.")
    max_length: int | None = Field(
        default=None, ge=1, le=10_000, description="Most waiting applications (null: no limit)."
    )


class WaitingEntryOut(BaseModel):
    position: int = Field(description="1-based place, first come first served.")
    enrolment_id: uuid.UUID = Field(description="The waiting application.")
    certificate_id: uuid.UUID = Field(description="Certificate of the child.")
    waitlisted_at: dt.datetime = Field(description="When it joined (UTC).")
    starts_on: dt.date = Field(description="Start date asked for (moves to the offer day if passed).")


class WaitingListOut(BaseModel):
    module_id: uuid.UUID = Field(description="Module group.")
    provider_id: uuid.UUID = Field(description="Provider running it.")
    enabled: bool = Field(description="Whether new applications join the list when the group is full.")
    max_length: int | None = Field(description="Most waiting applications (null: no limit).")
    capacity: int = Field(description="Seats of the group.")
    held: int = Field(description="Seats held (requests and contracts).")
    waiting: int = Field(description="Applications waiting now.")
    entries: list[WaitingEntryOut] = Field(description="The waiting applications in order.")


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enrolment_id: uuid.UUID = Field(description="Enrolment (contract) the mark is for.")
    module_id: uuid.UUID = Field(description="The group (must be the provider's own).")
    lesson_date: dt.date = Field(description="Date of the lesson.")
    status: MarkStatus = Field(description="present, absent or excused.")


class AttendancePosting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    marks: list[MarkIn] = Field(min_length=1, description="One lesson's marks or a month's journal.")


class RejectedMarkOut(BaseModel):
    index: int = Field(description="Position of the mark in the posting.")
    enrolment_id: str = Field(description="Enrolment id of the mark.")
    lesson_date: dt.date = Field(description="Lesson date of the mark.")
    reason: str = Field(description="foreign_group, not_enrolled_on_date, future_date, month_closed, not_a_lesson_day, duplicate_mark.")


class AttendanceReport(BaseModel):
    accepted: int = Field(description="Marks accepted.")
    recorded: int = Field(description="New marks.")
    corrected: int = Field(description="Marks whose status changed.")
    unchanged: int = Field(description="Marks repeated with the same status.")
    events: int = Field(description="AttendanceRecorded events published (one per enrolment and month).")
    rejected: list[RejectedMarkOut] = Field(description="Refused marks with their reason.")


class JournalMonthOut(BaseModel):
    month: str = Field(description="Month, 'YYYY-MM'.")
    state: str = Field(description="open (marks and corrections accepted) or frozen (refused: billing may close it).")
    attendance_events: int | None = Field(
        description="Frozen: how many attendance.recorded events were published for the month (billing's watermark)."
    )
    frozen_on: dt.date | None = Field(description="Regional date of the freeze.")
    frozen_by: str | None = Field(description="operator or schedule.")


class MarkOut(BaseModel):
    mark_id: uuid.UUID = Field(description="Stable mark id.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    lesson_date: dt.date = Field(description="Lesson date.")
    status: str = Field(description="present, absent or excused.")
    revision: int = Field(description="Version of the mark.")
    marked_on: dt.date = Field(description="Date of the last recording or correction.")
    dispute_deadline: dt.date = Field(description="Last day a parent may dispute this version.")
    open_dispute_id: uuid.UUID | None = Field(description="Open dispute on the mark, if any.")


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mark_id: uuid.UUID = Field(description="The disputed mark.")
    claimed_status: MarkStatus = Field(default=MarkStatus.ABSENT, description="The status the parent says is right.")
    comment: str | None = Field(default=None, max_length=2000, description="Free text for the operator.")


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    upheld: bool = Field(description="True: the parent is right; false: the mark stands.")
    note: str | None = Field(default=None, max_length=2000, description="Operator's note.")


class DisputeOut(BaseModel):
    dispute_id: uuid.UUID = Field(description="Dispute id.")
    mark_id: uuid.UUID = Field(description="Disputed mark.")
    enrolment_id: uuid.UUID = Field(description="Enrolment id.")
    lesson_date: dt.date = Field(description="Lesson date.")
    mark_version: int = Field(description="Mark revision disputed.")
    state: str = Field(description="open, upheld or rejected.")
    claimed_status: str = Field(description="Status claimed by the parent.")
    opened_at: dt.datetime = Field(description="When opened (UTC).")
    resolved_at: dt.datetime | None = Field(description="When resolved (UTC).")
    comment: str | None = Field(default=None, description="The parent's comment.")
    resolution_note: str | None = Field(default=None, description="The operator's note with the decision.")
    mark_status: str | None = Field(default=None, description=(
        "The mark's status now (lists and one dispute; null in the answers to opening and deciding): the "
        "disputed one while the dispute is open."))
    marked_on: dt.date | None = Field(default=None, description=(
        "When the mark was last recorded (as mark_status): the 7-day window to dispute it runs from this date."))


class ChildOut(BaseModel):
    certificate_id: uuid.UUID = Field(description="Certificate id.")
    number: str = Field(description="Certificate number.")
    municipality_code: str = Field(description="Municipality (payer).")
    birth_date: dt.date = Field(description="Child's birth date (visible to the own parent only).")
    status: str = Field(description="active, suspended, expired or closed.")
    valid_until: dt.date = Field(description="Last valid day.")
    usage_kind: str = Field(description="accounting or funding.")
    billing_history_url: str = Field(description="Billing history of the certificate (balances and debits).")


class RebuildOut(BaseModel):
    events_applied: int = Field(description="Catalogue events replayed.")
    events_skipped: int = Field(description="Records that are not catalogue events (or malformed).")
    entries: int = Field(description="Searchable module rows after the rebuild.")
    swapped: bool = Field(description="Whether the rebuilt catalogue replaced the live one.")


document_examples(globals())
