"""The reservation decision: what billing answers to an enrolment request (docs/domain-rules.md,
"Reservation decision").

A request is checked in this order; the first check that fails is the answer (one reason, the
one published in ``reservation.rejected``):

1. a request already answered gets its first answer again (a queued request is examined again
   only when the queue admits it, see :func:`pfdo_billing.domain.contract.answers_request`);
2. the certificate is unknown to billing -> ``certificate_unknown``;
3. the certificate is not active, or no longer valid on the start date (validity ends the day
   before the 18th birthday, :mod:`pfdo_billing.domain.validity`) -> ``certificate_not_active``;
4. no open period contains the start date -> ``period_not_open``;
5. the certificate already holds the direction's cap of live contracts in the period
   (:mod:`pfdo_contracts.rules.direction_cap`) -> ``direction_cap_reached``;
6. a free municipal-task place: the yearly count of free places of the place's municipality is
   used up -> ``no_free_places``; otherwise the place is reserved (nothing to pay) and counted;
7. a paid place needs an agreement in force between the module's provider and the payer for the
   period (:mod:`pfdo_billing.domain.agreements`) -> else ``no_agreement``; an accounting
   certificate is refused ``agreement_limit_reached`` at once when the agreement's limit has no
   room left (before it takes a funding slot);
8. a paid place on an accounting certificate first needs a funding slot of the payer
   municipality: over the yearly funding cap, or behind requests already waiting, the request
   waits in the first-come queue (not final); a child whose age group has no nominal ->
   ``age_group_not_funded``; otherwise the certificate becomes a funding one and is credited its
   nominal;
9. a funding certificate with no balance in the period is credited its nominal first (none for
   the age group -> ``age_group_not_funded``); then the quote
   (:func:`pfdo_billing.domain.quote.quote`) decides how much the certificate pays from its
   available balance; a certificate part that does not fit in what is left of the agreement's
   limit -> ``agreement_limit_reached``; otherwise the money is reserved under the agreement.

A free municipal-task place carries no certificate money and needs no agreement.

The use case loads the facts lazily, in this order (it is also the order in which rows are
locked: contract, certificate, caps of the payer, caps of the place's municipality, agreement,
balance):
:func:`decide_reservation` returns :class:`Need` for a fact it does not have yet, a write step
(:class:`ActivateFunding`, :class:`CreditNominal`) whose result it needs to go on, or the final
decision (:class:`Unchanged`, :class:`Reject`, :class:`Queue`, :class:`Reserve`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from typing import Final, Literal, TypeVar

from pfdo_contracts.common import CertificateStatus, FundingKind, UsageKind
from pfdo_contracts.events.billing import RejectionReason
from pfdo_contracts.rules.direction_cap import direction_cap_reached

from pfdo_billing.domain.agreements import Agreement, fits, in_force
from pfdo_billing.domain.contract import ContractEvent, ContractStatus, answers_request, next_status
from pfdo_billing.domain.errors import CertificateExpiresBeforeStart
from pfdo_billing.domain.payment_mode import PaymentMode
from pfdo_billing.domain.quote import Quote, effective_end, free_place, quote
from pfdo_billing.domain.validity import validity_of


class _Unknown(Enum):
    UNKNOWN = "unknown"


#: A fact not loaded yet (``None`` is a loaded "there is none").
UNKNOWN: Final = _Unknown.UNKNOWN
Unknown = Literal[_Unknown.UNKNOWN]


class Fact(StrEnum):
    """What the decision may ask the use case to load, in the order it asks."""

    CERTIFICATE = "certificate"  # the certificate row (locked)
    OPEN_PERIOD = "open_period"  # the open period containing the start date
    CAPS = "caps"  # the payer municipality's caps of the period (locked)
    SAME_DIRECTION = "same_direction"  # the certificate's other live contracts of the direction and period
    PLACE_CAPS = "place_caps"  # the caps of the place's municipality, when it is not the payer (locked)
    QUEUE_AHEAD = "queue_ahead"  # requests waiting in the payer's funding queue of the period
    AGREEMENT = "agreement"  # the active agreement of the module's provider with the payer for the period (locked)
    AGE_GROUP = "age_group"  # whether the child's age group has a nominal in the period
    BALANCE = "balance"  # the certificate's available balance of the period (locked)


@dataclass(frozen=True, slots=True)
class EnrolmentRequest:
    """What the enrolment asks for (from ``enrolment.requested``)."""

    funding_kind: FundingKind
    place_municipality: str  # where the module is given: free places are counted there
    start_date: date
    module_start: date
    module_end: date
    price: int
    normative_cost: int
    payment_mode: PaymentMode | str
    from_queue: bool = False  # examined again by the funding queue
    decided_on: date | None = None  # the day billing decides (an agreement concluded later is not in force)


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    status: CertificateStatus | str
    payer: str  # the municipality that pays (the certificate's)
    usage_kind: UsageKind | str
    birth_date: date
    valid_until: date | None = None  # as the registry issued it; else the day before the 18th birthday


@dataclass(frozen=True, slots=True)
class Caps:
    """A municipality's caps of the period (``None``: no cap)."""

    direction_cap: int | None = None
    funding_cap: int | None = None
    funding_used: int = 0
    free_places: int | None = None
    free_places_used: int = 0

    @property
    def funding_full(self) -> bool:
        return self.funding_cap is not None and self.funding_used >= self.funding_cap

    @property
    def free_places_used_up(self) -> bool:
        return self.free_places is not None and self.free_places_used >= self.free_places


