"""Alembic environment of the billing service (shared runner from the plumbing package)."""

from pfdo_plumbing.migrations import run_migrations

run_migrations()
