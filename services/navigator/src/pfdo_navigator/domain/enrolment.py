"""The enrolment saga: from a parent's request to the end of the contract.

docs/domain-rules.md, "Enrolment and seats" and "Contracts and payment modes" (billing owns the
money, the navigator owns the seats and the contract). The state machine::

    requested ──reservation created──▶ reserved ──provider confirms──▶ offered ──parent accepts──▶ confirmed
        │  └─reservation rejected──▶ rejected       │                    │                         │
        │                                           ├─provider declines─▶ declined ◀─provider─┤    │
        ├─parent cancels──▶ cancelled ◀─parent──────┤  cancelled ◀─parent declines the offer──┤    │
        └─not answered in N days─▶ expired ◀────────┘  expired ◀─not accepted in M days───────┘    │
                                                                                                   │
    confirmed ──parent/provider terminates, certificate expires──▶ terminated
                 (the contract's last day moves to the end of the current month)
    confirmed ──module end passed──▶ ended (outcome completed)
    terminated ──its last day passed──▶ ended (outcome terminated)

    (group full, the provider keeps a waiting list)
    waitlisted ──a seat frees, still eligible──▶ requested (then as above)
        └─parent leaves, child no longer eligible, certificate expires──▶ withdrawn

Seat-holding states (the seat counter in :mod:`.seats` counts them): ``requested``,
``reserved``, ``offered``, and ``confirmed``/``terminated``/``ended`` until the contract's last day.

**Offer and acceptance** (docs/domain-rules.md, "Offer and acceptance"): the provider's
confirmation does not make the contract. It makes the platform issue the contract as an offer
(договор-оферта, event ``enrolment.offered`` with what the offer is built from) with a deadline
``offer_expires_on`` = the offer's date + the region's ``offer_acceptance_days``. The parent accepts
it (who and when recorded): only then is the contract concluded (``offered → confirmed``, event
``enrolment.confirmed`` with ``accepted_by``/``accepted_at``, which billing activates the contract
on). The parent may decline the offer instead (:func:`cancel`, reason ``offer_declined``).

**Timeouts** (:func:`due_timeout`, counted in regional business dates): an application the provider
has not answered (``requested``/``reserved``) more than ``application_answer_days`` days after the
day it was made is refused, an offer not accepted by its deadline is withdrawn; both become
``expired`` (event ``enrolment.expired`` whose ``reason`` says which timeout:
``application_unanswered`` or ``offer_not_accepted``), releasing the seat and, through billing,
the reservation.

Decisions the rules leave open (documented here, tested in the unit tests):

* **Before the contract starts** a confirmed contract can still be withdrawn with everything
  released (docs/domain-rules.md, "Contracts and payment modes": a request cancelled before the
  contract starts releases everything): the parent ``cancel``\\ s, the provider ``decline``\\ s.
  From the start date on, only ``terminate`` applies, and it ends the contract at the end of the
  current month.
* **The answer deadline** runs from the request, so ``expire`` applies to ``requested`` too (billing
  never answered in time). A reservation that arrives afterwards must be released. An offer
  accepted after its deadline is refused (``offer_expired``) even if the timer has not run yet.
* **Duplicates and reordering** (delivery is at-least-once): repeating a transition whose target
  is the current state is an idempotent no-op (:attr:`Outcome.DUPLICATE`, no event). A timer
  or a billing answer that was overtaken by a parent's/provider's action is
  :attr:`Outcome.STALE` (no event). A reservation created by billing for an enrolment that will
  never use it (cancelled/expired/rejected before the reservation was seen) is
  :attr:`Outcome.NEEDS_RELEASE`: billing releases it on the terminal event, which follows the
  request on the same topic and partition key, so the caller only records it. A genuine contradiction (billing rejecting a request it had already
  reserved) raises ``illegal_transition`` so the message goes to the dead-letter topic rather
  than being silently dropped.
* **Certificate expiry** (docs/domain-rules.md, "Age and validity": contracts end at the end of a
  month once the certificate expires): a running contract is terminated by the system (reason
  ``certificate_expired``) with its last day moved to that month end, exactly like a termination for
  billing (the month is billed by its mode, later months are released); a request, or a contract
  that would not have started by then, becomes ``cancelled`` (reason ``certificate_expired``),
  releasing everything.
* **Waiting list** (:mod:`.waitlist`): a full group whose provider keeps a waiting list takes
  the application as ``waitlisted`` (no seat held, event ``enrolment.waitlisted``). When a seat
  frees, the first waiting application (first come, first served) takes it: ``waitlisted →
  requested`` with the hold starting then (event ``enrolment.requested`` with
  ``from_waiting_list``), and the saga runs as for any request. Leaving the list (the parent,
  or the system when the child is no longer eligible at the time of the offer or the
  certificate expires) is ``withdrawn`` (event ``enrolment.waitlist_left``); billing never
  hears of an application that never held a seat.
* **Ended** is published once the contract's last day has passed, for completed and for
  terminated contracts alike (``end_outcome`` says which); it is what lets the parent rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from pfdo_contracts.rules.validity import contracts_end_on_expiry

from .dates import last_day_of_month
from .errors import DomainError

ILLEGAL_TRANSITION = "illegal_transition"


class EnrolmentState(StrEnum):
    REQUESTED = "requested"
    RESERVED = "reserved"
    REJECTED = "rejected"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    ENDED = "ended"
    WAITLISTED = "waitlisted"  # the group was full: waiting for a seat, none held
    OFFERED = "offered"  # the provider confirmed: the offer waits for the parent's acceptance
    WITHDRAWN = "withdrawn"  # left the waiting list without ever holding a seat


class EnrolmentEvent(StrEnum):
    """Event types the navigator publishes for an enrolment (billing publishes the reservation
    results: ``reservation created/rejected/released``)."""

    REQUESTED = "enrolment.requested"
    OFFERED = "enrolment.offered"
    CONFIRMED = "enrolment.confirmed"  # the parent accepted the offer: the contract is made
    DECLINED = "enrolment.declined"
    CANCELLED = "enrolment.cancelled"
    EXPIRED = "enrolment.expired"
    TERMINATED = "enrolment.terminated"
    ENDED = "enrolment.ended"
    WAITLISTED = "enrolment.waitlisted"
    WAITLIST_LEFT = "enrolment.waitlist_left"


class Outcome(StrEnum):
    """What a transition attempt did."""

    APPLIED = "applied"  # state changed; publish ``event`` if any
    DUPLICATE = "duplicate"  # already in the target state: idempotent no-op
    STALE = "stale"  # overtaken by another transition (late timer/answer): no-op
    NEEDS_RELEASE = "needs_release"  # late reservation for an enrolment that will not use it


class Actor(StrEnum):
    PARENT = "parent"
    PROVIDER = "provider"
    SYSTEM = "system"  # timers and registry-driven closures (hold expiry, certificate expiry)


class EndOutcome(StrEnum):
    COMPLETED = "completed"  # ran to the module's end
    TERMINATED = "terminated"  # ended early (parent, provider, certificate expiry)


class Timeout(StrEnum):
    """The two timers of the way to a contract; the value is the ``expired`` enrolment's reason."""

    APPLICATION_UNANSWERED = "application_unanswered"  # the provider did not answer: refused
    OFFER_NOT_ACCEPTED = "offer_not_accepted"  # the parent did not accept the offer: withdrawn


