"""Agreements (соглашения) between a provider and a payer: pure rules, no I/O
(docs/domain-rules.md, "Agreements with payers").

The payer of a certificate's money is the certificate's municipality. A provider is paid from a
payer's certificates only under an agreement with that payer for the program period: no
agreement in force, no reservation (``no_agreement``).

**The year is the program period.** An agreement covers one billing period (normally the school
year, 1 September – 31 August), not a calendar year: nominals, caps, balances and every
reservation already belong to a period, and a contract's months run across New Year inside one
period. A calendar-year limit would split one school year's contracts over two limits.

**The limit.** ``used`` is the certificate money reserved under the agreement and not released
(what is later spent stays counted): a reservation adds its certificate part; a released month
(a cancellation, a termination, the unearned part of a closed month) frees its amount. A
reservation whose certificate part does not fit in ``limit - used`` is refused
(``agreement_limit_reached``). A zero certificate part always fits.

**Statuses.** concluded → ``active``; an active agreement's limit may change, never below what
is used (``agreement_limit_below_used``); ``active`` → ``ended`` on a date not before it was
concluded; an ended agreement changes no more (``agreement_ended``). In force on a day: active
and concluded on or before that day. At most one active agreement per provider, payer and period.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date

from pfdo_contracts.events.billing import AgreementStatus

from pfdo_billing.domain.errors import (
    AgreementEnded,
    AgreementLimitBelowUsed,
    InvalidAgreement,
    InvalidAmount,
)


@dataclass(frozen=True, slots=True)
class Agreement:
    agreement_id: uuid.UUID
    number: str
    provider_id: uuid.UUID
    payer: str  # the municipality code whose certificates it covers
    period_id: uuid.UUID
    limit: int  # kopecks
    used: int  # kopecks reserved or spent under it, not released
    concluded_on: date
    status: AgreementStatus = AgreementStatus.ACTIVE
    ended_on: date | None = None

    @property
    def headroom(self) -> int:
        """What the limit can still take (0 when a lowered limit is already used up)."""
        return max(0, self.limit - self.used)


def _kopecks(name: str, amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidAmount(f"{name} is a whole non-negative number of kopecks", name=name, amount=repr(amount))
    return amount


def conclude(agreement_id: uuid.UUID, number: str, provider_id: uuid.UUID, payer: str, period_id: uuid.UUID,
             limit: int, concluded_on: date) -> Agreement:
    """A new agreement in force from ``concluded_on`` with nothing used."""
    if not number.strip():
        raise InvalidAgreement("the agreement needs a number", field="number")
    if len(payer) != 2 or not payer.isdigit():
        raise InvalidAgreement("the payer is a two-digit municipality code", field="payer_code")
    return Agreement(agreement_id, number.strip(), provider_id, payer, period_id, _kopecks("limit", limit), 0,
                     concluded_on)


def change_limit(agreement: Agreement, limit: int) -> Agreement:
    """The agreement with a new yearly limit (not below what is used; only while active)."""
    _require_active(agreement)
    _kopecks("limit", limit)
    if limit < agreement.used:
        raise AgreementLimitBelowUsed("the limit is below the money already used under the agreement",
                                      limit=limit, used=agreement.used)
    return replace(agreement, limit=limit)


def end(agreement: Agreement, on: date) -> Agreement:
    """The agreement ended on ``on``: no new reservations; contracts made under it go on."""
    _require_active(agreement)
    if on < agreement.concluded_on:
        raise InvalidAgreement("an agreement cannot end before it was concluded", field="ended_on",
                               concluded_on=agreement.concluded_on.isoformat(), ended_on=on.isoformat())
    return replace(agreement, status=AgreementStatus.ENDED, ended_on=on)


def in_force(agreement: Agreement | None, on: date | None) -> bool:
    """Whether ``agreement`` allows a reservation decided on ``on`` (None: whatever the day)."""
    return (agreement is not None and agreement.status == AgreementStatus.ACTIVE
            and (on is None or agreement.concluded_on <= on))


def fits(agreement: Agreement, amount: int) -> bool:
    """Whether a reservation of ``amount`` kopecks fits in the agreement's limit."""
    return _kopecks("amount", amount) <= agreement.headroom


def take(agreement: Agreement, amount: int) -> Agreement:
    """The agreement with ``amount`` more used (the caller checked :func:`fits`)."""
    if not fits(agreement, amount):
        raise AgreementLimitBelowUsed("the reservation does not fit in the agreement's limit",
                                      limit=agreement.limit, used=agreement.used, amount=amount)
    return replace(agreement, used=agreement.used + amount)


def free(agreement: Agreement, amount: int) -> Agreement:
    """The agreement with ``amount`` released (never below zero used)."""
    return replace(agreement, used=max(0, agreement.used - _kopecks("amount", amount)))


def _require_active(agreement: Agreement) -> None:
    if agreement.status != AgreementStatus.ACTIVE:
        raise AgreementEnded("the agreement has ended and cannot change", agreement_id=str(agreement.agreement_id))


__all__ = ["Agreement", "change_limit", "conclude", "end", "fits", "free", "in_force", "take"]
