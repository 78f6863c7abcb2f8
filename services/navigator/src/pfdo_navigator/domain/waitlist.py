"""The waiting list of a module group: the provider's setting, who may join, and what a freed
seat does (the arithmetic and the decisions; the database does the atomic part under the
module row's lock, see :mod:`pfdo_navigator.service.enrolments`).

Rules (the issue: "concurrent applications for the last seat give exactly one winner, and the
others get a clear answer: no seats, or a waiting-list position if the provider keeps one"):

* The provider keeps a waiting list per module group, optionally with a maximum length.
  Turning it off stops new entries; applications already waiting keep their place.
* An application to a full group joins the list when the group keeps one and the list is not at
  its maximum; otherwise the answer is ``no_free_seats`` (or ``waiting_list_full``).
* Positions are 1-based, first come first served (see :func:`.seats.waiting_positions`).
* A freed seat goes to the first waiting application whose child is still eligible on the day
  of the offer (certificate active, age, start date, direction cap); the start date moves to
  that day when it has passed. An application that is no longer eligible leaves the list (the
  parent sees why) and the seat goes to the next one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .eligibility import ActiveEnrolment, Ineligibility, ModuleTerms, check_eligibility
from .errors import DomainError
from .seats import SeatCount

#: The longest waiting list a provider may set (a sanity bound on input, not a business rule).
MAX_LENGTH_LIMIT = 10_000


@dataclass(frozen=True, slots=True)
class WaitingListSetting:
    enabled: bool = False
    max_length: int | None = None  # None: no limit

    def __post_init__(self) -> None:
        if self.max_length is not None and not 1 <= self.max_length <= MAX_LENGTH_LIMIT:
            raise DomainError(
                "invalid_waiting_list_length",
                f"the waiting list length must be between 1 and {MAX_LENGTH_LIMIT}",
                max_length=self.max_length,
            )

    def has_room(self, waiting: int) -> bool:
        """Whether one more application may join a list of ``waiting`` applications."""
        if not self.enabled:
            return False
        return self.max_length is None or waiting < self.max_length


class Placement:
    SEAT = "seat"  # a seat is free: hold it
    WAITING_LIST = "waiting_list"  # full, the list has room: join it
    NO_FREE_SEATS = "no_free_seats"  # full, no list kept
    WAITING_LIST_FULL = "waiting_list_full"  # full, the list is at its maximum


def place(seats: SeatCount, setting: WaitingListSetting, waiting: int) -> str:
    """Where an eligible application goes, given the group's seats and list (one of
    :class:`Placement`). A free seat is taken only when nobody waits: waiting applications are
    served first (a freed seat is offered to them in the same transaction that frees it, so a
    free seat with a non-empty list is a transient state; this rule keeps the order even then).
    """
    if seats.can_hold() and waiting == 0:
        return Placement.SEAT
    if setting.has_room(waiting):
        return Placement.WAITING_LIST
    if not setting.enabled:
        return Placement.NO_FREE_SEATS
    return Placement.WAITING_LIST_FULL


@dataclass(frozen=True, slots=True)
class OfferDecision:
    """What to do with the first waiting application when a seat is free: ``start_date`` set
    means offer the seat from that date; otherwise ``reasons`` says why it leaves the list."""

    start_date: date | None
    reasons: tuple[str, ...] = ()

    @property
    def offered(self) -> bool:
        return self.start_date is not None


MODULE_UNAVAILABLE = "program_unavailable"


def decide_offer(
    *,
    requested_start: date,
    module: ModuleTerms,
    module_visible: bool,
    certificate_status: str,
    birth_date: date,
    today: date,
    other_enrolments: Iterable[ActiveEnrolment],
) -> OfferDecision:
    """Re-check the waiting application on the day a seat frees for it.

    The start date is the requested one, or ``today`` when that has passed; the same eligibility
    rules as at application time apply (``other_enrolments``: the certificate's seat-holding
    enrolments, without this one). A program that no longer takes enrolments removes the
    application too.
    """
    start = max(requested_start, today)
    reasons = [
        r.value
        for r in check_eligibility(
            certificate_status=certificate_status, birth_date=birth_date, module=module, start_date=start,
            today=today, active_enrolments=other_enrolments,
        )
    ]
    if not module_visible:
        reasons.insert(0, MODULE_UNAVAILABLE)
    if reasons:
        return OfferDecision(None, tuple(reasons))
    return OfferDecision(start)


def seats_to_offer(seats: SeatCount, waiting: int) -> int:
    """How many waiting applications a group can take now (free seats, at most the list)."""
    return min(seats.free, max(waiting, 0))


__all__ = [
    "Ineligibility",
    "MODULE_UNAVAILABLE",
    "OfferDecision",
    "Placement",
    "WaitingListSetting",
    "decide_offer",
    "place",
    "seats_to_offer",
]