#: Reason code of a termination caused by the certificate's expiry (age 18).
CERTIFICATE_EXPIRED = "certificate_expired"
#: Reason code of the parent declining the offer.
OFFER_DECLINED = "offer_declined"


#: States from which nothing but duplicate/stale inputs are accepted.
TERMINAL_STATES = frozenset(
    {
        EnrolmentState.REJECTED,
        EnrolmentState.DECLINED,
        EnrolmentState.EXPIRED,
        EnrolmentState.CANCELLED,
        EnrolmentState.ENDED,
        EnrolmentState.WITHDRAWN,
    }
)
#: States that hold a seat regardless of the date (no contract yet: cancelling releases everything).
PENDING_STATES = frozenset({EnrolmentState.REQUESTED, EnrolmentState.RESERVED, EnrolmentState.OFFERED})
#: States waiting for the provider's answer.
UNANSWERED_STATES = frozenset({EnrolmentState.REQUESTED, EnrolmentState.RESERVED})
#: States of a contract that was (or is) in force between ``starts_on`` and ``ends_on``.
CONTRACT_STATES = frozenset(
    {EnrolmentState.CONFIRMED, EnrolmentState.TERMINATED, EnrolmentState.ENDED}
)


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An enrolment request and, once confirmed, the contract.

    ``starts_on`` is the requested start date; ``ends_on`` the contract's last day (the module's
    end date until a termination or a certificate expiry moves it earlier). ``reason`` is the
    reason code of the closing transition (billing's rejection code, a decline, cancel or
    termination reason such as ``certificate_expired``); ``end_outcome`` is set once ended.
    """

    id: str
    certificate_id: str
    module_id: str
    starts_on: date
    ends_on: date
    state: EnrolmentState = EnrolmentState.REQUESTED
    requested_at: datetime | None = None
    reservation_id: str | None = None
    reason: str | None = None
    closed_by: Actor | None = None
    end_outcome: EndOutcome | None = None
    offered_on: date | None = None
    offer_expires_on: date | None = None
    accepted_at: datetime | None = None
    accepted_by: str | None = None

    # ----------------------------------------------------------------- queries
    def holds_seat(self, today: date) -> bool:
        """Whether this enrolment occupies a seat of its module group on ``today``.

        Pending requests always do (the seat is held while billing and the provider answer);
        a contract does until its last day, including a terminated one (it runs to the end of
        the month) and one ended early by certificate expiry.
        """
        if self.state in PENDING_STATES:
            return True
        if self.state in CONTRACT_STATES:
            return today <= self.ends_on
        return False

    def in_force_on(self, day: date) -> bool:
        """Whether the contract covered ``day`` (attendance may be marked for that day)."""
        return self.state in CONTRACT_STATES and self.starts_on <= day <= self.ends_on

    @property
    def is_finished(self) -> bool:
        """Ended (completed, or terminated and past its last day): the parent may rate."""
        return self.state is EnrolmentState.ENDED

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of a transition attempt: the (possibly unchanged) enrolment, the event type to
    publish (``None`` when nothing is to be published) and what happened."""

    enrolment: Enrolment
    event: EnrolmentEvent | None
    outcome: Outcome

    @property
    def changed(self) -> bool:
        return self.outcome is Outcome.APPLIED or self.outcome is Outcome.NEEDS_RELEASE


