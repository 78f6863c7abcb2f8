"""The contract of an enrolment as billing sees it: its status and the transitions between them
(docs/domain-rules.md, "Contract statuses").

Billing keeps one contract row per enrolment (keyed by the enrolment id). The state machine::

    (new request) ──reserve──▶ reserved ──confirm──▶ active ──end──▶ ended
         │   └──────reject──▶ rejected      │           │            ▲
         └──queue──▶ queued ──reserve──▶ reserved       │            │
                       └──reject──▶ rejected            └─terminate─▶ terminated
    reserved, active, queued ──cancel──▶ cancelled
                             ──decline─▶ declined
                             ──expire──▶ expired
    active ──terminate──▶ terminated
    reserved ──terminate──▶ cancelled (never confirmed: nothing is owed, everything is released)
    reserved, active ──terminate before the start──▶ cancelled (everything is released)

A request is answered once: billing reserves, queues (over the municipality's funding cap) or
rejects it. Only a queued request is examined again, when the queue admits it (reserved),
refuses it (rejected) or leaves it waiting.

**Duplicates and reordering** (delivery is at least once, and a timer or a late message may be
overtaken by another): an event that finds the contract already in its target state, or in a
state the event does not apply to (a confirmation after a cancellation, an end of a contract
never confirmed, a repeated request), changes nothing: :func:`next_status` returns ``None`` and
the use case writes nothing. The only refusal is a confirmation for which billing has no
contract yet (:class:`ContractNotFound`): the confirmation overtook the request, so the
consumer retries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pfdo_billing.domain.errors import BillingDomainError


class ContractStatus(StrEnum):
    """The status of a contract row (``contracts.status``)."""

    RESERVED = "reserved"  # money reserved, waiting for the provider's confirmation
    QUEUED = "queued"  # over the municipality's funding cap: waiting in its first-come queue
    REJECTED = "rejected"  # refused (the reason is kept in ``reject_reason``)
    ACTIVE = "active"  # confirmed by the provider: the contract is in force
    CANCELLED = "cancelled"  # withdrawn before the start (parent, or a termination before the start)
    DECLINED = "declined"  # the provider declined
    EXPIRED = "expired"  # the hold on the seat ran out before the provider answered
    TERMINATED = "terminated"  # ended early: runs to the end of the termination's month
    ENDED = "ended"  # over: the module ended or a terminated contract passed its last day


class ContractEvent(StrEnum):
    """What happens to a contract (billing's decision, or a navigator or registry event)."""

    RESERVE = "reserve"  # money reserved for a new request, or for a queued one admitted
    QUEUE = "queue"  # a new request waits in the funding queue
    REJECT = "reject"  # a new request, or a queued one, is refused
    CONFIRM = "confirm"  # the provider confirmed the enrolment
    CANCEL = "cancel"  # the parent cancelled
    DECLINE = "decline"  # the provider declined
    EXPIRE = "expire"  # the hold expired
    TERMINATE = "terminate"  # ended early on a day from the start on (parent, provider, certificate expiry)
    TERMINATE_BEFORE_START = "terminate_before_start"  # the same, on a day before the start
    END = "end"  # the contract's last day passed


#: Contracts that hold a reservation or a place in the funding queue.
LIVE = frozenset({ContractStatus.RESERVED, ContractStatus.ACTIVE, ContractStatus.QUEUED})
#: Contracts that hold reserved money (certificate part, schedule) and can be terminated.
HOLDING_MONEY = frozenset({ContractStatus.RESERVED, ContractStatus.ACTIVE})
#: Contracts that were (or are) in force: their months are closed and paid.
IN_FORCE = frozenset({ContractStatus.ACTIVE, ContractStatus.TERMINATED, ContractStatus.ENDED})
#: Paid contracts that use the certificate's money of the period (reserved or being spent).
USING_FUNDS = frozenset({ContractStatus.RESERVED, ContractStatus.ACTIVE, ContractStatus.TERMINATED})
#: Statuses no event leaves.
FINAL = frozenset({
    ContractStatus.REJECTED, ContractStatus.CANCELLED, ContractStatus.DECLINED, ContractStatus.EXPIRED,
    ContractStatus.ENDED,
})

_S = ContractStatus
_E = ContractEvent
#: Status before (``None``: no contract yet) -> status after, for each event. A pair not listed
#: changes nothing (duplicate, overtaken or not applicable).
TRANSITIONS: Mapping[ContractEvent, Mapping[ContractStatus | None, ContractStatus]] = {
    _E.RESERVE: {None: _S.RESERVED, _S.QUEUED: _S.RESERVED},
    _E.QUEUE: {None: _S.QUEUED},
    _E.REJECT: {None: _S.REJECTED, _S.QUEUED: _S.REJECTED},
    _E.CONFIRM: {_S.RESERVED: _S.ACTIVE},
    _E.CANCEL: {s: _S.CANCELLED for s in LIVE},
    _E.DECLINE: {s: _S.DECLINED for s in LIVE},
    _E.EXPIRE: {s: _S.EXPIRED for s in LIVE},
    # a contract the provider never confirmed was never in force: ending it pays nobody
    _E.TERMINATE: {_S.ACTIVE: _S.TERMINATED, _S.RESERVED: _S.CANCELLED},
    _E.TERMINATE_BEFORE_START: {s: _S.CANCELLED for s in HOLDING_MONEY},
    _E.END: {_S.ACTIVE: _S.ENDED, _S.TERMINATED: _S.ENDED},
}


class ContractNotFound(BillingDomainError, LookupError):
    """The event needs a contract billing does not have yet (it overtook the request): retry."""

    code = "contract_not_found"


def next_status(current: ContractStatus | str | None, event: ContractEvent) -> ContractStatus | None:
    """The status after ``event``, or ``None`` when the event changes nothing (a duplicate, an
    event overtaken by another, or one that does not apply to ``current``).

    Raises :class:`ContractNotFound` for a confirmation of a contract billing does not have yet.
    """
    status = None if current is None else ContractStatus(current)
    if status is None and event is ContractEvent.CONFIRM:
        raise ContractNotFound("no reservation for this enrolment yet")
    return TRANSITIONS[event].get(status)


def sources(event: ContractEvent) -> frozenset[ContractStatus]:
    """The existing statuses ``event`` moves a contract from."""
    return frozenset(s for s in TRANSITIONS[event] if s is not None)


def on_certificate_end(current: ContractStatus | str) -> ContractEvent | None:
    """What the certificate's expiry (age 18) or closing does to a live contract: a request
    waiting in the queue is rejected, a contract holding money is terminated (cancelled when
    that happens before its start, see :mod:`pfdo_billing.domain.termination`, or when the
    provider never confirmed it)."""
    status = ContractStatus(current)
    if status is ContractStatus.QUEUED:
        return ContractEvent.REJECT
    if status in HOLDING_MONEY:
        return ContractEvent.TERMINATE
    return None


def answers_request(current: ContractStatus | str | None, *, from_queue: bool) -> bool:
    """Whether a request is to be decided now: a new one (no contract yet), or a queued one the
    queue examines again. Any other repeat gets the first answer (the current status)."""
    return current is None or (from_queue and ContractStatus(current) is ContractStatus.QUEUED)


__all__ = [
    "FINAL", "HOLDING_MONEY", "IN_FORCE", "LIVE", "TRANSITIONS", "USING_FUNDS", "ContractEvent", "ContractNotFound",
    "ContractStatus", "answers_request", "next_status", "on_certificate_end", "sources",
]
