"""Navigator tables: the catalogue read model (schema ``catalogue``, rebuildable from the
topics), certificates, module seats, enrolments, attendance, disputes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The catalogue lives in its own schema so that a rebuild can fill a twin schema
# (``catalogue_rebuild``) with the same DDL and then copy it over in one transaction.
CATALOGUE_DDL = """
CREATE TABLE {schema}.providers (
    provider_id uuid PRIMARY KEY,
    status varchar(20) NOT NULL,
    municipality_code varchar(2),
    rating_score double precision,
    rating_count integer NOT NULL DEFAULT 0,
    rating_revision integer NOT NULL DEFAULT 0
);
CREATE TABLE {schema}.programs (
    program_id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    revision integer NOT NULL CHECK (revision >= 1),
    state varchar(20) NOT NULL,
    certified_on date,
    snapshot jsonb
);
CREATE TABLE {schema}.program_ratings (
    program_id uuid PRIMARY KEY,
    score double precision NOT NULL,
    count integer NOT NULL,
    means jsonb NOT NULL,
    revision integer NOT NULL
);
CREATE TABLE {schema}.entries (
    module_id uuid PRIMARY KEY,
    program_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    program_revision integer NOT NULL,
    title varchar(500) NOT NULL,
    module_title varchar(500) NOT NULL,
    description text NOT NULL,
    direction varchar(40) NOT NULL,
    municipality_code varchar(2) NOT NULL,
    venue_address varchar(1000) NOT NULL,
    age_min smallint NOT NULL,
    age_max smallint NOT NULL,
    funding_kind varchar(20) NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    weekdays smallint[] NOT NULL,
    schedule jsonb NOT NULL,
    hours integer NOT NULL,
    lessons_per_week integer NOT NULL,
    capacity integer NOT NULL,
    price_kopecks bigint NOT NULL CHECK (price_kopecks >= 0),
    normative_cost_kopecks bigint NOT NULL CHECK (normative_cost_kopecks >= 0),
    certified_on date NOT NULL,
    visible boolean NOT NULL,
    rating_score double precision,
    rating_count integer NOT NULL DEFAULT 0,
    sort_rating double precision GENERATED ALWAYS AS (coalesce(rating_score, 0)) STORED,
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('russian', coalesce(title, '')), 'A')
        || setweight(to_tsvector('russian', coalesce(module_title, '')), 'B')
        || setweight(to_tsvector('russian', coalesce(description, '')), 'C')
    ) STORED,
    CHECK (age_min <= age_max),
    CHECK (start_date <= end_date)
);
CREATE INDEX ix_entries_program ON {schema}.entries (program_id);
CREATE INDEX ix_entries_provider ON {schema}.entries (provider_id);
CREATE INDEX ix_entries_search ON {schema}.entries USING gin (search) WHERE visible;
CREATE INDEX ix_entries_rating ON {schema}.entries (sort_rating DESC, module_id DESC) WHERE visible;
CREATE INDEX ix_entries_price ON {schema}.entries (price_kopecks, module_id) WHERE visible;
CREATE INDEX ix_entries_newest ON {schema}.entries (certified_on DESC, module_id DESC) WHERE visible;
CREATE INDEX ix_entries_direction ON {schema}.entries (direction, sort_rating DESC, module_id DESC) WHERE visible;
CREATE INDEX ix_entries_municipality ON {schema}.entries (municipality_code, sort_rating DESC, module_id DESC)
    WHERE visible;
"""

OWN_DDL = """
CREATE TABLE certificates (
    certificate_id uuid PRIMARY KEY,
    number varchar(10) NOT NULL,
    parent_id varchar(255) NOT NULL,
    municipality_code varchar(2) NOT NULL,
    birth_date date NOT NULL,
    valid_until date NOT NULL,
    usage_kind varchar(20) NOT NULL,
    status varchar(20) NOT NULL CHECK (status IN ('active', 'suspended', 'expired', 'closed')),
    status_on date NOT NULL
);
CREATE INDEX ix_certificates_parent ON certificates (parent_id);