def _illegal(enrolment: Enrolment, action: str, why: str = "") -> DomainError:
    message = f"cannot {action} an enrolment in state {enrolment.state.value}"
    if why:
        message += f": {why}"
    return DomainError(
        ILLEGAL_TRANSITION, message, enrolment_id=enrolment.id, state=enrolment.state.value, action=action
    )


def _applied(enrolment: Enrolment, event: EnrolmentEvent | None, **changes: object) -> Transition:
    return Transition(replace(enrolment, **changes), event, Outcome.APPLIED)  # type: ignore[arg-type]


def _noop(enrolment: Enrolment, outcome: Outcome) -> Transition:
    return Transition(enrolment, None, outcome)


# --------------------------------------------------------------------------- creation
def request(
    *,
    enrolment_id: str,
    certificate_id: str,
    module_id: str,
    starts_on: date,
    module_ends_on: date,
    requested_at: datetime | None = None,
) -> Transition:
    """A parent applies (eligibility already checked, a seat already held): ``requested``.

    Publishes ``enrolment.requested``; billing answers with a reservation created or rejected.
    """
    if starts_on > module_ends_on:
        raise DomainError(
            "start_outside_module", "the start date is after the module's end", enrolment_id=enrolment_id
        )
    enrolment = Enrolment(
        id=enrolment_id,
        certificate_id=certificate_id,
        module_id=module_id,
        starts_on=starts_on,
        ends_on=module_ends_on,
        requested_at=requested_at,
    )
    return Transition(enrolment, EnrolmentEvent.REQUESTED, Outcome.APPLIED)


