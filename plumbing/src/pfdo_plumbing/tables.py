"""The outbox and inbox tables every service database has (created by its first migration)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Identity, Index, MetaData, String, Table, func, text
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


_meta = MetaData()
OUTBOX, INBOX = add_plumbing_tables(_meta)

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
]
DROP_SQL = [text("DROP TABLE IF EXISTS inbox"), text("DROP TABLE IF EXISTS outbox")]


def create_plumbing_tables(op) -> None:  # noqa: ANN001  (alembic.op)
    """Call from a service's first Alembic migration."""
    for stmt in CREATE_SQL:
        op.execute(stmt)


def drop_plumbing_tables(op) -> None:  # noqa: ANN001
    for stmt in DROP_SQL:
        op.execute(stmt)