-- The navigator's own record of every module group it ever saw: seats and what enrolment and
-- attendance need. Not part of the catalogue rebuild: ``held`` is navigator-owned state.
CREATE TABLE modules (
    module_id uuid PRIMARY KEY,
    program_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    revision integer NOT NULL,
    capacity integer NOT NULL CHECK (capacity >= 0),
    held integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    start_date date NOT NULL,
    end_date date NOT NULL,
    weekdays smallint[] NOT NULL,
    schedule jsonb NOT NULL,
    lessons_per_week integer NOT NULL
);
CREATE INDEX ix_modules_provider ON modules (provider_id);

CREATE TABLE enrolments (
    enrolment_id uuid PRIMARY KEY,
    certificate_id uuid NOT NULL REFERENCES certificates (certificate_id),
    parent_id varchar(255) NOT NULL,
    module_id uuid NOT NULL REFERENCES modules (module_id),
    program_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    municipality_code varchar(2) NOT NULL,
    direction varchar(40) NOT NULL,
    funding_kind varchar(20) NOT NULL,
    payment_mode varchar(20) NOT NULL CHECK (payment_mode IN ('monthly', 'attendance')),
    state varchar(20) NOT NULL CHECK (state IN
        ('requested', 'reserved', 'rejected', 'confirmed', 'declined', 'expired', 'cancelled', 'terminated', 'ended')),
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    requested_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    reservation_id uuid,
    reason varchar(60),
    closed_by varchar(20),
    end_outcome varchar(20),
    queue_position integer,
    total_cost_kopecks bigint CHECK (total_cost_kopecks >= 0),
    reserved_kopecks bigint CHECK (reserved_kopecks >= 0),
    family_kopecks bigint CHECK (family_kopecks >= 0),
    released_kopecks bigint NOT NULL DEFAULT 0 CHECK (released_kopecks >= 0),
    instalments jsonb,
    CHECK (starts_on <= ends_on)
);
-- one live enrolment per child and group, also under concurrent double submissions
CREATE UNIQUE INDEX ux_enrolments_live ON enrolments (certificate_id, module_id)
    WHERE state IN ('requested', 'reserved', 'confirmed');
CREATE INDEX ix_enrolments_certificate ON enrolments (certificate_id);
CREATE INDEX ix_enrolments_parent ON enrolments (parent_id);
CREATE INDEX ix_enrolments_provider ON enrolments (provider_id, module_id);
CREATE INDEX ix_enrolments_pending ON enrolments (requested_at) WHERE state IN ('requested', 'reserved');
CREATE INDEX ix_enrolments_running ON enrolments (ends_on) WHERE state IN ('confirmed', 'terminated');

-- months closed by billing (learned from ChargePosted on the ledger topic)
CREATE TABLE closed_months (
    month varchar(7) PRIMARY KEY,
    closed_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attendance_marks (
    mark_id uuid PRIMARY KEY,
    enrolment_id uuid NOT NULL REFERENCES enrolments (enrolment_id),
    module_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    lesson_date date NOT NULL,
    status varchar(10) NOT NULL CHECK (status IN ('present', 'absent', 'excused')),
    revision integer NOT NULL CHECK (revision >= 1),
    marked_on date NOT NULL,
    UNIQUE (enrolment_id, lesson_date)
);

CREATE TABLE disputes (
    dispute_id uuid PRIMARY KEY,
    mark_id uuid NOT NULL REFERENCES attendance_marks (mark_id),
    enrolment_id uuid NOT NULL REFERENCES enrolments (enrolment_id),
    lesson_date date NOT NULL,
    mark_version integer NOT NULL,
    state varchar(10) NOT NULL CHECK (state IN ('open', 'upheld', 'rejected')),
    claimed_status varchar(10) NOT NULL CHECK (claimed_status IN ('present', 'absent', 'excused')),
    comment varchar(2000),
    opened_at timestamptz NOT NULL,
    opened_by varchar(255) NOT NULL,
    resolved_at timestamptz,
    resolved_by varchar(255),
    resolution_note varchar(2000)
);
CREATE UNIQUE INDEX ux_disputes_open ON disputes (mark_id) WHERE state = 'open';
CREATE INDEX ix_disputes_enrolment ON disputes (enrolment_id);
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA catalogue")
    for statement in CATALOGUE_DDL.format(schema="catalogue").split(";"):
        if statement.strip():
            op.execute(statement)
    for statement in OWN_DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS disputes, attendance_marks, closed_months, enrolments, modules, certificates CASCADE"
    )
    op.execute("DROP SCHEMA IF EXISTS catalogue CASCADE")
