"""Billing tables: certificates and modules (read models), periods, nominals, caps and the
funding queue, the double-entry ledger (accounts, certificate balances, transfers), contracts
and their months, attendance marks, payment orders.

The ledger balances are maintained by the database itself: a statement-level trigger on
``transfers`` applies every inserted journal row to its two accounts, set-based, so a bulk
INSERT ... SELECT of 100 000 postings updates the balances in one pass. CHECK constraints refuse
any state that breaks an invariant (no certificate balance below zero, nominal = available +
reserved + spent), whatever code path wrote it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from pfdo_plumbing.migrations import execute_all

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE certificates (
        certificate_id UUID PRIMARY KEY,
        municipality_code VARCHAR(2) NOT NULL,
        birth_date DATE NOT NULL,
        status VARCHAR(16) NOT NULL CHECK (status IN ('active', 'suspended', 'expired', 'closed')),
        usage_kind VARCHAR(16) NOT NULL CHECK (usage_kind IN ('accounting', 'funding')),
        parent_id VARCHAR(255) NOT NULL,
        valid_until DATE,
        funded_on DATE,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX ix_certificates_parent ON certificates (parent_id)",
    """
    CREATE TABLE programs (
        program_id UUID PRIMARY KEY,
        provider_id UUID NOT NULL,
        revision INTEGER NOT NULL CHECK (revision >= 1),
        state VARCHAR(16) NOT NULL
            CHECK (state IN ('draft', 'submitted', 'certified', 'rejected', 'archived'))
    )
    """,
    """
    CREATE TABLE modules (
        module_id UUID PRIMARY KEY,
        program_id UUID NOT NULL REFERENCES programs (program_id),
        provider_id UUID NOT NULL,
        municipality_code VARCHAR(2) NOT NULL,
        direction VARCHAR(32) NOT NULL,
        funding_kind VARCHAR(16) NOT NULL CHECK (funding_kind IN ('certificate', 'municipal_task')),
        start_date DATE NOT NULL,
        end_date DATE NOT NULL,
        price_kopecks BIGINT NOT NULL CHECK (price_kopecks >= 0),
        normative_cost_kopecks BIGINT CHECK (normative_cost_kopecks >= 0),
        weekdays SMALLINT[] NOT NULL,
        lessons_per_week INTEGER NOT NULL CHECK (lessons_per_week >= 1),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        state VARCHAR(16) NOT NULL,
        CHECK (end_date >= start_date)
    )
    """,
    "CREATE INDEX ix_modules_program ON modules (program_id)",
    """
    CREATE TABLE periods (
        period_id UUID PRIMARY KEY,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        status VARCHAR(8) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'closed')),
        opened_at TIMESTAMPTZ,
        closed_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CHECK (ends_on >= starts_on)
    )
    """,
    """
    CREATE TABLE nominals (
        period_id UUID NOT NULL REFERENCES periods (period_id),
        municipality_code VARCHAR(2) NOT NULL,
        age_min SMALLINT NOT NULL CHECK (age_min >= 0),
        age_max SMALLINT NOT NULL CHECK (age_max <= 18),
        amount_kopecks BIGINT NOT NULL CHECK (amount_kopecks >= 0),
        PRIMARY KEY (period_id, municipality_code, age_min),
        CHECK (age_max >= age_min)
    )
    """,
    """
    CREATE TABLE caps (
        period_id UUID NOT NULL REFERENCES periods (period_id),
        municipality_code VARCHAR(2) NOT NULL,
        funding_cap INTEGER CHECK (funding_cap >= 0),
        funding_used INTEGER NOT NULL DEFAULT 0 CHECK (funding_used >= 0),
        free_places INTEGER CHECK (free_places >= 0),
        free_places_used INTEGER NOT NULL DEFAULT 0 CHECK (free_places_used >= 0),
        direction_cap INTEGER CHECK (direction_cap >= 1),
        PRIMARY KEY (period_id, municipality_code),
        CHECK (funding_cap IS NULL OR funding_used <= funding_cap),
        CHECK (free_places IS NULL OR free_places_used <= free_places)
    )
    """,
    """
    CREATE TABLE funding_queue (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        period_id UUID NOT NULL REFERENCES periods (period_id),
        municipality_code VARCHAR(2) NOT NULL,
        enrolment_id UUID NOT NULL UNIQUE,
        certificate_id UUID NOT NULL,
        request JSONB NOT NULL,
        status VARCHAR(10) NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'admitted', 'rejected')),
        queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX ix_funding_queue_waiting ON funding_queue (period_id, municipality_code, seq) WHERE status = 'waiting'",
    # --- ledger ----------------------------------------------------------------------------
    """
    CREATE TABLE accounts (
        kind VARCHAR(24) NOT NULL CHECK (kind IN ('budget', 'provider_payable', 'budget_outlay',
                                                   'family_receivable', 'provider_copayment')),
        owner VARCHAR(64) NOT NULL,
        period_id UUID NOT NULL,
        balance BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, owner, period_id),
        CHECK (kind NOT IN ('provider_payable', 'provider_copayment') OR balance >= 0),
        CHECK (kind NOT IN ('budget', 'budget_outlay', 'family_receivable') OR balance <= 0)
    )
    """,
    """
    CREATE TABLE certificate_balances (
        certificate_id UUID NOT NULL,
        period_id UUID NOT NULL,
        nominal BIGINT NOT NULL DEFAULT 0,
        available BIGINT NOT NULL DEFAULT 0,
        reserved BIGINT NOT NULL DEFAULT 0,
        spent BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (certificate_id, period_id),
        CONSTRAINT available_not_negative CHECK (available >= 0),
        CONSTRAINT reserved_not_negative CHECK (reserved >= 0),
        CONSTRAINT spent_not_negative CHECK (spent >= 0),
        CONSTRAINT nominal_balanced CHECK (nominal = available + reserved + spent)
    )
    """,
    """
    CREATE TABLE transfers (
        transfer_id VARCHAR(160) PRIMARY KEY,
        kind VARCHAR(16) NOT NULL CHECK (kind IN ('credit_nominal', 'reserve', 'post', 'post_mirror',
                                                  'release', 'return_unused', 'invoice_family')),
        period_id UUID NOT NULL,
        debit_kind VARCHAR(24) NOT NULL,
        debit_owner VARCHAR(64) NOT NULL,
        credit_kind VARCHAR(24) NOT NULL,
        credit_owner VARCHAR(64) NOT NULL,
        amount BIGINT NOT NULL CHECK (amount > 0),
        pending_state VARCHAR(8) CHECK (pending_state IN ('pending', 'posted', 'voided')),
        pending_id VARCHAR(160),
        certificate_id UUID,
        enrolment_id UUID,
        month DATE,
        cause_event_id UUID,
        cause VARCHAR(80),
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CHECK (cause_event_id IS NOT NULL OR cause IS NOT NULL),
        CHECK ((kind = 'reserve') = (pending_state IS NOT NULL)),
        CHECK (debit_kind <> credit_kind OR debit_owner <> credit_owner)
    )
    """,
    "CREATE INDEX ix_transfers_certificate ON transfers (certificate_id, created_at) WHERE certificate_id IS NOT NULL",
    """
    CREATE FUNCTION billing_apply_transfers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO certificate_balances (certificate_id, period_id)
            SELECT DISTINCT owner::uuid, period_id FROM (
                SELECT debit_owner AS owner, debit_kind AS kind, period_id FROM new_rows
                UNION ALL
                SELECT credit_owner, credit_kind, period_id FROM new_rows
            ) l WHERE kind LIKE 'certificate_%'
            ON CONFLICT DO NOTHING;
        UPDATE certificate_balances b SET
            nominal = b.nominal + d.nominal,
            available = b.available + d.available,
            reserved = b.reserved + d.reserved,
            spent = b.spent + d.spent
        FROM (
            SELECT owner::uuid AS certificate_id, period_id,
                COALESCE(sum(delta) FILTER (WHERE tkind IN ('credit_nominal', 'return_unused')), 0) AS nominal,
                COALESCE(sum(delta) FILTER (WHERE kind = 'certificate_available'), 0) AS available,
                COALESCE(sum(delta) FILTER (WHERE kind = 'certificate_reserved'), 0) AS reserved,
                COALESCE(sum(delta) FILTER (WHERE kind = 'certificate_spent'), 0) AS spent
            FROM (
                SELECT kind AS tkind, debit_kind AS kind, debit_owner AS owner, period_id, -amount AS delta FROM new_rows
                UNION ALL
                SELECT kind, credit_kind, credit_owner, period_id, amount FROM new_rows
            ) l
            WHERE kind LIKE 'certificate_%'
            GROUP BY owner, period_id
        ) d
        WHERE b.certificate_id = d.certificate_id AND b.period_id = d.period_id;

        -- accounts are created at zero, then moved (a CHECK is tested on the row an INSERT
        -- proposes, before ON CONFLICT, so an upsert of the delta would trip the sign checks)
        INSERT INTO accounts (kind, owner, period_id, balance)
            SELECT DISTINCT kind, owner, period_id, 0 FROM (
                SELECT debit_kind AS kind, debit_owner AS owner, period_id FROM new_rows
                UNION ALL
                SELECT credit_kind, credit_owner, period_id FROM new_rows
            ) l
            WHERE kind NOT LIKE 'certificate_%'
            ON CONFLICT DO NOTHING;
        UPDATE accounts a SET balance = a.balance + d.delta
        FROM (
            SELECT kind, owner, period_id, sum(delta) AS delta FROM (
                SELECT debit_kind AS kind, debit_owner AS owner, period_id, -amount AS delta FROM new_rows
                UNION ALL
                SELECT credit_kind, credit_owner, period_id, amount FROM new_rows
            ) l
            WHERE kind NOT LIKE 'certificate_%'
            GROUP BY kind, owner, period_id
        ) d
        WHERE a.kind = d.kind AND a.owner = d.owner AND a.period_id = d.period_id;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER transfers_apply AFTER INSERT ON transfers
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION billing_apply_transfers()
    """,
    """
    CREATE FUNCTION billing_transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'transfers are append-only';
        END IF;
        IF (NEW.transfer_id, NEW.kind, NEW.period_id, NEW.debit_kind, NEW.debit_owner, NEW.credit_kind,
            NEW.credit_owner, NEW.amount)
           IS DISTINCT FROM
           (OLD.transfer_id, OLD.kind, OLD.period_id, OLD.debit_kind, OLD.debit_owner, OLD.credit_kind,
            OLD.credit_owner, OLD.amount)
           OR NOT (OLD.pending_state = 'pending' AND NEW.pending_state IN ('posted', 'voided')) THEN
            RAISE EXCEPTION 'a transfer is immutable; only a pending one may become posted or voided';
        END IF;
        RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers
        FOR EACH ROW EXECUTE FUNCTION billing_transfers_immutable()
    """,
    # --- contracts -------------------------------------------------------------------------
    """
    CREATE TABLE contracts (
        enrolment_id UUID PRIMARY KEY,
        certificate_id UUID NOT NULL,
        module_id UUID NOT NULL,
        program_id UUID NOT NULL,
        provider_id UUID NOT NULL,
        municipality_code VARCHAR(2) NOT NULL,
        payer_code VARCHAR(2),
        direction VARCHAR(32) NOT NULL,
        funding_kind VARCHAR(16) NOT NULL CHECK (funding_kind IN ('certificate', 'municipal_task')),
        period_id UUID,
        payment_mode VARCHAR(10) NOT NULL CHECK (payment_mode IN ('monthly', 'attendance')),
        start_date DATE NOT NULL,
        end_date DATE NOT NULL,
        weekdays SMALLINT[] NOT NULL,
        status VARCHAR(12) NOT NULL CHECK (status IN ('queued', 'rejected', 'reserved', 'active',
                                                      'cancelled', 'declined', 'expired', 'terminated', 'ended')),
        reject_reason VARCHAR(32),
        total_cost_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (total_cost_kopecks >= 0),
        certificate_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (certificate_kopecks >= 0),
        family_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (family_kopecks >= 0),
        funding_activated BOOLEAN NOT NULL DEFAULT false,
        cause_event_id UUID,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        CHECK (end_date >= start_date),
        CHECK (total_cost_kopecks = certificate_kopecks + family_kopecks),
        CHECK ((status = 'rejected') = (reject_reason IS NOT NULL))
    )
    """,
    "CREATE INDEX ix_contracts_certificate ON contracts (certificate_id)",
    "CREATE INDEX ix_contracts_provider ON contracts (provider_id)",
    """
    CREATE TABLE contract_months (
        enrolment_id UUID NOT NULL REFERENCES contracts (enrolment_id),
        month DATE NOT NULL CHECK (extract(day FROM month) = 1),
        certificate_kopecks BIGINT NOT NULL CHECK (certificate_kopecks >= 0),
        family_kopecks BIGINT NOT NULL CHECK (family_kopecks >= 0),
        planned_lessons INTEGER NOT NULL CHECK (planned_lessons >= 0),
        state VARCHAR(10) NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'closed', 'released')),
        attended_lessons INTEGER CHECK (attended_lessons >= 0),
        posted_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (posted_kopecks >= 0),
        released_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (released_kopecks >= 0),
        family_invoiced_kopecks BIGINT NOT NULL DEFAULT 0 CHECK (family_invoiced_kopecks >= 0),
        closed_at TIMESTAMPTZ,
        PRIMARY KEY (enrolment_id, month),
        CHECK (posted_kopecks + released_kopecks <= certificate_kopecks),
        CHECK (state <> 'closed' OR posted_kopecks + released_kopecks = certificate_kopecks),
        CHECK (family_invoiced_kopecks <= family_kopecks)
    )
    """,
    "CREATE INDEX ix_contract_months_month ON contract_months (month, state)",
    """
    CREATE TABLE attendance_marks (
        mark_id UUID PRIMARY KEY,
        enrolment_id UUID NOT NULL,
        lesson_date DATE NOT NULL,
        status VARCHAR(8) NOT NULL CHECK (status IN ('present', 'absent', 'excused')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        disputed BOOLEAN NOT NULL DEFAULT false
    )
    """,
    "CREATE INDEX ix_attendance_enrolment_date ON attendance_marks (enrolment_id, lesson_date)",
    """
    CREATE TABLE month_closes (
        month DATE PRIMARY KEY CHECK (extract(day FROM month) = 1),
        status VARCHAR(10) NOT NULL CHECK (status IN ('running', 'done')),
        contracts_closed INTEGER NOT NULL DEFAULT 0,
        started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        finished_at TIMESTAMPTZ
    )
    """,
    # --- payment orders --------------------------------------------------------------------
    """
    CREATE TABLE payment_orders (
        order_id UUID PRIMARY KEY,
        provider_id UUID NOT NULL,
        period_id UUID NOT NULL,
        month DATE NOT NULL CHECK (extract(day FROM month) = 1),
        kind VARCHAR(8) NOT NULL CHECK (kind IN ('advance', 'final')),
        base_kopecks BIGINT NOT NULL CHECK (base_kopecks >= 0),
        advance_paid_kopecks BIGINT NOT NULL CHECK (advance_paid_kopecks >= 0),
        offset_applied_kopecks BIGINT NOT NULL CHECK (offset_applied_kopecks >= 0),
        amount_kopecks BIGINT NOT NULL CHECK (amount_kopecks >= 0),
        offset_carried_kopecks BIGINT NOT NULL CHECK (offset_carried_kopecks >= 0),
        contract_count INTEGER NOT NULL CHECK (contract_count >= 0),
        issued_on DATE NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        UNIQUE (provider_id, month, kind),
        CHECK (amount_kopecks = 0 OR offset_carried_kopecks = 0),
        CHECK (kind = 'final' OR advance_paid_kopecks = 0),
        CHECK (kind = 'advance' OR amount_kopecks - offset_carried_kopecks
               = base_kopecks - advance_paid_kopecks - offset_applied_kopecks)
    )
    """,
    """
    CREATE TABLE payment_order_lines (
        order_id UUID NOT NULL REFERENCES payment_orders (order_id),
        enrolment_id UUID NOT NULL,
        certificate_id UUID NOT NULL,
        amount_kopecks BIGINT NOT NULL CHECK (amount_kopecks >= 0),
        PRIMARY KEY (order_id, enrolment_id)
    )
    """,
]

DOWNGRADE = [
    "DROP TABLE IF EXISTS payment_order_lines",
    "DROP TABLE IF EXISTS payment_orders",
    "DROP TABLE IF EXISTS month_closes",
    "DROP TABLE IF EXISTS attendance_marks",
    "DROP TABLE IF EXISTS contract_months",
    "DROP TABLE IF EXISTS contracts",
    "DROP TABLE IF EXISTS transfers",
    "DROP FUNCTION IF EXISTS billing_apply_transfers CASCADE",
    "DROP FUNCTION IF EXISTS billing_transfers_immutable CASCADE",
    "DROP TABLE IF EXISTS certificate_balances",
    "DROP TABLE IF EXISTS accounts",
    "DROP TABLE IF EXISTS funding_queue",
    "DROP TABLE IF EXISTS caps",
    "DROP TABLE IF EXISTS nominals",
    "DROP TABLE IF EXISTS periods",
    "DROP TABLE IF EXISTS modules",
    "DROP TABLE IF EXISTS programs",
    "DROP TABLE IF EXISTS certificates",
]


def upgrade() -> None:
    execute_all(UPGRADE)


def downgrade() -> None:
    execute_all(DOWNGRADE)
