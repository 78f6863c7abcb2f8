"""Late adjustments of closed months: disputes decided (or opened) after a month closed.

* ``month_adjustments``: one row per adjustment of a closed contract-month (what moved, why,
  and the final payment order that settled it with the provider);
* ``disputes``: each dispute billing has seen and whether it is decided, so that an opening
  that arrives again (or late) after its decision does not take the mark out of billing again;
* ``transfers.kind`` gains the late movements: ``late_charge`` (available -> spent),
  ``late_refund`` (spent -> available), ``late_mirror`` (the provider's side of either),
  ``late_invoice`` and ``late_credit`` (the family's part).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_KINDS = ("'credit_nominal', 'reserve', 'post', 'post_mirror', 'release', 'return_unused', 'invoice_family'")
_LATE_KINDS = "'late_charge', 'late_refund', 'late_mirror', 'late_invoice', 'late_credit'"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE month_adjustments (
            adjustment_id UUID PRIMARY KEY,
            enrolment_id UUID NOT NULL,
            month DATE NOT NULL,
            certificate_id UUID NOT NULL,
            provider_id UUID NOT NULL,
            period_id UUID NOT NULL,
            reason VARCHAR(20) NOT NULL CHECK (reason IN ('dispute_opened', 'dispute_resolved')),
            dispute_id UUID NOT NULL,
            mark_id UUID NOT NULL,
            attended_lessons INTEGER NOT NULL CHECK (attended_lessons >= 0),
            charged_kopecks BIGINT NOT NULL CHECK (charged_kopecks >= 0),
            refunded_kopecks BIGINT NOT NULL CHECK (refunded_kopecks >= 0),
            uncovered_change_kopecks BIGINT NOT NULL,
            family_invoiced_kopecks BIGINT NOT NULL CHECK (family_invoiced_kopecks >= 0),
            family_credited_kopecks BIGINT NOT NULL CHECK (family_credited_kopecks >= 0),
            cause_event_id UUID NOT NULL,
            settled_order_id UUID REFERENCES payment_orders (order_id),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            FOREIGN KEY (enrolment_id, month) REFERENCES contract_months (enrolment_id, month),
            CHECK (charged_kopecks = 0 OR refunded_kopecks = 0),
            CHECK (family_invoiced_kopecks = 0 OR family_credited_kopecks = 0)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE disputes (
            dispute_id UUID PRIMARY KEY,
            mark_id UUID NOT NULL,
            state VARCHAR(8) NOT NULL CHECK (state IN ('open', 'resolved')),
            updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_month_adjustments_contract_month ON month_adjustments (enrolment_id, month)")
    op.execute("CREATE INDEX ix_month_adjustments_unsettled ON month_adjustments (provider_id, period_id) "
               "WHERE settled_order_id IS NULL")
    op.execute("ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check")
    op.execute(f"ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN ({_KINDS}, {_LATE_KINDS}))")


def downgrade() -> None:
    op.execute("DROP TABLE month_adjustments")
    op.execute("DROP TABLE disputes")
    op.execute("ALTER TABLE transfers DROP CONSTRAINT transfers_kind_check")
    op.execute(f"ALTER TABLE transfers ADD CONSTRAINT transfers_kind_check CHECK (kind IN ({_KINDS}))")
