"""Seat counts and the waiting list (docs/domain-rules.md, "Enrolment and seats": never overbooked)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_navigator.domain.errors import DomainError
from pfdo_navigator.domain.seats import (
    SeatCount,
    WaitingEntry,
    WaitingState,
    entries_to_offer,
    position_of,
    waiting_positions,
)

T0 = datetime(2025, 8, 1, 9, tzinfo=timezone.utc)


def test_hold_and_release() -> None:
    s = SeatCount(capacity=2)
    assert s.free == 2
    s = s.hold().hold()
    assert (s.held, s.free) == (2, 0)
    with pytest.raises(DomainError) as exc:
        s.hold()
    assert exc.value.code == "no_free_seats"
    s = s.release()
    assert s.free == 1
    with pytest.raises(DomainError) as exc:
        SeatCount(capacity=2).release()
    assert exc.value.code == "seat_count_underflow"


def test_lowered_capacity_does_not_evict() -> None:
    s = SeatCount(capacity=5, held=4).with_capacity(3)
    assert s.overbooked and s.free == 0 and not s.can_hold()
    assert s.release().release().free == 1


def test_invalid_counts() -> None:
    with pytest.raises(DomainError) as exc:
        SeatCount(capacity=-1)
    assert exc.value.code == "invalid_capacity"


@given(st.integers(0, 30), st.lists(st.booleans(), max_size=200))
def test_never_overbooked(capacity: int, ops: list[bool]) -> None:
    s = SeatCount(capacity)
    for is_hold in ops:
        try:
            s = s.hold() if is_hold else s.release()
        except DomainError:
            pass
        assert 0 <= s.held <= capacity
        assert s.free + s.held == capacity


def entry(i: str, minutes: int, seq: int, state: WaitingState = WaitingState.WAITING) -> WaitingEntry:
    return WaitingEntry(i, T0 + timedelta(minutes=minutes), seq, state)


def test_waiting_positions_first_come_first_served() -> None:
    entries = [
        entry("c", 5, 3),
        entry("a", 0, 1),
        entry("b", 0, 2),  # same instant as a: sequence breaks the tie
        entry("gone", 1, 9, WaitingState.LEFT),
        entry("offered", 2, 10, WaitingState.OFFERED),
    ]
    assert waiting_positions(entries) == {"a": 1, "b": 2, "c": 3}
    assert position_of("c", entries) == 3
    assert position_of("gone", entries) is None


def test_entries_to_offer_respects_outstanding_offers() -> None:
    entries = [entry("a", 0, 1), entry("b", 1, 2), entry("o", 0, 0, WaitingState.OFFERED)]
    assert [e.id for e in entries_to_offer(entries, SeatCount(5, 3))] == ["a"]
    assert entries_to_offer(entries, SeatCount(5, 5)) == []
    assert [e.id for e in entries_to_offer(entries, SeatCount(10, 0))] == ["a", "b"]


@given(st.lists(st.tuples(st.integers(0, 50), st.sampled_from(list(WaitingState))), max_size=40))
def test_positions_are_dense_and_ordered(raw: list[tuple[int, WaitingState]]) -> None:
    entries = [entry(f"e{i}", m, i, state) for i, (m, state) in enumerate(raw)]
    positions = waiting_positions(entries)
    assert sorted(positions.values()) == list(range(1, len(positions) + 1))
    by_id = {e.id: e for e in entries}
    ranked = sorted(positions, key=positions.__getitem__)
    keys = [by_id[i].order_key for i in ranked]
    assert keys == sorted(keys)
