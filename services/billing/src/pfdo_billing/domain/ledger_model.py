"""The ledger's vocabulary: accounts, journal entries, operations and pending transfers.

Double entry in the style of TigerBeetle's two-phase transfers (docs/domain-rules.md): a
reservation is a *pending* transfer, month close *posts* it (fully or partly; the unposted rest
is released in the same step, as a partial post does in TigerBeetle), a release *voids* it.

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

Which entries each operation writes, and when it is refused, is decided by
``ledger_decisions``; the in-memory ``ledger`` and the database adapter both ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pfdo_billing.domain.errors import InvalidIdentifier
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
class LateInvoice(InvoiceFamily):
    """A closed month's co-payment invoiced again to the family (a late adjustment)."""


@dataclass(frozen=True)
class LateCharge(_CertificateToProvider):
    """A closed month billed again: ``amount`` of the available balance is spent with the provider."""


@dataclass(frozen=True)
class LateRefund(_CertificateToProvider):
    """A closed month refunded: ``amount`` spent with the provider goes back to available."""


Operation = (
    CreditNominal | Reserve | Post | Void | ReturnUnused | InvoiceFamily | LateInvoice | CreditFamily | LateCharge
    | LateRefund
)

TwoPhase = Post | Void
"""The operations that resolve a pending transfer."""


class PendingState(StrEnum):
    """Life of a pending transfer: resolved at most once."""

    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


@dataclass(frozen=True)
class PendingTransfer:
    """A reservation and how it was resolved (``posted_amount`` and ``resolved_by`` are known to
    the in-memory ledger; the database keeps only the state)."""

    reserve: Reserve
    state: PendingState = PendingState.PENDING
    posted_amount: int = 0
    resolved_by: str | None = None


def certificate_account(kind: AccountKind, certificate_id: str, period_id: str) -> AccountId:
    """The certificate's account of ``kind`` for the period."""
    return AccountId(kind, certificate_id, period_id)

