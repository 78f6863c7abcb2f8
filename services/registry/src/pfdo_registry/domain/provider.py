"""Providers: types, identifier rules per type, moderation (docs/domain-rules.md, "Providers and programs").

Identifier rules:

* organisations (``municipal_or_state_org``, ``private_org``): ИНН of 10 digits + ОГРН of 13 +
  КПП (required);
* individual entrepreneurs (``entrepreneur_with_staff``, ``entrepreneur_without_staff``):
  ИНН of 12 digits + ОГРНИП of 15, no КПП.

Payee details: with these identifiers, the provider's bank details (bank name, БИК, settlement
and correspondent accounts, checked with the Bank of Russia's control key) make the payee of its
payment orders; see :mod:`.bank_details`.

Moderation::

    new ──approve──▶ active ──suspend──▶ suspended ──reinstate──▶ active
     └──refuse──▶ refused      └─exclude─▶ excluded ◀──exclude──┘

``refused`` and ``excluded`` are final. Refusing, suspending and excluding need a reason.
Excluding a suspended provider is allowed too (the usual end of an investigation).
Municipal and state organisations must enrol certificate holders
(:func:`must_accept_certificates`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from .certificate_number import is_valid_code
from .errors import IllegalTransition, InvalidProvider, RuleViolation
from .identifiers import (
    validate_individual_inn,
    validate_kpp,
    validate_ogrn,
    validate_ogrnip,
    validate_org_inn,
)
from .transition import Transition


class ProviderType(StrEnum):
    """Values are the event contracts' codes (``pfdo_contracts.common.ProviderType``)."""

    MUNICIPAL_STATE_ORG = "municipal_or_state_org"
    PRIVATE_ORG = "private_org"
    ENTREPRENEUR_WITH_STAFF = "entrepreneur_with_staff"
    ENTREPRENEUR_WITHOUT_STAFF = "entrepreneur_without_staff"
    MUNICIPAL_OR_STATE_ORG = "municipal_or_state_org"

    @property
    def is_organisation(self) -> bool:
        return self in (ProviderType.MUNICIPAL_STATE_ORG, ProviderType.PRIVATE_ORG)

    @property
    def is_entrepreneur(self) -> bool:
        return not self.is_organisation

    @property
    def label_ru(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    ProviderType.MUNICIPAL_STATE_ORG: "Муниципальная или государственная организация",
    ProviderType.PRIVATE_ORG: "Частная организация",
    ProviderType.ENTREPRENEUR_WITH_STAFF: "Индивидуальный предприниматель с наёмными работниками",
    ProviderType.ENTREPRENEUR_WITHOUT_STAFF: (
        "Индивидуальный предприниматель без наёмных работников"
    ),
}


