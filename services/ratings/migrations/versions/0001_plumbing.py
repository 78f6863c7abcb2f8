"""Outbox and inbox tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from alembic import op

from pfdo_plumbing.tables import create_plumbing_tables, drop_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op)


def downgrade() -> None:
    drop_plumbing_tables(op)