def waitlist(
    *,
    enrolment_id: str,
    certificate_id: str,
    module_id: str,
    starts_on: date,
    module_ends_on: date,
    requested_at: datetime | None = None,
) -> Transition:
    """A parent applies to a full group that keeps a waiting list (eligibility already checked,
    the place on the list already taken): ``waitlisted``. Publishes ``enrolment.waitlisted``;
    no seat is held and billing is not asked yet."""
    t = request(
        enrolment_id=enrolment_id, certificate_id=certificate_id, module_id=module_id,
        starts_on=starts_on, module_ends_on=module_ends_on, requested_at=requested_at,
    )
    return Transition(replace(t.enrolment, state=EnrolmentState.WAITLISTED), EnrolmentEvent.WAITLISTED, Outcome.APPLIED)


def offer_seat(enrolment: Enrolment, starts_on: date, now: datetime) -> Transition:
    """A seat freed and this waiting application is first: ``waitlisted → requested``, the seat
    already held by the caller. The hold deadline runs from ``now``; the start date may have
    moved later (an application waiting past its start date starts on the day of the offer).
    Publishes ``enrolment.requested``."""
    if enrolment.state is not EnrolmentState.WAITLISTED:
        raise _illegal(enrolment, "offer a seat to")
    if not enrolment.starts_on <= starts_on <= enrolment.ends_on:
        raise DomainError("start_outside_module", "the start date is outside the module", enrolment_id=enrolment.id)
    return _applied(enrolment, EnrolmentEvent.REQUESTED, state=EnrolmentState.REQUESTED, starts_on=starts_on,
                    requested_at=now)


#: Reason codes of leaving the waiting list.
LEFT_BY_PARENT = "parent_left"
NO_LONGER_ELIGIBLE = "no_longer_eligible"


def leave_waiting_list(enrolment: Enrolment, reason: str, by: Actor) -> Transition:
    """The application leaves the waiting list without a seat: ``waitlisted → withdrawn``.
    Publishes ``enrolment.waitlist_left``. Repeating it is a ``DUPLICATE``."""
    if enrolment.state is EnrolmentState.WITHDRAWN:
        return _noop(enrolment, Outcome.DUPLICATE)
    if enrolment.state is not EnrolmentState.WAITLISTED:
        raise _illegal(enrolment, "leave the waiting list with", "the application is not waiting")
    return _applied(enrolment, EnrolmentEvent.WAITLIST_LEFT, state=EnrolmentState.WITHDRAWN, reason=reason,
                    closed_by=by)


def answer_deadline(requested_on: date, answer_days: int) -> date:
    """The last day the provider may answer an application made on ``requested_on``."""
    return requested_on + timedelta(days=answer_days)


def offer_deadline(offered_on: date, acceptance_days: int) -> date:
    """The last day the parent may accept an offer issued on ``offered_on``."""
    return offered_on + timedelta(days=acceptance_days)


def due_timeout(enrolment: Enrolment, today: date, *, requested_on: date, answer_days: int) -> Timeout | None:
    """Which timer has struck for ``enrolment`` on ``today`` (``requested_on``: the regional date
    of the request, or of the seat given from the waiting list), if any."""
    if enrolment.state in UNANSWERED_STATES and today > answer_deadline(requested_on, answer_days):
        return Timeout.APPLICATION_UNANSWERED
    if (enrolment.state is EnrolmentState.OFFERED and enrolment.offer_expires_on is not None
            and today > enrolment.offer_expires_on):
        return Timeout.OFFER_NOT_ACCEPTED
    return None


