"""The narrow copy of the catalogue that text searches read, kept by triggers on ``entries``
(see ``pfdo_navigator.adapters.search_docs``). The DDL is shared with the rebuild, which
creates the same copy on its twin schema; a later change to the copy's shape needs a migration
of its own that moves ``catalogue`` to it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from pfdo_plumbing.migrations import execute_all

from pfdo_navigator.adapters.search_docs import FUNCTION_DDL, mirror_ddl

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_all([FUNCTION_DDL, *mirror_ddl("catalogue")])


def downgrade() -> None:
    execute_all([
        "DROP TRIGGER entries_copy_inserted ON catalogue.entries",
        "DROP TRIGGER entries_copy_updated ON catalogue.entries",
        "DROP TRIGGER entries_copy_deleted ON catalogue.entries",
        "DROP TABLE catalogue.search_docs",
        "DROP FUNCTION copy_search_docs()",
    ])
