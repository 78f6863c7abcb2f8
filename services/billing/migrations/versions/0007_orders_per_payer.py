"""Payment orders per payer, their numbers and the treasury's statuses; month close per municipality.

* ``payment_orders.payer_code``: the municipality whose certificates the order pays for; the
  original orders are unique per (provider, payer, month, kind). A returned order is reissued
  as a new order (``reissue_of``: the returned one, which stays as history).
* ``payment_orders.number``: a human number, a sequence per year (``2026-000123``), drawn from
  ``payment_order_numbers`` under the year's row lock (no gaps).
* ``payment_orders.status``: issued → accepted → paid | returned, as the treasury reports it;
  ``payment_order_statuses`` keeps each status reported once per order (first report wins).
* ``month_closes.municipality_code``: '' for the region-wide close, or one municipality.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = [
    "ALTER TABLE payment_orders ADD COLUMN payer_code VARCHAR(2)",
    # orders of earlier versions were per provider: each takes the payer of its lines
    """
    UPDATE payment_orders o SET payer_code = COALESCE(
        (SELECT min(c.payer_code) FROM payment_order_lines l JOIN contracts c ON c.enrolment_id = l.enrolment_id
          WHERE l.order_id = o.order_id),
        (SELECT min(c.payer_code) FROM contracts c WHERE c.provider_id = o.provider_id), '00')
    """,
    "ALTER TABLE payment_orders ALTER COLUMN payer_code SET NOT NULL",
    """
    CREATE TABLE payment_order_numbers (
        year SMALLINT PRIMARY KEY,
        last_number INTEGER NOT NULL CHECK (last_number >= 0)
    )
    """,
    "ALTER TABLE payment_orders ADD COLUMN number VARCHAR(16)",
    """
    UPDATE payment_orders o SET number = n.number FROM (
        SELECT order_id, to_char(issued_on, 'YYYY') || '-' || lpad(row_number() OVER (
            PARTITION BY extract(year FROM issued_on) ORDER BY created_at, order_id)::text, 6, '0') AS number
        FROM payment_orders) n
    WHERE n.order_id = o.order_id
    """,
    """
    INSERT INTO payment_order_numbers (year, last_number)
    SELECT extract(year FROM issued_on)::smallint, count(*) FROM payment_orders GROUP BY 1
    """,
    "ALTER TABLE payment_orders ALTER COLUMN number SET NOT NULL",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_number_key UNIQUE (number)",
    """
    ALTER TABLE payment_orders
        ADD COLUMN status VARCHAR(8) NOT NULL DEFAULT 'issued'
            CHECK (status IN ('issued', 'accepted', 'paid', 'returned')),
        ADD COLUMN status_on DATE,
        ADD COLUMN treasury_reference VARCHAR(64),
        ADD COLUMN return_reason VARCHAR(500),
        ADD COLUMN status_changed_at TIMESTAMPTZ,
        ADD COLUMN reissue_of UUID UNIQUE REFERENCES payment_orders (order_id),
        ADD CONSTRAINT payment_orders_returned_has_reason CHECK (status <> 'returned' OR return_reason IS NOT NULL)
    """,
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_provider_id_month_kind_key",
    "CREATE UNIQUE INDEX ux_payment_orders_original ON payment_orders (provider_id, payer_code, month, kind) "
    "WHERE reissue_of IS NULL",
    "CREATE INDEX ix_payment_orders_payer_month ON payment_orders (payer_code, month)",
    """
    CREATE TABLE payment_order_statuses (
        order_id UUID NOT NULL REFERENCES payment_orders (order_id),
        status VARCHAR(8) NOT NULL CHECK (status IN ('accepted', 'paid', 'returned')),
        status_on DATE NOT NULL,
        treasury_reference VARCHAR(64),
        reason VARCHAR(500),
        reported_via VARCHAR(8) NOT NULL CHECK (reported_via IN ('api', 'event')),
        applied BOOLEAN NOT NULL,
        received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (order_id, status)
    )
    """,
    "ALTER TABLE month_closes ADD COLUMN municipality_code VARCHAR(2) NOT NULL DEFAULT ''",
    "ALTER TABLE month_closes DROP CONSTRAINT month_closes_pkey",
    "ALTER TABLE month_closes ADD PRIMARY KEY (month, municipality_code)",
]

DOWNGRADE = [
    "DELETE FROM month_closes WHERE municipality_code <> ''",
    "ALTER TABLE month_closes DROP CONSTRAINT month_closes_pkey",
    "ALTER TABLE month_closes DROP COLUMN municipality_code",
    "ALTER TABLE month_closes ADD PRIMARY KEY (month)",
    "DROP TABLE payment_order_statuses",
    "DROP INDEX ix_payment_orders_payer_month",
    "DROP INDEX ux_payment_orders_original",
    # reissued orders and per-payer originals cannot go back to one order per provider and month
    "UPDATE month_adjustments SET settled_order_id = NULL WHERE settled_order_id IN "
    "(SELECT order_id FROM payment_orders WHERE reissue_of IS NOT NULL)",
    "DELETE FROM payment_order_lines WHERE order_id IN (SELECT order_id FROM payment_orders WHERE reissue_of IS NOT NULL)",
    "DELETE FROM payment_orders WHERE reissue_of IS NOT NULL",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_returned_has_reason",
    "ALTER TABLE payment_orders DROP COLUMN reissue_of, DROP COLUMN status_changed_at, DROP COLUMN return_reason, "
    "DROP COLUMN treasury_reference, DROP COLUMN status_on, DROP COLUMN status",
    "ALTER TABLE payment_orders DROP CONSTRAINT payment_orders_number_key",
    "ALTER TABLE payment_orders DROP COLUMN number",
    "DROP TABLE payment_order_numbers",
    "ALTER TABLE payment_orders DROP COLUMN payer_code",
    "ALTER TABLE payment_orders ADD CONSTRAINT payment_orders_provider_id_month_kind_key UNIQUE (provider_id, month, kind)",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
