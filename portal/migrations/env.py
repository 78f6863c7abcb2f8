"""Alembic environment of the portal's own database (its sessions): the URL from
PFDO_PORTAL_DATABASE_URL, else PFDO_DATABASE_URL (the shared runner of the plumbing package)."""

import os

from alembic import context

from pfdo_plumbing.migrations import run_migrations

if not context.config.get_main_option("sqlalchemy.url") and os.environ.get("PFDO_PORTAL_DATABASE_URL"):
    context.config.set_main_option("sqlalchemy.url", os.environ["PFDO_PORTAL_DATABASE_URL"])
run_migrations()
