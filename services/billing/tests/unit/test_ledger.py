from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from pfdo_billing.domain.errors import (
    BillingDomainError,
    CreditExceedsInvoiced,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidAmount,
    InvalidIdentifier,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingNotFound,
    PostExceedsPending,
    RefundExceedsSpent,
)
from pfdo_billing.domain.ledger import CertificateBalance, Ledger, Outcome
from pfdo_billing.domain.ledger_model import (
    AccountId,
    AccountKind,
    CreditFamily,
    CreditNominal,
    InvoiceFamily,
    LateCharge,
    LateInvoice,
    LateRefund,
    Operation,
    PendingState,
    Post,
    Reserve,
    ReturnUnused,
    Void,
)
from pfdo_billing.domain.ledger_invariants import invariant_violations

from .worked_example import CERTIFICATE_INSTALMENTS, NOMINAL

CERT, PERIOD, PAYER, PROVIDER = "4801000001", "2026-27", "4801", "prov-1"


def reserve(tid: str, amount: int, cert: str = CERT) -> Reserve:
    return Reserve(tid, cert, PERIOD, PROVIDER, PAYER, amount)


def funded_ledger(amount: int = NOMINAL) -> Ledger:
    ledger = Ledger()
    ledger.apply(CreditNominal("credit", PAYER, CERT, PERIOD, amount))
    return ledger


def test_worked_example_flows() -> None:
    ledger = funded_ledger()
    for index, instalment in enumerate(CERTIFICATE_INSTALMENTS):
        ledger.apply(reserve(f"res-{index}", instalment))
    assert ledger.certificate_balance(CERT, PERIOD) == CertificateBalance(
        nominal=3_000_000, available=2_109_890, reserved=890_110, spent=0
    )
    ledger.apply(Post("close-oct", "res-0", 111_269))  # October fully attended
    ledger.apply(Post("close-nov", "res-1", 83_447))  # November 6 of 8: 27 816 released
    assert ledger.certificate_balance(CERT, PERIOD) == CertificateBalance(
        nominal=3_000_000, available=2_137_706, reserved=667_578, spent=194_716
    )
    assert ledger.balance(AccountId(AccountKind.PROVIDER_PAYABLE, PROVIDER, PERIOD)) == 194_716
    assert ledger.balance(AccountId(AccountKind.BUDGET_OUTLAY, PAYER, PERIOD)) == -194_716
    assert ledger.balance(AccountId(AccountKind.BUDGET, PAYER, PERIOD)) == -3_000_000
    # termination on 15 January: February..May voided at once
    for index in range(4, 8):
        ledger.apply(Void(f"void-{index}", f"res-{index}"))
    balance = ledger.certificate_balance(CERT, PERIOD)
    assert (balance.available, balance.reserved) == (2_582_758, 222_526)
    assert invariant_violations(ledger) == []


def test_same_id_same_payload_is_a_no_op() -> None:
    ledger = funded_ledger(1_000)
    first = ledger.apply(reserve("r1", 400))
    again = ledger.apply(reserve("r1", 400))
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.EXISTS)
    assert again.entries == first.entries
    assert ledger.certificate_balance(CERT, PERIOD).reserved == 400
    assert len(ledger.journal) == 2


def test_same_id_other_payload_is_a_conflict() -> None:
    ledger = funded_ledger(1_000)
    ledger.apply(reserve("r1", 400))
    with pytest.raises(IdempotencyConflict) as caught:
        ledger.apply(reserve("r1", 401))
    assert caught.value.code == "idempotency_conflict"
    with pytest.raises(IdempotencyConflict):
        ledger.apply(Void("r1", "r1"))


def test_available_never_goes_negative() -> None:
    ledger = funded_ledger(1_000)
    ledger.apply(reserve("r1", 800))
    with pytest.raises(InsufficientFunds):
        ledger.apply(reserve("r2", 201))
    with pytest.raises(InsufficientFunds):
        ledger.apply(ReturnUnused("ret", PAYER, CERT, PERIOD, 201))
    assert ledger.certificate_balance(CERT, PERIOD).available == 200


def test_a_refusal_is_final_for_its_id() -> None:
    ledger = funded_ledger(100)
    with pytest.raises(InsufficientFunds):
        ledger.apply(reserve("r1", 150))
    ledger.apply(CreditNominal("top-up", PAYER, CERT, PERIOD, 100))
    with pytest.raises(InsufficientFunds):  # the redelivered request gets the same answer
        ledger.apply(reserve("r1", 150))
    assert ledger.apply(reserve("r2", 150)).outcome is Outcome.CREATED


