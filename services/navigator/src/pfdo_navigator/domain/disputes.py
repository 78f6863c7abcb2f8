"""Parents' disputes of attendance marks.

docs/domain-rules.md, "Attendance journal and disputes": parents see every mark and may dispute a
mark within 7 days; a disputed mark is not billed until the operator decides (the "dead souls"
fraud: money for children who never attended).

Decisions:

* **Window.** 7 calendar days counted from the regional date on which the mark was last
  recorded or corrected (``marked_on``), both ends inclusive: a mark recorded on the 3rd may be
  disputed through the 10th. Counting from the recording, not the lesson date, means a
  provider cannot escape a dispute by back-filling a month's journal late; a correction
  restarts the window (it is a new version of the mark).
* **What is claimed.** The parent states the status they say is right (``claimed_status``,
  by default ``absent``: "my child was not there"); it must differ from the mark
  (``claim_matches_mark``). The typical dispute is against a ``present`` mark (that is what is
  billed); an ``absent``/``excused`` mark may be disputed too (the record matters even when no
  money moves).
* **One dispute per mark version.** At most one open dispute per mark
  (``dispute_already_open``); a resolved dispute closes that version
  (``already_disputed``); after a correction the new version may be disputed again.
* **States.** ``open → upheld`` (the mark takes the claimed status: for the typical claim,
  ``absent``, not billed) or ``open → rejected`` (the mark stands and is billable again). Resolving a resolved
  dispute raises ``illegal_transition`` unless it repeats the same decision (idempotent).
* If the month was already closed and billed, an upheld dispute is a correction for billing to
  offset (billing's rule); this module only decides the mark's status.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from .attendance import MarkStatus
from .errors import DomainError

DISPUTE_WINDOW_DAYS = 7


class DisputeState(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    REJECTED = "rejected"


class DisputeEvent(StrEnum):
    OPENED = "dispute.opened"
    RESOLVED = "dispute.resolved"


@dataclass(frozen=True, slots=True)
class DisputableMark:
    """The journal's current mark as the parent sees it. ``version`` increases with every
    correction; ``marked_on`` is the regional date of the last recording/correction."""

    enrolment_id: str
    lesson_date: date
    status: MarkStatus
    version: int
    marked_on: date


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    enrolment_id: str
    lesson_date: date
    mark_version: int
    state: DisputeState
    opened_at: datetime
    claimed_status: MarkStatus = MarkStatus.ABSENT
    comment: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution_note: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is DisputeState.OPEN


def dispute_deadline(marked_on: date) -> date:
    """The last regional date on which a mark recorded on ``marked_on`` may be disputed."""
    return marked_on + timedelta(days=DISPUTE_WINDOW_DAYS)


def open_dispute(
    *,
    dispute_id: str,
    mark: DisputableMark,
    existing: Iterable[Dispute],
    today: date,
    now: datetime,
    claimed_status: MarkStatus = MarkStatus.ABSENT,
    comment: str | None = None,
) -> tuple[Dispute, DisputeEvent]:
    """Open a dispute on ``mark`` (``existing`` are the mark's earlier disputes).

    Errors: ``claim_matches_mark``, ``dispute_window_closed``, ``dispute_already_open``,
    ``already_disputed``. Returns the dispute and the event to publish (``dispute.opened``).
    """
    if claimed_status is mark.status:
        raise DomainError(
            "claim_matches_mark", "the claimed status is the mark's status already", status=mark.status.value
        )
    if today > dispute_deadline(mark.marked_on):
        raise DomainError(
            "dispute_window_closed",
            f"marks may be disputed within {DISPUTE_WINDOW_DAYS} days of being recorded",
            deadline=dispute_deadline(mark.marked_on).isoformat(),
        )
    for other in existing:
        if (other.enrolment_id, other.lesson_date) != (mark.enrolment_id, mark.lesson_date):
            continue
        if other.is_open:
            raise DomainError("dispute_already_open", "this mark already has an open dispute", dispute_id=other.id)
        if other.mark_version == mark.version:
            raise DomainError("already_disputed", "this mark was disputed and decided", dispute_id=other.id)
    text = comment.strip() if comment else None
    dispute = Dispute(
        id=dispute_id,
        enrolment_id=mark.enrolment_id,
        lesson_date=mark.lesson_date,
        mark_version=mark.version,
        state=DisputeState.OPEN,
        opened_at=now,
        claimed_status=claimed_status,
        comment=text or None,
    )
    return dispute, DisputeEvent.OPENED


def resolve(
    dispute: Dispute, *, upheld: bool, by: str, now: datetime, note: str | None = None
) -> tuple[Dispute, DisputeEvent | None]:
    """The operator decides: ``open → upheld | rejected``. Returns the dispute and the event
    (``dispute.resolved``; ``None`` for an idempotent repeat of the same decision)."""
    target = DisputeState.UPHELD if upheld else DisputeState.REJECTED
    if dispute.state is target:
        return dispute, None
    if not dispute.is_open:
        raise DomainError(
            "illegal_transition",
            f"the dispute is already {dispute.state.value}",
            dispute_id=dispute.id,
            state=dispute.state.value,
        )
    return (
        replace(dispute, state=target, resolved_at=now, resolved_by=by, resolution_note=note),
        DisputeEvent.RESOLVED,
    )


def status_after(dispute: Dispute, current: MarkStatus) -> MarkStatus:
    """The mark's status once ``dispute`` is resolved: the claimed status if upheld, else
    unchanged."""
    return dispute.claimed_status if dispute.state is DisputeState.UPHELD else current

