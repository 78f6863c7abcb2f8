"""Ratable enrolments, ratings, aggregates per program and per provider, the regional prior.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SCALE = "{c} integer NOT NULL CHECK ({c} BETWEEN 0 AND 100 AND {c} % 10 = 0)"
_SUMS = """
    count integer NOT NULL DEFAULT 0 CHECK (count >= 0),
    sum_results bigint NOT NULL DEFAULT 0 CHECK (sum_results >= 0),
    sum_teachers_and_group bigint NOT NULL DEFAULT 0 CHECK (sum_teachers_and_group >= 0),
    sum_materials_and_equipment bigint NOT NULL DEFAULT 0 CHECK (sum_materials_and_equipment >= 0),
    sum_overall_satisfaction bigint NOT NULL DEFAULT 0 CHECK (sum_overall_satisfaction >= 0),
    revision bigint NOT NULL DEFAULT 0 CHECK (revision >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (count > 0 OR (sum_results = 0 AND sum_teachers_and_group = 0
                         AND sum_materials_and_equipment = 0 AND sum_overall_satisfaction = 0)),
    CHECK (sum_results <= 100::bigint * count AND sum_teachers_and_group <= 100::bigint * count
           AND sum_materials_and_equipment <= 100::bigint * count
           AND sum_overall_satisfaction <= 100::bigint * count)
"""


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE ratable_enrolment (
            enrolment_id uuid PRIMARY KEY,
            certificate_id uuid NOT NULL,
            parent_id varchar(255) NOT NULL CHECK (length(parent_id) > 0),
            program_id uuid NOT NULL,
            provider_id uuid NOT NULL,
            module_id uuid NOT NULL,
            outcome varchar(20) NOT NULL CHECK (outcome IN ('completed', 'terminated')),
            end_date date NOT NULL,
            event_time timestamptz NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_ratable_enrolment_parent ON ratable_enrolment (parent_id, end_date DESC)")
    op.execute(
        f"""
        CREATE TABLE rating (
            enrolment_id uuid PRIMARY KEY REFERENCES ratable_enrolment (enrolment_id),
            certificate_id uuid NOT NULL,
            program_id uuid NOT NULL,
            provider_id uuid NOT NULL,
            rater_id varchar(255) NOT NULL,
            {_SCALE.format(c="results")},
            {_SCALE.format(c="teachers_and_group")},
            {_SCALE.format(c="materials_and_equipment")},
            {_SCALE.format(c="overall_satisfaction")},
            comment text CHECK (comment IS NULL OR (length(comment) BETWEEN 1 AND 2000)),
            submitted_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL CHECK (updated_at >= submitted_at),
            version integer NOT NULL DEFAULT 1 CHECK (version >= 1)
        )
        """
    )
    op.execute("CREATE INDEX ix_rating_program ON rating (program_id, submitted_at DESC, enrolment_id)")
    op.execute("CREATE INDEX ix_rating_provider ON rating (provider_id)")
    op.execute("CREATE INDEX ix_rating_rater ON rating (rater_id)")
    op.execute(
        f"""
        CREATE TABLE program_aggregate (
            program_id uuid PRIMARY KEY,
            provider_id uuid NOT NULL,
            {_SUMS}
        )
        """
    )
    op.execute("CREATE INDEX ix_program_aggregate_provider ON program_aggregate (provider_id)")
    op.execute(
        f"""
        CREATE TABLE provider_aggregate (
            provider_id uuid PRIMARY KEY,
            program_count integer NOT NULL DEFAULT 0 CHECK (program_count >= 0 AND program_count <= count),
            {_SUMS}
        )
        """
    )
    # The prior every shrunk score is computed with: the region's ratings at the last refresh
    # (count and the sum over the four scales). One row; weight comes from the settings.
    op.execute(
        """
        CREATE TABLE regional_prior (
            id smallint PRIMARY KEY CHECK (id = 1),
            count integer NOT NULL CHECK (count >= 0),
            scale_total bigint NOT NULL CHECK (scale_total >= 0 AND scale_total <= 400::bigint * count),
            refreshed_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("INSERT INTO regional_prior (id, count, scale_total) VALUES (1, 0, 0)")


def downgrade() -> None:
    for table in ("regional_prior", "provider_aggregate", "program_aggregate", "rating", "ratable_enrolment"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
