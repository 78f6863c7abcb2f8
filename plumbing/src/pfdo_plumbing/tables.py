"""The tables every service database has: outbox, inbox and audit log (created by its first
migration), and the stored answers of idempotent requests (a migration of its own)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Column, DateTime, Identity, Index, LargeBinary, MetaData, SmallInteger, String, Table, Text, func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID


def outbox_table(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        Column("seq", BigInteger, Identity(always=True), primary_key=True),
        Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        Column("topic", String(200), nullable=False),
        Column("key", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "inbox",
        metadata,
        Column("event_id", UUID(as_uuid=True), primary_key=True),
        Column("event_type", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Index("ix_inbox_processed_at", "processed_at"),
    )


def add_plumbing_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Attach the outbox and inbox to a service's metadata (for its Alembic migrations)."""
    return outbox_table(metadata), inbox_table(metadata)


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log",
        metadata,
        Column("id", BigInteger, Identity(always=True), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor_sub", String(255), nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("action", String(120), nullable=False),
        Column("subject_type", String(60), nullable=False),
        Column("subject_id", String(120), nullable=False),
        Column("municipality_code", String(10)),
        Column("request_id", String(128)),
        Column("correlation_id", String(128)),
        Column("details", JSONB, nullable=False),
    )


def idempotency_table(metadata: MetaData) -> Table:
    """The stored answers of requests sent with an ``Idempotency-Key`` (see
    ``pfdo_plumbing.http.idempotency``): one row per caller and key, ``status`` NULL while the
    first request runs (which moves ``alive_at`` now and then to say so)."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("subject", Text, primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("request_hash", LargeBinary, nullable=False),
        Column("request_method", String(10), nullable=False),
        Column("request_path", String(2000), nullable=False),
        Column("owner", UUID(as_uuid=True), nullable=False),
        Column("status", SmallInteger),
        Column("response_headers", JSONB),
        Column("response_body", LargeBinary),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("alive_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("completed_at", DateTime(timezone=True)),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )


_meta = MetaData()
OUTBOX, INBOX = add_plumbing_tables(_meta)
AUDIT = audit_table(_meta)
IDEMPOTENCY = idempotency_table(_meta)

CREATE_SQL = [
    text(
        """
        CREATE TABLE IF NOT EXISTS outbox (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id UUID NOT NULL UNIQUE,
            topic VARCHAR(200) NOT NULL,
            key VARCHAR(200) NOT NULL,
            event_type VARCHAR(200) NOT NULL,
            payload JSONB NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )"""
    ),
    text(
        """
        CREATE TABLE IF NOT EXISTS inbox (
            event_id UUID PRIMARY KEY,
            event_type VARCHAR(200) NOT NULL,
            processed_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )"""
    ),
    text("CREATE INDEX IF NOT EXISTS ix_inbox_processed_at ON inbox (processed_at)"),
    text(
        """
        CREATE TABLE IF NOT EXISTS audit_log (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL DEFAULT now(),
            actor_sub VARCHAR(255) NOT NULL,
            actor_role VARCHAR(40) NOT NULL,
            action VARCHAR(120) NOT NULL,
            subject_type VARCHAR(60) NOT NULL,
            subject_id VARCHAR(120) NOT NULL,
            municipality_code VARCHAR(10),
            request_id VARCHAR(128),
            correlation_id VARCHAR(128),
            details JSONB NOT NULL DEFAULT '{}'::jsonb
        )"""
    ),
    text("CREATE INDEX IF NOT EXISTS ix_audit_subject ON audit_log (subject_type, subject_id)"),
    text(
        """
        CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_log is append-only';
        END $$"""
    ),
    text("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log"),
    text(
        "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
    ),
]
DROP_SQL = [text("DROP TABLE IF EXISTS audit_log"), text("DROP FUNCTION IF EXISTS audit_log_append_only CASCADE"), text("DROP TABLE IF EXISTS inbox"), text("DROP TABLE IF EXISTS outbox")]


def create_plumbing_tables(op) -> None:  # noqa: ANN001  (alembic.op)
    """Call from a service's first Alembic migration."""
    for stmt in CREATE_SQL:
        op.execute(stmt)


def drop_plumbing_tables(op) -> None:  # noqa: ANN001
    for stmt in DROP_SQL:
        op.execute(stmt)


IDEMPOTENCY_CREATE_SQL = [
    """
    CREATE TABLE IF NOT EXISTS idempotency_keys (
        subject TEXT NOT NULL,
        key VARCHAR(255) NOT NULL,
        request_hash BYTEA NOT NULL,
        request_method VARCHAR(10) NOT NULL,
        request_path VARCHAR(2000) NOT NULL,
        owner UUID NOT NULL,
        status SMALLINT,
        response_headers JSONB,
        response_body BYTEA,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        alive_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        completed_at TIMESTAMPTZ,
        PRIMARY KEY (subject, key)
    )""",
    "CREATE INDEX IF NOT EXISTS ix_idempotency_keys_created_at ON idempotency_keys (created_at)",
]


def create_idempotency_table(op) -> None:  # noqa: ANN001  (alembic.op)
    """Call from a service's migration that adds the idempotency keys."""
    for stmt in IDEMPOTENCY_CREATE_SQL:
        op.execute(text(stmt))


def drop_idempotency_table(op) -> None:  # noqa: ANN001
    op.execute(text("DROP TABLE IF EXISTS idempotency_keys"))
