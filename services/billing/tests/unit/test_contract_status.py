"""The contract state machine: every transition, duplicates and reordered events."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.adapters.sql_lists import sql_list
from pfdo_billing.domain.contract import (
    FINAL,
    HOLDING_MONEY,
    IN_FORCE,
    LIVE,
    USING_FUNDS,
    ContractEvent,
    ContractNotFound,
    ContractStatus,
    answers_request,
    next_status,
    on_certificate_end,
    sources,
)

S, E = ContractStatus, ContractEvent

# The whole table, written out by hand (every pair not listed changes nothing).
EXPECTED: dict[tuple[ContractStatus | None, ContractEvent], ContractStatus] = {
    (None, E.RESERVE): S.RESERVED,
    (S.QUEUED, E.RESERVE): S.RESERVED,  # admitted from the funding queue
    (None, E.QUEUE): S.QUEUED,
    (None, E.REJECT): S.REJECTED,
    (S.QUEUED, E.REJECT): S.REJECTED,  # refused while waiting (certificate ended, no age group, ...)
    (S.RESERVED, E.CONFIRM): S.ACTIVE,
    (S.RESERVED, E.CANCEL): S.CANCELLED,
    (S.ACTIVE, E.CANCEL): S.CANCELLED,
    (S.QUEUED, E.CANCEL): S.CANCELLED,
    (S.RESERVED, E.DECLINE): S.DECLINED,
    (S.ACTIVE, E.DECLINE): S.DECLINED,
    (S.QUEUED, E.DECLINE): S.DECLINED,
    (S.RESERVED, E.EXPIRE): S.EXPIRED,
    (S.ACTIVE, E.EXPIRE): S.EXPIRED,
    (S.QUEUED, E.EXPIRE): S.EXPIRED,
    (S.RESERVED, E.TERMINATE): S.CANCELLED,  # never confirmed: nothing is owed
    (S.ACTIVE, E.TERMINATE): S.TERMINATED,
    (S.RESERVED, E.TERMINATE_BEFORE_START): S.CANCELLED,
    (S.ACTIVE, E.TERMINATE_BEFORE_START): S.CANCELLED,
    (S.ACTIVE, E.END): S.ENDED,
    (S.TERMINATED, E.END): S.ENDED,
}

CURRENTS: list[ContractStatus | None] = [None, *ContractStatus]
PAIRS = [(c, e) for c in CURRENTS for e in ContractEvent if not (c is None and e is E.CONFIRM)]

statuses = st.sampled_from(CURRENTS)
events = st.sampled_from(list(ContractEvent))


def test_every_status_in_use_has_its_value() -> None:
    assert {s.value for s in ContractStatus} == {
        "reserved", "active", "queued", "rejected", "cancelled", "declined", "expired", "terminated", "ended",
    }


@pytest.mark.parametrize(("current", "event"), PAIRS)
def test_every_transition(current: ContractStatus | None, event: ContractEvent) -> None:
    assert next_status(current, event) is EXPECTED.get((current, event))


@pytest.mark.parametrize(("current", "event"), PAIRS)
def test_the_stored_text_is_accepted_as_the_status(current: ContractStatus | None, event: ContractEvent) -> None:
    # rows come back from the database as plain text
    assert next_status(None if current is None else current.value, event) is EXPECTED.get((current, event))


def test_a_confirmation_before_the_reservation_is_refused_to_be_retried() -> None:
    with pytest.raises(ContractNotFound) as raised:
        next_status(None, E.CONFIRM)
    assert isinstance(raised.value, LookupError)  # the consumer retries it, then dead-letters it
    assert raised.value.code == "contract_not_found"


def test_an_unknown_status_is_an_error() -> None:
    with pytest.raises(ValueError):
        next_status("confirmed", E.END)


@given(statuses, events)
def test_a_duplicate_event_changes_nothing(current: ContractStatus | None, event: ContractEvent) -> None:
    if current is None and event is E.CONFIRM:
        return
    after = next_status(current, event)
    if after is not None:
        assert next_status(after, event) is None


@given(st.sampled_from(sorted(FINAL)), events)
def test_no_event_leaves_a_final_status(current: ContractStatus, event: ContractEvent) -> None:
    assert next_status(current, event) is None


def test_reordered_events_are_harmless() -> None:
    # the parent cancelled before the provider's confirmation arrived
    assert next_status(S.CANCELLED, E.CONFIRM) is None
    # the hold expired, then the provider confirmed too late
    assert next_status(S.EXPIRED, E.CONFIRM) is None
    # the end arrived before the confirmation: ignored, the confirmation still applies
    assert next_status(S.RESERVED, E.END) is None
    assert next_status(S.RESERVED, E.CONFIRM) is S.ACTIVE
    # a termination after the end, a cancellation after the end
    assert next_status(S.ENDED, E.TERMINATE) is None
    assert next_status(S.ENDED, E.CANCEL) is None
    # a repeated request after any answer: the first answer stands
    for answered in ContractStatus:
        assert next_status(answered, E.QUEUE) is None
    # a queued request is neither confirmed nor terminated (nothing was reserved)
    assert next_status(S.QUEUED, E.CONFIRM) is None
    assert next_status(S.QUEUED, E.TERMINATE) is None
    assert next_status(S.QUEUED, E.QUEUE) is None  # still waiting


@given(st.lists(events, max_size=12))
def test_any_sequence_of_events_keeps_a_known_status(sequence: list[ContractEvent]) -> None:
    current: ContractStatus | None = None
    seen_final = False
    for event in sequence:
        if current is None and event is E.CONFIRM:
            continue  # refused, retried later
        after = next_status(current, event)
        if seen_final:
            assert after is None
        if after is not None:
            assert after != current
            current = after
        seen_final = current in FINAL


def test_groups() -> None:
    assert LIVE == {S.RESERVED, S.ACTIVE, S.QUEUED}
    assert HOLDING_MONEY == {S.RESERVED, S.ACTIVE}
    assert IN_FORCE == {S.ACTIVE, S.TERMINATED, S.ENDED}
    assert USING_FUNDS == {S.RESERVED, S.ACTIVE, S.TERMINATED}
    assert FINAL == {S.REJECTED, S.CANCELLED, S.DECLINED, S.EXPIRED, S.ENDED}
    assert FINAL.isdisjoint(LIVE | IN_FORCE - {S.ENDED})
    assert set(ContractStatus) == FINAL | LIVE | {S.TERMINATED}
    assert sources(E.END) == {S.ACTIVE, S.TERMINATED}
    assert sources(E.TERMINATE) == HOLDING_MONEY
    assert sources(E.CANCEL) == sources(E.DECLINE) == sources(E.EXPIRE) == LIVE
    assert sources(E.RESERVE) == {S.QUEUED}


@pytest.mark.parametrize("current", CURRENTS)
def test_a_request_is_answered_once(current: ContractStatus | None) -> None:
    assert answers_request(current, from_queue=False) is (current is None)
    assert answers_request(current, from_queue=True) is (current in (None, S.QUEUED))


def test_the_groups_as_sql_lists() -> None:
    assert sql_list(LIVE) == "'active', 'queued', 'reserved'"
    assert sql_list(IN_FORCE) == "'active', 'ended', 'terminated'"
    assert sql_list(sources(E.END)) == "'active', 'terminated'"


def test_an_sql_list_takes_plain_constants_only() -> None:
    class Odd(StrEnum):
        QUOTE = "it's"

    with pytest.raises(ValueError):
        sql_list([Odd.QUOTE])


@pytest.mark.parametrize("current", list(ContractStatus))
def test_what_the_end_of_the_certificate_does(current: ContractStatus) -> None:
    event = on_certificate_end(current)
    expected = {S.QUEUED: E.REJECT, S.RESERVED: E.TERMINATE, S.ACTIVE: E.TERMINATE}.get(current)
    assert event is expected
    if event is not None:  # and the state machine accepts it
        assert next_status(current, event) is not None
