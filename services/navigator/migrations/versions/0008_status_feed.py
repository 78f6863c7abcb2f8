"""The status feed a parent or a provider follows as Server-Sent Events: enrolment state
changes, disputes and attendance batches, each with a position that only grows.

Rows come from the state changes themselves, in their own transactions: triggers on
``enrolments`` (every state or funding-queue change, including those billing's answers cause,
which publish no event) and ``disputes``, and on the outbox for ``attendance.recorded`` events
(one per enrolment and month of a journal posting). Outbox rows are deleted once relayed, so
the feed keeps its own rows (``feed_retention_days``).

A position must never appear below one a reader has already seen, or a reader resuming after it
would miss the row. Numbers taken while the row is written would not do that (transactions
commit in another order than they draw numbers), so the triggers write to
``status_feed_pending`` and one sequencer at a time (the row lock on ``status_feed_state``)
moves committed rows to ``status_feed`` with the next positions, in the order they were written,
in one transaction: a reader sees positions 1..N and nothing above N that could still be filled
below it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from pfdo_plumbing.migrations import execute_all

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE status_feed_pending (
        entry_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        parent_id varchar(255) NOT NULL,
        provider_id uuid NOT NULL,
        kind varchar(20) NOT NULL,
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE status_feed (
        position bigint PRIMARY KEY,
        parent_id varchar(255) NOT NULL,
        provider_id uuid NOT NULL,
        kind varchar(20) NOT NULL CHECK (kind IN ('enrolment', 'dispute', 'attendance')),
        data jsonb NOT NULL,
        occurred_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX ix_status_feed_parent ON status_feed (parent_id, position)",
    "CREATE INDEX ix_status_feed_provider ON status_feed (provider_id, position)",
    """
    CREATE TABLE status_feed_state (
        id smallint PRIMARY KEY CHECK (id = 1),
        last_position bigint NOT NULL,
        pruned_through bigint NOT NULL
    )
    """,
    "INSERT INTO status_feed_state VALUES (1, 0, 0)",
    """
    CREATE FUNCTION status_feed_enrolment() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state
                AND OLD.queue_position IS NOT DISTINCT FROM NEW.queue_position THEN
            RETURN NULL;
        END IF;
        INSERT INTO status_feed_pending (parent_id, provider_id, kind, data) VALUES (
            NEW.parent_id, NEW.provider_id, 'enrolment', jsonb_build_object(
                'enrolment_id', NEW.enrolment_id, 'certificate_id', NEW.certificate_id,
                'module_id', NEW.module_id, 'program_id', NEW.program_id, 'state', NEW.state,
                'previous_state', CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END,
                'reason', NEW.reason, 'queue_position', NEW.queue_position,
                'starts_on', NEW.starts_on, 'ends_on', NEW.ends_on));
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER enrolments_status_feed AFTER INSERT OR UPDATE OF state, queue_position ON enrolments
        FOR EACH ROW EXECUTE FUNCTION status_feed_enrolment()
    """,
    """
    CREATE FUNCTION status_feed_dispute() RETURNS trigger LANGUAGE plpgsql AS $body$
    BEGIN
        IF TG_OP = 'UPDATE' AND OLD.state IS NOT DISTINCT FROM NEW.state THEN
            RETURN NULL;
        END IF;
        INSERT INTO status_feed_pending (parent_id, provider_id, kind, data)
        SELECT e.parent_id, e.provider_id, 'dispute', jsonb_build_object(
                'dispute_id', NEW.dispute_id, 'enrolment_id', NEW.enrolment_id,
                'certificate_id', e.certificate_id, 'mark_id', NEW.mark_id, 'lesson_date', NEW.lesson_date,
                'state', NEW.state, 'claimed_status', NEW.claimed_status)
        FROM enrolments e WHERE e.enrolment_id = NEW.enrolment_id;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER disputes_status_feed AFTER INSERT OR UPDATE OF state ON disputes
        FOR EACH ROW EXECUTE FUNCTION status_feed_dispute()
    """,
    """
    CREATE FUNCTION status_feed_attendance() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        d jsonb := NEW.payload -> 'data';
    BEGIN
        INSERT INTO status_feed_pending (parent_id, provider_id, kind, data)
        SELECT e.parent_id, e.provider_id, 'attendance', jsonb_build_object(
                'batch_id', d -> 'batch_id', 'enrolment_id', e.enrolment_id, 'certificate_id', e.certificate_id,
                'module_id', d -> 'module_id', 'month', d -> 'month', 'marks', d -> 'marks')
        FROM enrolments e WHERE e.enrolment_id = (d ->> 'enrolment_id')::uuid;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE TRIGGER outbox_status_feed AFTER INSERT ON outbox
        FOR EACH ROW WHEN (NEW.event_type = 'pfdo.navigator.attendance.recorded.v1')
        EXECUTE FUNCTION status_feed_attendance()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER outbox_status_feed ON outbox",
    "DROP FUNCTION status_feed_attendance()",
    "DROP TRIGGER disputes_status_feed ON disputes",
    "DROP FUNCTION status_feed_dispute()",
    "DROP TRIGGER enrolments_status_feed ON enrolments",
    "DROP FUNCTION status_feed_enrolment()",
    "DROP TABLE status_feed_state",
    "DROP TABLE status_feed",
    "DROP TABLE status_feed_pending",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
