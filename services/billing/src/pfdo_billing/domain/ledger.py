"""An in-memory, I/O-free model of the billing ledger: the executable spec of the money flows.

Double entry in the style of TigerBeetle's two-phase transfers (DESIGN §3): a reservation is a
*pending* transfer, month close *posts* it (fully or partly; the unposted rest is released in
the same step, as a partial post does in TigerBeetle), a release *voids* it. The adapters persist
the same accounts, entries and pending states; this module decides what they must be.

Account scheme (every account has balance = credits − debits, so each balanced entry leaves the
total of all balances unchanged, and the total is always ZERO):

=====================  ===================  ====================================================
account                per                  meaning (sign of the balance)
=====================  ===================  ====================================================
budget                 payer, period        the payer's allocation: debited by nominals credited
                                            to certificates, credited by returns (<= 0)
certificate_available  certificate, period  money the family can still commit (>= 0)
certificate_reserved   certificate, period  set aside for enrolments, i.e. pending (>= 0)
certificate_spent      certificate, period  earned by providers at month close (>= 0)
provider_payable       provider, period     owed to the provider for posted months (>= 0)
budget_outlay          payer, period        mirror of provider_payable: the payer's money
                                            actually spent on services (<= 0)
family_receivable      contract, period     co-payments invoiced to the family (<= 0)
provider_copayment     provider, period     co-payments due to the provider from families
=====================  ===================  ====================================================

Why the mirror: spending moves the certificate's money reserved -> spent, which keeps the
per-certificate identity nominal = available + reserved + spent; the provider's claim is a
second, equal entry budget_outlay -> provider_payable written in the same step. Both entries
balance, so the total of all accounts stays zero, and ``spent`` summed over certificates
always equals ``provider_payable`` summed over providers (and ``-budget_outlay``).

Operations and their entries (debit -> credit):

- ``CreditNominal``: budget -> available.
- ``Reserve`` (pending): available -> reserved. Refused with ``InsufficientFunds`` when the
  amount exceeds the available balance, so available never goes below zero.
- ``Post`` of a pending (amount 0..pending): reserved -> spent (amount), mirrored by
  budget_outlay -> provider_payable (amount); the rest reserved -> available (released).
- ``Void`` of a pending: reserved -> available (the whole pending amount).
- ``ReturnUnused`` at period end: available -> budget.
- ``InvoiceFamily``: family_receivable -> provider_copayment; ``CreditFamily`` the reverse, no
  more than is invoiced under the contract (``CreditExceedsInvoiced``).
- ``LateCharge`` (a closed month billed again, ``late_adjustment``): available -> spent,
  mirrored by budget_outlay -> provider_payable; refused like a reserve beyond the available
  balance. ``LateRefund``: spent -> available, mirrored by provider_payable -> budget_outlay;
  ``RefundExceedsSpent`` beyond what the certificate spent with that provider.

Idempotency: every operation carries a ``transfer_id``. The same id with the same payload is a
no-op answered ``exists``; with a different payload it is ``IdempotencyConflict``. A refusal is
final for its id as well: replaying a refused operation raises the same refusal again, even if
the balances would now allow it, so redelivered events always get the same answer. A pending is
posted or voided at most once (``PendingAlreadyPosted`` / ``PendingAlreadyVoided``), and a post
larger than the pending is ``PostExceedsPending``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from pfdo_billing.domain.errors import (
    BillingDomainError,
    CreditExceedsInvoiced,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidIdentifier,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    PendingNotFound,
    PostExceedsPending,
    RefundExceedsSpent,
)
from pfdo_billing.domain.money import require_kopecks


class AccountKind(StrEnum):
    """The kinds of ledger accounts (see the module docstring for the scheme)."""

    BUDGET = "budget"
    CERTIFICATE_AVAILABLE = "certificate_available"
    CERTIFICATE_RESERVED = "certificate_reserved"
    CERTIFICATE_SPENT = "certificate_spent"
    PROVIDER_PAYABLE = "provider_payable"
    BUDGET_OUTLAY = "budget_outlay"
    FAMILY_RECEIVABLE = "family_receivable"
    PROVIDER_COPAYMENT = "provider_copayment"


@dataclass(frozen=True, order=True)
class AccountId:
    """An account: its kind, its owner (payer, certificate, provider or contract id), its period."""

    kind: AccountKind
    owner: str
    period_id: str


@dataclass(frozen=True)
class Entry:
    """One balanced journal line: ``amount`` debited from ``debit``, credited to ``credit``."""

    transfer_id: str
    leg: str
    debit: AccountId
    credit: AccountId
    amount: int


def _require_ids(operation: object, *names: str) -> None:
    for name in names:
        value = getattr(operation, name)
        if not isinstance(value, str) or not value:
            raise InvalidIdentifier(f"{name} must be a non-empty string", name=name)


@dataclass(frozen=True)
class CreditNominal:
    """Credit a certificate's nominal for a period from the payer's budget."""

    transfer_id: str
    payer_id: str
    certificate_id: str
    period_id: str
    amount: int

    def __post_init__(self) -> None:
        _require_ids(self, "transfer_id", "payer_id", "certificate_id", "period_id")
        require_kopecks(self.amount)


@dataclass(frozen=True)
class _CertificateToProvider:
    """Money of a certificate bound for a provider: the fields of a reserve and of the late
    movements."""

    transfer_id: str
    certificate_id: str
    period_id: str
    provider_id: str
    payer_id: str
    amount: int

    def __post_init__(self) -> None:
        _require_ids(
            self, "transfer_id", "certificate_id", "period_id", "provider_id", "payer_id"
        )
        require_kopecks(self.amount)


@dataclass(frozen=True)
class Reserve(_CertificateToProvider):
    """Set money aside (a pending transfer), e.g. one contract-month's certificate instalment.

    ``provider_id`` and ``payer_id`` name the accounts a later post pays into and mirrors from.
    """


@dataclass(frozen=True)
class Post:
    """Post ``amount`` (0..pending) of the pending ``pending_id``; the rest is released."""

    transfer_id: str
    pending_id: str
    amount: int

    def __post_init__(self) -> None:
        _require_ids(self, "transfer_id", "pending_id")
        require_kopecks(self.amount)


@dataclass(frozen=True)
class Void:
    """Release the whole pending ``pending_id`` back to the available balance."""

    transfer_id: str
    pending_id: str

    def __post_init__(self) -> None:
        _require_ids(self, "transfer_id", "pending_id")


@dataclass(frozen=True)
class ReturnUnused:
    """At period end, return ``amount`` of the available balance to the payer's budget."""

    transfer_id: str
    payer_id: str
    certificate_id: str
    period_id: str
    amount: int

    def __post_init__(self) -> None:
        _require_ids(self, "transfer_id", "payer_id", "certificate_id", "period_id")
        require_kopecks(self.amount)


