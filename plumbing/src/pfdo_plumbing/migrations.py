"""Alembic's env.py for every service: online migrations over asyncpg, URL from PFDO_DATABASE_URL."""

from __future__ import annotations

import asyncio

from alembic import context, op
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from .settings import ServiceSettings


def _do_run(connection: Connection, metadata: MetaData | None) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, metadata: MetaData | None) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_do_run, metadata)
    await engine.dispose()


def run_migrations(metadata: MetaData | None = None) -> None:
    """Call from a service's migrations/env.py."""
    url = context.config.get_main_option("sqlalchemy.url") or ServiceSettings().database_url
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_async(url, metadata))


def execute_all(statements: list[str]) -> None:
    """Run a migration's SQL statements in order (inside the migration's transaction)."""
    for statement in statements:
        op.execute(statement)
