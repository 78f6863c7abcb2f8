"""Offer and acceptance, and the two timeouts of the way to a contract (domain/enrolment.py):
the provider's confirmation issues the offer, only the parent's acceptance makes the contract; an
unanswered application is refused and an unaccepted offer withdrawn, each by a timer counting
regional dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_navigator.domain import enrolment as saga
from pfdo_navigator.domain.enrolment import Enrolment, EnrolmentEvent, EnrolmentState, Outcome, Timeout
from pfdo_navigator.domain.errors import DomainError

S = EnrolmentState
START = date(2025, 9, 1)
MODULE_END = date(2026, 5, 31)
REQUESTED_ON = date(2025, 8, 20)
NOW = datetime(2025, 8, 25, 9, tzinfo=timezone.utc)


def requested() -> Enrolment:
    return saga.request(enrolment_id="e1", certificate_id="c1", module_id="m1", starts_on=START,
                        module_ends_on=MODULE_END, requested_at=NOW).enrolment


def reserved() -> Enrolment:
    return saga.on_reservation_created(requested(), "r1").enrolment


def offered(on: date = date(2025, 8, 22), days: int = 10) -> Enrolment:
    return saga.confirm(reserved(), on, days).enrolment


def test_the_providers_confirmation_issues_the_offer_not_the_contract() -> None:
    t = saga.confirm(reserved(), date(2025, 8, 22), 10)
    assert (t.enrolment.state, t.event, t.outcome) == (S.OFFERED, EnrolmentEvent.OFFERED, Outcome.APPLIED)
    assert t.enrolment.offer_expires_on == date(2025, 9, 1)
    assert t.enrolment.accepted_at is None and not t.enrolment.in_force_on(START)
    assert t.enrolment.holds_seat(START)  # the seat stays held while the parent decides


def test_only_the_acceptance_makes_the_contract_and_records_who_and_when() -> None:
    t = saga.accept(offered(), "parent-7", NOW, date(2025, 8, 25))
    assert (t.enrolment.state, t.event) == (S.CONFIRMED, EnrolmentEvent.CONFIRMED)
    assert (t.enrolment.accepted_by, t.enrolment.accepted_at) == ("parent-7", NOW)
    assert t.enrolment.in_force_on(START)
    again = saga.accept(t.enrolment, "parent-7", NOW, date(2025, 8, 26))
    assert again.outcome is Outcome.DUPLICATE and again.event is None


def test_acceptance_on_the_last_day_counts_the_day_after_is_refused() -> None:
    o = offered(date(2025, 8, 22), 10)
    assert saga.accept(o, "p", NOW, date(2025, 9, 1)).enrolment.state is S.CONFIRMED
    with pytest.raises(DomainError) as exc:
        saga.accept(o, "p", NOW, date(2025, 9, 2))
    assert exc.value.code == "offer_expired"


@pytest.mark.parametrize("make", [requested, reserved])
def test_there_is_nothing_to_accept_before_the_offer(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        saga.accept(make(), "p", NOW, REQUESTED_ON)
    assert exc.value.code == "illegal_transition"


def test_the_parent_declines_the_offer_and_the_provider_may_still_withdraw_it() -> None:
    t = saga.cancel(offered(), date(2025, 8, 23))
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (S.CANCELLED, EnrolmentEvent.CANCELLED, "offer_declined")
    assert not t.enrolment.holds_seat(START)
    d = saga.decline(offered(), "provider_refused", date(2025, 8, 23))
    assert (d.enrolment.state, d.event) == (S.DECLINED, EnrolmentEvent.DECLINED)


def test_certificate_expiry_cancels_an_open_offer() -> None:
    t = saga.on_certificate_expired(offered(), date(2025, 8, 25))
    assert (t.enrolment.state, t.enrolment.reason) == (S.CANCELLED, "certificate_expired")


# --------------------------------------------------------------------- timers
def due(e: Enrolment, today: date, answer_days: int = 5) -> Timeout | None:
    return saga.due_timeout(e, today, requested_on=REQUESTED_ON, answer_days=answer_days)


@pytest.mark.parametrize("make", [requested, reserved])
def test_an_application_unanswered_for_five_days_is_refused(make) -> None:  # type: ignore[no-untyped-def]
    e = make()
    assert due(e, REQUESTED_ON + timedelta(5)) is None  # the fifth day is still the provider's
    assert due(e, REQUESTED_ON + timedelta(6)) is Timeout.APPLICATION_UNANSWERED
    t = saga.expire(e, Timeout.APPLICATION_UNANSWERED)
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (S.EXPIRED, EnrolmentEvent.EXPIRED,
                                                                 "application_unanswered")
    assert not t.enrolment.holds_seat(START)
    assert saga.expire(t.enrolment, Timeout.APPLICATION_UNANSWERED).outcome is Outcome.DUPLICATE


def test_an_offer_not_accepted_in_ten_days_is_withdrawn() -> None:
    o = offered(date(2025, 8, 22), 10)
    assert due(o, date(2025, 9, 1)) is None
    assert due(o, date(2025, 9, 2)) is Timeout.OFFER_NOT_ACCEPTED
    t = saga.expire(o, Timeout.OFFER_NOT_ACCEPTED)
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (S.EXPIRED, EnrolmentEvent.EXPIRED,
                                                                 "offer_not_accepted")
    assert not t.enrolment.holds_seat(START)


def test_a_timer_overtaken_by_the_answer_is_stale() -> None:
    # the provider answered (the offer) before the answer timer ran: the application timer is stale
    o = offered()
    assert saga.expire(o, Timeout.APPLICATION_UNANSWERED).outcome is Outcome.STALE
    # the parent accepted before the offer timer ran
    c = saga.accept(o, "p", NOW, date(2025, 8, 25)).enrolment
    assert saga.expire(c, Timeout.OFFER_NOT_ACCEPTED).outcome is Outcome.STALE
    assert due(c, date(2026, 1, 1)) is None
    # the other timer on an expired enrolment is stale, not a duplicate
    gone = saga.expire(reserved(), Timeout.APPLICATION_UNANSWERED).enrolment
    assert saga.expire(gone, Timeout.OFFER_NOT_ACCEPTED).outcome is Outcome.STALE


@given(answer_days=st.integers(0, 30), acceptance_days=st.integers(0, 30),
       answered_after=st.integers(0, 40), today_after=st.integers(0, 80))
def test_timers_strike_exactly_after_their_deadlines(answer_days: int, acceptance_days: int, answered_after: int,
                                                     today_after: int) -> None:
    today = REQUESTED_ON + timedelta(today_after)
    waiting = reserved()
    expected = Timeout.APPLICATION_UNANSWERED if today_after > answer_days else None
    assert due(waiting, today, answer_days) is expected
    offered_on = REQUESTED_ON + timedelta(answered_after)
    o = offered(offered_on, acceptance_days)
    if today < offered_on:
        return
    expected = Timeout.OFFER_NOT_ACCEPTED if today > offered_on + timedelta(acceptance_days) else None
    assert due(o, today, answer_days) is expected  # the answer timer no longer applies to an offer
    if expected is None:
        assert saga.accept(o, "p", NOW, today).enrolment.state is S.CONFIRMED
    else:
        with pytest.raises(DomainError):
            saga.accept(o, "p", NOW, today)