class ProviderStatus(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    EXCLUDED = "excluded"


class ProviderEvent(StrEnum):
    REGISTERED = "provider.registered"
    APPROVED = "provider.approved"
    REFUSED = "provider.refused"
    SUSPENDED = "provider.suspended"
    REINSTATED = "provider.reinstated"
    EXCLUDED = "provider.excluded"


@dataclass(frozen=True, slots=True)
class ProviderIdentifiers:
    """Normalised identifiers. ``ogrn`` holds the ОГРН (organisations) or the ОГРНИП
    (entrepreneurs); ``kpp`` is ``None`` for entrepreneurs."""

    inn: str
    ogrn: str
    kpp: str | None


def validate_provider_identifiers(
    provider_type: ProviderType, *, inn: str, ogrn: str, kpp: str | None
) -> ProviderIdentifiers:
    """Check the identifier set against the type's rule; returns normalised values.

    Raises :class:`InvalidIdentifier` (inn_*, ogrn_*, ogrnip_*, kpp_*) or
    :class:`InvalidProvider` (``kpp_required``, ``kpp_not_allowed``).
    """
    ptype = ProviderType(provider_type)
    blank_kpp = kpp is None or not kpp.strip()
    if ptype.is_organisation:
        if blank_kpp:
            raise InvalidProvider("kpp_required", "an organisation must give its КПП")
        return ProviderIdentifiers(
            inn=validate_org_inn(inn), ogrn=validate_ogrn(ogrn), kpp=validate_kpp(kpp or "")
        )
    if not blank_kpp:
        raise InvalidProvider("kpp_not_allowed", "an individual entrepreneur has no КПП")
    return ProviderIdentifiers(
        inn=validate_individual_inn(inn), ogrn=validate_ogrnip(ogrn), kpp=None
    )


def must_accept_certificates(provider_type: ProviderType) -> bool:
    """Municipal and state organisations must enrol certificate holders."""
    return ProviderType(provider_type) is ProviderType.MUNICIPAL_STATE_ORG


@dataclass(frozen=True, slots=True)
class Provider:
    """A provider in the providers' registry (immutable; moves return a new value)."""

    provider_id: str
    provider_type: ProviderType
    name: str
    identifiers: ProviderIdentifiers
    municipality_code: str
    status: ProviderStatus = ProviderStatus.NEW
    status_reason: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status is ProviderStatus.ACTIVE


def _require(p: Provider, action: str, *allowed: ProviderStatus) -> None:
    if p.status not in allowed:
        raise IllegalTransition("provider", p.status.value, action)


def _reason(text: str | None) -> str:
    if text is None or not text.strip():
        raise RuleViolation("reason_required", "a reason must be given")
    return text.strip()


def register(
    *,
    provider_id: str,
    provider_type: ProviderType,
    name: str,
    inn: str,
    ogrn: str,
    kpp: str | None,
    municipality_code: str,
) -> Transition[Provider]:
    """A new provider awaiting moderation (status ``new``); validates name, municipality and
    identifiers (``name_required``, ``municipality_code_invalid``, identifier codes)."""
    if not name or not name.strip():
        raise InvalidProvider("name_required", "the provider's name is required")
    if not is_valid_code(municipality_code):
        raise InvalidProvider(
            "municipality_code_invalid", "municipality code must be two digits 01..99"
        )
    ptype = ProviderType(provider_type)
    ids = validate_provider_identifiers(ptype, inn=inn, ogrn=ogrn, kpp=kpp)
    provider = Provider(
        provider_id=provider_id,
        provider_type=ptype,
        name=name.strip(),
        identifiers=ids,
        municipality_code=municipality_code,
    )
    return Transition(provider, ProviderEvent.REGISTERED.value)


def approve(p: Provider) -> Transition[Provider]:
    """new → active: the provider enters the registry."""
    _require(p, "approve", ProviderStatus.NEW)
    return Transition(
        replace(p, status=ProviderStatus.ACTIVE, status_reason=None),
        ProviderEvent.APPROVED.value,
    )


def refuse(p: Provider, *, reason: str) -> Transition[Provider]:
    """new → refused (reason required)."""
    _require(p, "refuse", ProviderStatus.NEW)
    return Transition(
        replace(p, status=ProviderStatus.REFUSED, status_reason=_reason(reason)),
        ProviderEvent.REFUSED.value,
    )


def suspend(p: Provider, *, reason: str) -> Transition[Provider]:
    """active → suspended (reason required)."""
    _require(p, "suspend", ProviderStatus.ACTIVE)
    return Transition(
        replace(p, status=ProviderStatus.SUSPENDED, status_reason=_reason(reason)),
        ProviderEvent.SUSPENDED.value,
    )


def reinstate(p: Provider) -> Transition[Provider]:
    """suspended → active."""
    _require(p, "reinstate", ProviderStatus.SUSPENDED)
    return Transition(
        replace(p, status=ProviderStatus.ACTIVE, status_reason=None),
        ProviderEvent.REINSTATED.value,
    )


def exclude(p: Provider, *, reason: str) -> Transition[Provider]:
    """active | suspended → excluded from the registry (final; reason required)."""
    _require(p, "exclude", ProviderStatus.ACTIVE, ProviderStatus.SUSPENDED)
    return Transition(
        replace(p, status=ProviderStatus.EXCLUDED, status_reason=_reason(reason)),
        ProviderEvent.EXCLUDED.value,
    )