# --------------------------------------------------------------------------- billing's answers
def on_reservation_created(enrolment: Enrolment, reservation_id: str) -> Transition:
    """Billing reserved the money / free place: ``requested → reserved``.

    Navigator publishes nothing (the reservation event is billing's). Duplicates and late
    arrivals: already reserved or beyond → ``DUPLICATE``; the enrolment was cancelled, expired
    or rejected before the reservation was seen → ``NEEDS_RELEASE`` (the reservation id is
    recorded so that a redelivery is then a ``DUPLICATE``).
    """
    state = enrolment.state
    if state is EnrolmentState.REQUESTED:
        return _applied(enrolment, None, state=EnrolmentState.RESERVED, reservation_id=reservation_id)
    if enrolment.reservation_id is not None:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state in (EnrolmentState.CANCELLED, EnrolmentState.EXPIRED, EnrolmentState.REJECTED):
        return Transition(replace(enrolment, reservation_id=reservation_id), None, Outcome.NEEDS_RELEASE)
    # reserved/confirmed/... always carry the reservation id; reaching here means the row was
    # built without it: treat the redelivery as a duplicate rather than fail the consumer.
    return _noop(enrolment, Outcome.DUPLICATE)


def on_reservation_rejected(enrolment: Enrolment, reason_code: str) -> Transition:
    """Billing refused (no balance, cap reached…): ``requested → rejected``, the seat is freed.

    Navigator publishes nothing (billing already did). Redelivery → ``DUPLICATE``; the parent
    cancelled (or the hold expired) first → ``STALE``. A rejection after a reservation of the
    same enrolment is a contradiction and raises ``illegal_transition``.
    """
    state = enrolment.state
    if state is EnrolmentState.REQUESTED:
        return _applied(enrolment, None, state=EnrolmentState.REJECTED, reason=reason_code)
    if state is EnrolmentState.REJECTED:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state in (EnrolmentState.CANCELLED, EnrolmentState.EXPIRED) and enrolment.reservation_id is None:
        return _noop(enrolment, Outcome.STALE)
    raise _illegal(enrolment, "reject", "billing had already reserved this enrolment")


# --------------------------------------------------------------------------- provider
def confirm(enrolment: Enrolment, today: date, acceptance_days: int) -> Transition:
    """The provider confirms: ``reserved → offered``; the platform issues the offer, which the
    parent may accept until ``today + acceptance_days``. Publishes ``enrolment.offered``. Repeating
    it (also once the offer was accepted) is a ``DUPLICATE``."""
    if acceptance_days < 0:
        raise ValueError("offer_acceptance_days must not be negative")  # the settings refuse it already
    if enrolment.state is EnrolmentState.RESERVED:
        return _applied(enrolment, EnrolmentEvent.OFFERED, state=EnrolmentState.OFFERED, offered_on=today,
                        offer_expires_on=offer_deadline(today, acceptance_days))
    if enrolment.state in (EnrolmentState.OFFERED, EnrolmentState.CONFIRMED):
        return _noop(enrolment, Outcome.DUPLICATE)
    raise _illegal(enrolment, "confirm")


# --------------------------------------------------------------------------- parent
def accept(enrolment: Enrolment, by: str, now: datetime, today: date) -> Transition:
    """The parent accepts the offer: ``offered → confirmed``, the contract is made; ``by`` and
    ``now`` are recorded. Publishes ``enrolment.confirmed``. Accepting again is a ``DUPLICATE``;
    after the offer's deadline it is refused with ``offer_expired`` (the timer may be late)."""
    state = enrolment.state
    if state is EnrolmentState.CONFIRMED and enrolment.accepted_at is not None:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state is not EnrolmentState.OFFERED:
        raise _illegal(enrolment, "accept", "there is no open offer")
    if enrolment.offer_expires_on is not None and today > enrolment.offer_expires_on:
        raise DomainError("offer_expired", "The offer's deadline has passed.", enrolment_id=enrolment.id,
                          offer_expires_on=enrolment.offer_expires_on.isoformat())
    return _applied(enrolment, EnrolmentEvent.CONFIRMED, state=EnrolmentState.CONFIRMED, accepted_by=by,
                    accepted_at=now)


