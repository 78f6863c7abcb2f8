"""The enrolment saga state machine (docs/domain-rules.md, "Enrolment and seats")."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_navigator.domain import enrolment as saga
from pfdo_navigator.domain.enrolment import (
    Actor,
    EndOutcome,
    Enrolment,
    EnrolmentEvent,
    EnrolmentState,
    Outcome,
)
from pfdo_navigator.domain.errors import DomainError

START = date(2025, 9, 1)
MODULE_END = date(2026, 5, 31)
S = EnrolmentState


def requested() -> Enrolment:
    t = saga.request(
        enrolment_id="e1",
        certificate_id="c1",
        module_id="m1",
        starts_on=START,
        module_ends_on=MODULE_END,
        requested_at=datetime(2025, 8, 20, 9, tzinfo=timezone.utc),
    )
    assert t.event is EnrolmentEvent.REQUESTED and t.outcome is Outcome.APPLIED
    return t.enrolment


def reserved() -> Enrolment:
    return saga.on_reservation_created(requested(), "r1").enrolment


OFFER_DAY = date(2025, 8, 22)
OFFER_DAYS = 10
ACCEPTED_AT = datetime(2025, 8, 23, 9, tzinfo=timezone.utc)


def offered() -> Enrolment:
    return saga.confirm(reserved(), OFFER_DAY, OFFER_DAYS).enrolment


def confirmed() -> Enrolment:
    return saga.accept(offered(), "parent-1", ACCEPTED_AT, OFFER_DAY).enrolment


def test_happy_path_request_reserve_confirm_complete() -> None:
    e = requested()
    assert e.state is S.REQUESTED and e.ends_on == MODULE_END
    t = saga.on_reservation_created(e, "r1")
    assert (t.enrolment.state, t.event, t.outcome) == (S.RESERVED, None, Outcome.APPLIED)
    assert t.enrolment.reservation_id == "r1"
    t = saga.confirm(t.enrolment, OFFER_DAY, OFFER_DAYS)
    assert (t.enrolment.state, t.event) == (S.OFFERED, EnrolmentEvent.OFFERED)
    assert (t.enrolment.offered_on, t.enrolment.offer_expires_on) == (OFFER_DAY, OFFER_DAY + timedelta(OFFER_DAYS))
    t = saga.accept(t.enrolment, "parent-1", ACCEPTED_AT, OFFER_DAY)
    assert (t.enrolment.state, t.event) == (S.CONFIRMED, EnrolmentEvent.CONFIRMED)
    assert (t.enrolment.accepted_by, t.enrolment.accepted_at) == ("parent-1", ACCEPTED_AT)
    assert not t.enrolment.is_finished
    t = saga.complete(t.enrolment, today=MODULE_END + timedelta(days=1))
    assert (t.enrolment.state, t.event, t.enrolment.end_outcome) == (S.ENDED, EnrolmentEvent.ENDED, EndOutcome.COMPLETED)
    assert t.enrolment.is_finished and not t.enrolment.holds_seat(MODULE_END + timedelta(days=1))


def test_request_rejects_start_after_module_end() -> None:
    with pytest.raises(DomainError) as exc:
        saga.request(enrolment_id="e", certificate_id="c", module_id="m", starts_on=MODULE_END + timedelta(1), module_ends_on=MODULE_END)
    assert exc.value.code == "start_outside_module"


def test_billing_rejection_keeps_reason_and_publishes_nothing() -> None:
    t = saga.on_reservation_rejected(requested(), "insufficient_balance")
    assert (t.enrolment.state, t.enrolment.reason, t.event) == (S.REJECTED, "insufficient_balance", None)
    assert not t.enrolment.holds_seat(START)


def test_decline_and_expire_from_reserved() -> None:
    t = saga.decline(reserved(), "group_full", today=START - timedelta(5))
    assert (t.enrolment.state, t.event, t.enrolment.closed_by) == (S.DECLINED, EnrolmentEvent.DECLINED, Actor.PROVIDER)
    t = saga.expire(reserved())
    assert (t.enrolment.state, t.event) == (S.EXPIRED, EnrolmentEvent.EXPIRED)


def test_cancel_from_requested_and_reserved() -> None:
    for e in (requested(), reserved()):
        t = saga.cancel(e, today=START - timedelta(3))
        assert (t.enrolment.state, t.event) == (S.CANCELLED, EnrolmentEvent.CANCELLED)


def test_confirmed_contract_before_start_is_cancelled_or_declined_not_terminated() -> None:
    before = START - timedelta(days=1)
    assert saga.cancel(confirmed(), today=before).enrolment.state is S.CANCELLED
    assert saga.decline(confirmed(), "no_teacher", today=before).enrolment.state is S.DECLINED
    with pytest.raises(DomainError) as exc:
        saga.terminate(confirmed(), Actor.PARENT, "moved", today=before)
    assert exc.value.code == "illegal_transition"


def test_after_start_only_terminate() -> None:
    with pytest.raises(DomainError) as exc:
        saga.cancel(confirmed(), today=START)
    assert exc.value.code == "illegal_transition"
    with pytest.raises(DomainError):
        saga.decline(confirmed(), "x", today=START)


def test_terminate_ends_at_end_of_current_month() -> None:
    t = saga.terminate(confirmed(), Actor.PROVIDER, "rules_violation", today=date(2025, 11, 12))
    assert (t.enrolment.state, t.event) == (S.TERMINATED, EnrolmentEvent.TERMINATED)
    assert t.enrolment.ends_on == date(2025, 11, 30)
    assert t.enrolment.reason == "rules_violation" and t.enrolment.closed_by is Actor.PROVIDER
    assert t.enrolment.holds_seat(date(2025, 11, 30))
    assert not t.enrolment.holds_seat(date(2025, 12, 1))
    assert t.enrolment.in_force_on(date(2025, 11, 30)) and not t.enrolment.in_force_on(date(2025, 12, 1))
    assert not t.enrolment.is_finished


def test_terminate_in_last_month_keeps_module_end() -> None:
    t = saga.terminate(confirmed(), Actor.PARENT, "moved", today=date(2026, 5, 3))
    assert t.enrolment.ends_on == MODULE_END


def test_terminate_after_end_or_by_system_is_refused() -> None:
    with pytest.raises(DomainError) as exc:
        saga.terminate(confirmed(), Actor.PARENT, "x", today=MODULE_END + timedelta(1))
    assert exc.value.code == "illegal_transition"
    with pytest.raises(DomainError) as exc:
        saga.terminate(confirmed(), Actor.SYSTEM, "x", today=START)
    assert exc.value.code == "invalid_actor"


def test_complete_before_end_is_illegal() -> None:
    with pytest.raises(DomainError) as exc:
        saga.complete(confirmed(), today=MODULE_END)
    assert exc.value.code == "illegal_transition"
    with pytest.raises(DomainError):
        saga.complete(reserved(), today=MODULE_END + timedelta(1))


def test_terminated_contract_ends_after_its_last_day() -> None:
    terminated = saga.terminate(confirmed(), Actor.PARENT, "moved", today=date(2025, 9, 10)).enrolment
    with pytest.raises(DomainError):
        saga.complete(terminated, today=date(2025, 9, 30))
    t = saga.complete(terminated, today=date(2025, 10, 1))
    assert (t.enrolment.state, t.event, t.enrolment.end_outcome) == (S.ENDED, EnrolmentEvent.ENDED, EndOutcome.TERMINATED)
    assert (t.enrolment.reason, t.enrolment.closed_by, t.enrolment.ends_on) == ("moved", Actor.PARENT, date(2025, 9, 30))
    assert t.enrolment.is_finished
    assert saga.complete(t.enrolment, today=date(2025, 10, 2)).outcome is Outcome.DUPLICATE


def test_certificate_expiry_terminates_running_contract_at_month_end() -> None:
    t = saga.on_certificate_expired(confirmed(), expired_on=date(2026, 1, 14))
    assert (t.enrolment.state, t.event, t.enrolment.reason) == (S.TERMINATED, EnrolmentEvent.TERMINATED, "certificate_expired")
    assert (t.enrolment.ends_on, t.enrolment.closed_by) == (date(2026, 1, 31), Actor.SYSTEM)
    assert saga.on_certificate_expired(t.enrolment, date(2026, 1, 14)).outcome is Outcome.DUPLICATE
    ended = saga.complete(t.enrolment, today=date(2026, 2, 1)).enrolment
    assert (ended.state, ended.end_outcome, ended.reason) == (S.ENDED, EndOutcome.TERMINATED, "certificate_expired")
    # expiry in the module's last month keeps the module end
    assert saga.on_certificate_expired(confirmed(), date(2026, 5, 2)).enrolment.ends_on == MODULE_END


def test_certificate_expiry_cancels_pending_and_not_yet_started() -> None:
    for e in (requested(), reserved(), offered(), confirmed()):
        t = saga.on_certificate_expired(e, expired_on=date(2025, 8, 25))
        assert (t.enrolment.state, t.event, t.enrolment.reason) == (S.CANCELLED, EnrolmentEvent.CANCELLED, "certificate_expired")


@pytest.mark.parametrize(
    ("make", "action"),
    [
        (requested, lambda e: saga.confirm(e, OFFER_DAY, OFFER_DAYS)),
        (requested, lambda e: saga.decline(e, "x", START)),
        (requested, lambda e: saga.terminate(e, Actor.PARENT, "x", START)),
        (requested, lambda e: saga.complete(e, MODULE_END + timedelta(1))),
        (reserved, lambda e: saga.terminate(e, Actor.PARENT, "x", START)),
        (reserved, lambda e: saga.on_reservation_rejected(e, "x")),
        (confirmed, lambda e: saga.on_reservation_rejected(e, "x")),
        (lambda: saga.on_reservation_rejected(requested(), "x").enrolment, lambda e: saga.confirm(e, OFFER_DAY, OFFER_DAYS)),
        (lambda: saga.cancel(requested(), START).enrolment, lambda e: saga.confirm(e, OFFER_DAY, OFFER_DAYS)),
        (lambda: saga.expire(reserved()).enrolment, lambda e: saga.cancel(e, START)),
        (lambda: saga.decline(reserved(), "x", START).enrolment, lambda e: saga.cancel(e, START)),
    ],
)
def test_illegal_transitions_raise(make, action) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as exc:
        action(make())
    assert exc.value.code == "illegal_transition"
    assert "state" in exc.value.details


def test_duplicates_are_idempotent_no_ops() -> None:
    r = reserved()
    assert saga.on_reservation_created(r, "r1").outcome is Outcome.DUPLICATE
    c = confirmed()
    assert saga.confirm(c, OFFER_DAY, OFFER_DAYS) == saga.Transition(c, None, Outcome.DUPLICATE)
    o = offered()
    assert saga.confirm(o, OFFER_DAY, OFFER_DAYS) == saga.Transition(o, None, Outcome.DUPLICATE)
    assert saga.accept(c, "parent-1", ACCEPTED_AT, OFFER_DAY) == saga.Transition(c, None, Outcome.DUPLICATE)
    assert saga.on_reservation_created(c, "r1").outcome is Outcome.DUPLICATE
    rej = saga.on_reservation_rejected(requested(), "x").enrolment
    assert saga.on_reservation_rejected(rej, "x").outcome is Outcome.DUPLICATE
    can = saga.cancel(requested(), START).enrolment
    assert saga.cancel(can, START).outcome is Outcome.DUPLICATE
    term = saga.terminate(c, Actor.PARENT, "x", START).enrolment
    assert saga.terminate(term, Actor.PARENT, "x", START).outcome is Outcome.DUPLICATE
    dec = saga.decline(r, "x", START).enrolment
    assert saga.decline(dec, "x", START).outcome is Outcome.DUPLICATE
    exp = saga.expire(r).enrolment
    assert saga.expire(exp).outcome is Outcome.DUPLICATE


def test_late_reservation_after_cancel_needs_release_once() -> None:
    cancelled = saga.cancel(requested(), START - timedelta(1)).enrolment
    t = saga.on_reservation_created(cancelled, "r9")
    assert t.outcome is Outcome.NEEDS_RELEASE and t.event is None
    assert t.enrolment.state is S.CANCELLED and t.enrolment.reservation_id == "r9"
    # redelivery of the same reservation after we recorded it: nothing more to do
    assert saga.on_reservation_created(t.enrolment, "r9").outcome is Outcome.DUPLICATE


def test_late_reservation_after_expiry_or_rejection_needs_release() -> None:
    expired = saga.expire(requested()).enrolment
    assert saga.on_reservation_created(expired, "r1").outcome is Outcome.NEEDS_RELEASE
    rejected = saga.on_reservation_rejected(requested(), "x").enrolment
    assert saga.on_reservation_created(rejected, "r1").outcome is Outcome.NEEDS_RELEASE


def test_late_rejection_after_cancel_is_stale() -> None:
    cancelled = saga.cancel(requested(), START).enrolment
    t = saga.on_reservation_rejected(cancelled, "x")
    assert t.outcome is Outcome.STALE and t.enrolment == cancelled


def test_expiry_timer_overtaken_is_stale() -> None:
    assert saga.expire(confirmed()).outcome is Outcome.STALE
    assert saga.expire(saga.cancel(requested(), START).enrolment).outcome is Outcome.STALE


def test_seat_holding_by_state() -> None:
    day = START
    assert requested().holds_seat(day) and reserved().holds_seat(day) and confirmed().holds_seat(day)
    assert confirmed().holds_seat(MODULE_END) and not confirmed().holds_seat(MODULE_END + timedelta(1))
    for e in (
        saga.cancel(requested(), day).enrolment,
        saga.expire(reserved()).enrolment,
        saga.decline(reserved(), "x", day).enrolment,
        saga.on_reservation_rejected(requested(), "x").enrolment,
    ):
        assert not e.holds_seat(day)
        assert not e.in_force_on(day)


def test_deadlines() -> None:
    assert saga.answer_deadline(date(2025, 8, 20), 5) == date(2025, 8, 25)
    assert saga.offer_deadline(date(2025, 8, 28), 10) == date(2025, 9, 7)


# --------------------------------------------------------------------- property: any input sequence
def _inputs():  # type: ignore[no-untyped-def]
    days = st.dates(min_value=START - timedelta(30), max_value=MODULE_END + timedelta(30))
    return st.one_of(
        st.tuples(st.just("created"), st.sampled_from(["r1", "r2"])),
        st.tuples(st.just("rejected"), st.just("no_money")),
        st.tuples(st.just("confirm"), days),
        st.tuples(st.just("accept"), days),
        st.tuples(st.just("decline"), days),
        st.tuples(st.just("cancel"), days),
        st.tuples(st.just("expire"), st.sampled_from(list(saga.Timeout))),
        st.tuples(st.just("terminate"), st.sampled_from([Actor.PARENT, Actor.PROVIDER]), days),
        st.tuples(st.just("complete"), days),
        st.tuples(st.just("cert_expired"), days),
    )


def _step(e: Enrolment, inp: tuple) -> saga.Transition:  # type: ignore[type-arg]
    kind = inp[0]
    if kind == "created":
        return saga.on_reservation_created(e, inp[1])
    if kind == "rejected":
        return saga.on_reservation_rejected(e, inp[1])
    if kind == "confirm":
        return saga.confirm(e, inp[1], OFFER_DAYS)
    if kind == "accept":
        return saga.accept(e, "parent-1", ACCEPTED_AT, inp[1])
    if kind == "decline":
        return saga.decline(e, "x", inp[1])
    if kind == "cancel":
        return saga.cancel(e, inp[1])
    if kind == "expire":
        return saga.expire(e, inp[1])
    if kind == "terminate":
        return saga.terminate(e, inp[1], "x", inp[2])
    if kind == "complete":
        return saga.complete(e, inp[1])
    return saga.on_certificate_expired(e, inp[1])


ALLOWED = {
    S.REQUESTED: {S.RESERVED, S.REJECTED, S.CANCELLED, S.EXPIRED},
    S.RESERVED: {S.OFFERED, S.DECLINED, S.EXPIRED, S.CANCELLED},
    S.OFFERED: {S.CONFIRMED, S.DECLINED, S.EXPIRED, S.CANCELLED},
    S.CONFIRMED: {S.TERMINATED, S.ENDED, S.CANCELLED, S.DECLINED},
    S.TERMINATED: {S.ENDED},
}


@settings(max_examples=300)
@given(st.lists(_inputs(), max_size=12))
def test_any_input_sequence_follows_the_graph(inputs: list) -> None:  # type: ignore[type-arg]
    e = requested()
    for inp in inputs:
        try:
            t = _step(e, inp)
        except DomainError as exc:
            assert exc.code in {"illegal_transition", "offer_expired"}
            continue
        new = t.enrolment
        if t.outcome is Outcome.APPLIED and new.state is not e.state:
            assert new.state in ALLOWED.get(e.state, set()), (e.state, new.state)
            assert e.state not in saga.TERMINAL_STATES
        else:
            assert new.state is e.state
            assert t.event is None
        # a terminal state never changes again; the contract never grows longer
        assert new.ends_on <= e.ends_on
        assert new.starts_on == e.starts_on
        e = new
        # replaying the same input is always a no-op or an error, never a second event
        try:
            again = _step(e, inp)
        except DomainError:
            continue
        assert again.event is None and again.enrolment.state is e.state