def test_pending_is_resolved_at_most_once() -> None:
    ledger = funded_ledger(1_000)
    ledger.apply(reserve("r1", 500))
    ledger.apply(reserve("r2", 300))
    with pytest.raises(PostExceedsPending):
        ledger.apply(Post("p1", "r1", 501))
    ledger.apply(Post("p1-ok", "r1", 200))
    assert ledger.apply(Post("p1-ok", "r1", 200)).outcome is Outcome.EXISTS
    with pytest.raises(PendingAlreadyPosted):
        ledger.apply(Post("p1-again", "r1", 100))
    with pytest.raises(PendingAlreadyPosted):
        ledger.apply(Void("v1", "r1"))
    ledger.apply(Void("v2", "r2"))
    with pytest.raises(PendingAlreadyVoided):
        ledger.apply(Post("p2", "r2", 1))
    with pytest.raises(PendingNotFound):
        ledger.apply(Void("v3", "nope"))
    pending = ledger.pendings
    assert (pending["r1"].state, pending["r1"].posted_amount) == (PendingState.POSTED, 200)
    assert pending["r2"].state is PendingState.VOIDED
    assert ledger.certificate_balance(CERT, PERIOD) == CertificateBalance(1_000, 800, 0, 200)


def test_period_end_returns_unused_money() -> None:
    ledger = funded_ledger(1_000)
    ledger.apply(reserve("r1", 300))
    ledger.apply(Post("p1", "r1", 300))
    ledger.apply(ReturnUnused("return", PAYER, CERT, PERIOD, 700))
    assert ledger.certificate_balance(CERT, PERIOD) == CertificateBalance(300, 0, 0, 300)
    assert ledger.balance(AccountId(AccountKind.BUDGET, PAYER, PERIOD)) == -300
    assert invariant_violations(ledger) == []


def test_family_invoice_and_zero_total() -> None:
    ledger = funded_ledger(1_000)
    ledger.apply(InvoiceFamily("inv-1", "contract-1", PROVIDER, PERIOD, 16_689))
    receivable = AccountId(AccountKind.FAMILY_RECEIVABLE, "contract-1", PERIOD)
    assert ledger.balance(receivable) == -16_689
    assert sum(ledger.balances.values()) == 0


def test_operations_validate_their_fields() -> None:
    with pytest.raises(InvalidAmount):
        reserve("r1", -1)
    with pytest.raises(InvalidIdentifier):
        Post("", "r1", 1)


def test_invariants_detect_tampering() -> None:
    ledger = funded_ledger(1_000)
    ledger._balances[AccountId(AccountKind.CERTIFICATE_AVAILABLE, CERT, PERIOD)] += 1
    problems = invariant_violations(ledger)
    assert any("total of all balances" in problem for problem in problems)
    assert any("nominal" in problem for problem in problems)


# -- property: any sequence, with duplicates and reordering ---------------------------------

def test_late_charge_and_refund_of_a_closed_month() -> None:
    """November of the worked example closed at 6 of 8 lessons (83 447 posted); a dispute
    rejected later bills a 7th lesson (13 908 more); a dispute opened on another lesson after
    the close refunds one (13 908 back)."""
    ledger = funded_ledger()
    ledger.apply(reserve("nov", 111_263))
    ledger.apply(Post("nov-post", "nov", 83_447))
    before = ledger.certificate_balance(CERT, PERIOD)
    ledger.apply(LateCharge("late-1", CERT, PERIOD, PROVIDER, PAYER, 13_908))
    after = ledger.certificate_balance(CERT, PERIOD)
    assert (after.available, after.spent) == (before.available - 13_908, before.spent + 13_908)
    assert ledger.balance(AccountId(AccountKind.PROVIDER_PAYABLE, PROVIDER, PERIOD)) == 97_355
    assert ledger.spent_with(CERT, PERIOD, PROVIDER) == 97_355
    ledger.apply(LateRefund("late-2", CERT, PERIOD, PROVIDER, PAYER, 13_908))
    assert ledger.certificate_balance(CERT, PERIOD) == before
    assert ledger.balance(AccountId(AccountKind.BUDGET_OUTLAY, PAYER, PERIOD)) == -83_447
    ledger.apply(InvoiceFamily("inv", "k1", PROVIDER, PERIOD, 16_689))
    ledger.apply(CreditFamily("credit-1", "k1", PROVIDER, PERIOD, 2_782))
    assert ledger.balance(AccountId(AccountKind.FAMILY_RECEIVABLE, "k1", PERIOD)) == -(16_689 - 2_782)
    assert invariant_violations(ledger) == []


