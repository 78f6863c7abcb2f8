"""Seats taken at commit: an application for a group with free seats writes a claim beside its
row, and a deferred constraint trigger takes the seat while the transaction commits.

The seat hold was the last statement before the commit, so the group's row stayed locked
from the hold's answer until the navigator sent COMMIT. Under load that gap is the service's
event-loop delay, and every applicant of the group queued on the row waited for it in turn.
Taken inside the commit, the lock is held for the update and the commit's flush only, with no
round trip to the service in between.

The trigger never oversells: the update is the same atomic ``held < capacity`` hold. When the
group has filled meanwhile, the commit fails with SQLSTATE ``PFS01`` (no waiting list) or
``PFS02`` (the group keeps a waiting list, so the application is decided again under the
group's lock) and nothing of the transaction is kept.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from pfdo_plumbing.migrations import execute_all

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE seat_claims (
        enrolment_id uuid PRIMARY KEY,
        module_id uuid NOT NULL
    )
    """,
    """
    CREATE FUNCTION take_claimed_seat() RETURNS trigger LANGUAGE plpgsql AS $body$
    DECLARE
        keeps_list boolean;
    BEGIN
        UPDATE modules SET held = held + 1 WHERE module_id = NEW.module_id AND held < capacity;
        IF NOT FOUND THEN
            SELECT waitlist_enabled INTO keeps_list FROM modules WHERE module_id = NEW.module_id;
            RAISE EXCEPTION USING
                ERRCODE = CASE WHEN keeps_list THEN 'PFS02' ELSE 'PFS01' END,
                MESSAGE = 'no free seat left in group ' || NEW.module_id;
        END IF;
        DELETE FROM seat_claims WHERE enrolment_id = NEW.enrolment_id;
        RETURN NULL;
    END
    $body$
    """,
    """
    CREATE CONSTRAINT TRIGGER seat_claims_take_seat AFTER INSERT ON seat_claims
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION take_claimed_seat()
    """,
]

DOWNGRADE = [
    "DROP TRIGGER seat_claims_take_seat ON seat_claims",
    "DROP FUNCTION take_claimed_seat()",
    "DROP TABLE seat_claims",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
