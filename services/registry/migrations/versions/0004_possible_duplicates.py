"""Applications are no longer refused for a СНИЛС already known: each is accepted and flagged for
the operator as a possible duplicate (``applications.duplicate_reason``), so that an application
tells a stranger nothing and an unverified one cannot block the real parent's. A СНИЛС may
therefore have several children rows (one per applicant's claim); one certificate per child
stays guaranteed where it is issued: at most one live (active or suspended) certificate per
СНИЛС keyed hash, by a partial UNIQUE index on the hash carried by the certificate.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = [
    "DROP INDEX children_snils_hash_uq",
    "CREATE INDEX children_snils_hash_idx ON children (snils_hash)",
    """
    ALTER TABLE applications ADD COLUMN duplicate_reason text
        CHECK (duplicate_reason IN ('certificate_exists', 'pending_application'))
    """,
    "ALTER TABLE certificates ADD COLUMN snils_hash bytea",
    "UPDATE certificates c SET snils_hash = ch.snils_hash FROM children ch WHERE ch.id = c.child_id",
    "ALTER TABLE certificates ALTER COLUMN snils_hash SET NOT NULL",
    "CREATE UNIQUE INDEX certificates_one_live_per_snils_uq ON certificates (snils_hash) "
    "WHERE status IN ('active', 'suspended')",
]

DOWNGRADE = [
    "DROP INDEX IF EXISTS certificates_one_live_per_snils_uq",
    "ALTER TABLE certificates DROP COLUMN IF EXISTS snils_hash",
    "ALTER TABLE applications DROP COLUMN IF EXISTS duplicate_reason",
    "DROP INDEX IF EXISTS children_snils_hash_idx",
    "CREATE UNIQUE INDEX children_snils_hash_uq ON children (snils_hash)",
]


def upgrade() -> None:
    for stmt in UPGRADE:
        op.execute(stmt)


def downgrade() -> None:
    for stmt in DOWNGRADE:
        op.execute(stmt)
