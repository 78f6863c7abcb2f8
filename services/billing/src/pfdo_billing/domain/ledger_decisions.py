"""What an operation does to the ledger, and when it is refused: pure functions, no I/O.

The in-memory ``Ledger`` and the database adapter both decide through these functions, so the
rules below hold in production exactly as in the executable spec.

Operations and their entries (debit -> credit):

- ``CreditNominal``: budget -> available.
- ``Reserve`` (pending): available -> reserved. Refused with ``InsufficientFunds`` when the
  amount exceeds the available balance, so available never goes below zero.
- ``Post`` of a pending (amount 0..pending): reserved -> spent (amount), mirrored by
  budget_outlay -> provider_payable (amount); the rest reserved -> available (released).
- ``Void`` of a pending: reserved -> available (the whole pending amount).
- ``ReturnUnused`` at period end: available -> budget; refused beyond the available balance.
- ``InvoiceFamily`` (``LateInvoice`` for a closed month billed again): family_receivable ->
  provider_copayment; ``CreditFamily`` the reverse, no more than is invoiced under the contract
  (``CreditExceedsInvoiced``).
- ``LateCharge`` (a closed month billed again): available -> spent, mirrored by budget_outlay ->
  provider_payable; refused like a reserve beyond the available balance. ``LateRefund``: spent ->
  available, mirrored by provider_payable -> budget_outlay; ``RefundExceedsSpent`` beyond what
  the certificate spent with that provider.

The two-phase rule (:func:`resolve`): a post or a void names a pending transfer that exists
(``PendingNotFound``) and is still pending (``PendingAlreadyPosted`` / ``PendingAlreadyVoided``:
a pending is resolved at most once), and a post takes at most the pending amount
(``PostExceedsPending``).

Zero-amount legs are dropped: a full post has no release, a zero post no spend.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Protocol

from pfdo_billing.domain.errors import (
    CreditExceedsInvoiced,
    InsufficientFunds,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingNotFound,
    PostExceedsPending,
    RefundExceedsSpent,
)
from pfdo_billing.domain.ledger_model import (
    AccountId,
    AccountKind,
    CreditFamily,
    CreditNominal,
    Entry,
    InvoiceFamily,
    LateCharge,
    LateInvoice,
    LateRefund,
    Operation,
    PendingState,
    PendingTransfer,
    Post,
    Reserve,
    ReturnUnused,
    Void,
    certificate_account,
)

Movement = CreditNominal | Reserve | ReturnUnused | InvoiceFamily | CreditFamily | LateCharge | LateRefund
"""The operations decided on balances (every operation but a post or a void)."""


class LedgerView(Protocol):
    """What a decision needs to know of the ledger's current state."""

    def balance(self, account: AccountId) -> int:
        """The balance (credits − debits) of ``account``; 0 for an account never used."""
        ...

    def spent_with(self, certificate_id: str, period_id: str, provider_id: str) -> int:
        """What the certificate has spent with one provider in the period."""
        ...


@dataclass(frozen=True)
class Resolution:
    """A post or a void accepted: the pending as it is now, and the entries to write."""

    pending: PendingTransfer
    entries: tuple[Entry, ...]


def entries_for(operation: Operation, pending: Reserve | None = None) -> tuple[Entry, ...]:
    """The balanced entries ``operation`` writes, checking nothing (see :func:`move` and
    :func:`resolve` for the refusals). A post or a void needs its ``pending`` reservation."""
    tid = operation.transfer_id
    if isinstance(operation, Post | Void):
        if pending is None:
            raise PendingNotFound("no such pending transfer", pending_id=operation.pending_id)
        return _resolving_entries(operation, pending)
    if isinstance(operation, CreditNominal | ReturnUnused):
        budget = AccountId(AccountKind.BUDGET, operation.payer_id, operation.period_id)
        available = certificate_account(
            AccountKind.CERTIFICATE_AVAILABLE, operation.certificate_id, operation.period_id
        )
        if isinstance(operation, CreditNominal):
            return _entries(Entry(tid, "credit_nominal", budget, available, operation.amount))
        return _entries(Entry(tid, "return_unused", available, budget, operation.amount))
    if isinstance(operation, Reserve):
        cert, period = operation.certificate_id, operation.period_id
        return _entries(Entry(
            tid, "reserve", certificate_account(AccountKind.CERTIFICATE_AVAILABLE, cert, period),
            certificate_account(AccountKind.CERTIFICATE_RESERVED, cert, period), operation.amount,
        ))
    if isinstance(operation, LateCharge | LateRefund):
        return _late_entries(operation)
    receivable = AccountId(AccountKind.FAMILY_RECEIVABLE, operation.contract_id, operation.period_id)
    copayment = AccountId(AccountKind.PROVIDER_COPAYMENT, operation.provider_id, operation.period_id)
    if isinstance(operation, CreditFamily):
        return _entries(Entry(tid, "late_credit", copayment, receivable, operation.amount))
    leg = "late_invoice" if isinstance(operation, LateInvoice) else "invoice_family"
    return _entries(Entry(tid, leg, receivable, copayment, operation.amount))


def move(operation: Movement, view: LedgerView) -> tuple[Entry, ...]:
    """The entries of ``operation`` on the ledger seen through ``view``, or its refusal."""
    if isinstance(operation, Reserve | ReturnUnused | LateCharge):
        _require_available(view, operation.certificate_id, operation.period_id, operation.amount)
    elif isinstance(operation, LateRefund):
        spent = view.spent_with(operation.certificate_id, operation.period_id, operation.provider_id)
        if operation.amount > spent:
            raise RefundExceedsSpent(
                "cannot refund more than the certificate spent with the provider",
                certificate_id=operation.certificate_id, provider_id=operation.provider_id, spent=spent,
                amount=operation.amount,
            )
    elif isinstance(operation, CreditFamily):
        invoiced = -view.balance(
            AccountId(AccountKind.FAMILY_RECEIVABLE, operation.contract_id, operation.period_id)
        )
        if operation.amount > invoiced:
            raise CreditExceedsInvoiced(
                "cannot credit more than is invoiced to the family", contract_id=operation.contract_id,
                invoiced=invoiced, amount=operation.amount,
            )
    return entries_for(operation)


