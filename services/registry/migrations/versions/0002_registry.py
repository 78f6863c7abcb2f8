"""Registry tables: municipalities, region settings, children, applications, certificates,
providers, programs, modules, certification history.

Integrity rules live here too: codes and identifiers by CHECK, one certificate per child and
one child per СНИЛС (keyed hash) by UNIQUE, one pending application per child by a partial
UNIQUE index, certificate sequences per municipality allocated from a counter row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE region_settings (
        id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
        region_code char(2) NOT NULL CHECK (region_code ~ '^[0-9]{2}$' AND region_code <> '00'),
        auto_approve boolean NOT NULL DEFAULT false,
        min_age smallint NOT NULL DEFAULT 5,
        max_age smallint NOT NULL DEFAULT 17,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (0 <= min_age AND min_age <= max_age AND max_age <= 17)
    )
    """,
    "INSERT INTO region_settings (id, region_code) VALUES (1, '48')",
    """
    CREATE TABLE municipalities (
        code char(2) PRIMARY KEY CHECK (code ~ '^[0-9]{2}$' AND code <> '00'),
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        region_code char(2) NOT NULL CHECK (region_code ~ '^[0-9]{2}$'),
        last_certificate_seq integer NOT NULL DEFAULT 0 CHECK (last_certificate_seq BETWEEN 0 AND 999999)
    )
    """,
    """
    CREATE TABLE children (
        id uuid PRIMARY KEY,
        parent_id text NOT NULL CHECK (length(parent_id) BETWEEN 1 AND 255),
        surname text NOT NULL CHECK (length(btrim(surname)) > 0),
        first_name text NOT NULL CHECK (length(btrim(first_name)) > 0),
        patronymic text,
        birth_date date NOT NULL,
        municipality_code char(2) NOT NULL REFERENCES municipalities(code),
        snils_encrypted bytea NOT NULL,
        snils_hash bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE UNIQUE INDEX children_snils_hash_uq ON children (snils_hash)",
    "CREATE INDEX children_parent_idx ON children (parent_id)",
    """
    CREATE TABLE applications (
        id uuid PRIMARY KEY,
        child_id uuid NOT NULL REFERENCES children(id),
        applicant_id text NOT NULL,
        applicant_role text NOT NULL CHECK (applicant_role IN ('parent', 'guardian', 'child')),
        municipality_code char(2) NOT NULL REFERENCES municipalities(code),
        status text NOT NULL CHECK (status IN ('pending', 'approved', 'refused')),
        reason text,
        applied_on date NOT NULL,
        decided_on date,
        decided_by text,
        certificate_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        CHECK (status <> 'refused' OR reason IS NOT NULL),
        CHECK (status <> 'approved' OR certificate_id IS NOT NULL)
    )
    """,
    "CREATE UNIQUE INDEX applications_one_pending_uq ON applications (child_id) WHERE status = 'pending'",
    "CREATE INDEX applications_muni_status_idx ON applications (municipality_code, status)",
    """
    CREATE TABLE certificates (
        id uuid PRIMARY KEY,
        number char(10) NOT NULL UNIQUE CHECK (number ~ '^[0-9]{10}$'),
        child_id uuid NOT NULL UNIQUE REFERENCES children(id),
        municipality_code char(2) NOT NULL REFERENCES municipalities(code),
        sequence integer NOT NULL CHECK (sequence BETWEEN 1 AND 999999),
        status text NOT NULL CHECK (status IN ('active', 'suspended', 'expired', 'closed')),
        usage_kind text NOT NULL DEFAULT 'accounting' CHECK (usage_kind IN ('accounting', 'funding')),
        issued_on date NOT NULL,
        valid_until date NOT NULL,
        expires_on date NOT NULL,
        status_reason text,
        close_reason text CHECK (close_reason IN ('left_region', 'duplicate', 'other')),
        ended_on date,
        updated_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (municipality_code, sequence),
        CHECK (substr(number, 3, 2) = municipality_code),
        CHECK (valid_until < expires_on)
    )
    """,
    "CREATE INDEX certificates_expiry_idx ON certificates (expires_on) WHERE status IN ('active', 'suspended')",
    "CREATE INDEX certificates_muni_idx ON certificates (municipality_code, status)",
    """
    CREATE TABLE providers (
        id uuid PRIMARY KEY,
        owner_sub text NOT NULL,
        provider_type text NOT NULL CHECK (provider_type IN (
            'municipal_or_state_org', 'private_org', 'entrepreneur_with_staff', 'entrepreneur_without_staff')),
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        inn varchar(12) NOT NULL UNIQUE CHECK (inn ~ '^([0-9]{10}|[0-9]{12})$'),
        ogrn varchar(15) NOT NULL UNIQUE CHECK (ogrn ~ '^([0-9]{13}|[0-9]{15})$'),
        kpp char(9) CHECK (kpp ~ '^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$'),
        municipality_code char(2) NOT NULL REFERENCES municipalities(code),
        address text NOT NULL DEFAULT '',
        bank_name text NOT NULL DEFAULT '',
        bik char(9) NOT NULL CHECK (bik ~ '^[0-9]{9}$'),
        settlement_account char(20) NOT NULL CHECK (settlement_account ~ '^[0-9]{20}$'),
        status text NOT NULL CHECK (status IN ('new', 'active', 'refused', 'suspended', 'excluded')),
        status_reason text,
        registered_on date NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((provider_type IN ('municipal_or_state_org', 'private_org')) = (kpp IS NOT NULL))
    )
    """,
    "CREATE INDEX providers_muni_idx ON providers (municipality_code, status)",
    "CREATE INDEX providers_owner_idx ON providers (owner_sub)",
    """
    CREATE TABLE programs (
        id uuid PRIMARY KEY,
        provider_id uuid NOT NULL REFERENCES providers(id),
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        description text NOT NULL DEFAULT '',
        direction text NOT NULL CHECK (direction IN ('technical', 'natural_science', 'physical_sports',
            'artistic', 'tourism_local_history', 'social_humanitarian')),
        status text NOT NULL CHECK (status IN ('draft', 'submitted', 'certified', 'rejected', 'archived')),
        status_reason text,
        certified_before boolean NOT NULL DEFAULT false,
        revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX programs_provider_idx ON programs (provider_id)",
    "CREATE INDEX programs_status_idx ON programs (status)",
    """
    CREATE TABLE modules (
        id uuid PRIMARY KEY,
        program_id uuid NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
        position smallint NOT NULL,
        name text NOT NULL CHECK (length(btrim(name)) > 0),
        min_age smallint NOT NULL,
        max_age smallint NOT NULL,
        municipality_code char(2) NOT NULL REFERENCES municipalities(code),
        address text NOT NULL CHECK (length(btrim(address)) > 0),
        schedule jsonb NOT NULL,
        hours integer NOT NULL CHECK (hours > 0),
        start_date date NOT NULL,
        end_date date NOT NULL,
        capacity integer NOT NULL CHECK (capacity >= 1),
        price_kopecks bigint NOT NULL CHECK (price_kopecks >= 0),
        funding_kind text NOT NULL CHECK (funding_kind IN ('certificate', 'municipal_task')),
        normative_cost_kopecks bigint CHECK (normative_cost_kopecks >= 0),
        CHECK (5 <= min_age AND min_age <= max_age AND max_age <= 17),
        CHECK (start_date < end_date),
        CHECK (jsonb_typeof(schedule) = 'array' AND jsonb_array_length(schedule) >= 1)
    )
    """,
    "CREATE INDEX modules_program_idx ON modules (program_id, position)",
    """
    CREATE TABLE certification_history (
        id bigserial PRIMARY KEY,
        program_id uuid NOT NULL REFERENCES programs(id),
        action text NOT NULL,
        from_status text,
        to_status text NOT NULL,
        revision integer NOT NULL,
        actor_sub text NOT NULL,
        actor_role text NOT NULL,
        reason text,
        at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX certification_history_program_idx ON certification_history (program_id, id)",
]

DOWNGRADE = [
    "DROP TABLE IF EXISTS certification_history",
    "DROP TABLE IF EXISTS modules",
    "DROP TABLE IF EXISTS programs",
    "DROP TABLE IF EXISTS providers",
    "DROP TABLE IF EXISTS certificates",
    "DROP TABLE IF EXISTS applications",
    "DROP TABLE IF EXISTS children",
    "DROP TABLE IF EXISTS municipalities",
    "DROP TABLE IF EXISTS region_settings",
]


def upgrade() -> None:
    for stmt in UPGRADE:
        op.execute(stmt)


def downgrade() -> None:
    for stmt in DOWNGRADE:
        op.execute(stmt)