@dataclass(frozen=True)
class _FamilyCoPayment:
    """A contract's co-payment between the family and the provider: the fields of an invoice and
    of a credit."""

    transfer_id: str
    contract_id: str
    provider_id: str
    period_id: str
    amount: int

    def __post_init__(self) -> None:
        _require_ids(self, "transfer_id", "contract_id", "provider_id", "period_id")
        require_kopecks(self.amount)


@dataclass(frozen=True)
class InvoiceFamily(_FamilyCoPayment):
    """Invoice a month's co-payment of a contract to the family, due to the provider."""


@dataclass(frozen=True)
class CreditFamily(_FamilyCoPayment):
    """Take back part of a contract's co-payment invoiced to the family (a late refund)."""


@dataclass(frozen=True)
class LateCharge(_CertificateToProvider):
    """A closed month billed again: ``amount`` of the available balance is spent with the provider."""


@dataclass(frozen=True)
class LateRefund(_CertificateToProvider):
    """A closed month refunded: ``amount`` spent with the provider goes back to available."""


Operation = CreditNominal | Reserve | Post | Void | ReturnUnused | InvoiceFamily | CreditFamily | LateCharge | LateRefund


class Outcome(StrEnum):
    """What applying an operation did."""

    CREATED = "created"
    EXISTS = "exists"


