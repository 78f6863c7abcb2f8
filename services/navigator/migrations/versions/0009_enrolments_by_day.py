"""The operators' dashboard counts applications for groups per day (``GET /statistics/enrolments``):
an index on ``requested_at`` keeps a month's count from reading every enrolment of the region.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_enrolments_requested_at ON enrolments (requested_at)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_enrolments_requested_at")
