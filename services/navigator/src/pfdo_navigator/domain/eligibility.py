"""May this child apply to this module from this start date?

The certificate must be active (registry statuses: active, suspended, expired, closed); the
program module has an age range, start and end dates; a child is not enrolled twice in the same
module. Seat availability is not an eligibility reason: it is checked atomically when the seat is
held (:mod:`.seats`), and a full module offers the waiting list instead. Nor is the per-direction
cap: billing's per-period row is its only authority, and billing rejects an enrolment over it
with ``direction_cap_reached``, which ends the enrolment (docs/domain-rules.md, "Per-direction
cap").

:func:`check_eligibility` returns *every* failing reason (an empty list means eligible), so the
parent sees all problems at once. Reasons come in a fixed order (the order of
:class:`Ineligibility`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from pfdo_contracts.rules.age import age_on


class Ineligibility(StrEnum):
    CERTIFICATE_NOT_ACTIVE = "certificate_not_active"
    AGE_OUT_OF_RANGE = "age_out_of_range"
    START_OUTSIDE_MODULE = "start_outside_module"
    START_IN_PAST = "start_in_past"
    ALREADY_ENROLLED = "already_enrolled"


CERTIFICATE_ACTIVE = "active"


@dataclass(frozen=True, slots=True)
class ModuleTerms:
    """What eligibility needs to know about a module (from the catalogue read model)."""

    module_id: str
    direction: str
    age_min: int
    age_max: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class ActiveEnrolment:
    """An enrolment of the same certificate that currently holds a seat
    (see :meth:`pfdo_navigator.domain.enrolment.Enrolment.holds_seat`)."""

    module_id: str
    direction: str


def check_eligibility(
    *,
    certificate_status: str,
    birth_date: date,
    module: ModuleTerms,
    start_date: date,
    today: date,
    active_enrolments: Iterable[ActiveEnrolment],
) -> list[Ineligibility]:
    """All reasons why the child may not apply (empty list = may apply).

    * ``certificate_not_active`` — the certificate status is not ``active``;
    * ``age_out_of_range`` — the child's completed years **on the start date** are outside
      ``[age_min, age_max]`` (both inclusive);
    * ``start_outside_module`` — the start date is outside ``[module.starts_on, module.ends_on]``;
    * ``start_in_past`` — the start date is before ``today`` (regional date);
    * ``already_enrolled`` — an enrolment of this certificate in this module holds a seat.
    """
    reasons: list[Ineligibility] = []
    if certificate_status != CERTIFICATE_ACTIVE:
        reasons.append(Ineligibility.CERTIFICATE_NOT_ACTIVE)
    if start_date < birth_date or not module.age_min <= age_on(birth_date, start_date) <= module.age_max:
        reasons.append(Ineligibility.AGE_OUT_OF_RANGE)
    if not module.starts_on <= start_date <= module.ends_on:
        reasons.append(Ineligibility.START_OUTSIDE_MODULE)
    if start_date < today:
        reasons.append(Ineligibility.START_IN_PAST)
    actives = list(active_enrolments)
    if any(e.module_id == module.module_id for e in actives):
        reasons.append(Ineligibility.ALREADY_ENROLLED)
    return reasons


def earliest_start(module: ModuleTerms, today: date) -> date | None:
    """The earliest start date a parent may pick today (``None`` when the module is over)."""
    start = max(module.starts_on, today)
    return start if start <= module.ends_on else None
