"""Billing domain errors.

Every error carries a machine-readable ``code`` (snake_case, stable, safe to put in an API
response or an event) and a human ``message``. ``details`` holds the figures that explain the
refusal (amounts in kopecks, ids, dates as ISO strings), never personal data.
"""

from __future__ import annotations

from typing import Any

from pfdo_plumbing.domain_error import DomainError


class BillingDomainError(DomainError):
    """Base of all billing domain errors: each class names its ``code`` (a platform
    :class:`~pfdo_plumbing.domain_error.DomainError`, so every service answers it the same way)."""

    code = "billing_domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(type(self).code, message, **details)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidAmount(BillingDomainError):
    """An amount is not a whole non-negative number of kopecks (or a count is out of range)."""

    code = "invalid_amount"


class InvalidDateRange(BillingDomainError):
    """A date range ends before it starts."""

    code = "invalid_date_range"


class StartOutsideModule(BillingDomainError):
    """The enrolment start date is before the module start."""

    code = "start_outside_module"


class StartAfterModuleEnd(StartOutsideModule):
    """The enrolment start date is after the module end."""

    code = "start_after_module_end"


class CertificateExpiresBeforeStart(BillingDomainError):
    """The certificate's validity (until the day before the 18th birthday) ends before the
    enrolment would start: it cannot pay for any of it."""

    code = "certificate_expires_before_start"


class InvalidPercent(BillingDomainError):
    """A percentage is outside 0..100."""

    code = "invalid_percent"


class InvalidAttendance(BillingDomainError):
    """Lesson counts are negative, or attendance is missing for an attendance-mode contract."""

    code = "invalid_attendance"


class NoAgeGroup(BillingDomainError):
    """No configured age group contains the child's age."""

    code = "no_age_group"


class AmbiguousAgeGroup(BillingDomainError):
    """Several configured age groups contain the same age (overlapping ranges)."""

    code = "ambiguous_age_group"


class IdempotencyConflict(BillingDomainError):
    """A transfer id was reused with a different payload."""

    code = "idempotency_conflict"


class InsufficientFunds(BillingDomainError):
    """The certificate's available balance is lower than the amount asked for."""

    code = "insufficient_funds"


class PendingNotFound(BillingDomainError):
    """A post or void names a pending transfer (reservation) that does not exist."""

    code = "pending_not_found"


class PendingAlreadyPosted(BillingDomainError):
    """The pending transfer was already posted (a reservation is resolved at most once)."""

    code = "pending_already_posted"


class PendingAlreadyVoided(BillingDomainError):
    """The pending transfer was already voided (a reservation is resolved at most once)."""

    code = "pending_already_voided"


class PostExceedsPending(BillingDomainError):
    """A post asks for more than the pending transfer holds."""

    code = "post_exceeds_pending"


class RefundExceedsSpent(BillingDomainError):
    """A late refund asks for more than the certificate spent with the provider."""

    code = "refund_exceeds_spent"


class CreditExceedsInvoiced(BillingDomainError):
    """A family credit asks for more than is invoiced to the family under the contract."""

    code = "credit_exceeds_invoiced"


class InvalidPaymentMode(BillingDomainError):
    """The payment mode is neither ``monthly`` nor ``attendance``."""

    code = "invalid_payment_mode"


class InvalidIdentifier(BillingDomainError):
    """An id (transfer, certificate, provider, payer, period, contract) is missing or not text."""

    code = "invalid_identifier"


class InvalidAgreement(BillingDomainError):
    """An agreement's number, payer or dates are wrong (``details["field"]`` names which)."""

    code = "invalid_agreement"


class AgreementEnded(BillingDomainError):
    """The agreement has ended: it changes no more."""

    code = "agreement_ended"


class AgreementLimitBelowUsed(BillingDomainError):
    """An agreement's limit would be below the money already used under it."""

    code = "agreement_limit_below_used"
