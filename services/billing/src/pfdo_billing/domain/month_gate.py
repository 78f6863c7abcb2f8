"""When billing may close a month: after the navigator froze the month's journal and billing
applied every attendance event of it.

Protocol (the navigator's side is ``pfdo_navigator.domain.journal``):

* The navigator publishes one ``AttendanceRecorded`` event per enrolment and month of a journal
  posting, then freezes the month (no more marks or corrections) and publishes
  ``AttendanceMonthFrozen`` with the number of ``AttendanceRecorded`` events of the month it
  ever published: the **watermark**.
* Billing counts the ``AttendanceRecorded`` events of each month it applied, in the same
  transaction as their inbox rows: a redelivered event is never counted twice, and events may
  arrive on any partition, in any order, before or after the freeze event.
* The month is **closable** when the freeze is known and ``applied == watermark``. Before the
  freeze: ``journal_not_frozen``; frozen but fewer applied: ``journal_not_drained`` (both
  "retry later"). More applied than published cannot happen under the protocol (a freeze is
  final and counts under an exclusive lock); it means the two sides disagree and an operator
  must look: ``journal_count_mismatch``.
* An attendance event that was dead-lettered keeps the month not drained until it is replayed:
  nothing is closed on a journal billing has not fully seen.

Disputes are not part of the watermark (parents may open them after the freeze): as before, a
mark under an open dispute when the month closes is not billed.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BillingDomainError


class JournalNotFrozen(BillingDomainError):
    """The navigator has not (yet) frozen the month's journal: close later."""

    code = "journal_not_frozen"


class JournalNotDrained(BillingDomainError):
    """Billing has not yet applied every attendance event of the frozen month: close later."""

    code = "journal_not_drained"


class JournalCountMismatch(BillingDomainError):
    """Billing applied more attendance events of the month than the navigator published."""

    code = "journal_count_mismatch"


@dataclass(frozen=True, slots=True)
class JournalWatermark:
    """Billing's view of a month's journal: the navigator's published count (``None`` until the
    freeze is known) and the count billing applied."""

    month: str
    published: int | None
    applied: int

    @property
    def frozen(self) -> bool:
        return self.published is not None

    @property
    def drained(self) -> bool:
        return self.published is not None and self.applied == self.published


def check_closable(mark: JournalWatermark) -> None:
    """Raise unless the month may be closed now (see the module docstring)."""
    if mark.applied < 0 or (mark.published is not None and mark.published < 0):
        raise ValueError("event counts are never negative")
    if mark.published is None:
        raise JournalNotFrozen(
            f"the attendance journal of {mark.month} is not frozen yet: the navigator freezes it on the configured "
            "day or on an operator's command; retry later", month=mark.month, applied=mark.applied,
        )
    if mark.applied < mark.published:
        raise JournalNotDrained(
            f"billing has applied {mark.applied} of the {mark.published} attendance events of {mark.month}; "
            "retry later", month=mark.month, applied=mark.applied, published=mark.published,
        )
    if mark.applied > mark.published:
        raise JournalCountMismatch(
            f"billing applied {mark.applied} attendance events of {mark.month}, the navigator published "
            f"{mark.published}: the month is not closed until an operator has looked",
            month=mark.month, applied=mark.applied, published=mark.published,
        )


__all__ = ["JournalCountMismatch", "JournalNotDrained", "JournalNotFrozen", "JournalWatermark", "check_closable"]
