"""Events published by the registry: certificates, providers, payers, programs.

No names and no СНИЛС anywhere. The child's birth date travels only on certificate issue (the
CERTIFICATES topic, which finance systems do not read): billing needs the age group for the
nominal, the navigator needs it for age rules.

Program events carry a full snapshot of the program with its modules, so a consumer can rebuild
its catalogue by replaying the topic: the snapshot with the highest ``revision`` wins and an
event with a lower revision than the one already applied is stale and must be skipped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from ..common import (
    CertificateNumber,
    CertificateStatus,
    Direction,
    FundingKind,
    Kopecks,
    MunicipalityCode,
    Part,
    ProgramState,
    ProviderStatus,
    ProviderType,
    RegionCode,
    Revision,
    ScheduleSlot,
    SubjectId,
    UsageKind,
)
from ..envelope import Event
from ..registration import event
from ..topics import CERTIFICATES, PAYERS, PROGRAMS, PROVIDERS

# --- certificates -------------------------------------------------------------------------


@event("pfdo.registry.certificate.issued", version=1, topic=CERTIFICATES)
class CertificateIssued(Event):
    """A child entered the certificate registry: the state now guarantees to pay."""

    certificate_id: uuid.UUID = Field(description="Certificate id (the partition key of its flows).")
    number: CertificateNumber = Field(
        description="10 digits: region code (2) + municipality (payer) code (2) + sequence (6)."
    )
    region_code: RegionCode = Field(description="2-digit region code.")
    municipality_code: MunicipalityCode = Field(description="2-digit municipality (payer) code.")
    birth_date: dt.date = Field(description="Child's birth date: age group for the nominal and age rules.")
    issued_on: dt.date = Field(description="Date the certificate was issued.")
    valid_until: dt.date = Field(description="Last valid day: the day before the 18th birthday.")
    usage_kind: UsageKind = Field(description="accounting (free places only) or funding (carries money).")
    parent_id: SubjectId = Field(
        description="Opaque account subject of the applicant (parent/guardian, or the child of 14+)."
    )
    status: CertificateStatus = Field(
        default=CertificateStatus.ACTIVE, description="Status at issue: always active."
    )

    @model_validator(mode="after")
    def _consistent(self) -> CertificateIssued:
        if self.number[:2] != self.region_code or self.number[2:4] != self.municipality_code:
            raise ValueError("number must start with the region and municipality codes")
        if not self.birth_date < self.issued_on <= self.valid_until:
            raise ValueError("expected birth_date < issued_on <= valid_until")
        return self


class SuspensionReason(StrEnum):
    OPERATOR_DECISION = "operator_decision"
    DATA_VERIFICATION = "data_verification"


@event("pfdo.registry.certificate.suspended", version=1, topic=CERTIFICATES)
class CertificateSuspended(Event):
    """An operator suspended the certificate: no new enrolments, no new credits."""

    certificate_id: uuid.UUID = Field(description="Certificate id.")
    suspended_on: dt.date = Field(description="Date the suspension took effect.")
    reason: SuspensionReason = Field(description="Why it was suspended (a code, never free text).")


@event("pfdo.registry.certificate.reinstated", version=1, topic=CERTIFICATES)
class CertificateReinstated(Event):
    """A suspended certificate is active again."""

    certificate_id: uuid.UUID = Field(description="Certificate id.")
    reinstated_on: dt.date = Field(description="Date it became active again.")


@event("pfdo.registry.certificate.expired", version=1, topic=CERTIFICATES)
class CertificateExpired(Event):
    """The child turned 18 (published by the daily expiry job)."""

    certificate_id: uuid.UUID = Field(description="Certificate id.")
    expired_on: dt.date = Field(
        description="The 18th birthday, the first day the certificate is no longer valid; contracts end at "
        "the end of the month of the day before (for a birthday on the 1st, the month before)."
    )


class CloseReason(StrEnum):
    LEFT_REGION = "left_region"
    DUPLICATE = "duplicate"


@event("pfdo.registry.certificate.closed", version=1, topic=CERTIFICATES)
class CertificateClosed(Event):
    """The certificate is closed for good."""

    certificate_id: uuid.UUID = Field(description="Certificate id.")
    closed_on: dt.date = Field(description="Date the certificate was closed.")
    reason: CloseReason = Field(description="left_region or duplicate.")


# --- bank details of the two sides of a payment order ----------------------------------------

Inn = Annotated[str, StringConstraints(pattern=r"^([0-9]{10}|[0-9]{12})$")]
Kpp = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$")]
Bik = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{20}$")]


class PartyDetails(Part):
    """The details a payment order names a party by (реквизиты): the payee (a provider) or the payer
    (a municipality's authorised body). The registry checked the ИНН's check digits and both
    accounts' Bank of Russia control keys against the БИК before publishing them."""

    title: str = Field(min_length=1, max_length=500, description="The party's name as the bank knows it.")
    inn: Inn = Field(description="ИНН: 10 digits (organisation) or 12 (individual entrepreneur).")
    kpp: Kpp | None = Field(description="КПП (organisations); null for an individual entrepreneur.")
    bank_title: str = Field(min_length=1, max_length=500, description="The bank's name.")
    bik: Bik = Field(description="БИК of the bank: 9 digits.")
    account: AccountNumber = Field(description="The party's settlement account (расчётный счёт): 20 digits.")
    correspondent_account: AccountNumber = Field(description="The bank's correspondent account: 20 digits.")
    revision: Revision = Field(
        description="Monotonic per party: a consumer keeps the details with the highest revision and skips older ones."
    )


# --- providers ----------------------------------------------------------------------------


@event("pfdo.registry.provider.registered", version=1, topic=PROVIDERS)
class ProviderRegistered(Event):
    """A provider applied to the providers' registry (moderation starts)."""

    provider_id: uuid.UUID = Field(description="Provider id.")
    provider_type: ProviderType = Field(description="Organisation kind or individual entrepreneur.")
    municipality_code: MunicipalityCode = Field(description="Municipality of the provider's seat.")
    status: ProviderStatus = Field(description="Moderation status at registration (normally new).")
    registered_on: dt.date = Field(description="Date of registration.")
    details: PartyDetails | None = Field(
        default=None,
        description="The provider's payee details (revision 1); null only in events written before they existed.",
    )


@event("pfdo.registry.provider.details_changed", version=1, topic=PROVIDERS)
class ProviderDetailsChanged(Event):
    """The provider (or an operator) changed its payee details: later payment orders use these."""

    provider_id: uuid.UUID = Field(description="Provider id.")
    details: PartyDetails = Field(description="The new payee details; the highest revision wins.")
    changed_on: dt.date = Field(description="Date of the change.")


# --- payers -------------------------------------------------------------------------------


@event("pfdo.registry.payer.details_changed", version=1, topic=PAYERS)
class PayerDetailsChanged(Event):
    """The regional operator set the payer details of a municipality: the authorised body that pays
    for the municipality's certificates, and its bank account."""

    municipality_code: MunicipalityCode = Field(description="2-digit municipality (payer) code.")
    details: PartyDetails = Field(description="The payer's details; the highest revision wins.")
    changed_on: dt.date = Field(description="Date of the change.")


class ProviderStatusReason(StrEnum):
    MODERATION_PASSED = "moderation_passed"
    MODERATION_FAILED = "moderation_failed"
    OPERATOR_DECISION = "operator_decision"
    VIOLATION = "violation"
    PROVIDER_REQUEST = "provider_request"


@event("pfdo.registry.provider.status_changed", version=1, topic=PROVIDERS)
class ProviderStatusChanged(Event):
    """Moderation moved the provider: new → active | refused; active → suspended | excluded."""

    provider_id: uuid.UUID = Field(description="Provider id.")
    old_status: ProviderStatus = Field(description="Status before the change.")
    new_status: ProviderStatus = Field(description="Status after the change.")
    reason: ProviderStatusReason = Field(description="Why the status changed (a code).")
    changed_on: dt.date = Field(description="Date the change took effect.")


# --- programs -----------------------------------------------------------------------------


class ModuleSnapshot(Part):
    """One module (group of study) of a program, as certified."""

    module_id: uuid.UUID = Field(description="Module id.")
    title: str = Field(min_length=1, max_length=500, description="Module title.")
    start_date: dt.date = Field(description="First day of the module.")
    end_date: dt.date = Field(description="Last day of the module.")
    schedule: list[ScheduleSlot] = Field(min_length=1, description="Weekly timetable.")
    hours: int = Field(ge=1, description="Total academic hours of the module.")
    capacity: int = Field(ge=1, description="Group capacity: places never overbooked.")
    price_kopecks: Kopecks = Field(description="Price of the whole module, kopecks.")
    normative_cost_kopecks: Kopecks | None = Field(
        description="Normative cost of the whole module set by the certifier; null until set."
    )
    lessons_per_week: int = Field(ge=1, le=50, description="Planned lessons per week.")

    @model_validator(mode="after")
    def _dates(self) -> ModuleSnapshot:
        if self.end_date < self.start_date:
            raise ValueError("end_date before start_date")
        return self


class _ProgramSnapshot(Event):
    """Everything the catalogue needs about a program; last revision wins."""

    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID = Field(description="Provider running the program.")
    revision: Revision = Field(description="Monotonic per program: skip events older than applied.")
    title: str = Field(min_length=1, max_length=500, description="Program title.")
    description: str = Field(max_length=20000, description="Program description for the catalogue.")
    direction: Direction = Field(description="One of the six directions.")
    municipality_code: MunicipalityCode = Field(description="Municipality where it runs.")
    venue_address: str = Field(max_length=1000, description="Address of the venue (not of a person).")
    age_min: int = Field(ge=0, le=18, description="Youngest age admitted, years.")
    age_max: int = Field(ge=0, le=18, description="Oldest age admitted, years.")
    funding_kind: FundingKind = Field(description="certificate (paid) or municipal_task (free place).")
    modules: list[ModuleSnapshot] = Field(min_length=1, description="All modules, full snapshot.")

    @model_validator(mode="after")
    def _ages(self) -> _ProgramSnapshot:
        if self.age_max < self.age_min:
            raise ValueError("age_max below age_min")
        if len({m.module_id for m in self.modules}) != len(self.modules):
            raise ValueError("module ids must be unique")
        return self


@event("pfdo.registry.program.certified", version=1, topic=PROGRAMS)
class ProgramCertified(_ProgramSnapshot):
    """The program passed certification: it may appear in the navigator."""

    certified_on: dt.date = Field(description="Date of certification.")

    @model_validator(mode="after")
    def _costs_set(self) -> ProgramCertified:
        if any(m.normative_cost_kopecks is None for m in self.modules):
            raise ValueError("a certified module has a normative cost")
        return self


@event("pfdo.registry.program.changed", version=1, topic=PROGRAMS)
class ProgramChanged(_ProgramSnapshot):
    """A certified program was edited or re-decided; the snapshot replaces the previous one.

    Editing a certified module sends the program back to ``submitted`` (existing enrolments
    continue); only ``certified`` programs take new enrolments.
    """

    state: ProgramState = Field(description="Certification state after the change.")


@event("pfdo.registry.program.archived", version=1, topic=PROGRAMS)
class ProgramArchived(Event):
    """The program left the catalogue for good (a tombstone: no snapshot)."""

    program_id: uuid.UUID = Field(description="Program id.")
    provider_id: uuid.UUID = Field(description="Provider running the program.")
    revision: Revision = Field(description="Revision of the program at archival (last one wins).")
    archived_on: dt.date = Field(description="Date of archival.")