def decline(enrolment: Enrolment, reason: str, today: date) -> Transition:
    """The provider declines: ``reserved | offered → declined``, or a confirmed contract that has
    not started yet (``today < starts_on``). Publishes ``enrolment.declined``; billing releases."""
    state = enrolment.state
    if state is EnrolmentState.DECLINED:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state in (EnrolmentState.RESERVED, EnrolmentState.OFFERED) or (
        state is EnrolmentState.CONFIRMED and today < enrolment.starts_on
    ):
        return _applied(
            enrolment, EnrolmentEvent.DECLINED, state=EnrolmentState.DECLINED, reason=reason, closed_by=Actor.PROVIDER
        )
    if state is EnrolmentState.CONFIRMED:
        raise _illegal(enrolment, "decline", "the contract has started: terminate it instead")
    raise _illegal(enrolment, "decline")


def cancel(enrolment: Enrolment, today: date, reason: str = "parent_cancelled") -> Transition:
    """The parent withdraws before the contract starts: ``requested | reserved → cancelled``,
    ``offered → cancelled`` (the offer declined: reason ``offer_declined``), or a confirmed
    contract with ``today < starts_on``. Everything is released. Publishes ``enrolment.cancelled``."""
    state = enrolment.state
    if state is EnrolmentState.CANCELLED:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state is EnrolmentState.OFFERED and reason == "parent_cancelled":
        reason = OFFER_DECLINED
    if state in PENDING_STATES or (state is EnrolmentState.CONFIRMED and today < enrolment.starts_on):
        return _applied(
            enrolment, EnrolmentEvent.CANCELLED, state=EnrolmentState.CANCELLED, reason=reason, closed_by=Actor.PARENT
        )
    if state is EnrolmentState.CONFIRMED:
        raise _illegal(enrolment, "cancel", "the contract has started: terminate it instead")
    raise _illegal(enrolment, "cancel")


# --------------------------------------------------------------------------- timers
def expire(enrolment: Enrolment, timeout: Timeout = Timeout.APPLICATION_UNANSWERED) -> Transition:
    """A timer struck: the provider did not answer in time (``requested | reserved → expired``,
    the application refused) or the parent did not accept the offer in time (``offered →
    expired``, the offer withdrawn); the reason is the timeout. Publishes ``enrolment.expired``
    (billing releases a reservation if it made one).

    The timer is advisory: if the enrolment has moved on (offered, accepted, cancelled, …) the
    call is a ``STALE`` no-op, never an error; the same timer again is a ``DUPLICATE``.
    """
    state = enrolment.state
    applies = UNANSWERED_STATES if timeout is Timeout.APPLICATION_UNANSWERED else {EnrolmentState.OFFERED}
    if state in applies:
        return _applied(enrolment, EnrolmentEvent.EXPIRED, state=EnrolmentState.EXPIRED, reason=timeout.value,
                        closed_by=Actor.SYSTEM)
    if state is EnrolmentState.EXPIRED and enrolment.reason in (None, timeout.value):
        return _noop(enrolment, Outcome.DUPLICATE)
    return _noop(enrolment, Outcome.STALE)


