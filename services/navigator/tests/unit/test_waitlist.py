"""The waiting list: who may join, where an application goes, the re-check on the offer day,
and the saga's waiting states."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_navigator.domain import enrolment as saga
from pfdo_navigator.domain.eligibility import ActiveEnrolment, ModuleTerms
from pfdo_navigator.domain.enrolment import EnrolmentEvent, EnrolmentState, Outcome
from pfdo_navigator.domain.errors import DomainError
from pfdo_navigator.domain.seats import SeatCount
from pfdo_navigator.domain.waitlist import (
    MODULE_UNAVAILABLE,
    Placement,
    WaitingListSetting,
    decide_offer,
    place,
    seats_to_offer,
)

T0 = datetime(2026, 9, 1, 6, tzinfo=timezone.utc)
MODULE = ModuleTerms("m1", "artistic", 7, 12, date(2026, 9, 1), date(2027, 5, 31))


def test_setting_bounds_and_room() -> None:
    assert not WaitingListSetting().has_room(0)
    assert WaitingListSetting(True).has_room(10_000)
    assert WaitingListSetting(True, 2).has_room(1)
    assert not WaitingListSetting(True, 2).has_room(2)
    with pytest.raises(DomainError) as exc:
        WaitingListSetting(True, 0)
    assert exc.value.code == "invalid_waiting_list_length"


def test_placement() -> None:
    free, full = SeatCount(2, 1), SeatCount(2, 2)
    assert place(free, WaitingListSetting(), 0) == Placement.SEAT
    assert place(full, WaitingListSetting(), 0) == Placement.NO_FREE_SEATS
    assert place(full, WaitingListSetting(True, 1), 0) == Placement.WAITING_LIST
    assert place(full, WaitingListSetting(True, 1), 1) == Placement.WAITING_LIST_FULL
    # a free seat while others wait is theirs: the newcomer queues behind them
    assert place(free, WaitingListSetting(True), 3) == Placement.WAITING_LIST
    # a list turned off keeps its waiters but takes nobody new
    assert place(full, WaitingListSetting(False), 3) == Placement.NO_FREE_SEATS


@given(capacity=st.integers(0, 30), held=st.integers(0, 40), waiting=st.integers(0, 40),
       enabled=st.booleans(), max_length=st.none() | st.integers(1, 40))
def test_placement_never_overbooks_or_overfills(capacity: int, held: int, waiting: int, enabled: bool,
                                                max_length: int | None) -> None:
    setting = WaitingListSetting(enabled, max_length)
    result = place(SeatCount(capacity, held), setting, waiting)
    if result == Placement.SEAT:
        assert held < capacity and waiting == 0
    if result == Placement.WAITING_LIST:
        assert enabled and (max_length is None or waiting < max_length)
    if held < capacity and waiting == 0:
        assert result == Placement.SEAT
    assert 0 <= seats_to_offer(SeatCount(capacity, held), waiting) <= min(max(capacity - held, 0), waiting)


def _offer(**kw: object) -> object:
    args: dict[str, object] = dict(
        requested_start=date(2026, 9, 1), module=MODULE, module_visible=True, certificate_status="active",
        birth_date=date(2016, 3, 14), today=date(2026, 9, 1), other_enrolments=[],
    )
    args.update(kw)
    return decide_offer(**args)  # type: ignore[arg-type]


def test_offer_keeps_the_start_or_moves_it_to_the_offer_day() -> None:
    assert _offer().start_date == date(2026, 9, 1)
    late = _offer(requested_start=date(2026, 9, 15), today=date(2026, 9, 3))
    assert late.offered and late.start_date == date(2026, 9, 15)
    passed = _offer(requested_start=date(2026, 9, 1), today=date(2026, 10, 5))
    assert passed.start_date == date(2026, 10, 5)


def test_offer_rechecks_eligibility_on_the_day() -> None:
    suspended = _offer(certificate_status="suspended")
    assert not suspended.offered and suspended.reasons == ("certificate_not_active",)
    # the child turned 13 while waiting
    too_old = _offer(birth_date=date(2013, 9, 2), today=date(2026, 10, 1), requested_start=date(2026, 9, 1))
    assert "age_out_of_range" in too_old.reasons
    enrolled = _offer(other_enrolments=[ActiveEnrolment(MODULE.module_id, MODULE.direction)])
    assert enrolled.reasons == ("already_enrolled",)
    module_over = _offer(today=date(2027, 6, 1))
    assert "start_outside_module" in module_over.reasons
    hidden = _offer(module_visible=False)
    assert hidden.reasons[0] == MODULE_UNAVAILABLE


def _waiting() -> saga.Enrolment:
    t = saga.waitlist(enrolment_id="e1", certificate_id="c1", module_id="m1", starts_on=date(2026, 9, 1),
                      module_ends_on=date(2027, 5, 31), requested_at=T0)
    assert (t.enrolment.state, t.event, t.outcome) == (EnrolmentState.WAITLISTED, EnrolmentEvent.WAITLISTED,
                                                        Outcome.APPLIED)
    return t.enrolment


def test_waiting_application_holds_no_seat_and_gets_one_on_offer() -> None:
    e = _waiting()
    assert not e.holds_seat(date(2026, 9, 1))
    later = datetime(2026, 9, 20, 9, tzinfo=timezone.utc)
    t = saga.offer_seat(e, date(2026, 9, 21), later)
    assert t.event is EnrolmentEvent.REQUESTED
    assert (t.enrolment.state, t.enrolment.starts_on, t.enrolment.requested_at) == (
        EnrolmentState.REQUESTED, date(2026, 9, 21), later)
    assert t.enrolment.holds_seat(date(2026, 9, 21))
    with pytest.raises(DomainError):
        saga.offer_seat(t.enrolment, date(2026, 9, 21), later)  # only a waiting application
    with pytest.raises(DomainError):
        saga.offer_seat(e, date(2027, 6, 1), later)  # never past the module's end


def test_leaving_the_list() -> None:
    e = _waiting()
    t = saga.leave_waiting_list(e, saga.LEFT_BY_PARENT, saga.Actor.PARENT)
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (
        EnrolmentState.WITHDRAWN, EnrolmentEvent.WAITLIST_LEFT, "parent_left")
    assert t.enrolment.is_terminal and not t.enrolment.holds_seat(date(2026, 9, 1))
    assert saga.leave_waiting_list(t.enrolment, saga.LEFT_BY_PARENT, saga.Actor.PARENT).outcome is Outcome.DUPLICATE
    requested = saga.offer_seat(e, date(2026, 9, 1), T0).enrolment
    with pytest.raises(DomainError) as exc:
        saga.leave_waiting_list(requested, saga.LEFT_BY_PARENT, saga.Actor.PARENT)
    assert exc.value.code == "illegal_transition"


def test_certificate_expiry_takes_a_waiting_application_off_the_list() -> None:
    t = saga.on_certificate_expired(_waiting(), date(2026, 10, 2))
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (
        EnrolmentState.WITHDRAWN, EnrolmentEvent.WAITLIST_LEFT, saga.CERTIFICATE_EXPIRED)
