"""Month-close protocol and funding queue positions.

* ``attendance_months``: per month, the navigator's frozen watermark (count of attendance events
  it published) and the count billing applied; month close waits until they meet.
* ``contracts.reservation_id``: the id billing's reservation events carry, stored so that the
  set-based month close can publish ReservationReleased for the unearned part of a month.
* ``funding_queue.position``: the queue position last published to the parent.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE attendance_months (
            month DATE PRIMARY KEY CHECK (extract(day FROM month) = 1),
            published_events INTEGER CHECK (published_events >= 0),
            frozen_on DATE,
            frozen_event_id UUID,
            applied_events INTEGER NOT NULL DEFAULT 0 CHECK (applied_events >= 0),
            CHECK ((published_events IS NULL) = (frozen_on IS NULL))
        )
        """
    )
    op.execute("ALTER TABLE contracts ADD COLUMN reservation_id UUID")
    bind = op.get_bind()
    ids = [row[0] for row in bind.execute(sa.text("SELECT enrolment_id FROM contracts"))]
    for start in range(0, len(ids), 5000):
        bind.execute(
            sa.text("UPDATE contracts SET reservation_id = :r WHERE enrolment_id = :e"),
            [{"e": e, "r": uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-billing:reservation:{e}")} for e in ids[start:start + 5000]],
        )
    op.execute("ALTER TABLE contracts ALTER COLUMN reservation_id SET NOT NULL")
    op.execute("ALTER TABLE funding_queue ADD COLUMN position INTEGER CHECK (position >= 1)")
    op.execute(
        """
        UPDATE funding_queue q SET position = r.pos FROM (
            SELECT seq, row_number() OVER (PARTITION BY period_id, municipality_code ORDER BY seq) AS pos
            FROM funding_queue WHERE status = 'waiting'
        ) r WHERE q.seq = r.seq
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE funding_queue DROP COLUMN position")
    op.execute("ALTER TABLE contracts DROP COLUMN reservation_id")
    op.execute("DROP TABLE attendance_months")
