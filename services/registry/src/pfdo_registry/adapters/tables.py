"""SQLAlchemy Core tables matching the registry migrations (0002)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Date, DateTime, Integer, LargeBinary, MetaData, SmallInteger, String, Table, Text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

REGION_SETTINGS = Table(
    "region_settings", metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("region_code", String(2), nullable=False),
    Column("auto_approve", Boolean, nullable=False),
    Column("min_age", SmallInteger, nullable=False),
    Column("max_age", SmallInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

MUNICIPALITIES = Table(
    "municipalities", metadata,
    Column("code", String(2), primary_key=True),
    Column("name", Text, nullable=False),
    Column("region_code", String(2), nullable=False),
    Column("last_certificate_seq", Integer, nullable=False, default=0),
    Column("children_count", Integer),
    # the payer of the municipality's certificates (migration 0006): all set, or none (revision 0)
    Column("payer_title", Text),
    Column("payer_inn", String(10)),
    Column("payer_kpp", String(9)),
    Column("payer_bank_name", Text),
    Column("payer_bik", String(9)),
    Column("payer_account", String(20)),
    Column("payer_correspondent_account", String(20)),
    Column("payer_changed_on", Date),
    Column("payer_revision", Integer, nullable=False, default=0),
)

CHILDREN = Table(
    "children", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("parent_id", Text, nullable=False),
    Column("surname", Text, nullable=False),
    Column("first_name", Text, nullable=False),
    Column("patronymic", Text),
    Column("birth_date", Date, nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("snils_encrypted", LargeBinary, nullable=False),
    Column("snils_hash", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True)),
)

APPLICATIONS = Table(
    "applications", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("applicant_id", Text, nullable=False),
    Column("applicant_role", Text, nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("status", Text, nullable=False),
    Column("reason", Text),
    Column("applied_on", Date, nullable=False),
    Column("decided_on", Date),
    Column("decided_by", Text),
    Column("certificate_id", UUID(as_uuid=True)),
    Column("duplicate_reason", Text),  # possible duplicate for the operator (domain.certificate.DuplicateReason)
    Column("created_at", DateTime(timezone=True)),
)

CERTIFICATES = Table(
    "certificates", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(10), nullable=False),
    Column("child_id", UUID(as_uuid=True), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("usage_kind", Text, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("status_reason", Text),
    Column("close_reason", Text),
    Column("ended_on", Date),
    Column("updated_at", DateTime(timezone=True)),
    Column("snils_hash", LargeBinary, nullable=False),  # the child's: one live certificate per СНИЛС
)

PROVIDERS = Table(
    "providers", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("owner_sub", Text, nullable=False),
    Column("provider_type", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("inn", String(12), nullable=False),
    Column("ogrn", String(15), nullable=False),
    Column("kpp", String(9)),
    Column("municipality_code", String(2), nullable=False),
    Column("address", Text, nullable=False),
    Column("bank_name", Text, nullable=False),
    Column("bik", String(9), nullable=False),
    Column("settlement_account", String(20), nullable=False),
    Column("correspondent_account", String(20)),  # NULL only for rows registered before 0006
    Column("details_revision", Integer, nullable=False, default=1),
    Column("status", Text, nullable=False),
    Column("status_reason", Text),
    Column("registered_on", Date, nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

PROGRAMS = Table(
    "programs", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("direction", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("status_reason", Text),
    Column("certified_before", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)

MODULES = Table(
    "modules", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("name", Text, nullable=False),
    Column("min_age", SmallInteger, nullable=False),
    Column("max_age", SmallInteger, nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("address", Text, nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("hours", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("price_kopecks", BigInteger, nullable=False),
    Column("funding_kind", Text, nullable=False),
    Column("normative_cost_kopecks", BigInteger),
)

CERTIFICATION_HISTORY = Table(
    "certification_history", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("action", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("actor_sub", Text, nullable=False),
    Column("actor_role", Text, nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True)),
)
