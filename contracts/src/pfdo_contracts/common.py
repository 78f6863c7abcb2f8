"""Value types shared by the event models: codes, money, months, domain enums.

Money is always an integer number of kopecks. Dates are calendar dates in the region's time
zone; timestamps (only in the envelope) are UTC. Enum values are stable English codes: the
Russian labels belong to the user interfaces.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Kopecks = Annotated[int, Field(ge=0)]
"""A non-negative amount of money in kopecks."""

RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
MunicipalityCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
CertificateNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{10}$")]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month as 'YYYY-MM'."""

SubjectId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
"""Opaque subject id of a user account (the 'sub' of its token); never a name."""

IsoWeekday = Annotated[int, Field(ge=1, le=7)]
Revision = Annotated[int, Field(ge=1)]


def month_of(day: dt.date) -> str:
    """The 'YYYY-MM' month a date falls in."""
    return f"{day.year:04d}-{day.month:02d}"


class Direction(StrEnum):
    """The six directions of extra-curricular education."""

    TECHNICAL = "technical"  # техническая
    NATURAL_SCIENCE = "natural_science"  # естественнонаучная
    PHYSICAL_SPORTS = "physical_sports"  # физкультурно-спортивная
    ARTISTIC = "artistic"  # художественная
    TOURISM_LOCAL_HISTORY = "tourism_local_history"  # туристско-краеведческая
    SOCIAL_HUMANITARIAN = "social_humanitarian"  # социально-гуманитарная


class FundingKind(StrEnum):
    """How a program is paid for."""

    CERTIFICATE = "certificate"  # certificate money (a paid program)
    MUNICIPAL_TASK = "municipal_task"  # a free place under the municipal task


class UsageKind(StrEnum):
    """How a certificate is used."""

    ACCOUNTING = "accounting"  # сертификат учёта: yearly count of free places
    FUNDING = "funding"  # сертификат финансирования: carries money


class CertificateStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    CLOSED = "closed"


class ProviderType(StrEnum):
    MUNICIPAL_OR_STATE_ORG = "municipal_or_state_org"
    PRIVATE_ORG = "private_org"
    ENTREPRENEUR_WITH_STAFF = "entrepreneur_with_staff"
    ENTREPRENEUR_WITHOUT_STAFF = "entrepreneur_without_staff"


class ProviderStatus(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    REFUSED = "refused"
    SUSPENDED = "suspended"
    EXCLUDED = "excluded"


class ProgramState(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class PaymentMode(StrEnum):
    MONTHLY = "monthly"  # the instalment is due every month
    ATTENDANCE = "attendance"  # instalment × attended lessons / planned lessons of the month


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"  # counts as not attended


class Part(BaseModel):
    """Base of the nested value objects inside events (frozen, unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class ScheduleSlot(Part):
    """One weekly lesson of a module's timetable."""

    weekday: IsoWeekday = Field(description="ISO weekday of the lesson: 1 = Monday … 7 = Sunday.")
    starts_at: dt.time = Field(description="Local start time of the lesson.")
    ends_at: dt.time = Field(description="Local end time of the lesson.")

    @model_validator(mode="after")
    def _ordered(self) -> ScheduleSlot:
        if self.ends_at <= self.starts_at:
            raise ValueError("a lesson must end after it starts")
        return self
