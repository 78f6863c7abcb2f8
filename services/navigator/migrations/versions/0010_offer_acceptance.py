"""The contract is made by offer and acceptance: after the provider confirms an application the
platform issues the offer (state ``offered``) and the parent accepts it (``confirmed``). The
offer's issue date and deadline and the acceptance (who and when) are recorded on the enrolment.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from pfdo_plumbing.migrations import execute_all

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_STATES = ("'requested', 'reserved', 'rejected', 'confirmed', 'declined', 'expired', 'cancelled', 'terminated', "
           "'ended', 'waitlisted', 'withdrawn'")

UPGRADE = [
    "ALTER TABLE enrolments DROP CONSTRAINT enrolments_state_check",
    f"""
    ALTER TABLE enrolments
        ADD CONSTRAINT enrolments_state_check CHECK (state IN ({_STATES}, 'offered')),
        ADD COLUMN offered_on date,
        ADD COLUMN offer_expires_on date,
        ADD COLUMN accepted_at timestamptz,
        ADD COLUMN accepted_by varchar(255),
        ADD CONSTRAINT enrolments_offer_dated CHECK (state <> 'offered' OR (offered_on IS NOT NULL
            AND offer_expires_on IS NOT NULL))
    """,
    # one live application per child and group: an open offer is live
    "DROP INDEX ux_enrolments_live",
    """
    CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (certificate_id, module_id)
        WHERE state IN ('requested', 'reserved', 'offered', 'confirmed', 'waitlisted')
    """,
    # the timer's search for offers past their deadline
    "CREATE INDEX ix_enrolments_offer_deadline ON enrolments (offer_expires_on) WHERE state = 'offered'",
]

DOWNGRADE = [
    "DROP INDEX ix_enrolments_offer_deadline",
    "UPDATE enrolments SET state = 'confirmed' WHERE state = 'offered'",
    "DROP INDEX ux_enrolments_live",
    """
    CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (certificate_id, module_id)
        WHERE state IN ('requested', 'reserved', 'confirmed', 'waitlisted')
    """,
    """
    ALTER TABLE enrolments DROP CONSTRAINT enrolments_offer_dated, DROP COLUMN accepted_by,
        DROP COLUMN accepted_at, DROP COLUMN offer_expires_on, DROP COLUMN offered_on,
        DROP CONSTRAINT enrolments_state_check
    """,
    f"ALTER TABLE enrolments ADD CONSTRAINT enrolments_state_check CHECK (state IN ({_STATES}))",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