@dataclass(frozen=True, slots=True)
class ReservationFacts:
    """Everything the decision looks at; lazily loaded facts start as :data:`UNKNOWN`."""

    request: EnrolmentRequest
    current: ContractStatus | None  # the contract's status, ``None`` for a new request
    certificate: CertificateFacts | None | Unknown = UNKNOWN
    period_id: uuid.UUID | None | Unknown = UNKNOWN
    caps: Caps | None | Unknown = UNKNOWN
    same_direction: int | Unknown = UNKNOWN
    place_caps: Caps | None | Unknown = UNKNOWN
    queue_ahead: int | Unknown = UNKNOWN
    age_group_funded: bool | Unknown = UNKNOWN
    agreement: Agreement | None | Unknown = UNKNOWN  # ``None``: no active agreement
    funding_activated: bool = False  # the write step ActivateFunding was made
    available: int | None | Unknown = UNKNOWN  # ``None``: the certificate has no balance in the period
    credited: bool = False  # the write step CreditNominal was made


# --- what the decision answers ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Need:
    """Load ``fact`` and decide again."""

    fact: Fact


@dataclass(frozen=True, slots=True)
class ActivateFunding:
    """Make the accounting certificate a funding one: take a slot of the payer's funding cap
    (``count_slot``: the caps row exists), credit its nominal; then decide again."""

    count_slot: bool


@dataclass(frozen=True, slots=True)
class CreditNominal:
    """Credit the funding certificate its nominal for the period; then decide again."""


@dataclass(frozen=True, slots=True)
class Unchanged:
    """Nothing to write: the request was answered before, or it still waits in the queue."""

    status: ContractStatus


@dataclass(frozen=True, slots=True)
class Reject:
    reason: RejectionReason
    status: ContractStatus = ContractStatus.REJECTED


@dataclass(frozen=True, slots=True)
class Queue:
    """Wait in the payer's first-come funding queue."""

    status: ContractStatus = ContractStatus.QUEUED


@dataclass(frozen=True, slots=True)
class Reserve:
    """Reserve the quote's certificate part month by month.

    ``free_place_in``: the municipality whose count of free places takes this one (``None``:
    none counted); ``funding_activated``: the certificate became a funding one for it."""

    quote: Quote
    free_place_in: str | None = None
    funding_activated: bool = False
    agreement_id: uuid.UUID | None = None  # the agreement whose limit takes the certificate part
    status: ContractStatus = ContractStatus.RESERVED


Step = Need | ActivateFunding | CreditNominal
ReservationDecision = Unchanged | Reject | Queue | Reserve


def decide_reservation(facts: ReservationFacts) -> ReservationDecision | Step:
    """The next step for a request, or the final decision (see the module docstring)."""
    r = facts.request
    if not answers_request(facts.current, from_queue=r.from_queue):
        assert facts.current is not None
        return Unchanged(ContractStatus(facts.current))
    cert = facts.certificate
    if cert is UNKNOWN:
        return Need(Fact.CERTIFICATE)
    if cert is None:
        return _reject(facts, RejectionReason.CERTIFICATE_UNKNOWN)
    if cert.status != CertificateStatus.ACTIVE:
        return _reject(facts, RejectionReason.CERTIFICATE_NOT_ACTIVE)
    valid_until = validity_of(cert.birth_date, cert.valid_until)
    try:
        effective_end(r.module_end, r.start_date, valid_until)
    except CertificateExpiresBeforeStart:  # not valid any more on the first day: it pays nothing
        return _reject(facts, RejectionReason.CERTIFICATE_NOT_ACTIVE)
    if facts.period_id is UNKNOWN:
        return Need(Fact.OPEN_PERIOD)
    if facts.period_id is None:
        return _reject(facts, RejectionReason.PERIOD_NOT_OPEN)
    caps = facts.caps
    if caps is UNKNOWN:
        return Need(Fact.CAPS)
    if caps is not None and caps.direction_cap is not None:
        if facts.same_direction is UNKNOWN:
            return Need(Fact.SAME_DIRECTION)
        if direction_cap_reached(facts.same_direction, caps.direction_cap):
            return _reject(facts, RejectionReason.DIRECTION_CAP_REACHED)
    if r.funding_kind == FundingKind.MUNICIPAL_TASK:
        return _free_place(facts, cert, caps, valid_until)
    return _paid_place(facts, cert, caps, valid_until)


