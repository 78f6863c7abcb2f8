"""An in-memory, I/O-free model of the billing ledger: the executable spec of the money flows.

Accounts, entries and operations are in ``ledger_model``; which entries an operation writes and
when it is refused is decided by ``ledger_decisions``, the same functions the database adapter
asks before it writes a row. This ledger keeps the state those decisions read (balances,
pending transfers, late movements) and the journal.

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

from pfdo_billing.domain.errors import BillingDomainError, IdempotencyConflict
from pfdo_billing.domain.ledger_decisions import move, resolve
from pfdo_billing.domain.ledger_model import (
    AccountId,
    AccountKind,
    Entry,
    LateCharge,
    LateRefund,
    Operation,
    PendingTransfer,
    Post,
    Reserve,
    Void,
    certificate_account,
)


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


@dataclass(frozen=True)
class CertificateBalance:
    """A certificate's balances for a period (kopecks); ``nominal`` is credited − returned."""

    nominal: int
    available: int
    reserved: int
    spent: int


@dataclass
class Ledger:
    """The in-memory ledger. ``apply`` is its only way to change state."""

    _balances: dict[AccountId, int] = field(default_factory=lambda: defaultdict(int))
    _journal: list[Entry] = field(default_factory=list)
    _applied: dict[str, tuple[Operation, tuple[Entry, ...]]] = field(default_factory=dict)
    _refused: dict[str, tuple[Operation, BillingDomainError]] = field(default_factory=dict)
    _pendings: dict[str, PendingTransfer] = field(default_factory=dict)
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
    def pendings(self) -> Mapping[str, PendingTransfer]:
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
        if isinstance(op, Post | Void):
            return resolve(self._pendings.get(op.pending_id), op).entries
        return move(op, self)

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

    def _commit(self, op: Operation, entries: tuple[Entry, ...]) -> None:
        for entry in entries:
            self._balances[entry.debit] -= entry.amount
            self._balances[entry.credit] += entry.amount
            self._journal.append(entry)
        self._applied[op.transfer_id] = (op, entries)
        if isinstance(op, Reserve):
            self._pendings[op.transfer_id] = PendingTransfer(op)
        elif isinstance(op, Post | Void):
            self._pendings[op.pending_id] = resolve(self._pendings[op.pending_id], op).pending
        elif isinstance(op, LateCharge | LateRefund):
            self._late.append(op)
