"""The reservation decision: each reason, their priority, the facts asked (and so the lock order)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_billing.domain.agreements import Agreement
from pfdo_billing.domain.contract import ContractStatus
from pfdo_billing.domain.errors import StartOutsideModule
from pfdo_billing.domain.quote import quote
from pfdo_billing.domain.validity import validity_of
from pfdo_billing.domain.reservation import (
    UNKNOWN,
    ActivateFunding,
    Caps,
    CertificateFacts,
    CreditNominal,
    EnrolmentRequest,
    Fact,
    Need,
    Queue,
    Reject,
    ReservationFacts,
    Reserve,
    Unchanged,
    decide_reservation,
)
from pfdo_contracts.common import CertificateStatus, FundingKind, UsageKind
from pfdo_contracts.events.billing import RejectionReason as R

PERIOD = uuid.UUID(int=1)
PAYER, ELSEWHERE = "01", "02"
MODULE_START, MODULE_END = date(2026, 9, 1), date(2027, 5, 31)
START = date(2026, 10, 1)
PRICE, NORMATIVE = 1_200_000, 1_000_000

PAID = EnrolmentRequest(
    funding_kind=FundingKind.CERTIFICATE, place_municipality=PAYER, start_date=START, module_start=MODULE_START,
    module_end=MODULE_END, price=PRICE, normative_cost=NORMATIVE, payment_mode="monthly",
)
FREE = replace(PAID, funding_kind=FundingKind.MUNICIPAL_TASK)
FUNDING = CertificateFacts(status=CertificateStatus.ACTIVE, payer=PAYER, usage_kind=UsageKind.FUNDING,
                           birth_date=date(2015, 3, 10))
ACCOUNTING = replace(FUNDING, usage_kind=UsageKind.ACCOUNTING)
AGREEMENT = Agreement(uuid.UUID(int=7), "С-1", uuid.UUID(int=8), PAYER, PERIOD, limit=100_000_000, used=0,
                      concluded_on=date(2026, 8, 25))

#: The facts whose loading locks a row, in the order the use case must lock them.
LOCKED = [Fact.CERTIFICATE, Fact.CAPS, Fact.PLACE_CAPS, Fact.AGREEMENT, Fact.BALANCE]


@dataclass
class World:
    """What the database holds; the run below plays the use case over it."""

    certificate: CertificateFacts | None = FUNDING
    period_id: uuid.UUID | None = PERIOD
    caps: Caps | None = None
    same_direction: int = 0
    place_caps: Caps | None = None
    queue_ahead: int = 0
    agreement: Agreement | None = AGREEMENT
    age_group_funded: bool = True
    available: int | None = 2_000_000  # the balance before any credit (None: no balance row)
    nominal: int = 900_000  # what a credit adds
    asked: list[Fact] = field(default_factory=list)
    writes: list[object] = field(default_factory=list)

    def load(self, facts: ReservationFacts, fact: Fact) -> ReservationFacts:
        self.asked.append(fact)
        value = {Fact.CERTIFICATE: self.certificate, Fact.OPEN_PERIOD: self.period_id, Fact.CAPS: self.caps,
                 Fact.SAME_DIRECTION: self.same_direction, Fact.PLACE_CAPS: self.place_caps,
                 Fact.QUEUE_AHEAD: self.queue_ahead, Fact.AGE_GROUP: self.age_group_funded,
                 Fact.AGREEMENT: self.agreement, Fact.BALANCE: self.available}[fact]
        name = {Fact.OPEN_PERIOD: "period_id", Fact.AGE_GROUP: "age_group_funded", Fact.BALANCE: "available"}.get(
            fact, fact.value)
        assert getattr(facts, name) is UNKNOWN, f"{fact} asked twice"
        return replace(facts, **{name: value})

    def run(self, request: EnrolmentRequest, current: ContractStatus | None = None,
            facts: ReservationFacts | None = None):  # noqa: ANN201
        facts = facts or ReservationFacts(request, current)
        for _ in range(20):
            step = decide_reservation(facts)
            if isinstance(step, Need):
                facts = self.load(facts, step.fact)
            elif isinstance(step, ActivateFunding):
                self.writes.append(step)
                self.available = (self.available or 0) + self.nominal
                facts = replace(facts, funding_activated=True, available=UNKNOWN)
            elif isinstance(step, CreditNominal):
                self.writes.append(step)
                self.available = self.nominal
                facts = replace(facts, credited=True, available=UNKNOWN)
            else:
                return step
        raise AssertionError("the decision does not converge")


def decide(request: EnrolmentRequest = PAID, current: ContractStatus | None = None, **world):  # noqa: ANN003, ANN201
    w = World(**world)
    return w.run(request, current), w


# --- each outcome ------------------------------------------------------------------------------

def test_unknown_certificate() -> None:
    decision, w = decide(certificate=None)
    assert decision == Reject(R.CERTIFICATE_UNKNOWN)
    assert w.asked == [Fact.CERTIFICATE]


@pytest.mark.parametrize("status", [CertificateStatus.SUSPENDED, CertificateStatus.EXPIRED, CertificateStatus.CLOSED])
def test_certificate_not_active(status: CertificateStatus) -> None:
    decision, w = decide(certificate=replace(FUNDING, status=status))
    assert decision == Reject(R.CERTIFICATE_NOT_ACTIVE)
    assert w.asked == [Fact.CERTIFICATE]


def test_certificate_no_longer_valid_on_the_start_day() -> None:
    # 18 on 1 October 2026: valid until 30 September, the day before the start
    decision, w = decide(certificate=replace(FUNDING, birth_date=date(2008, 10, 1)))
    assert decision == Reject(R.CERTIFICATE_NOT_ACTIVE)
    assert w.asked == [Fact.CERTIFICATE]
    # the validity the registry issued wins over the birthday
    decision, _ = decide(certificate=replace(FUNDING, valid_until=date(2026, 9, 30)))
    assert decision == Reject(R.CERTIFICATE_NOT_ACTIVE)


def test_certificate_valid_on_the_start_day_pays_to_the_end_of_that_month() -> None:
    decision, _ = decide(certificate=replace(FUNDING, birth_date=date(2008, 10, 2)))  # valid until 1 October
    assert isinstance(decision, Reserve)
    assert decision.quote.ends_on == date(2026, 10, 31)
    assert [line.month for line in decision.quote.schedule] == [date(2026, 10, 1)]


def test_no_open_period() -> None:
    decision, w = decide(period_id=None)
    assert decision == Reject(R.PERIOD_NOT_OPEN)
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD]


def test_direction_cap_reached() -> None:
    decision, w = decide(caps=Caps(direction_cap=2), same_direction=2)
    assert decision == Reject(R.DIRECTION_CAP_REACHED)
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD, Fact.CAPS, Fact.SAME_DIRECTION]


def test_under_the_direction_cap() -> None:
    decision, w = decide(caps=Caps(direction_cap=2), same_direction=1)
    assert isinstance(decision, Reserve)
    assert Fact.SAME_DIRECTION in w.asked


def test_no_direction_cap_does_not_count() -> None:
    for caps in (None, Caps(direction_cap=None)):
        decision, w = decide(caps=caps, same_direction=99)
        assert isinstance(decision, Reserve)
        assert Fact.SAME_DIRECTION not in w.asked


def test_no_free_places_left() -> None:
    decision, w = decide(FREE, caps=Caps(free_places=3, free_places_used=3))
    assert decision == Reject(R.NO_FREE_PLACES)
    assert Fact.PLACE_CAPS not in w.asked  # the place is in the payer municipality: its caps are the payer's


def test_free_places_are_counted_where_the_module_runs() -> None:
    request = replace(FREE, place_municipality=ELSEWHERE)
    decision, w = decide(request, caps=Caps(free_places=0), place_caps=Caps(free_places=3, free_places_used=3))
    assert decision == Reject(R.NO_FREE_PLACES)
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD, Fact.CAPS, Fact.PLACE_CAPS]
    decision, _ = decide(request, caps=Caps(free_places=0), place_caps=Caps(free_places=3, free_places_used=2))
    assert isinstance(decision, Reserve)
    assert decision.free_place_in == ELSEWHERE


def test_a_free_place_costs_nothing_and_needs_no_money() -> None:
    decision, w = decide(FREE, certificate=ACCOUNTING, caps=Caps(free_places=3, free_places_used=2),
                         available=None, age_group_funded=False)
    assert isinstance(decision, Reserve)
    assert decision.quote.free_place and decision.quote.cost == 0
    assert decision.free_place_in == PAYER and not decision.funding_activated
    assert w.writes == []
    assert not {Fact.QUEUE_AHEAD, Fact.AGE_GROUP, Fact.BALANCE} & set(w.asked)


def test_a_free_place_without_caps_is_not_counted() -> None:
    decision, _ = decide(FREE)
    assert isinstance(decision, Reserve) and decision.free_place_in is None


def test_accounting_certificate_over_the_funding_cap_queues() -> None:
    decision, w = decide(certificate=ACCOUNTING, caps=Caps(funding_cap=10, funding_used=10))
    assert decision == Queue()
    assert w.writes == []
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD, Fact.CAPS, Fact.AGREEMENT, Fact.QUEUE_AHEAD]


def test_accounting_certificate_behind_waiting_requests_queues() -> None:
    decision, _ = decide(certificate=ACCOUNTING, caps=Caps(funding_cap=10, funding_used=3), queue_ahead=1)
    assert decision == Queue()


def test_age_group_not_funded() -> None:
    decision, w = decide(certificate=ACCOUNTING, age_group_funded=False)
    assert decision == Reject(R.AGE_GROUP_NOT_FUNDED)
    assert w.writes == []


def test_accounting_certificate_is_activated_then_quoted_on_its_credit() -> None:
    decision, w = decide(certificate=ACCOUNTING, caps=Caps(funding_cap=10, funding_used=9), available=None)
    assert w.writes == [ActivateFunding(count_slot=True)]
    assert isinstance(decision, Reserve) and decision.funding_activated
    assert decision.quote.certificate_part == min(decision.quote.cost, decision.quote.normative_cost, 900_000)
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD, Fact.CAPS, Fact.AGREEMENT, Fact.QUEUE_AHEAD,
                       Fact.AGE_GROUP, Fact.BALANCE]


def test_activation_without_caps_takes_no_slot() -> None:
    _, w = decide(certificate=ACCOUNTING)
    assert w.writes == [ActivateFunding(count_slot=False)]


def test_funding_certificate_without_a_balance_is_credited_first() -> None:
    decision, w = decide(available=None)
    assert w.writes == [CreditNominal()]
    assert isinstance(decision, Reserve) and not decision.funding_activated
    assert w.asked[-3:] == [Fact.BALANCE, Fact.AGE_GROUP, Fact.BALANCE]


def test_funding_certificate_without_a_balance_nor_a_nominal() -> None:
    decision, w = decide(available=None, age_group_funded=False)
    assert decision == Reject(R.AGE_GROUP_NOT_FUNDED)
    assert w.writes == []


def test_a_credit_that_leaves_no_balance_is_a_bug() -> None:
    facts = ReservationFacts(PAID, None, certificate=FUNDING, period_id=PERIOD, caps=None, age_group_funded=True,
                             available=None, credited=True, agreement=AGREEMENT)
    with pytest.raises(AssertionError):
        decide_reservation(facts)


def test_funding_certificate_pays_from_its_available_balance() -> None:
    decision, w = decide(available=300_000)
    assert isinstance(decision, Reserve)
    q = decision.quote
    assert q.certificate_part == 300_000 and q.family_part == q.cost - 300_000
    assert w.writes == [] and Fact.QUEUE_AHEAD not in w.asked and Fact.AGE_GROUP not in w.asked


def test_an_impossible_start_is_an_error_not_a_rejection() -> None:
    with pytest.raises(StartOutsideModule):
        decide(replace(PAID, start_date=date(2026, 8, 1)))


# --- the agreement with the payer ---------------------------------------------------------------

@pytest.mark.parametrize("agreement", [None, replace(AGREEMENT, status="ended", ended_on=date(2026, 9, 1))])
def test_no_agreement_in_force_refuses_a_paid_place(agreement: Agreement | None) -> None:
    decision, w = decide(agreement=agreement)
    assert decision == Reject(R.NO_AGREEMENT)
    assert w.asked == [Fact.CERTIFICATE, Fact.OPEN_PERIOD, Fact.CAPS, Fact.AGREEMENT] and w.writes == []


def test_an_agreement_concluded_after_the_decision_day_is_not_in_force_yet() -> None:
    decision, _ = decide(replace(PAID, decided_on=date(2026, 8, 24)))
    assert decision == Reject(R.NO_AGREEMENT)
    decision, _ = decide(replace(PAID, decided_on=date(2026, 8, 25)))
    assert isinstance(decision, Reserve) and decision.agreement_id == AGREEMENT.agreement_id


def test_a_free_place_needs_no_agreement() -> None:
    decision, w = decide(FREE, agreement=None)
    assert isinstance(decision, Reserve) and decision.agreement_id is None and Fact.AGREEMENT not in w.asked


def test_the_limit_takes_the_certificate_part_to_the_last_kopeck() -> None:
    part = decide()[0].quote.certificate_part
    decision, _ = decide(agreement=replace(AGREEMENT, limit=part + 5, used=5))
    assert isinstance(decision, Reserve) and decision.quote.certificate_part == part
    decision, _ = decide(agreement=replace(AGREEMENT, limit=part + 4, used=5))
    assert decision == Reject(R.AGREEMENT_LIMIT_REACHED)


def test_a_used_up_limit_refuses_an_accounting_certificate_before_it_takes_a_funding_slot() -> None:
    decision, w = decide(certificate=ACCOUNTING, agreement=replace(AGREEMENT, limit=400_000, used=400_000))
    assert decision == Reject(R.AGREEMENT_LIMIT_REACHED)
    assert w.writes == [] and Fact.QUEUE_AHEAD not in w.asked


def test_a_part_of_zero_fits_a_used_up_limit() -> None:
    decision, _ = decide(available=0, agreement=replace(AGREEMENT, limit=0))
    assert isinstance(decision, Reserve) and decision.quote.certificate_part == 0


# --- repeats and the queue -----------------------------------------------------------------------

@pytest.mark.parametrize("current", list(ContractStatus))
def test_a_repeated_request_gets_its_first_answer(current: ContractStatus) -> None:
    decision, w = decide(current=current)
    assert decision == Unchanged(current)
    assert w.asked == [] and w.writes == []


def test_the_queue_admits_a_waiting_request() -> None:
    request = replace(PAID, from_queue=True)
    decision, w = decide(request, current=ContractStatus.QUEUED, certificate=ACCOUNTING,
                         caps=Caps(funding_cap=10, funding_used=9), queue_ahead=5)
    assert isinstance(decision, Reserve) and decision.status is ContractStatus.RESERVED
    assert Fact.QUEUE_AHEAD not in w.asked  # it is the queue's own turn: nobody is ahead


def test_a_waiting_request_stays_while_the_cap_is_full() -> None:
    request = replace(PAID, from_queue=True)
    decision, w = decide(request, current=ContractStatus.QUEUED, certificate=ACCOUNTING,
                         caps=Caps(funding_cap=10, funding_used=10))
    assert decision == Unchanged(ContractStatus.QUEUED)
    assert w.writes == []


def test_a_waiting_request_can_still_be_rejected() -> None:
    request = replace(PAID, from_queue=True)
    decision, _ = decide(request, current=ContractStatus.QUEUED, certificate=replace(ACCOUNTING, status="suspended"))
    assert decision == Reject(R.CERTIFICATE_NOT_ACTIVE)


# --- priority between reasons, and laziness, over drawn worlds ------------------------------------

def _mostly(value: st.SearchStrategy) -> st.SearchStrategy:
    """``value`` mostly, ``None`` about one time in five (so that the later rules are reached often)."""
    return st.tuples(st.integers(1, 5), value).map(lambda drawn: None if drawn[0] == 5 else drawn[1])


def _caps() -> st.SearchStrategy[Caps | None]:
    small = st.integers(0, 3)
    return _mostly(st.builds(Caps, direction_cap=st.none() | small, funding_cap=st.none() | small,
                             funding_used=small, free_places=st.none() | small, free_places_used=small))


worlds = st.builds(
    World,
    certificate=_mostly(st.builds(
        CertificateFacts, status=st.tuples(st.integers(1, 4), st.sampled_from(list(CertificateStatus))).map(
            lambda drawn: drawn[1] if drawn[0] == 4 else CertificateStatus.ACTIVE),
        payer=st.just(PAYER), usage_kind=st.sampled_from(list(UsageKind)),
        birth_date=st.sampled_from([date(2015, 3, 10), date(2015, 3, 10), date(2008, 10, 1), date(2008, 10, 2),
                                    date(2009, 2, 28)]))),
    period_id=_mostly(st.just(PERIOD)),
    caps=_caps(), same_direction=st.integers(0, 3), place_caps=_caps(), queue_ahead=st.integers(0, 2),
    age_group_funded=st.booleans(), available=st.none() | st.integers(0, 3_000_000),
    agreement=_mostly(st.builds(
        replace, st.just(AGREEMENT), limit=st.sampled_from([0, 500_000, 100_000_000]),
        used=st.sampled_from([0, 400_000]),
        concluded_on=st.sampled_from([date(2026, 8, 25), date(2026, 8, 25), date(2026, 9, 16)]),
        status=st.sampled_from(["active", "active", "ended"]))),
)
requests = st.builds(
    replace, st.sampled_from([PAID, FREE]), place_municipality=st.sampled_from([PAYER, ELSEWHERE]),
    decided_on=st.sampled_from([None, date(2026, 9, 15)]),
)


def expected(w: World, r: EnrolmentRequest) -> R | type:
    """The rules restated in priority order: the reason (or the kind of decision) expected."""
    cert = w.certificate
    if cert is None:
        return R.CERTIFICATE_UNKNOWN
    if cert.status != "active" or cert.birth_date == date(2008, 10, 1):  # that child is 18 on the start day
        return R.CERTIFICATE_NOT_ACTIVE
    if w.period_id is None:
        return R.PERIOD_NOT_OPEN
    if w.caps and w.caps.direction_cap is not None and w.same_direction >= w.caps.direction_cap:
        return R.DIRECTION_CAP_REACHED
    if r.funding_kind == "municipal_task":
        place = w.caps if r.place_municipality == PAYER else w.place_caps
        if place and place.free_places is not None and place.free_places_used >= place.free_places:
            return R.NO_FREE_PLACES
        return Reserve
    a = w.agreement
    if a is None or a.status != "active" or (r.decided_on is not None and a.concluded_on > r.decided_on):
        return R.NO_AGREEMENT
    if cert.usage_kind == "accounting" and a.headroom == 0:
        return R.AGREEMENT_LIMIT_REACHED
    if cert.usage_kind == "accounting":
        if w.queue_ahead or (w.caps and w.caps.funding_cap is not None
                             and w.caps.funding_used >= w.caps.funding_cap):
            return Queue
        if not w.age_group_funded:
            return R.AGE_GROUP_NOT_FUNDED
        return _within(a, w, r, w.nominal + (w.available or 0))
    if w.available is None and not w.age_group_funded:
        return R.AGE_GROUP_NOT_FUNDED
    return _within(a, w, r, w.nominal if w.available is None else w.available)


def _within(a: Agreement, w: World, r: EnrolmentRequest, available: int) -> R | type:
    """Reserve when the quoted certificate part fits what is left of the agreement's limit."""
    q = quote(r.price, r.normative_cost, r.module_start, r.module_end, r.start_date, available, r.payment_mode,
              valid_until=validity_of(w.certificate.birth_date, None))
    return Reserve if q.certificate_part <= a.headroom else R.AGREEMENT_LIMIT_REACHED


