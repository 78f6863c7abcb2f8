"""SQLAlchemy Core tables matching the navigator's migrations.

The catalogue tables are built per schema (:func:`catalogue_tables`): ``catalogue`` is the live
read model, ``catalogue_rebuild`` the twin a rebuild fills from the topics.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID

from .search_docs import COPIED_COLUMNS as SEARCH_DOC_COLUMNS

LIVE_SCHEMA = "catalogue"
REBUILD_SCHEMA = "catalogue_rebuild"
CATALOGUE_TABLE_NAMES = ("providers", "programs", "program_ratings", "entries")


@dataclass(frozen=True)
class Catalogue:
    schema: str
    providers: Table
    programs: Table
    program_ratings: Table
    entries: Table
    search_docs: Table
    """What text searches filter, sort and rank on; a copy of ``entries`` kept by triggers
    (``adapters/search_docs.py``)."""


def catalogue_tables(schema: str) -> Catalogue:
    md = MetaData(schema=schema)
    providers = Table(
        "providers", md,
        Column("provider_id", UUID(as_uuid=True), primary_key=True),
        Column("status", String(20), nullable=False),
        Column("municipality_code", String(2)),
        Column("rating_score", Float),
        Column("rating_count", Integer, nullable=False),
        Column("rating_revision", Integer, nullable=False),
    )
    programs = Table(
        "programs", md,
        Column("program_id", UUID(as_uuid=True), primary_key=True),
        Column("provider_id", UUID(as_uuid=True), nullable=False),
        Column("revision", Integer, nullable=False),
        Column("state", String(20), nullable=False),
        Column("certified_on", Date),
        Column("snapshot", JSONB),
    )
    program_ratings = Table(
        "program_ratings", md,
        Column("program_id", UUID(as_uuid=True), primary_key=True),
        Column("score", Float, nullable=False),
        Column("count", Integer, nullable=False),
        Column("means", JSONB, nullable=False),
        Column("revision", Integer, nullable=False),
    )
    entries = Table(
        "entries", md,
        Column("module_id", UUID(as_uuid=True), primary_key=True),
        Column("program_id", UUID(as_uuid=True), nullable=False),
        Column("provider_id", UUID(as_uuid=True), nullable=False),
        Column("program_revision", Integer, nullable=False),
        Column("title", String(500), nullable=False),
        Column("module_title", String(500), nullable=False),
        Column("description", Text, nullable=False),
        Column("direction", String(40), nullable=False),
        Column("municipality_code", String(2), nullable=False),
        Column("venue_address", String(1000), nullable=False),
        Column("age_min", SmallInteger, nullable=False),
        Column("age_max", SmallInteger, nullable=False),
        Column("funding_kind", String(20), nullable=False),
        Column("start_date", Date, nullable=False),
        Column("end_date", Date, nullable=False),
        Column("weekdays", ARRAY(SmallInteger), nullable=False),
        Column("schedule", JSONB, nullable=False),
        Column("hours", Integer, nullable=False),
        Column("lessons_per_week", Integer, nullable=False),
        Column("capacity", Integer, nullable=False),
        Column("price_kopecks", BigInteger, nullable=False),
        Column("normative_cost_kopecks", BigInteger, nullable=False),
        Column("certified_on", Date, nullable=False),
        Column("visible", Boolean, nullable=False),
        Column("rating_score", Float),
        Column("rating_count", Integer, nullable=False),
        Column("sort_rating", Float, server_default=None),  # generated
        Column("search", TSVECTOR),  # generated
    )
    search_docs = Table(
        "search_docs", md,
        Column("module_id", UUID(as_uuid=True), primary_key=True),
        *(Column(c.name, c.type) for c in entries.c if c.name in SEARCH_DOC_COLUMNS and c.name != "module_id"),
    )
    return Catalogue(schema, providers, programs, program_ratings, entries, search_docs)


LIVE = catalogue_tables(LIVE_SCHEMA)

_md = MetaData()

CERTIFICATES = Table(
    "certificates", _md,
    Column("certificate_id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(10), nullable=False),
    Column("parent_id", String(255), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("usage_kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_on", Date, nullable=False),
)

MODULES = Table(
    "modules", _md,
    Column("module_id", UUID(as_uuid=True), primary_key=True),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("held", Integer, nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("weekdays", ARRAY(SmallInteger), nullable=False),
    Column("schedule", JSONB, nullable=False),
    Column("lessons_per_week", Integer, nullable=False),
    Column("waitlist_enabled", Boolean, nullable=False),
    Column("waitlist_max", Integer),
)

ENROLMENTS = Table(
    "enrolments", _md,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("parent_id", String(255), nullable=False),
    Column("module_id", UUID(as_uuid=True), nullable=False),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("direction", String(40), nullable=False),
    Column("funding_kind", String(20), nullable=False),
    Column("payment_mode", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("reservation_id", UUID(as_uuid=True)),
    Column("reason", String(60)),
    Column("closed_by", String(20)),
    Column("end_outcome", String(20)),
    Column("queue_position", Integer),
    Column("total_cost_kopecks", BigInteger),
    Column("reserved_kopecks", BigInteger),
    Column("family_kopecks", BigInteger),
    Column("released_kopecks", BigInteger, nullable=False),
    Column("instalments", JSONB),
    Column("waitlisted_at", DateTime(timezone=True)),
    Column("wait_seq", BigInteger),
    Column("offered_on", Date),
    Column("offer_expires_on", Date),
    Column("accepted_at", DateTime(timezone=True)),
    Column("accepted_by", String(255)),
)

SEAT_CLAIMS = Table(
    "seat_claims", _md,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("module_id", UUID(as_uuid=True), nullable=False),
)
"""An application's claim on a seat, taken by a deferred trigger while its transaction commits
(migration 0005)."""

JOURNAL_MONTHS = Table(
    "journal_months", _md,
    Column("month", String(7), primary_key=True),
    Column("state", String(10), nullable=False),
    Column("attendance_events", Integer),
    Column("frozen_on", Date),
    Column("frozen_by", String(20)),
    Column("frozen_at", DateTime(timezone=True)),
)
ATTENDANCE_BATCHES = Table(
    "attendance_batches", _md,
    Column("batch_id", UUID(as_uuid=True), primary_key=True),
    Column("month", String(7), nullable=False),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
)

MARKS = Table(
    "attendance_marks", _md,
    Column("mark_id", UUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("module_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("lesson_date", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("marked_on", Date, nullable=False),
)

DISPUTES = Table(
    "disputes", _md,
    Column("dispute_id", UUID(as_uuid=True), primary_key=True),
    Column("mark_id", UUID(as_uuid=True), nullable=False),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("lesson_date", Date, nullable=False),
    Column("mark_version", Integer, nullable=False),
    Column("state", String(10), nullable=False),
    Column("claimed_status", String(10), nullable=False),
    Column("comment", String(2000)),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("opened_by", String(255), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("resolved_by", String(255)),
    Column("resolution_note", String(2000)),
)