def test_late_movements_never_overdraw() -> None:
    ledger = funded_ledger(10_000)
    with pytest.raises(InsufficientFunds):
        ledger.apply(LateCharge("late-1", CERT, PERIOD, PROVIDER, PAYER, 10_001))
    ledger.apply(reserve("r", 5_000))
    ledger.apply(Post("p", "r", 3_000))
    with pytest.raises(RefundExceedsSpent):  # more than this provider was paid
        ledger.apply(LateRefund("late-2", CERT, PERIOD, PROVIDER, PAYER, 3_001))
    with pytest.raises(RefundExceedsSpent):  # another provider was paid nothing
        ledger.apply(LateRefund("late-3", CERT, PERIOD, "prov-2", PAYER, 1))
    ledger.apply(InvoiceFamily("inv", "k1", PROVIDER, PERIOD, 500))
    with pytest.raises(CreditExceedsInvoiced):
        ledger.apply(CreditFamily("family-credit", "k1", PROVIDER, PERIOD, 501))
    assert invariant_violations(ledger) == []


certs = st.sampled_from(["c1", "c2"])
periods = st.sampled_from(["p1", "p1", "p1", "p2"])
providers = st.sampled_from(["pa", "pb"])
amounts = st.integers(0, 3_000)
KINDS = ["reserve"] * 3 + ["post"] * 3 + ["void", "credit", "return", "invoice", "late_charge", "late_refund",
                                           "credit_family", "late_invoice"]


@st.composite
def sequences(draw: st.DrawFn) -> list[Operation]:
    """A plausible story (credits, reserves, posts and voids of earlier reserves, returns,
    invoices, late charges and refunds, family credits) with some reused ids, then duplicated
    operations and, often, a shuffle."""
    base: list[Operation] = [
        CreditNominal(f"opening-{cert}", "m1", cert, "p1", draw(st.integers(0, 10_000)))
        for cert in draw(st.lists(certs, max_size=2, unique=True))
    ]
    reserves: dict[str, int] = {}
    for index in range(draw(st.integers(0, 40))):
        reuse = base and draw(st.integers(0, 9)) == 0
        tid = draw(st.sampled_from([op.transfer_id for op in base])) if reuse else f"t{index}"
        kind = draw(st.sampled_from(KINDS))
        if kind == "credit":
            op: Operation = CreditNominal(
                tid, "m1", draw(certs), draw(periods), draw(st.integers(0, 10_000))
            )
        elif kind == "reserve":
            op = Reserve(tid, draw(certs), draw(periods), draw(providers), "m1", draw(amounts))
            reserves.setdefault(tid, op.amount)
        elif kind == "post":
            pending = draw(st.sampled_from(sorted(reserves) or ["missing"]))
            op = Post(tid, pending, draw(st.integers(0, reserves.get(pending, 0) + 5)))
        elif kind == "void":
            op = Void(tid, draw(st.sampled_from(sorted(reserves) or ["missing"])))
        elif kind == "return":
            op = ReturnUnused(tid, "m1", draw(certs), draw(periods), draw(amounts))
        elif kind in ("late_charge", "late_refund"):
            late = LateCharge if kind == "late_charge" else LateRefund
            op = late(tid, draw(certs), draw(periods), draw(providers), "m1", draw(amounts))
        elif kind == "credit_family":
            op = CreditFamily(tid, "k1", draw(providers), draw(periods), draw(amounts))
        else:
            invoice = LateInvoice if kind == "late_invoice" else InvoiceFamily
            op = invoice(tid, "k1", draw(providers), draw(periods), draw(amounts))
        base.append(op)
    sequence = list(base)
    for duplicate in draw(st.lists(st.sampled_from(base), max_size=15)) if base else []:
        sequence.insert(draw(st.integers(0, len(sequence))), duplicate)
    if draw(st.integers(0, 2)) == 0:
        sequence = draw(st.permutations(sequence))
    return sequence


def run(ledger: Ledger, sequence: list[Operation]) -> list[Any]:
    answers: list[Any] = []
    for operation in sequence:
        try:
            answers.append(ledger.apply(operation).entries)
        except BillingDomainError as error:
            answers.append(error.code)
        assert invariant_violations(ledger) == []
    return answers


def state(ledger: Ledger) -> tuple[Any, ...]:
    balances = {account: value for account, value in ledger.balances.items() if value}
    return balances, ledger.pendings, ledger.journal


@settings(max_examples=400, deadline=None)
@given(sequences())
def test_invariants_hold_after_any_sequence_and_replay_changes_nothing(
    sequence: list[Operation],
) -> None:
    ledger = Ledger()
    first_answers = run(ledger, sequence)
    before = state(ledger)
    applied_posts = sum(
        1
        for op, answer in zip(sequence, first_answers, strict=True)
        if isinstance(op, Post) and not isinstance(answer, str)
    )
    event("posts applied", payload=min(applied_posts, 3))
    second_answers = run(ledger, sequence)
    assert state(ledger) == before
    # successes answer with the same entries ("exists"), refusals with the same code
    assert second_answers == first_answers
