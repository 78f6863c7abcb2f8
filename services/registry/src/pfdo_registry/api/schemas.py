"""Request and response bodies of the registry API."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from pfdo_plumbing.http.examples import document_examples

from pfdo_contracts.events.registry import CloseReason, ProviderStatusReason, SuspensionReason

from ..domain.certificate import ApplicantRole
from ..domain.program import Direction, FundingKind
from ..domain.provider import ProviderType


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- reference ---------------------------------------------------------------------------------


class MunicipalityIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, description="Name of the municipality.")
    children_count: int | None = Field(
        default=None, ge=0, le=10_000_000,
        description=("How many children live in the municipality (the share of them holding a certificate is "
                     "shown to operators); left out: the stored figure stays, null: no figure."))


class BankDetailsIn(BaseModel):
    bank_name: str = Field(max_length=500, description="The bank's name.")
    bik: str = Field(max_length=9, description="БИК of the bank: 9 digits.")
    settlement_account: str = Field(max_length=20, description=(
        "Settlement account (расчётный счёт): 20 digits, its control key checked against the БИК."))
    correspondent_account: str = Field(max_length=20, description=(
        "The bank's correspondent account: 20 digits, its control key checked against the БИК."))


class PayerDetailsIn(BankDetailsIn):
    authority_name: str = Field(max_length=500, description=(
        "The authorised body that pays for the municipality's certificates (e.g. its education department)."))
    inn: str = Field(max_length=10, description="ИНН of the authorised body: 10 digits.")
    kpp: str = Field(max_length=9, description="КПП of the authorised body.")


class PayerDetailsOut(PayerDetailsIn, _Out):
    revision: int = Field(description="1 when first set, +1 at each change.")
    changed_on: dt.date = Field(description="Day of the last change.")


class MunicipalityOut(_Out):
    code: str = Field(description="Two-digit municipality (payer) code.")
    name: str
    region_code: str
    children_count: int | None = Field(default=None, description="Children living there; null when not given.")
    payer: PayerDetailsOut | None = Field(default=None, description=(
        "The payer of the municipality's certificates with its bank details; null until the regional operator "
        "sets them."))


class SettingsIn(BaseModel):
    region_code: str = Field(pattern=r"^[0-9]{2}$", description="Two-digit region code (certificate numbers).")
    auto_approve: bool = Field(description="Issue certificates at once, without an operator's decision.")
    min_age: int = Field(ge=0, le=17, description="Youngest age at application.")
    max_age: int = Field(ge=0, le=17, description="Oldest age at application.")


class SettingsOut(SettingsIn, _Out):
    pass


# --- children, applications, certificates -----------------------------------------------------


class ChildIn(BaseModel):
    surname: str = Field(min_length=1, max_length=200, description="Child's surname.")
    first_name: str = Field(min_length=1, max_length=200, description="Child's first name.")
    patronymic: str | None = Field(default=None, max_length=200, description="Child's patronymic, if any.")
    birth_date: dt.date = Field(description="Child's birth date.")
    snils: str = Field(min_length=11, max_length=20, description="СНИЛС (checksum validated), e.g. 112-233-445 95.")
    municipality_code: str = Field(min_length=2, max_length=2, description="Municipality of residence (payer).")


class ApplicationIn(BaseModel):
    child: ChildIn
    applicant_role: ApplicantRole = Field(
        default=ApplicantRole.PARENT, description="parent, guardian, or child (a child of 14+ applying alone)."
    )


class ApplicationOut(_Out):
    id: uuid.UUID
    child_id: uuid.UUID
    applicant_role: str
    municipality_code: str
    status: str = Field(description="pending | approved | refused")
    reason: str | None = Field(default=None, description="The operator's reason for a refusal.")
    applied_on: dt.date
    decided_on: dt.date | None = None
    certificate_id: uuid.UUID | None = None
    certificate_number: str | None = None
    surname: str
    first_name: str
    birth_date: dt.date
    possible_duplicate: bool | None = Field(
        default=None, description="Operators only (null for the applicant): another application or a certificate "
        "has the same СНИЛС. The operator resolves it; approval never issues a second live certificate.")
    duplicate_reason: str | None = Field(
        default=None, description="Operators only: certificate_exists | pending_application.")


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Why (shown to the applicant or provider).")


class SuspendIn(ReasonIn):
    reason_code: SuspensionReason = Field(default=SuspensionReason.OPERATOR_DECISION, description="Published code.")


class CloseIn(BaseModel):
    reason: CloseReason = Field(description="left_region or duplicate.")
    note: str | None = Field(default=None, max_length=2000, description="Operator's note.")


class CertificateOut(_Out):
    id: uuid.UUID
    number: str = Field(description="10 digits: region + municipality + sequence.")
    child_id: uuid.UUID
    municipality_code: str
    status: str = Field(description="active | suspended | expired | closed")
    usage_kind: str = Field(description="accounting | funding")
    issued_on: dt.date
    valid_until: dt.date = Field(description="The day before the 18th birthday.")
    status_reason: str | None = None
    close_reason: str | None = None
    ended_on: dt.date | None = None
    surname: str
    first_name: str
    patronymic: str | None = None
    birth_date: dt.date


class ChildOut(_Out):
    id: uuid.UUID
    surname: str
    first_name: str
    patronymic: str | None = None
    birth_date: dt.date
    municipality_code: str
    certificate_id: uuid.UUID | None = None
    certificate_number: str | None = None
    certificate_status: str | None = None


class LookupIn(BaseModel):
    number: str = Field(min_length=10, max_length=14, description="Certificate number (10 digits, separators allowed).",
                        examples=["7101000042"])
    surname: str = Field(min_length=1, max_length=200, description="The child's surname (any case).",
                         examples=["Петрова"])


class LookupOut(_Out):
    certificate_id: uuid.UUID
    number: str
    status: str
    usage_kind: str
    municipality_code: str
    valid_until: dt.date
    birth_year: int = Field(description="Birth year only: enough for the age rules.")
    age: int = Field(description="Completed years today.")


class ExpiryJobOut(BaseModel):
    expired: int = Field(description="How many certificates this run expired (0 on a repeat run).")


# --- providers ---------------------------------------------------------------------------------


class ProviderIn(BaseModel):
    provider_type: ProviderType = Field(description="Organisation kind or individual entrepreneur.")
    name: str = Field(min_length=1, max_length=500)
    inn: str = Field(min_length=10, max_length=12, description="ИНН: 10 digits (organisation) or 12 (entrepreneur).")
    ogrn: str = Field(min_length=13, max_length=15, description="ОГРН (13) or ОГРНИП (15).")
    kpp: str | None = Field(default=None, max_length=9, description="КПП (organisations only).")
    municipality_code: str = Field(min_length=2, max_length=2)
    address: str = Field(default="", max_length=1000)
    bank_name: str = Field(max_length=500, description="The bank's name (payee details).")
    bik: str = Field(max_length=9, description="БИК: 9 digits.")
    settlement_account: str = Field(max_length=20, description=(
        "Settlement account: 20 digits, its control key checked against the БИК."))
    correspondent_account: str = Field(max_length=20, description=(
        "The bank's correspondent account: 20 digits, its control key checked against the БИК."))


class ProviderOut(_Out):
    id: uuid.UUID
    provider_type: str
    name: str
    inn: str
    ogrn: str
    kpp: str | None = None
    municipality_code: str
    address: str
    bank_name: str | None = Field(default=None, description="Shown to the provider itself and to staff.")
    bik: str | None = None
    settlement_account: str | None = None
    correspondent_account: str | None = Field(default=None, description=(
        "Shown to the provider itself and to staff; null also for a provider registered before it was asked."))
    details_revision: int | None = Field(default=None, description=(
        "Revision of the payee details (1 at registration, +1 at each change); shown with them."))
    status: str = Field(description="new | active | refused | suspended | excluded")
    status_reason: str | None = None
    registered_on: dt.date


class ModerationIn(BaseModel):
    reason: str | None = Field(default=None, max_length=2000, description="Required to refuse, suspend, exclude.")
    reason_code: ProviderStatusReason | None = Field(default=None, description="Published reason code.")


# --- programs ----------------------------------------------------------------------------------


class SlotIO(BaseModel):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday.")
    starts_at: dt.time
    ends_at: dt.time


class ModuleIn(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    min_age: int = Field(ge=0, le=18)
    max_age: int = Field(ge=0, le=18)
    municipality_code: str = Field(min_length=2, max_length=2)
    address: str = Field(min_length=1, max_length=1000)
    schedule: list[SlotIO] = Field(min_length=1, max_length=50)
    hours: int = Field(ge=1, le=10000)
    start_date: dt.date
    end_date: dt.date
    capacity: int = Field(ge=1, le=10000)
    price_kopecks: int = Field(ge=0, le=10**12, description=(
        "Price of the whole module, kopecks; above 0 for a certificate-funded module (price_must_be_positive)."))
    funding_kind: FundingKind = FundingKind.CERTIFICATE


class ModuleOut(ModuleIn, _Out):
    id: uuid.UUID
    normative_cost_kopecks: int | None = Field(default=None, description="Set by the certifier.")
    min_age: int
    max_age: int


class ProgramIn(BaseModel):
    name: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=20000)
    direction: Direction = Field(description="One of the six directions.")
    modules: list[ModuleIn] = Field(default_factory=list, max_length=50)


class ProgramPatch(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=20000)
    direction: Direction | None = None


class ProgramOut(_Out):
    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    description: str
    direction: str
    status: str = Field(description="draft | submitted | certified | rejected | archived")
    status_reason: str | None = None
    revision: int
    certified_before: bool
    modules: list[ModuleOut]


class NormativeCostIn(BaseModel):
    normative_cost_kopecks: int = Field(ge=0, le=10**12, description="Normative cost of the whole module, kopecks.")


class HistoryOut(_Out):
    id: int
    action: str
    from_status: str | None
    to_status: str
    revision: int
    actor_sub: str
    actor_role: str
    reason: str | None
    at: dt.datetime


class DayFigures(BaseModel):
    day: dt.date
    applications: int = Field(description="Applications filed that day.")
    certificates_issued: int = Field(description="Certificates issued that day.")


class MunicipalityFigures(BaseModel):
    code: str
    name: str
    children_count: int | None = Field(description="Children living there; null when not given.")
    certificates_active: int = Field(description="Certificates in force (status active).")
    certificates_issued: int = Field(description="Certificates ever issued there.")


class RegistryStatistics(BaseModel):
    from_date: dt.date
    to_date: dt.date
    municipality_code: str | None = Field(description="The municipality counted; null: the whole region.")
    days: list[DayFigures]
    municipalities: list[MunicipalityFigures]


document_examples(globals())
