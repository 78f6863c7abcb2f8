"""The pure decisions production and the in-memory ledger share: the two-phase rule of
:func:`resolve` and the balance checks of :func:`move`, over drawn sequences."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_billing.domain.errors import (
    BillingDomainError,
    InsufficientFunds,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingNotFound,
    PostExceedsPending,
)
from pfdo_billing.domain.ledger_decisions import KnownBalances, entries_for, move, resolve
from pfdo_billing.domain.ledger_model import (
    AccountId,
    AccountKind,
    CreditNominal,
    LateCharge,
    PendingState,
    PendingTransfer,
    Post,
    Reserve,
    ReturnUnused,
    Void,
    certificate_account,
)

CERT, PERIOD, PROVIDER, PAYER = "c1", "p1", "prov", "01"


def pending(tid: str, amount: int) -> PendingTransfer:
    return PendingTransfer(Reserve(tid, CERT, PERIOD, PROVIDER, PAYER, amount))


def test_resolve_refuses_per_the_two_phase_rule() -> None:
    open_one = pending("r", 500)
    with pytest.raises(PendingNotFound):
        resolve(None, Void("v", "r"))
    with pytest.raises(PostExceedsPending):
        resolve(open_one, Post("p", "r", 501))
    posted = resolve(open_one, Post("p", "r", 200)).pending
    assert (posted.state, posted.posted_amount, posted.resolved_by) == (PendingState.POSTED, 200, "p")
    with pytest.raises(PendingAlreadyPosted):
        resolve(posted, Void("v", "r"))
    voided = resolve(open_one, Void("v", "r")).pending
    with pytest.raises(PendingAlreadyVoided):
        resolve(voided, Post("p2", "r", 0))


def test_a_partial_post_releases_the_rest_and_mirrors_the_spend() -> None:
    entries = resolve(pending("r", 500), Post("post:x", "r", 200)).entries
    assert [(e.leg, e.debit.kind, e.credit.kind, e.amount) for e in entries] == [
        ("post", AccountKind.CERTIFICATE_RESERVED, AccountKind.CERTIFICATE_SPENT, 200),
        ("post_mirror", AccountKind.BUDGET_OUTLAY, AccountKind.PROVIDER_PAYABLE, 200),
        ("release", AccountKind.CERTIFICATE_RESERVED, AccountKind.CERTIFICATE_AVAILABLE, 300),
    ]
    assert [e.leg for e in resolve(pending("r", 500), Post("post:x", "r", 500)).entries] == ["post", "post_mirror"]
    assert [e.leg for e in resolve(pending("r", 500), Post("post:x", "r", 0)).entries] == ["release"]


steps = st.lists(
    st.tuples(st.sampled_from(["post", "void"]), st.integers(0, 5), st.integers(0, 1_200)), max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(amounts=st.lists(st.integers(0, 1_000), min_size=1, max_size=6), sequence=steps)
def test_any_post_void_sequence_resolves_each_pending_once_and_conserves_money(
    amounts: list[int], sequence: list[tuple[str, int, int]],
) -> None:
    pendings = {f"r{i}": pending(f"r{i}", amount) for i, amount in enumerate(amounts)}
    moved: dict[AccountId, int] = defaultdict(int)
    accepted: Counter[str] = Counter()
    for n, (kind, index, amount) in enumerate(sequence):
        pid = f"r{index}"
        op = Post(f"t{n}", pid, amount) if kind == "post" else Void(f"t{n}", pid)
        before = pendings.get(pid)
        try:
            resolution = resolve(before, op)
        except BillingDomainError as refusal:
            # refused exactly when the rule says so
            assert before is None or before.state is not PendingState.PENDING or (
                isinstance(op, Post) and amount > before.reserve.amount), refusal
            continue
        assert before is not None and before.state is PendingState.PENDING
        assert isinstance(op, Void) or amount <= before.reserve.amount  # never posts more than pending
        accepted[pid] += 1
        pendings[pid] = resolution.pending
        for entry in resolution.entries:
            assert entry.amount > 0
            moved[entry.debit] -= entry.amount
            moved[entry.credit] += entry.amount
    assert all(count == 1 for count in accepted.values())  # each pending resolved at most once
    assert sum(moved.values()) == 0  # every entry balanced
    reserved = certificate_account(AccountKind.CERTIFICATE_RESERVED, CERT, PERIOD)
    spent = certificate_account(AccountKind.CERTIFICATE_SPENT, CERT, PERIOD)
    # what left reserved is exactly the resolved pendings; what was spent is exactly what was posted
    assert -moved[reserved] == sum(p.reserve.amount for p in pendings.values() if p.state is not PendingState.PENDING)
    assert moved[spent] == sum(p.posted_amount for p in pendings.values())
    assert moved[AccountId(AccountKind.PROVIDER_PAYABLE, PROVIDER, PERIOD)] == moved[spent]


movements = st.lists(
    st.tuples(st.sampled_from(["credit", "reserve", "return", "late_charge"]), st.integers(0, 2_000)), max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(movements)
def test_move_never_takes_the_available_balance_below_zero(sequence: list[tuple[str, int]]) -> None:
    view = KnownBalances()
    available = certificate_account(AccountKind.CERTIFICATE_AVAILABLE, CERT, PERIOD)
    for n, (kind, amount) in enumerate(sequence):
        op = {"credit": CreditNominal(f"t{n}", PAYER, CERT, PERIOD, amount),
              "reserve": Reserve(f"t{n}", CERT, PERIOD, PROVIDER, PAYER, amount),
              "return": ReturnUnused(f"t{n}", PAYER, CERT, PERIOD, amount),
              "late_charge": LateCharge(f"t{n}", CERT, PERIOD, PROVIDER, PAYER, amount)}[kind]
        before = view.balance(available)
        try:
            entries = move(op, view)
        except InsufficientFunds:
            assert kind != "credit" and amount > before
            continue
        assert entries == entries_for(op)
        view.take(op, entries)
        assert view.balance(available) >= 0
        assert sum(view.balances.values()) == 0