def _free_place(facts: ReservationFacts, cert: CertificateFacts, caps: Caps | None,
                valid_until: date) -> ReservationDecision | Step:
    r = facts.request
    if r.place_municipality == cert.payer:
        place_caps = caps
    elif facts.place_caps is UNKNOWN:
        return Need(Fact.PLACE_CAPS)
    else:
        place_caps = facts.place_caps
    if place_caps is not None and place_caps.free_places_used_up:
        return _reject(facts, RejectionReason.NO_FREE_PLACES)
    q = free_place(r.module_start, r.module_end, r.start_date, r.payment_mode, valid_until=valid_until)
    return _final(facts, Reserve(q, free_place_in=r.place_municipality if place_caps is not None else None))


def _paid_place(facts: ReservationFacts, cert: CertificateFacts, caps: Caps | None,
                valid_until: date) -> ReservationDecision | Step:
    r = facts.request
    agreement = facts.agreement
    if agreement is UNKNOWN:
        return Need(Fact.AGREEMENT)
    if agreement is None or not in_force(agreement, r.decided_on):
        return _reject(facts, RejectionReason.NO_AGREEMENT)
    if cert.usage_kind == UsageKind.ACCOUNTING and not facts.funding_activated:
        if agreement.headroom == 0 and min(r.price, r.normative_cost) > 0:
            return _reject(facts, RejectionReason.AGREEMENT_LIMIT_REACHED)  # before taking a funding slot
        if r.from_queue:
            ahead = 0  # the queue examines its requests in order: none is ahead of this one
        elif facts.queue_ahead is UNKNOWN:
            return Need(Fact.QUEUE_AHEAD)
        else:
            ahead = facts.queue_ahead
        if ahead or (caps is not None and caps.funding_full):
            return Unchanged(ContractStatus.QUEUED) if r.from_queue else _final(facts, Queue())
        if facts.age_group_funded is UNKNOWN:
            return Need(Fact.AGE_GROUP)
        if not facts.age_group_funded:
            return _reject(facts, RejectionReason.AGE_GROUP_NOT_FUNDED)
        return ActivateFunding(count_slot=caps is not None)
    if facts.available is UNKNOWN:
        return Need(Fact.BALANCE)
    if facts.available is None:
        if facts.credited:
            raise AssertionError("a credited certificate has a balance in the period")
        if facts.age_group_funded is UNKNOWN:
            return Need(Fact.AGE_GROUP)
        if not facts.age_group_funded:
            return _reject(facts, RejectionReason.AGE_GROUP_NOT_FUNDED)
        return CreditNominal()
    q = quote(r.price, r.normative_cost, r.module_start, r.module_end, r.start_date, facts.available,
              r.payment_mode, valid_until=valid_until)
    if not fits(agreement, q.certificate_part):
        return _reject(facts, RejectionReason.AGREEMENT_LIMIT_REACHED)
    return _final(facts, Reserve(q, funding_activated=facts.funding_activated, agreement_id=agreement.agreement_id))


_D = TypeVar("_D", Reject, Queue, Reserve)
_EVENT = {Reject: ContractEvent.REJECT, Queue: ContractEvent.QUEUE, Reserve: ContractEvent.RESERVE}


def _final(facts: ReservationFacts, decision: _D) -> _D:
    """``decision``, checked against the contract's state machine."""
    status = next_status(facts.current, _EVENT[type(decision)])
    assert status is decision.status, (facts.current, decision)
    return decision


def _reject(facts: ReservationFacts, reason: RejectionReason) -> Reject:
    return _final(facts, Reject(reason))


__all__ = [
    "UNKNOWN", "ActivateFunding", "Caps", "CertificateFacts", "CreditNominal", "EnrolmentRequest", "Fact", "Need",
    "Queue", "Reject", "ReservationDecision", "ReservationFacts", "Reserve", "Step", "Unchanged", "decide_reservation",
]
