"""Stored answers of requests sent with an Idempotency-Key (kept at least 24 hours; see
``pfdo_plumbing.http.idempotency``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from alembic import op

from pfdo_plumbing.tables import create_idempotency_table, drop_idempotency_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
