"""Domain errors of the registry.

Every error carries a machine-readable ``code`` (snake_case, stable: API clients and other
services switch on it) and a human ``message`` in English. The API layer maps the classes to HTTP
statuses; the domain itself knows nothing about HTTP.

Class hierarchy (catch the narrowest one you need)::

    DomainError
    ├── InvalidIdentifier         СНИЛС, ИНН, ОГРН, ОГРНИП, КПП, БИК, account format/checksum problems
    ├── InvalidBankDetails        a payee's or payer's bank details miss a name
    ├── InvalidCertificateNumber  the 10-digit certificate number
    ├── AgeNotAllowed             the child's age does not fit a rule (application, applicant)
    ├── DuplicateCertificate      the child already holds a live certificate (found by СНИЛС)
    ├── IllegalTransition         a state machine was asked for a move it does not allow
    ├── RuleViolation             a precondition of a legal move is not met
    │                             (e.g. provider_not_active, normative_cost_missing)
    ├── InvalidProgram            a program or module fails validation
    └── InvalidProvider           a provider's data fail validation

Suggested HTTP mapping (for the API layer): IllegalTransition, DuplicateCertificate → 409;
the others → 422.
"""

from __future__ import annotations

from pfdo_plumbing.domain_error import DomainError as BaseDomainError


class DomainError(BaseDomainError):
    """Base of all registry domain errors: a stable ``code``, an English ``message`` (for the log) and
    ``details`` (the figures the catalogue's human text is filled from: limits, ids, dates)."""

    code: str
    message: str

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(code, message, **details)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InvalidIdentifier(DomainError):
    """A state identifier (СНИЛС, ИНН, ОГРН, ОГРНИП, КПП) or a bank identifier (БИК, settlement
    or correspondent account) is malformed or fails its checksum.

    Codes: ``<kind>_format`` (characters), ``<kind>_length``, ``<kind>_checksum``,
    ``ogrn_sign`` / ``ogrnip_sign`` (the first digit does not denote that kind of record),
    where kind is one of snils, inn, ogrn, ogrnip, kpp, bik, account, correspondent_account.
    """


class InvalidBankDetails(DomainError):
    """Bank details (a provider's as payee, a municipality's as payer) lack a required name.

    Codes: ``bank_name_required``, ``authority_name_required``.
    """


class InvalidCertificateNumber(DomainError):
    """The certificate number is not 10 digits = region(2) + municipality(2) + sequence(6).

    Codes: ``certificate_number_format``, ``certificate_number_length``,
    ``certificate_number_region``, ``certificate_number_municipality``,
    ``certificate_number_sequence``.
    """


class AgeNotAllowed(DomainError):
    """The child's age does not allow the requested action.

    Codes: ``age_too_young``, ``age_too_old``, ``birth_date_in_future``,
    ``applicant_too_young`` (a child under 14 applying alone).
    """


class DuplicateCertificate(DomainError):
    """The child (identified by СНИЛС) already has a pending, active or suspended certificate.

    Code: ``certificate_duplicate``.
    """


class IllegalTransition(DomainError):
    """A state machine move that is not allowed from the current state.

    Code: ``illegal_transition`` (always). ``entity``, ``from_state`` and ``action`` say which.
    """

    def __init__(self, entity: str, from_state: str, action: str) -> None:
        super().__init__(
            "illegal_transition",
            f"{entity} in status '{from_state}' cannot be '{action}'",
            entity=entity, from_state=from_state, action=action,
        )
        self.entity = entity
        self.from_state = from_state
        self.action = action


class RuleViolation(DomainError):
    """A legal move whose precondition is not met.

    Codes: ``reason_required``, ``provider_not_active``, ``normative_cost_missing``,
    ``program_has_no_modules``, ``module_not_found``, ``expiry_not_due``,
    ``certificate_number_mismatch``, ``already_funding``, ``municipality_code_invalid``
    (certificate application).
    """


class InvalidProgram(DomainError):
    """A program or one of its modules fails validation.

    Codes: ``name_required``, ``age_range_invalid``, ``module_dates_invalid``,
    ``capacity_invalid``, ``price_invalid``, ``price_must_be_positive``, ``hours_invalid``, ``schedule_invalid``,
    ``address_required``, ``municipality_code_invalid``, ``normative_cost_invalid``,
    ``duplicate_module_id``.
    """


class InvalidProvider(DomainError):
    """A provider's data fail validation (identifier set not matching the provider type).

    Codes: ``kpp_required``, ``kpp_not_allowed``, ``name_required``,
    ``municipality_code_invalid``; identifier problems raise :class:`InvalidIdentifier`.
    """
