"""Seats of a module group and its waiting list (the arithmetic; the database does the atomic
part, e.g. ``UPDATE … SET held = held + 1 WHERE held < capacity``).

docs/domain-rules.md, "Enrolment and seats": per module, its capacity is **never overbooked**, also
when thousands apply in the same second. A seat is held by every enrolment for which
:meth:`pfdo_navigator.domain.enrolment.Enrolment.holds_seat` is true.

If a certifier lowers the capacity below the seats already held, nobody is evicted: ``free``
is 0 and the group is ``overbooked`` until enough seats are released.

The waiting list is first come, first served: ordered by ``joined_at`` and then by a
monotonically increasing ``sequence`` (ties in the same instant are broken by the order the
database assigned). Positions are 1-based and count only entries still waiting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from .errors import DomainError


@dataclass(frozen=True, slots=True)
class SeatCount:
    capacity: int
    held: int = 0

    def __post_init__(self) -> None:
        if self.capacity < 0:
            raise DomainError("invalid_capacity", "capacity cannot be negative", capacity=self.capacity)
        if self.held < 0:
            raise DomainError("seat_count_underflow", "held seats cannot be negative", held=self.held)

    @property
    def free(self) -> int:
        return max(self.capacity - self.held, 0)

    @property
    def overbooked(self) -> bool:
        """More seats held than the (possibly lowered) capacity."""
        return self.held > self.capacity

    def can_hold(self, seats: int = 1) -> bool:
        return seats >= 0 and self.free >= seats

    def hold(self, seats: int = 1) -> "SeatCount":
        """Hold ``seats`` seats or raise ``no_free_seats``."""
        if seats < 1:
            raise ValueError("hold at least one seat")
        if not self.can_hold(seats):
            raise DomainError("no_free_seats", "the group is full", capacity=self.capacity, held=self.held)
        return replace(self, held=self.held + seats)

    def release(self, seats: int = 1) -> "SeatCount":
        """Release ``seats`` seats or raise ``seat_count_underflow``."""
        if seats < 1:
            raise ValueError("release at least one seat")
        if seats > self.held:
            raise DomainError("seat_count_underflow", "releasing more seats than held", held=self.held)
        return replace(self, held=self.held - seats)

    def with_capacity(self, capacity: int) -> "SeatCount":
        """The certifier changed the capacity; held seats are kept."""
        return replace(self, capacity=capacity)


class WaitingState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"  # a seat became free and was offered to this entry
    LEFT = "left"  # withdrew, enrolled or the offer lapsed


@dataclass(frozen=True, slots=True)
class WaitingEntry:
    id: str
    joined_at: datetime
    sequence: int
    state: WaitingState = WaitingState.WAITING

    @property
    def order_key(self) -> tuple[datetime, int]:
        return (self.joined_at, self.sequence)


def waiting_positions(entries: Iterable[WaitingEntry]) -> dict[str, int]:
    """1-based positions of the entries still ``waiting``, first come first served."""
    waiting = sorted((e for e in entries if e.state is WaitingState.WAITING), key=lambda e: e.order_key)
    return {entry.id: position for position, entry in enumerate(waiting, start=1)}


def position_of(entry_id: str, entries: Iterable[WaitingEntry]) -> int | None:
    """The entry's position, or ``None`` if it is not waiting."""
    return waiting_positions(entries).get(entry_id)


def entries_to_offer(entries: Iterable[WaitingEntry], seats: SeatCount) -> list[WaitingEntry]:
    """The waiting entries to offer the currently free seats to, in order. Entries already
    ``offered`` hold a claim on a free seat, so they reduce what can be offered."""
    materialised = list(entries)
    pending_offers = sum(1 for e in materialised if e.state is WaitingState.OFFERED)
    available = max(seats.free - pending_offers, 0)
    waiting = sorted((e for e in materialised if e.state is WaitingState.WAITING), key=lambda e: e.order_key)
    return waiting[:available]
