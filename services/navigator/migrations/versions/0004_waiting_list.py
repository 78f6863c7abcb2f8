"""Waiting lists of module groups: the provider's setting on the module, waiting applications
as enrolments in state ``waitlisted`` ordered by a database sequence, ``withdrawn`` for those
that left the list.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from pfdo_plumbing.migrations import execute_all

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    ALTER TABLE modules
        ADD COLUMN waitlist_enabled boolean NOT NULL DEFAULT false,
        ADD COLUMN waitlist_max integer CHECK (waitlist_max BETWEEN 1 AND 10000)
    """,
    "CREATE SEQUENCE enrolment_wait_seq AS bigint",
    "ALTER TABLE enrolments DROP CONSTRAINT enrolments_state_check",
    """
    ALTER TABLE enrolments
        ADD CONSTRAINT enrolments_state_check CHECK (state IN ('requested', 'reserved', 'rejected', 'confirmed',
            'declined', 'expired', 'cancelled', 'terminated', 'ended', 'waitlisted', 'withdrawn')),
        ADD COLUMN waitlisted_at timestamptz,
        ADD COLUMN wait_seq bigint UNIQUE,
        ADD CONSTRAINT enrolments_waiting_ordered CHECK (state <> 'waitlisted' OR (wait_seq IS NOT NULL
            AND waitlisted_at IS NOT NULL))
    """,
    # one live application per child and group, waiting ones included
    "DROP INDEX ux_enrolments_live",
    """
    CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (certificate_id, module_id)
        WHERE state IN ('requested', 'reserved', 'confirmed', 'waitlisted')
    """,
    "CREATE INDEX ix_enrolments_waiting ON enrolments (module_id, wait_seq) WHERE state = 'waitlisted'",
]

DOWNGRADE = [
    "DROP INDEX ix_enrolments_waiting",
    "DELETE FROM enrolments WHERE state IN ('waitlisted', 'withdrawn')",
    "DROP INDEX ux_enrolments_live",
    """
    CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (certificate_id, module_id)
        WHERE state IN ('requested', 'reserved', 'confirmed')
    """,
    """
    ALTER TABLE enrolments DROP CONSTRAINT enrolments_waiting_ordered, DROP COLUMN wait_seq,
        DROP COLUMN waitlisted_at, DROP CONSTRAINT enrolments_state_check
    """,
    """
    ALTER TABLE enrolments ADD CONSTRAINT enrolments_state_check CHECK (state IN ('requested', 'reserved',
        'rejected', 'confirmed', 'declined', 'expired', 'cancelled', 'terminated', 'ended'))
    """,
    "DROP SEQUENCE enrolment_wait_seq",
    "ALTER TABLE modules DROP COLUMN waitlist_max, DROP COLUMN waitlist_enabled",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
