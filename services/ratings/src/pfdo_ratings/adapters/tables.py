"""SQLAlchemy Core tables matching migration 0002 (the migration is the source of truth)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, Integer, MetaData, SmallInteger, String, Table, Text
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()


def _sums() -> list[Column]:
    return [
        Column("count", Integer, nullable=False),
        Column("sum_results", BigInteger, nullable=False),
        Column("sum_teachers_and_group", BigInteger, nullable=False),
        Column("sum_materials_and_equipment", BigInteger, nullable=False),
        Column("sum_overall_satisfaction", BigInteger, nullable=False),
        Column("revision", BigInteger, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


RATABLE_ENROLMENT = Table(
    "ratable_enrolment",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("parent_id", String(255), nullable=False),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("module_id", UUID(as_uuid=True), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("end_date", Date, nullable=False),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

RATING = Table(
    "rating",
    metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("rater_id", String(255), nullable=False),
    Column("results", Integer, nullable=False),
    Column("teachers_and_group", Integer, nullable=False),
    Column("materials_and_equipment", Integer, nullable=False),
    Column("overall_satisfaction", Integer, nullable=False),
    Column("comment", Text),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
)

PROGRAM_AGGREGATE = Table(
    "program_aggregate",
    metadata,
    Column("program_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    *_sums(),
)

PROVIDER_AGGREGATE = Table(
    "provider_aggregate",
    metadata,
    Column("provider_id", UUID(as_uuid=True), primary_key=True),
    Column("program_count", Integer, nullable=False),
    *_sums(),
)

REGIONAL_PRIOR = Table(
    "regional_prior",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("scale_total", BigInteger, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
)

SUM_COLUMNS = ("sum_results", "sum_teachers_and_group", "sum_materials_and_equipment", "sum_overall_satisfaction")
