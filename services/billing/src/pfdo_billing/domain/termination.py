"""Ending a contract early (docs/domain-rules.md, "Contracts and payment modes").

- Termination by parent or provider on date D: the contract ends at the end of D's month; that
  month is still billed by the contract's payment mode (it is closed like any other month); the
  instalments of all later months are released at once (certificate: reserved -> available;
  family: no longer invoiced).
- A request cancelled before the contract starts (D before the start date) releases everything.
- Certificate expiry ends contracts at the end of the month in which the certificate's validity
  ends (the day before the 18th birthday, see :mod:`pfdo_billing.domain.validity`): for a
  birthday on the 1st, the month before the birthday's month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pfdo_billing.domain.calendar import month_end, month_start
from pfdo_billing.domain.contract import ContractEvent, ContractStatus, next_status
from pfdo_billing.domain.errors import InvalidDateRange
from pfdo_billing.domain.quote import Instalment
from pfdo_billing.domain.validity import (
    ADULT_AGE,
    certificate_valid_until,
    eighteenth_birthday,
    paid_until,
)

__all__ = ["ADULT_AGE", "EarlyEnd", "Termination", "eighteenth_birthday", "end_early", "expiry_contract_end",
           "terminate", "terminate_on_expiry"]


@dataclass(frozen=True)
class Termination:
    """The effect of ending a contract on ``requested_on``.

    ``kept`` are the schedule months up to and including the termination month, still closed by
    the payment mode (those already closed stay as they were); ``released`` are the later months,
    whose reservations are voided at once. ``ends_on`` is None for a cancellation before start.
    """

    requested_on: date
    ends_on: date | None
    cancelled_before_start: bool
    kept: tuple[Instalment, ...]
    released: tuple[Instalment, ...]

    @property
    def certificate_released(self) -> int:
        """Kopecks returned to the certificate's available balance now."""
        return sum(line.certificate for line in self.released)

    @property
    def family_cancelled(self) -> int:
        """Kopecks of family instalments that will no longer be invoiced."""
        return sum(line.family for line in self.released)


def terminate(
    schedule: Sequence[Instalment],
    starts_on: date,
    ends_on: date,
    requested_on: date,
) -> Termination:
    """End the contract ``starts_on..ends_on`` with ``schedule`` on ``requested_on``."""
    if ends_on < starts_on:
        raise InvalidDateRange(
            "the contract ends before it starts",
            start=starts_on.isoformat(),
            end=ends_on.isoformat(),
        )
    if requested_on < starts_on:
        return Termination(
            requested_on=requested_on,
            ends_on=None,
            cancelled_before_start=True,
            kept=(),
            released=tuple(schedule),
        )
    last_month = month_start(requested_on)
    return Termination(
        requested_on=requested_on,
        ends_on=min(month_end(requested_on), ends_on),
        cancelled_before_start=False,
        kept=tuple(line for line in schedule if line.month <= last_month),
        released=tuple(line for line in schedule if line.month > last_month),
    )


def expiry_contract_end(birth_date: date) -> date:
    """The last day of contracts of a certificate expiring at 18: the end of the month in which
    its validity ends (the month of the day before the 18th birthday)."""
    return paid_until(certificate_valid_until(birth_date))


def terminate_on_expiry(
    schedule: Sequence[Instalment],
    starts_on: date,
    ends_on: date,
    birth_date: date,
) -> Termination:
    """End a contract because the certificate expires at 18: on its last valid day, so the
    contract ends at the end of that month (a no-op release when the contract ends earlier)."""
    return terminate(schedule, starts_on, ends_on, certificate_valid_until(birth_date))


@dataclass(frozen=True)
class EarlyEnd:
    """A contract ended early: its new status and last day, and the months released now."""

    status: ContractStatus
    ends_on: date
    released: tuple[Instalment, ...]


def end_early(
    current: ContractStatus | str,
    schedule: Sequence[Instalment],
    starts_on: date,
    ends_on: date,
    requested_on: date,
) -> EarlyEnd | None:
    """End the contract in status ``current`` on ``requested_on`` (termination, certificate expiry
    or closing), or ``None`` when that changes nothing (see
    :func:`pfdo_billing.domain.contract.next_status`).

    A contract in force is terminated: its month stays billed, later months are released
    (:func:`terminate`). One that comes out cancelled (ended before its start, or never confirmed
    by the provider) owes nothing: every month is released and its dates stay as they were."""
    plan = terminate(schedule, starts_on, ends_on, requested_on)
    event = ContractEvent.TERMINATE_BEFORE_START if plan.cancelled_before_start else ContractEvent.TERMINATE
    status = next_status(current, event)
    if status is None:
        return None
    if status is ContractStatus.TERMINATED and plan.ends_on is not None:
        return EarlyEnd(status, plan.ends_on, plan.released)
    return EarlyEnd(status, ends_on, tuple(schedule))