# --------------------------------------------------------------------------- contract end
def terminate(enrolment: Enrolment, by: Actor, reason: str, today: date) -> Transition:
    """Parent or provider ends a running contract (docs/domain-rules.md, "Contracts and payment
    modes": the contract ends at the end of the current month, which is still billed by its mode):
    ``confirmed → terminated`` with ``ends_on = min(ends_on, last day of today's month)``. Publishes
    ``enrolment.terminated``.

    Before ``starts_on`` use :func:`cancel` / :func:`decline`; after ``ends_on`` the contract is
    over (:func:`complete`).
    """
    if by not in (Actor.PARENT, Actor.PROVIDER):
        raise DomainError("invalid_actor", "only the parent or the provider terminates a contract")
    state = enrolment.state
    if state is EnrolmentState.TERMINATED:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state is not EnrolmentState.CONFIRMED:
        raise _illegal(enrolment, "terminate")
    if today < enrolment.starts_on:
        raise _illegal(enrolment, "terminate", "the contract has not started: cancel or decline it")
    if today > enrolment.ends_on:
        raise _illegal(enrolment, "terminate", "the contract is already over")
    ends_on = min(enrolment.ends_on, last_day_of_month(today))
    return _applied(
        enrolment,
        EnrolmentEvent.TERMINATED,
        state=EnrolmentState.TERMINATED,
        ends_on=ends_on,
        reason=reason,
        closed_by=by,
    )


def complete(enrolment: Enrolment, today: date) -> Transition:
    """The contract's last day has passed (``today > ends_on``): ``confirmed → ended``
    (outcome ``completed``) or ``terminated → ended`` (outcome ``terminated``). Publishes
    ``enrolment.ended``. A daily job calls it."""
    state = enrolment.state
    if state is EnrolmentState.ENDED:
        return _noop(enrolment, Outcome.DUPLICATE)
    if state not in (EnrolmentState.CONFIRMED, EnrolmentState.TERMINATED):
        raise _illegal(enrolment, "complete")
    if today <= enrolment.ends_on:
        raise _illegal(enrolment, "complete", f"the contract runs until {enrolment.ends_on.isoformat()}")
    outcome = EndOutcome.COMPLETED if state is EnrolmentState.CONFIRMED else EndOutcome.TERMINATED
    changes: dict[str, object] = {"state": EnrolmentState.ENDED, "end_outcome": outcome}
    if enrolment.closed_by is None:
        changes["closed_by"] = Actor.SYSTEM
    return _applied(enrolment, EnrolmentEvent.ENDED, **changes)


def on_certificate_expired(enrolment: Enrolment, expired_on: date) -> Transition:
    """The certificate expired (the child turned 18 on ``expired_on``).

    docs/domain-rules.md, "Age and validity": contracts end with the month of the last valid day
    (:func:`pfdo_contracts.rules.validity.contracts_end_on_expiry`; for a birthday on the 1st, the
    month before the birthday's month). A confirmed contract running by then → ``terminated`` by the system (reason ``certificate_expired``,
    ``ends_on`` moved to that month end, event ``enrolment.terminated``). A pending request, or a
    contract that would only start after that month → ``cancelled`` (everything released, event
    ``enrolment.cancelled``). A waiting application leaves the list (``withdrawn``, event
    ``enrolment.waitlist_left``). Other states are unaffected (``STALE``; ``DUPLICATE`` when already
    closed for this reason).
    """
    month_end = contracts_end_on_expiry(expired_on)
    state = enrolment.state
    if state is EnrolmentState.WAITLISTED:
        return leave_waiting_list(enrolment, CERTIFICATE_EXPIRED, Actor.SYSTEM)
    if state in PENDING_STATES or (state is EnrolmentState.CONFIRMED and enrolment.starts_on > month_end):
        return _applied(
            enrolment,
            EnrolmentEvent.CANCELLED,
            state=EnrolmentState.CANCELLED,
            reason=CERTIFICATE_EXPIRED,
            closed_by=Actor.SYSTEM,
        )
    if state is EnrolmentState.CONFIRMED:
        return _applied(
            enrolment,
            EnrolmentEvent.TERMINATED,
            state=EnrolmentState.TERMINATED,
            ends_on=min(enrolment.ends_on, month_end),
            reason=CERTIFICATE_EXPIRED,
            closed_by=Actor.SYSTEM,
        )
    if enrolment.reason == CERTIFICATE_EXPIRED:
        return _noop(enrolment, Outcome.DUPLICATE)
    return _noop(enrolment, Outcome.STALE)
