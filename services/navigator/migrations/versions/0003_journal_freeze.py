"""The month-close protocol: journal months frozen by the navigator before billing closes them,
and a log of every attendance.recorded event published (the watermark billing waits for).

Replaces ``closed_months`` (learned after the fact from billing's ChargePosted): months in it are
carried over as frozen.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from pfdo_plumbing.migrations import execute_all

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE journal_months (
        month varchar(7) PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
        state varchar(10) NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'frozen')),
        attendance_events integer CHECK (attendance_events >= 0),
        frozen_on date,
        frozen_by varchar(20) CHECK (frozen_by IN ('operator', 'schedule')),
        frozen_at timestamptz,
        CHECK ((state = 'frozen') = (frozen_on IS NOT NULL AND frozen_by IS NOT NULL AND attendance_events IS NOT NULL))
    )
    """,
    # one row per attendance.recorded event published: insert-only, so concurrent postings of one
    # month never wait on each other; the freeze counts them once, under its exclusive lock
    """
    CREATE TABLE attendance_batches (
        batch_id uuid PRIMARY KEY,
        month varchar(7) NOT NULL REFERENCES journal_months (month),
        enrolment_id uuid NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX ix_attendance_batches_month ON attendance_batches (month)",
    """
    INSERT INTO journal_months (month, state, attendance_events, frozen_on, frozen_by, frozen_at)
    SELECT month, 'frozen', 0, closed_at::date, 'operator', closed_at FROM closed_months
    """,
    "DROP TABLE closed_months",
]

DOWNGRADE = [
    "CREATE TABLE closed_months (month varchar(7) PRIMARY KEY, closed_at timestamptz NOT NULL DEFAULT now())",
    "INSERT INTO closed_months (month, closed_at) SELECT month, frozen_at FROM journal_months WHERE state = 'frozen'",
    "DROP TABLE attendance_batches",
    "DROP TABLE journal_months",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
