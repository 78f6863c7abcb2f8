"""Agreements (соглашения) between a provider and a payer municipality, per program period.

* ``agreements``: number, provider, payer, period, the yearly limit and what is used of it
  (reserved or spent, not released: kept by the reservation and release paths in the same
  transaction), concluded/ended dates, status ``active`` | ``ended``. At most one active
  agreement per provider, payer and period.
* ``contracts.agreement_id``: the agreement a paid reservation was made under (its releases free
  that agreement's limit).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE agreements (
        agreement_id UUID PRIMARY KEY,
        number VARCHAR(40) NOT NULL,
        provider_id UUID NOT NULL,
        payer_code VARCHAR(2) NOT NULL,
        period_id UUID NOT NULL REFERENCES periods (period_id),
        limit_kopecks BIGINT NOT NULL CHECK (limit_kopecks >= 0),
        used_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (used_kopecks >= 0),
        concluded_on DATE NOT NULL,
        ended_on DATE,
        status VARCHAR(8) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CONSTRAINT agreements_ended_has_date CHECK ((status = 'ended') = (ended_on IS NOT NULL))
    )
    """,
    "CREATE UNIQUE INDEX ux_agreements_active ON agreements (provider_id, payer_code, period_id) "
    "WHERE status = 'active'",
    "CREATE INDEX ix_agreements_payer ON agreements (payer_code, period_id)",
    "ALTER TABLE contracts ADD COLUMN agreement_id UUID REFERENCES agreements (agreement_id)",
]

DOWNGRADE = [
    "ALTER TABLE contracts DROP COLUMN agreement_id",
    "DROP TABLE agreements",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