@dataclass(frozen=True)
class TransferResult:
    """The answer to an operation: created now, or already there (idempotent replay)."""

    transfer_id: str
    outcome: Outcome
    entries: tuple[Entry, ...]


class PendingState(StrEnum):
    """Life of a pending transfer: resolved at most once."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


@dataclass(frozen=True)
class Pending:
    """A reservation and how it was resolved."""

    reserve: Reserve
    state: PendingState = PendingState.PENDING
    posted_amount: int = 0
    resolved_by: str | None = None


@dataclass(frozen=True)
class CertificateBalance:
    """A certificate's balances for a period (kopecks); ``nominal`` is credited − returned."""

    nominal: int
    available: int
    reserved: int
    spent: int


def certificate_account(kind: AccountKind, certificate_id: str, period_id: str) -> AccountId:
    """The certificate's account of ``kind`` for the period."""
    return AccountId(kind, certificate_id, period_id)


@dataclass
class Ledger:
    """The in-memory ledger. ``apply`` is its only way to change state."""

    _balances: dict[AccountId, int] = field(default_factory=lambda: defaultdict(int))
    _journal: list[Entry] = field(default_factory=list)
    _applied: dict[str, tuple[Operation, tuple[Entry, ...]]] = field(default_factory=dict)
    _refused: dict[str, tuple[Operation, BillingDomainError]] = field(default_factory=dict)
    _pendings: dict[str, Pending] = field(default_factory=dict)
    _late: list[LateCharge | LateRefund] = field(default_factory=list)

    # -- reading -------------------------------------------------------------------------------

    def balance(self, account: AccountId) -> int:
        """The balance (credits − debits) of ``account``; 0 for an account never used."""
        return self._balances.get(account, 0)

    @property
    def balances(self) -> Mapping[AccountId, int]:
        """All balances of accounts that have ever moved."""
        return dict(self._balances)

    @property
    def journal(self) -> tuple[Entry, ...]:
        """Every entry, in the order written."""
        return tuple(self._journal)

    @property
    def pendings(self) -> Mapping[str, Pending]:
        """Every reservation by its transfer id, with its state."""
        return dict(self._pendings)

    @property
    def late_adjustments(self) -> tuple[LateCharge | LateRefund, ...]:
        """Every late charge and refund applied, in order."""
        return tuple(self._late)

    def certificate_balance(self, certificate_id: str, period_id: str) -> CertificateBalance:
        """The certificate's nominal and its available / reserved / spent balances."""
        nominal = 0
        for entry in self._journal:
            if entry.leg in ("credit_nominal", "return_unused"):
                cert = entry.credit if entry.leg == "credit_nominal" else entry.debit
                if (cert.owner, cert.period_id) == (certificate_id, period_id):
                    nominal += entry.amount if entry.leg == "credit_nominal" else -entry.amount

        def of(kind: AccountKind) -> int:
            return self.balance(certificate_account(kind, certificate_id, period_id))

        return CertificateBalance(
            nominal=nominal,
            available=of(AccountKind.CERTIFICATE_AVAILABLE),
            reserved=of(AccountKind.CERTIFICATE_RESERVED),
            spent=of(AccountKind.CERTIFICATE_SPENT),
        )

    # -- writing -------------------------------------------------------------------------------

    def apply(self, operation: Operation) -> TransferResult:
        """Apply ``operation`` exactly once (see the module docstring for idempotency)."""
        tid = operation.transfer_id
        if tid in self._applied:
            previous, entries = self._applied[tid]
            if previous != operation:
                raise IdempotencyConflict(
                    "transfer id already used with a different payload", transfer_id=tid
                )
            return TransferResult(tid, Outcome.EXISTS, entries)
        if tid in self._refused:
            previous, error = self._refused[tid]
            if previous != operation:
                raise IdempotencyConflict(
                    "transfer id already used with a different payload", transfer_id=tid
                )
            raise type(error)(error.message, **error.details)
        try:
            entries = self._plan(operation)
        except BillingDomainError as error:
            self._refused[tid] = (operation, error)
            raise
        self._commit(operation, entries)
        return TransferResult(tid, Outcome.CREATED, entries)

    def _plan(self, op: Operation) -> tuple[Entry, ...]:
        """The entries ``op`` would write, or the refusal; changes nothing."""
        tid = op.transfer_id
        if isinstance(op, CreditNominal):
            budget = AccountId(AccountKind.BUDGET, op.payer_id, op.period_id)
            available = certificate_account(
                AccountKind.CERTIFICATE_AVAILABLE, op.certificate_id, op.period_id
            )
            return _entries(Entry(tid, "credit_nominal", budget, available, op.amount))
        if isinstance(op, Reserve):
            available = certificate_account(
                AccountKind.CERTIFICATE_AVAILABLE, op.certificate_id, op.period_id
            )
            self._require_available(available, op.amount)
            reserved = certificate_account(
                AccountKind.CERTIFICATE_RESERVED, op.certificate_id, op.period_id
            )
            return _entries(Entry(tid, "reserve", available, reserved, op.amount))
        if isinstance(op, Post):
            reserve = self._open_pending(op.pending_id)
            if op.amount > reserve.amount:
                raise PostExceedsPending(
                    "cannot post more than the pending amount",
                    pending_id=op.pending_id,
                    pending=reserve.amount,
                    amount=op.amount,
                )
            cert, period = reserve.certificate_id, reserve.period_id
            reserved = certificate_account(AccountKind.CERTIFICATE_RESERVED, cert, period)
            return _entries(
                Entry(
                    tid,
                    "post",
                    reserved,
                    certificate_account(AccountKind.CERTIFICATE_SPENT, cert, period),
                    op.amount,
                ),
                Entry(
                    tid,
                    "post_mirror",
                    AccountId(AccountKind.BUDGET_OUTLAY, reserve.payer_id, period),
                    AccountId(AccountKind.PROVIDER_PAYABLE, reserve.provider_id, period),
                    op.amount,
                ),
                Entry(
                    tid,
                    "release",
                    reserved,
                    certificate_account(AccountKind.CERTIFICATE_AVAILABLE, cert, period),
                    reserve.amount - op.amount,
                ),
            )
        if isinstance(op, Void):
            reserve = self._open_pending(op.pending_id)
            cert, period = reserve.certificate_id, reserve.period_id
            return _entries(
                Entry(
                    tid,
                    "release",
                    certificate_account(AccountKind.CERTIFICATE_RESERVED, cert, period),
                    certificate_account(AccountKind.CERTIFICATE_AVAILABLE, cert, period),
                    reserve.amount,
                )
            )
        if isinstance(op, ReturnUnused):
            available = certificate_account(
                AccountKind.CERTIFICATE_AVAILABLE, op.certificate_id, op.period_id
            )
            self._require_available(available, op.amount)
            budget = AccountId(AccountKind.BUDGET, op.payer_id, op.period_id)
            return _entries(Entry(tid, "return_unused", available, budget, op.amount))
        if isinstance(op, LateCharge | LateRefund):
            return self._plan_late(op)
        receivable = AccountId(AccountKind.FAMILY_RECEIVABLE, op.contract_id, op.period_id)
        copayment = AccountId(AccountKind.PROVIDER_COPAYMENT, op.provider_id, op.period_id)
        if isinstance(op, CreditFamily):
            if op.amount > -self.balance(receivable):
                raise CreditExceedsInvoiced(
                    "cannot credit more than is invoiced to the family", contract_id=op.contract_id,
                    invoiced=-self.balance(receivable), amount=op.amount,
                )
            return _entries(Entry(tid, "late_credit", copayment, receivable, op.amount))
        return _entries(Entry(tid, "invoice_family", receivable, copayment, op.amount))

    def _plan_late(self, op: LateCharge | LateRefund) -> tuple[Entry, ...]:
        available = certificate_account(AccountKind.CERTIFICATE_AVAILABLE, op.certificate_id, op.period_id)
        spent = certificate_account(AccountKind.CERTIFICATE_SPENT, op.certificate_id, op.period_id)
        outlay = AccountId(AccountKind.BUDGET_OUTLAY, op.payer_id, op.period_id)
        payable = AccountId(AccountKind.PROVIDER_PAYABLE, op.provider_id, op.period_id)
        if isinstance(op, LateCharge):
            self._require_available(available, op.amount)
            return _entries(Entry(op.transfer_id, "late_charge", available, spent, op.amount),
                            Entry(op.transfer_id, "late_mirror", outlay, payable, op.amount))
        spent_here = self.spent_with(op.certificate_id, op.period_id, op.provider_id)
        if op.amount > spent_here:
            raise RefundExceedsSpent(
                "cannot refund more than the certificate spent with the provider",
                certificate_id=op.certificate_id, provider_id=op.provider_id, spent=spent_here, amount=op.amount,
            )
        return _entries(Entry(op.transfer_id, "late_refund", spent, available, op.amount),
                        Entry(op.transfer_id, "late_mirror", payable, outlay, op.amount))

    def spent_with(self, certificate_id: str, period_id: str, provider_id: str) -> int:
        """What the certificate has spent with one provider in the period: posted, plus late
        charges, minus late refunds."""
        total = sum(p.posted_amount for p in self._pendings.values()
                    if (p.reserve.certificate_id, p.reserve.period_id, p.reserve.provider_id)
                    == (certificate_id, period_id, provider_id))
        for late in self._late:
            if (late.certificate_id, late.period_id, late.provider_id) == (certificate_id, period_id, provider_id):
                total += late.amount if isinstance(late, LateCharge) else -late.amount
        return total

    def _require_available(self, available: AccountId, amount: int) -> None:
        if amount > self.balance(available):
            raise InsufficientFunds(
                "the available balance is lower than the amount",
                certificate_id=available.owner,
                period_id=available.period_id,
                available=self.balance(available),
                amount=amount,
            )

    def _open_pending(self, pending_id: str) -> Reserve:
        pending = self._pendings.get(pending_id)
        if pending is None:
            raise PendingNotFound("no such pending transfer", pending_id=pending_id)
        if pending.state is PendingState.POSTED:
            raise PendingAlreadyPosted(
                "the pending transfer was already posted", pending_id=pending_id
            )
        if pending.state is PendingState.VOIDED:
            raise PendingAlreadyVoided(
                "the pending transfer was already voided", pending_id=pending_id
            )
        return pending.reserve

    def _commit(self, op: Operation, entries: tuple[Entry, ...]) -> None:
        for entry in entries:
            self._balances[entry.debit] -= entry.amount
            self._balances[entry.credit] += entry.amount
            self._journal.append(entry)
        self._applied[op.transfer_id] = (op, entries)
        if isinstance(op, Reserve):
            self._pendings[op.transfer_id] = Pending(op)
        elif isinstance(op, Post):
            reserve = self._pendings[op.pending_id].reserve
            self._pendings[op.pending_id] = Pending(
                reserve, PendingState.POSTED, op.amount, op.transfer_id
            )
        elif isinstance(op, Void):
            reserve = self._pendings[op.pending_id].reserve
            self._pendings[op.pending_id] = Pending(
                reserve, PendingState.VOIDED, 0, op.transfer_id
            )
        elif isinstance(op, LateCharge | LateRefund):
            self._late.append(op)


def _entries(*entries: Entry) -> tuple[Entry, ...]:
    """Drop zero-amount legs (a full post has no release, a zero post no spend)."""
    return tuple(entry for entry in entries if entry.amount > 0)
