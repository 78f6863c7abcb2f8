"""Municipalities gain ``children_count``: how many children live there (the operators' dashboard
shows the share of them holding a certificate). Optional: NULL while the region has not given
the figure. The dashboard's counts per day (``GET /statistics``) read applications by
``applied_on`` and certificates by ``issued_on``: an index on each.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE municipalities ADD COLUMN children_count integer CHECK (children_count >= 0)")
    op.execute("CREATE INDEX applications_applied_on_idx ON applications (applied_on)")
    op.execute("CREATE INDEX certificates_issued_on_idx ON certificates (issued_on)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS certificates_issued_on_idx")
    op.execute("DROP INDEX IF EXISTS applications_applied_on_idx")
    op.execute("ALTER TABLE municipalities DROP COLUMN IF EXISTS children_count")