@given(worlds, requests)
def test_the_first_failing_rule_is_the_answer(w: World, r: EnrolmentRequest) -> None:
    decision = w.run(r)
    want = expected(w, r)
    assert (decision.reason if isinstance(decision, Reject) else type(decision)) == want


@given(worlds, requests)
def test_rows_are_locked_in_one_order_and_each_fact_asked_once(w: World, r: EnrolmentRequest) -> None:
    w.run(r)
    locked = [f for f in w.asked if f in LOCKED]
    assert locked == sorted(locked, key=LOCKED.index)
    repeated = [f for f in set(w.asked) if w.asked.count(f) > 1]
    assert repeated in ([], [Fact.BALANCE])  # read again after a credit only
    assert w.asked.count(Fact.BALANCE) <= 1 + len(w.writes)


@given(worlds, requests)
def test_loading_every_fact_up_front_gives_the_same_decision(w: World, r: EnrolmentRequest) -> None:
    eager = replace(w, asked=[], writes=[])
    facts = ReservationFacts(r, None, certificate=w.certificate, period_id=w.period_id, caps=w.caps,
                             same_direction=w.same_direction, place_caps=w.place_caps, queue_ahead=w.queue_ahead,
                             age_group_funded=w.age_group_funded, available=w.available, agreement=w.agreement)
    assert eager.run(r, facts=facts) == w.run(r)
    assert eager.writes == w.writes


@given(worlds, requests)
def test_a_waiting_request_is_admitted_refused_or_left_waiting(w: World, r: EnrolmentRequest) -> None:
    decision = w.run(replace(r, from_queue=True), ContractStatus.QUEUED)
    assert isinstance(decision, Reserve | Reject | Unchanged)
    if isinstance(decision, Unchanged):  # still over the cap: nothing written, the queue stops there
        assert decision.status is ContractStatus.QUEUED and w.writes == []
    assert Fact.QUEUE_AHEAD not in w.asked
