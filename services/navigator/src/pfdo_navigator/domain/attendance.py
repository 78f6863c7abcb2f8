"""The attendance journal: marks and batch validation.

Providers post marks per lesson (present / absent / excused), one at a time or a month's journal
at once, for their own groups only; corrections are allowed until the month is closed. Billing in
*attendance* mode pays ``instalment × attended / planned``; which mark is billable and how many
lessons a month plans are rules of their own, shared by every service
(``pfdo_contracts.rules.lessons``, docs/domain-rules.md).

Batch validation (:func:`validate_marks`) checks every mark and returns accepted and rejected
marks, one reason per rejected mark, checked in this order:

1. ``foreign_group`` — the group is unknown or belongs to another provider;
2. ``not_enrolled_on_date`` — the enrolment is unknown, is in another group, or its contract
   was not in force on the lesson date;
3. ``future_date`` — the lesson date is after today (regional date);
4. ``month_closed`` — the lesson's month is closed for billing (no more corrections);
5. ``not_a_lesson_day`` — the weekday is not in the group's weekly schedule. Enforced by
   default because the planned-lesson count (the billing denominator) comes from the same
   schedule; pass ``enforce_schedule=False`` for make-up lessons agreed with the operator;
6. ``duplicate_mark`` — the same (enrolment, lesson date) appears more than once in the batch.
   If all its occurrences carry the same status, the first is accepted and the rest rejected;
   if they disagree, *all* are rejected (the system does not guess which one is right).

A mark for an (enrolment, date) already in the journal is a correction. Accepted marks say
whether they are ``recorded`` (new), ``corrected`` (status changed) or ``unchanged``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from .dates import YearMonth


class MarkStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class MarkRejection(StrEnum):
    FOREIGN_GROUP = "foreign_group"
    NOT_ENROLLED_ON_DATE = "not_enrolled_on_date"
    FUTURE_DATE = "future_date"
    MONTH_CLOSED = "month_closed"
    NOT_A_LESSON_DAY = "not_a_lesson_day"
    DUPLICATE_MARK = "duplicate_mark"


class MarkKind(StrEnum):
    RECORDED = "recorded"
    CORRECTED = "corrected"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Mark:
    """One attendance mark as posted by a provider."""

    enrolment_id: str
    group_id: str
    lesson_date: date
    status: MarkStatus

    @property
    def key(self) -> tuple[str, date]:
        return (self.enrolment_id, self.lesson_date)


@dataclass(frozen=True, slots=True)
class Group:
    """A module group: who runs it and on which ISO weekdays (1 = Monday … 7 = Sunday)."""

    group_id: str
    provider_id: str
    weekdays: frozenset[int]


@dataclass(frozen=True, slots=True)
class ContractPeriod:
    """An enrolment whose contract is/was in force (confirmed, terminated or ended)."""

    enrolment_id: str
    group_id: str
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class AcceptedMark:
    index: int  # position in the submitted batch
    mark: Mark
    kind: MarkKind
    previous: MarkStatus | None  # the status it replaces (corrections)


@dataclass(frozen=True, slots=True)
class RejectedMark:
    index: int
    mark: Mark
    reason: MarkRejection


@dataclass(frozen=True, slots=True)
class BatchResult:
    accepted: list[AcceptedMark]
    rejected: list[RejectedMark]

    @property
    def changed(self) -> list[AcceptedMark]:
        """Accepted marks that change the journal (recorded or corrected)."""
        return [a for a in self.accepted if a.kind is not MarkKind.UNCHANGED]


def validate_marks(
    marks: Sequence[Mark],
    *,
    provider_id: str,
    groups: Mapping[str, Group],
    contracts: Mapping[str, ContractPeriod],
    today: date,
    closed_months: Collection[YearMonth] = frozenset(),
    existing: Mapping[tuple[str, date], MarkStatus] | None = None,
    enforce_schedule: bool = True,
) -> BatchResult:
    """Validate a batch of marks posted by ``provider_id`` (see the module docstring).

    ``groups`` and ``contracts`` need only hold the groups and enrolments the batch mentions;
    ``existing`` is the journal's current status per (enrolment id, lesson date). Runs in
    O(len(marks)).
    """
    existing = existing or {}
    closed = frozenset(closed_months)
    rejected: list[RejectedMark] = []
    passing: list[tuple[int, Mark]] = []
    for index, mark in enumerate(marks):
        reason = _first_failure(mark, provider_id, groups, contracts, today, closed, enforce_schedule)
        if reason is None:
            passing.append((index, mark))
        else:
            rejected.append(RejectedMark(index, mark, reason))

    by_key: dict[tuple[str, date], list[tuple[int, Mark]]] = {}
    for index, mark in passing:
        by_key.setdefault(mark.key, []).append((index, mark))

    accepted: list[AcceptedMark] = []
    for index, mark in passing:
        occurrences = by_key[mark.key]
        if len(occurrences) > 1:
            agree = len({m.status for _, m in occurrences}) == 1
            if not agree or occurrences[0][0] != index:
                rejected.append(RejectedMark(index, mark, MarkRejection.DUPLICATE_MARK))
                continue
        previous = existing.get(mark.key)
        if previous is None:
            kind = MarkKind.RECORDED
        elif previous == mark.status:
            kind = MarkKind.UNCHANGED
        else:
            kind = MarkKind.CORRECTED
        accepted.append(AcceptedMark(index, mark, kind, previous))

    rejected.sort(key=lambda r: r.index)
    return BatchResult(accepted=accepted, rejected=rejected)


def _first_failure(
    mark: Mark,
    provider_id: str,
    groups: Mapping[str, Group],
    contracts: Mapping[str, ContractPeriod],
    today: date,
    closed: frozenset[YearMonth],
    enforce_schedule: bool,
) -> MarkRejection | None:
    group = groups.get(mark.group_id)
    if group is None or group.provider_id != provider_id:
        return MarkRejection.FOREIGN_GROUP
    contract = contracts.get(mark.enrolment_id)
    if contract is None or contract.group_id != mark.group_id or not contract.covers(mark.lesson_date):
        return MarkRejection.NOT_ENROLLED_ON_DATE
    if mark.lesson_date > today:
        return MarkRejection.FUTURE_DATE
    if YearMonth.of(mark.lesson_date) in closed:
        return MarkRejection.MONTH_CLOSED
    if enforce_schedule and mark.lesson_date.isoweekday() not in group.weekdays:
        return MarkRejection.NOT_A_LESSON_DAY
    return None


__all__ = [
    "AcceptedMark",
    "BatchResult",
    "ContractPeriod",
    "Group",
    "Mark",
    "MarkKind",
    "MarkRejection",
    "MarkStatus",
    "RejectedMark",
    "YearMonth",
    "validate_marks",
]
