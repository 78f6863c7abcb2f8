"""The certificate and its state machine (docs/domain-rules.md, "Certificates").

Statuses::

    pending ──issue──▶ active ──suspend──▶ suspended
       │                 ▲                    │
       └─refuse─▶ refused └─────reinstate─────┘
    active | suspended ──expire (18th birthday)──▶ expired
    active | suspended ──close (left_region | duplicate | other)──▶ closed

``pending`` is an application awaiting the municipal operator. ``refused``, ``expired`` and
``closed`` are final. Usage kind starts as ``accounting`` and becomes ``funding`` once
(billing decides when, subject to the municipality's cap; here only the field and the move).

Every move returns a :class:`Transition` with the new (immutable) certificate and the event
to publish; an illegal move raises :class:`IllegalTransition` (``illegal_transition``).
One certificate per child, kept where a certificate is issued: :func:`check_not_duplicate`
refuses to issue one for a СНИЛС that already has an active or suspended certificate
(``certificate_duplicate``, to the operator who approves). An application is never refused for
its СНИЛС: that answer would tell anyone whether a child is registered, and an unverified
application by a stranger would block the real parent's. It is accepted and flagged for the
operator instead (:func:`duplicate_reason`), who resolves the duplicate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from .age import (
    MAX_APPLICATION_AGE,
    MIN_APPLICATION_AGE,
    certificate_valid_until,
    check_application_age,
    is_expiry_due,
    may_apply_alone,
)
from .certificate_number import is_valid_code, parse_certificate_number
from .errors import AgeNotAllowed, DuplicateCertificate, IllegalTransition, RuleViolation
from .identifiers import validate_snils
from .transition import Transition


class CertificateStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CLOSED = "closed"


LIVE_STATUSES = frozenset(
    {CertificateStatus.PENDING, CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED}
)
"""Statuses that make a new application for the same child a possible duplicate."""

ISSUED_LIVE_STATUSES = frozenset({CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED})
"""Statuses that block issuing a second certificate for the same child."""


class DuplicateReason(StrEnum):
    """Why an application is flagged for the operator as a possible duplicate (by СНИЛС)."""

    CERTIFICATE_EXISTS = "certificate_exists"
    """the СНИЛС already has an active or suspended certificate"""
    PENDING_APPLICATION = "pending_application"
    """another application for the СНИЛС awaits the operator"""

FINAL_STATUSES = frozenset(
    {CertificateStatus.REFUSED, CertificateStatus.EXPIRED, CertificateStatus.CLOSED}
)


class UsageKind(StrEnum):
    """*accounting* (учёта): free municipal-task places; *funding* (финансирования): money."""

    ACCOUNTING = "accounting"
    FUNDING = "funding"


class CloseReason(StrEnum):
    LEFT_REGION = "left_region"
    DUPLICATE = "duplicate"
    OTHER = "other"


class ApplicantRole(StrEnum):
    PARENT = "parent"
    GUARDIAN = "guardian"
    CHILD = "child"
    """The child applies alone (allowed from 14)."""


class CertificateEvent(StrEnum):
    """Names of the domain events a certificate move causes."""

    REQUESTED = "certificate.requested"
    ISSUED = "certificate.issued"
    REFUSED = "certificate.refused"
    SUSPENDED = "certificate.suspended"
    REINSTATED = "certificate.reinstated"
    EXPIRED = "certificate.expired"
    CLOSED = "certificate.closed"
    FUNDING_STARTED = "certificate.funding_started"


@dataclass(frozen=True, slots=True)
class Certificate:
    """A child's certificate (immutable; moves return a new value).

    ``number`` is assigned when the operator issues it; ``status_reason`` holds the operator's
    text for a refusal, suspension or closing; ``ended_on`` is the date of expiry or closing.
    """

    certificate_id: str
    child_id: str
    snils: str
    birth_date: date
    municipality_code: str
    applicant_role: ApplicantRole
    applied_on: date
    status: CertificateStatus = CertificateStatus.PENDING
    usage: UsageKind = UsageKind.ACCOUNTING
    number: str | None = None
    issued_on: date | None = None
    status_reason: str | None = None
    close_reason: CloseReason | None = None
    ended_on: date | None = None

    @property
    def valid_until(self) -> date:
        """The day before the 18th birthday."""
        return certificate_valid_until(self.birth_date)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


def _illegal(cert: Certificate, action: str) -> IllegalTransition:
    return IllegalTransition("certificate", cert.status.value, action)


def _require(cert: Certificate, action: str, *allowed: CertificateStatus) -> None:
    if cert.status not in allowed:
        raise _illegal(cert, action)


def _reason(text: str | None) -> str:
    if text is None or not text.strip():
        raise RuleViolation("reason_required", "a reason must be given")
    return text.strip()


def check_applicant(role: ApplicantRole, birth_date: date, on_date: date) -> None:
    """A parent or guardian may always apply; the child alone only from 14
    (``applicant_too_young``)."""
    if role is ApplicantRole.CHILD and not may_apply_alone(birth_date, on_date):
        raise AgeNotAllowed("applicant_too_young", "a child may apply alone only from age 14")


def duplicate_reason(existing: Iterable[CertificateStatus]) -> DuplicateReason | None:
    """The flag of a new application: ``existing`` are the statuses of the certificates and
    applications already registered for the same СНИЛС (the repository finds them). Refused,
    expired and closed ones do not count (e.g. a child who came back to the region)."""
    statuses = {CertificateStatus(s) for s in existing}
    if statuses & ISSUED_LIVE_STATUSES:
        return DuplicateReason.CERTIFICATE_EXISTS
    if CertificateStatus.PENDING in statuses:
        return DuplicateReason.PENDING_APPLICATION
    return None


def check_not_duplicate(existing: Iterable[CertificateStatus]) -> None:
    """Refuse to issue a second certificate: ``existing`` are the statuses of the certificates
    already issued for the same СНИЛС. Other pending applications do not block (the operator
    approves one and refuses the others); expired and closed certificates do not either."""
    if any(CertificateStatus(s) in ISSUED_LIVE_STATUSES for s in existing):
        raise DuplicateCertificate(
            "certificate_duplicate",
            "this child (by СНИЛС) already has a certificate",
        )


def apply(
    *,
    certificate_id: str,
    child_id: str,
    snils: str,
    birth_date: date,
    municipality_code: str,
    applicant_role: ApplicantRole,
    on_date: date,
    min_age: int = MIN_APPLICATION_AGE,
    max_age: int = MAX_APPLICATION_AGE,
) -> Transition[Certificate]:
    """An application: validates СНИЛС, age window, applicant → ``pending`` (a possible
    duplicate is flagged by the caller with :func:`duplicate_reason`, never refused here).

    Raises :class:`InvalidIdentifier` (snils_*), :class:`AgeNotAllowed` (age_too_young,
    age_too_old, birth_date_in_future, applicant_too_young).
    """
    normalised = validate_snils(snils)
    if not is_valid_code(municipality_code):
        raise RuleViolation(
            "municipality_code_invalid", "municipality code must be two digits 01..99"
        )
    check_application_age(birth_date, on_date, min_age, max_age)
    check_applicant(ApplicantRole(applicant_role), birth_date, on_date)
    cert = Certificate(
        certificate_id=certificate_id,
        child_id=child_id,
        snils=normalised,
        birth_date=birth_date,
        municipality_code=municipality_code,
        applicant_role=ApplicantRole(applicant_role),
        applied_on=on_date,
    )
    return Transition(cert, CertificateEvent.REQUESTED.value)


def issue(cert: Certificate, *, number: str, on_date: date) -> Transition[Certificate]:
    """pending → active, with its number (whose municipality part must match the
    certificate's: ``certificate_number_mismatch``). Refused if the child reached 18 while
    the application waited (``age_too_old``)."""
    _require(cert, "issue", CertificateStatus.PENDING)
    parsed = parse_certificate_number(number)
    if parsed.municipality != cert.municipality_code:
        raise RuleViolation(
            "certificate_number_mismatch",
            "the certificate number's municipality code differs from the certificate's",
        )
    if is_expiry_due(cert.birth_date, on_date):
        raise AgeNotAllowed("age_too_old", "the child is 18: a certificate cannot be issued", max_age=18)
    new = replace(
        cert, status=CertificateStatus.ACTIVE, number=str(parsed), issued_on=on_date
    )
    return Transition(new, CertificateEvent.ISSUED.value)


def refuse(cert: Certificate, *, reason: str) -> Transition[Certificate]:
    """pending → refused (the operator's reason is required)."""
    _require(cert, "refuse", CertificateStatus.PENDING)
    new = replace(cert, status=CertificateStatus.REFUSED, status_reason=_reason(reason))
    return Transition(new, CertificateEvent.REFUSED.value)


def suspend(cert: Certificate, *, reason: str) -> Transition[Certificate]:
    """active → suspended by the operator (reason required)."""
    _require(cert, "suspend", CertificateStatus.ACTIVE)
    new = replace(cert, status=CertificateStatus.SUSPENDED, status_reason=_reason(reason))
    return Transition(new, CertificateEvent.SUSPENDED.value)


def reinstate(cert: Certificate) -> Transition[Certificate]:
    """suspended → active."""
    _require(cert, "reinstate", CertificateStatus.SUSPENDED)
    new = replace(cert, status=CertificateStatus.ACTIVE, status_reason=None)
    return Transition(new, CertificateEvent.REINSTATED.value)


def expire(cert: Certificate, *, on_date: date) -> Transition[Certificate]:
    """active | suspended → expired, only from the 18th birthday (``expiry_not_due``)."""
    _require(cert, "expire", CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED)
    if not is_expiry_due(cert.birth_date, on_date):
        raise RuleViolation(
            "expiry_not_due", f"the certificate is valid until {cert.valid_until.isoformat()}",
            valid_until=cert.valid_until.strftime("%d.%m.%Y"),
        )
    new = replace(cert, status=CertificateStatus.EXPIRED, ended_on=on_date)
    return Transition(new, CertificateEvent.EXPIRED.value)


def close(
    cert: Certificate, *, reason: CloseReason, on_date: date, note: str | None = None
) -> Transition[Certificate]:
    """active | suspended → closed: the child left the region, is a duplicate, or other
    (``other`` requires a ``note``: ``reason_required``)."""
    _require(cert, "close", CertificateStatus.ACTIVE, CertificateStatus.SUSPENDED)
    reason = CloseReason(reason)
    text = _reason(note) if reason is CloseReason.OTHER else (note.strip() if note else None)
    new = replace(
        cert,
        status=CertificateStatus.CLOSED,
        close_reason=reason,
        status_reason=text,
        ended_on=on_date,
    )
    return Transition(new, CertificateEvent.CLOSED.value)


def start_funding(cert: Certificate) -> Transition[Certificate]:
    """accounting → funding, once, on an active certificate (billing decides when, within the
    municipality's cap). Already funding: ``already_funding``."""
    _require(cert, "start_funding", CertificateStatus.ACTIVE)
    if cert.usage is UsageKind.FUNDING:
        raise RuleViolation("already_funding", "the certificate is already a funding one")
    new = replace(cert, usage=UsageKind.FUNDING)
    return Transition(new, CertificateEvent.FUNDING_STARTED.value)


def is_due_for_expiry(cert: Certificate, on_date: date) -> bool:
    """For the daily job: the certificate is active or suspended and the child is 18."""
    return cert.status in (
        CertificateStatus.ACTIVE,
        CertificateStatus.SUSPENDED,
    ) and is_expiry_due(cert.birth_date, on_date)