def resolve(pending: PendingTransfer | None, operation: Post | Void) -> Resolution:
    """Post or void ``pending`` (None: it does not exist), or refuse: the two-phase rule."""
    if pending is None:
        raise PendingNotFound("no such pending transfer", pending_id=operation.pending_id)
    if pending.state is PendingState.POSTED:
        raise PendingAlreadyPosted("the pending transfer was already posted", pending_id=operation.pending_id)
    if pending.state is PendingState.VOIDED:
        raise PendingAlreadyVoided("the pending transfer was already voided", pending_id=operation.pending_id)
    if isinstance(operation, Post) and operation.amount > pending.reserve.amount:
        raise PostExceedsPending(
            "cannot post more than the pending amount", pending_id=operation.pending_id,
            pending=pending.reserve.amount, amount=operation.amount,
        )
    if isinstance(operation, Post):
        after = replace(pending, state=PendingState.POSTED, posted_amount=operation.amount,
                        resolved_by=operation.transfer_id)
    else:
        after = replace(pending, state=PendingState.VOIDED, posted_amount=0, resolved_by=operation.transfer_id)
    return Resolution(after, _resolving_entries(operation, pending.reserve))


@dataclass
class KnownBalances:
    """A :class:`LedgerView` over balances loaded from storage, kept current as the decisions of
    one batch are taken (so two reserves of one certificate see each other)."""

    balances: dict[AccountId, int] = field(default_factory=lambda: defaultdict(int))
    spent: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def balance(self, account: AccountId) -> int:
        return self.balances.get(account, 0)

    def spent_with(self, certificate_id: str, period_id: str, provider_id: str) -> int:
        return self.spent.get((certificate_id, period_id, provider_id), 0)

    def copy(self) -> KnownBalances:
        return KnownBalances(dict(self.balances), dict(self.spent))

    def take(self, operation: Operation, entries: tuple[Entry, ...], pending: Reserve | None = None) -> None:
        """Account for ``entries`` of ``operation`` (a post's ``pending`` names its provider)."""
        for entry in entries:
            self.balances[entry.debit] = self.balance(entry.debit) - entry.amount
            self.balances[entry.credit] = self.balance(entry.credit) + entry.amount
        if isinstance(operation, LateCharge | LateRefund):
            key = (operation.certificate_id, operation.period_id, operation.provider_id)
            self.spent[key] = self.spent_with(*key) + (
                operation.amount if isinstance(operation, LateCharge) else -operation.amount
            )
        elif isinstance(operation, Post) and pending is not None:
            key = (pending.certificate_id, pending.period_id, pending.provider_id)
            self.spent[key] = self.spent_with(*key) + operation.amount


def _resolving_entries(operation: Post | Void, pending: Reserve) -> tuple[Entry, ...]:
    tid, cert, period = operation.transfer_id, pending.certificate_id, pending.period_id
    reserved = certificate_account(AccountKind.CERTIFICATE_RESERVED, cert, period)
    available = certificate_account(AccountKind.CERTIFICATE_AVAILABLE, cert, period)
    if isinstance(operation, Void):
        return _entries(Entry(tid, "release", reserved, available, pending.amount))
    return _entries(
        Entry(tid, "post", reserved, certificate_account(AccountKind.CERTIFICATE_SPENT, cert, period),
              operation.amount),
        Entry(tid, "post_mirror", AccountId(AccountKind.BUDGET_OUTLAY, pending.payer_id, period),
              AccountId(AccountKind.PROVIDER_PAYABLE, pending.provider_id, period), operation.amount),
        Entry(tid, "release", reserved, available, pending.amount - operation.amount),
    )


def _late_entries(operation: LateCharge | LateRefund) -> tuple[Entry, ...]:
    tid, cert, period = operation.transfer_id, operation.certificate_id, operation.period_id
    available = certificate_account(AccountKind.CERTIFICATE_AVAILABLE, cert, period)
    spent = certificate_account(AccountKind.CERTIFICATE_SPENT, cert, period)
    outlay = AccountId(AccountKind.BUDGET_OUTLAY, operation.payer_id, period)
    payable = AccountId(AccountKind.PROVIDER_PAYABLE, operation.provider_id, period)
    if isinstance(operation, LateCharge):
        return _entries(Entry(tid, "late_charge", available, spent, operation.amount),
                        Entry(tid, "late_mirror", outlay, payable, operation.amount))
    return _entries(Entry(tid, "late_refund", spent, available, operation.amount),
                    Entry(tid, "late_mirror", payable, outlay, operation.amount))


def _require_available(view: LedgerView, certificate_id: str, period_id: str, amount: int) -> None:
    available = view.balance(certificate_account(AccountKind.CERTIFICATE_AVAILABLE, certificate_id, period_id))
    if amount > available:
        raise InsufficientFunds(
            "the available balance is lower than the amount", certificate_id=certificate_id,
            period_id=period_id, available=available, amount=amount,
        )


def _entries(*entries: Entry) -> tuple[Entry, ...]:
    """Drop zero-amount legs (a full post has no release, a zero post no spend)."""
    return tuple(entry for entry in entries if entry.amount > 0)
