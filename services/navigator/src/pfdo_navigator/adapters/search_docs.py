"""The narrow copy of the catalogue that text searches read (``<schema>.search_docs``).

A text search ranks every group its words match: a broad word (``рисование``) matches 15 % of
the catalogue, and PostgreSQL visits each of those rows to rank it. In ``entries`` a row also
carries what a result shows (titles, description, address, timetable), so those visits cross
most of the table's pages. ``search_docs`` holds only what a search filters, sorts and ranks
on, one row per group; a text search picks and orders its page there and reads the page's
rows from ``entries`` (measured on 50 000 groups: a ranked page 8.0 -> 5.5 ms).

Triggers on ``entries`` keep the copy: every statement that inserts, updates or deletes groups
rewrites their copies in the same schema, in the same transaction, whoever sends it (the
consumer, a rebuild, an operator's SQL). :func:`mirror_ddl` creates them for a schema: the
migration for ``catalogue``, a rebuild for its twin.
"""

from __future__ import annotations

COPIED_COLUMNS = (
    "module_id", "program_id", "provider_id", "visible", "start_date", "end_date", "municipality_code", "direction",
    "funding_kind", "age_min", "age_max", "weekdays", "price_kopecks", "certified_on", "sort_rating", "search",
)
"""What a search filters, sorts and ranks on (``entries``' columns of the same names)."""

_COLUMNS = ", ".join(COPIED_COLUMNS)

FUNCTION_DDL = f"""
CREATE OR REPLACE FUNCTION copy_search_docs() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE format('DELETE FROM %I.search_docs d USING old_rows o WHERE d.module_id = o.module_id',
                       TG_TABLE_SCHEMA);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE format('INSERT INTO %I.search_docs ({_COLUMNS}) SELECT {_COLUMNS} FROM new_rows',
                       TG_TABLE_SCHEMA);
    END IF;
    RETURN NULL;
END
$body$
"""


def mirror_ddl(schema: str) -> list[str]:
    """The copy's table, index and triggers in ``schema`` (after :data:`FUNCTION_DDL`), filled
    from the groups already there."""
    return [
        f"""
        CREATE TABLE {schema}.search_docs (
            module_id uuid PRIMARY KEY,
            program_id uuid NOT NULL,
            provider_id uuid NOT NULL,
            visible boolean NOT NULL,
            start_date date NOT NULL,
            end_date date NOT NULL,
            municipality_code varchar(2) NOT NULL,
            direction varchar(40) NOT NULL,
            funding_kind varchar(20) NOT NULL,
            age_min smallint NOT NULL,
            age_max smallint NOT NULL,
            weekdays smallint[] NOT NULL,
            price_kopecks bigint NOT NULL,
            certified_on date NOT NULL,
            sort_rating double precision,
            search tsvector
        )
        """,
        f"CREATE INDEX ix_search_docs_search ON {schema}.search_docs USING gin (search) WHERE visible",
        f"INSERT INTO {schema}.search_docs ({_COLUMNS}) SELECT {_COLUMNS} FROM {schema}.entries",
        # a trigger with transition tables takes one kind of statement
        f"""CREATE TRIGGER entries_copy_inserted AFTER INSERT ON {schema}.entries
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION copy_search_docs()""",
        f"""CREATE TRIGGER entries_copy_updated AFTER UPDATE ON {schema}.entries
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
            EXECUTE FUNCTION copy_search_docs()""",
        f"""CREATE TRIGGER entries_copy_deleted AFTER DELETE ON {schema}.entries
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION copy_search_docs()""",
    ]
