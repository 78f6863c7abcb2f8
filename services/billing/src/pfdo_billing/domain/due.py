"""What a contract owes for a month, and the month close result.

The rules live in one home, shared by every service: the amount due in
:mod:`pfdo_contracts.rules.due`, the billable lesson and the planned lessons in
:mod:`pfdo_contracts.rules.lessons` (docs/domain-rules.md). In short:

- monthly mode: the instalment is due;
- attendance mode: instalment × attended / planned lessons of the month, rounded down; excused
  absences count as NOT attended, and so do disputed marks (a disputed mark is not billed until
  the operator decides);
- the same rule applies to the certificate's and to the family's instalment.

Month close, per contract: the certificate's due amount is posted (reserved -> spent, and owed to
the provider), the rest of the month's instalment is released (reserved -> available), and the
family's due amount is invoiced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pfdo_contracts.rules.due import amount_due
from pfdo_contracts.rules.lessons import is_billable

from pfdo_billing.domain.errors import InvalidAttendance
from pfdo_billing.domain.money import require_kopecks
from pfdo_billing.domain.payment_mode import PaymentMode, as_payment_mode


class LessonStatus(StrEnum):
    """A lesson's attendance mark as posted by the provider."""

    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


@dataclass(frozen=True)
class LessonMark:
    """One lesson's mark; ``disputed`` while a parent's dispute awaits the operator."""

    status: LessonStatus
    disputed: bool = False

    @property
    def billable(self) -> bool:
        """Counts as attended for billing: present and not under dispute (the one rule:
        :func:`pfdo_contracts.rules.lessons.is_billable`)."""
        return is_billable(self.status, self.disputed)


@dataclass(frozen=True)
class MonthAttendance:
    """Planned lessons of a month and how many of them count as attended for billing."""

    planned: int
    attended: int

    def __post_init__(self) -> None:
        for name in ("planned", "attended"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidAttendance(f"{name} must be a non-negative integer", **{name: value})

    @classmethod
    def from_marks(cls, planned: int, marks: Iterable[LessonMark]) -> MonthAttendance:
        """Count billable marks (present and undisputed); excused and absent do not count."""
        return cls(planned=planned, attended=sum(1 for mark in marks if mark.billable))


def due_amount(
    instalment: int,
    payment_mode: PaymentMode | str,
    attendance: MonthAttendance | None = None,
) -> int:
    """The part of a month's ``instalment`` that is due under ``payment_mode``.

    Attendance mode needs ``attendance`` (``InvalidAttendance`` otherwise); monthly mode ignores it.
    """
    require_kopecks(instalment, "instalment")
    mode = as_payment_mode(payment_mode)
    if attendance is None:
        if mode is not PaymentMode.MONTHLY:
            raise InvalidAttendance("an attendance-mode contract needs the month's attendance")
        attendance = MonthAttendance(planned=0, attended=0)
    return amount_due(instalment, mode.value, attendance.attended, attendance.planned)


@dataclass(frozen=True)
class MonthClose:
    """The result of closing one contract-month (kopecks).

    ``posted`` moves reserved -> spent (owed to the provider); ``released`` moves reserved ->
    available; ``posted + released == certificate_instalment``. ``family_invoiced`` is the
    co-payment invoiced to the family for the month.
    """

    certificate_instalment: int
    posted: int
    released: int
    family_instalment: int
    family_invoiced: int


def close_month(
    certificate_instalment: int,
    family_instalment: int,
    payment_mode: PaymentMode | str,
    attendance: MonthAttendance | None = None,
) -> MonthClose:
    """Close one contract-month: what is posted, released and invoiced."""
    posted = due_amount(certificate_instalment, payment_mode, attendance)
    return MonthClose(
        certificate_instalment=certificate_instalment,
        posted=posted,
        released=certificate_instalment - posted,
        family_instalment=family_instalment,
        family_invoiced=due_amount(family_instalment, payment_mode, attendance),
    )
