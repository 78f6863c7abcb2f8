"""Invariants of the ledger (docs/domain-rules.md, the billing ledger).

- per certificate and period: nominal (credited − returned) = available + reserved + spent,
  and available, reserved, spent are each >= 0;
- reserved = the sum of the certificate's still-pending reservations; spent = the sum of what
  was posted from them, plus late charges, minus late refunds;
- each provider's payable = what was posted for it, plus late charges, minus late refunds;
  each payer's outlay mirrors it;
- every balance equals the replay of the journal, and the total of all balances is zero.

``invariant_violations`` returns human-readable descriptions (empty when all hold); the
reconciliation endpoint reports the same checks.
"""

from __future__ import annotations

from collections import defaultdict

from pfdo_billing.domain.ledger import Ledger
from pfdo_billing.domain.ledger_model import AccountId, AccountKind, LateCharge, PendingState

_CERTIFICATE_KINDS = (
    AccountKind.CERTIFICATE_AVAILABLE,
    AccountKind.CERTIFICATE_RESERVED,
    AccountKind.CERTIFICATE_SPENT,
)


def invariant_violations(ledger: Ledger) -> list[str]:
    """Every broken invariant of ``ledger``, described; an empty list means all hold."""
    problems: list[str] = []
    balances = ledger.balances

    replayed: dict[AccountId, int] = defaultdict(int)
    for entry in ledger.journal:
        replayed[entry.debit] -= entry.amount
        replayed[entry.credit] += entry.amount
    for account in set(replayed) | set(balances):
        if replayed[account] != balances.get(account, 0):
            problems.append(f"{account}: balance differs from the journal")
    if sum(balances.values()) != 0:
        problems.append(f"total of all balances is {sum(balances.values())}, not 0")

    reserved: dict[tuple[str, str], int] = defaultdict(int)
    spent: dict[tuple[str, str], int] = defaultdict(int)
    payable: dict[tuple[str, str], int] = defaultdict(int)
    outlay: dict[tuple[str, str], int] = defaultdict(int)
    for pending in ledger.pendings.values():
        r = pending.reserve
        if pending.state is PendingState.PENDING:
            reserved[(r.certificate_id, r.period_id)] += r.amount
        spent[(r.certificate_id, r.period_id)] += pending.posted_amount
        payable[(r.provider_id, r.period_id)] += pending.posted_amount
        outlay[(r.payer_id, r.period_id)] -= pending.posted_amount
    for late in ledger.late_adjustments:
        signed = late.amount if isinstance(late, LateCharge) else -late.amount
        spent[(late.certificate_id, late.period_id)] += signed
        payable[(late.provider_id, late.period_id)] += signed
        outlay[(late.payer_id, late.period_id)] -= signed

    certificates = {
        (account.owner, account.period_id)
        for account in balances
        if account.kind in _CERTIFICATE_KINDS
    }
    for cert, period in sorted(certificates):
        b = ledger.certificate_balance(cert, period)
        label = f"certificate {cert} period {period}"
        if b.nominal != b.available + b.reserved + b.spent:
            problems.append(f"{label}: nominal {b.nominal} != available + reserved + spent")
        for name in ("available", "reserved", "spent"):
            if getattr(b, name) < 0:
                problems.append(f"{label}: {name} is negative")
        if b.reserved != reserved[(cert, period)]:
            problems.append(f"{label}: reserved differs from the open pendings")
        if b.spent != spent[(cert, period)]:
            problems.append(f"{label}: spent differs from the posted pendings and late adjustments")

    expected = {AccountKind.PROVIDER_PAYABLE: payable, AccountKind.BUDGET_OUTLAY: outlay}
    for account, value in balances.items():
        if account.kind in expected and value != expected[account.kind][
            (account.owner, account.period_id)
        ]:
            problems.append(f"{account}: differs from the posted pendings")
    return problems
