"""SQLAlchemy Core tables of billing (the schema itself is created by migration 0002)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY, BigInteger, Boolean, Column, Date, DateTime, Integer, MetaData, SmallInteger, String, Table,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

CERTIFICATES = Table(
    "certificates", metadata,
    Column("certificate_id", UUID(as_uuid=True), primary_key=True),
    Column("municipality_code", String(2), nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("usage_kind", String(16), nullable=False),
    Column("parent_id", String(255), nullable=False),
    Column("valid_until", Date),
    Column("funded_on", Date),
    Column("updated_at", DateTime(timezone=True)),
    Column("number", String(10)),  # migration 0009: NULL for certificates learnt before it
)

PROGRAMS = Table(
    "programs", metadata,
    Column("program_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("state", String(16), nullable=False),
)

MODULES = Table(
    "modules", metadata,
    Column("module_id", UUID(as_uuid=True), primary_key=True),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("direction", String(32), nullable=False),
    Column("funding_kind", String(16), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("price_kopecks", BigInteger, nullable=False),
    Column("normative_cost_kopecks", BigInteger),
    Column("weekdays", ARRAY(SmallInteger), nullable=False),
    Column("lessons_per_week", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("state", String(16), nullable=False),
)

PERIODS = Table(
    "periods", metadata,
    Column("period_id", UUID(as_uuid=True), primary_key=True),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("status", String(8), nullable=False),
    Column("opened_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True)),
)

NOMINALS = Table(
    "nominals", metadata,
    Column("period_id", UUID(as_uuid=True), primary_key=True),
    Column("municipality_code", String(2), primary_key=True),
    Column("age_min", SmallInteger, primary_key=True),
    Column("age_max", SmallInteger, nullable=False),
    Column("amount_kopecks", BigInteger, nullable=False),
)

CAPS = Table(
    "caps", metadata,
    Column("period_id", UUID(as_uuid=True), primary_key=True),
    Column("municipality_code", String(2), primary_key=True),
    Column("funding_cap", Integer),
    Column("funding_used", Integer, nullable=False),
    Column("free_places", Integer),
    Column("free_places_used", Integer, nullable=False),
    Column("direction_cap", Integer),
)

FUNDING_QUEUE = Table(
    "funding_queue", metadata,
    Column("seq", BigInteger, primary_key=True),
    Column("period_id", UUID(as_uuid=True), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("request", JSONB, nullable=False),
    Column("status", String(10), nullable=False),
    Column("queued_at", DateTime(timezone=True)),
    Column("position", Integer),
)

ACCOUNTS = Table(
    "accounts", metadata,
    Column("kind", String(24), primary_key=True),
    Column("owner", String(64), primary_key=True),
    Column("period_id", UUID(as_uuid=True), primary_key=True),
    Column("balance", BigInteger, nullable=False),
)

CERTIFICATE_BALANCES = Table(
    "certificate_balances", metadata,
    Column("certificate_id", UUID(as_uuid=True), primary_key=True),
    Column("period_id", UUID(as_uuid=True), primary_key=True),
    Column("nominal", BigInteger, nullable=False),
    Column("available", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
)

TRANSFERS = Table(
    "transfers", metadata,
    Column("transfer_id", String(160), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("period_id", UUID(as_uuid=True), nullable=False),
    Column("debit_kind", String(24), nullable=False),
    Column("debit_owner", String(64), nullable=False),
    Column("credit_kind", String(24), nullable=False),
    Column("credit_owner", String(64), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("pending_state", String(8)),
    Column("pending_id", String(160)),
    Column("certificate_id", UUID(as_uuid=True)),
    Column("enrolment_id", UUID(as_uuid=True)),
    Column("month", Date),
    Column("cause_event_id", UUID(as_uuid=True)),
    Column("cause", String(80)),
    Column("created_at", DateTime(timezone=True)),
)

CONTRACTS = Table(
    "contracts", metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("module_id", UUID(as_uuid=True), nullable=False),
    Column("program_id", UUID(as_uuid=True), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("municipality_code", String(2), nullable=False),
    Column("payer_code", String(2)),
    Column("direction", String(32), nullable=False),
    Column("funding_kind", String(16), nullable=False),
    Column("period_id", UUID(as_uuid=True)),
    Column("payment_mode", String(10), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("weekdays", ARRAY(SmallInteger), nullable=False),
    Column("status", String(12), nullable=False),
    Column("reject_reason", String(32)),
    Column("total_cost_kopecks", BigInteger, nullable=False),
    Column("certificate_kopecks", BigInteger, nullable=False),
    Column("family_kopecks", BigInteger, nullable=False),
    Column("funding_activated", Boolean, nullable=False),
    Column("reservation_id", UUID(as_uuid=True), nullable=False),
    Column("cause_event_id", UUID(as_uuid=True)),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    Column("agreement_id", UUID(as_uuid=True)),  # migration 0008: the agreement a paid reservation is under
)

CONTRACT_MONTHS = Table(
    "contract_months", metadata,
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("certificate_kopecks", BigInteger, nullable=False),
    Column("family_kopecks", BigInteger, nullable=False),
    Column("planned_lessons", Integer, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attended_lessons", Integer),
    Column("posted_kopecks", BigInteger, nullable=False),
    Column("released_kopecks", BigInteger, nullable=False),
    Column("family_invoiced_kopecks", BigInteger, nullable=False),
    Column("closed_at", DateTime(timezone=True)),
)

ATTENDANCE_MARKS = Table(
    "attendance_marks", metadata,
    Column("mark_id", UUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), nullable=False),
    Column("lesson_date", Date, nullable=False),
    Column("status", String(8), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("disputed", Boolean, nullable=False),
)

ATTENDANCE_MONTHS = Table(
    "attendance_months", metadata,
    Column("month", Date, primary_key=True),
    Column("published_events", Integer),
    Column("frozen_on", Date),
    Column("frozen_event_id", UUID(as_uuid=True)),
    Column("applied_events", Integer, nullable=False),
)

MONTH_CLOSES = Table(
    "month_closes", metadata,
    Column("month", Date, primary_key=True),
    Column("municipality_code", String(2), primary_key=True),  # '': the region-wide close (migration 0007)
    Column("status", String(10), nullable=False),
    Column("contracts_closed", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
)

PAYMENT_ORDERS = Table(
    "payment_orders", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("period_id", UUID(as_uuid=True), nullable=False),
    Column("month", Date, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("base_kopecks", BigInteger, nullable=False),
    Column("advance_paid_kopecks", BigInteger, nullable=False),
    Column("offset_applied_kopecks", BigInteger, nullable=False),
    Column("amount_kopecks", BigInteger, nullable=False),
    Column("offset_carried_kopecks", BigInteger, nullable=False),
    Column("contract_count", Integer, nullable=False),
    Column("issued_on", Date, nullable=False),
    Column("created_at", DateTime(timezone=True)),
    # migration 0007: per payer, numbered, the treasury's status, reissues
    Column("payer_code", String(2), nullable=False),
    Column("number", String(16), nullable=False, unique=True),
    Column("status", String(8), nullable=False),
    Column("status_on", Date),
    Column("treasury_reference", String(64)),
    Column("return_reason", String(500)),
    Column("status_changed_at", DateTime(timezone=True)),
    Column("reissue_of", UUID(as_uuid=True), unique=True),
)

PAYMENT_ORDER_NUMBERS = Table(
    "payment_order_numbers", metadata,
    Column("year", SmallInteger, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

PAYMENT_ORDER_STATUSES = Table(
    "payment_order_statuses", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("status", String(8), primary_key=True),
    Column("status_on", Date, nullable=False),
    Column("treasury_reference", String(64)),
    Column("reason", String(500)),
    Column("reported_via", String(8), nullable=False),
    Column("applied", Boolean, nullable=False),
    Column("received_at", DateTime(timezone=True)),
)

PAYMENT_ORDER_LINES = Table(
    "payment_order_lines", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("enrolment_id", UUID(as_uuid=True), primary_key=True),
    Column("certificate_id", UUID(as_uuid=True), nullable=False),
    Column("amount_kopecks", BigInteger, nullable=False),
)

AGREEMENTS = Table(  # migration 0008
    "agreements", metadata,
    Column("agreement_id", UUID(as_uuid=True), primary_key=True),
    Column("number", String(40), nullable=False),
    Column("provider_id", UUID(as_uuid=True), nullable=False),
    Column("payer_code", String(2), nullable=False),
    Column("period_id", UUID(as_uuid=True), nullable=False),
    Column("limit_kopecks", BigInteger, nullable=False),
    Column("used_kopecks", BigInteger, nullable=False),
    Column("concluded_on", Date, nullable=False),
    Column("ended_on", Date),
    Column("status", String(8), nullable=False),
    Column("created_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)


def _party_columns() -> list[Column]:
    return [
        Column("name", String, nullable=False),
        Column("inn", String(12), nullable=False),
        Column("kpp", String(9)),
        Column("bank_name", String, nullable=False),
        Column("bik", String(9), nullable=False),
        Column("account", String(20), nullable=False),
        Column("correspondent_account", String(20), nullable=False),
        Column("revision", Integer, nullable=False),
        Column("changed_on", Date, nullable=False),
        Column("updated_at", DateTime(timezone=True)),
    ]


PAYEES = Table(  # migration 0006: providers' payee details (service.parties)
    "payees", metadata,
    Column("provider_id", UUID(as_uuid=True), primary_key=True),
    *_party_columns(),
)

PAYERS = Table(  # migration 0006: municipalities' payer details (service.parties)
    "payers", metadata,
    Column("municipality_code", String(2), primary_key=True),
    *_party_columns(),
)
