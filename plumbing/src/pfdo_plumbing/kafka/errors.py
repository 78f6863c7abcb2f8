"""Which failures are worth retrying in place (infrastructure) and which are poison (the message)."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaError
from sqlalchemy import exc as sa_exc

from ..db import error_chain

_TRANSIENT_PG = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.InterfaceError,
)


def is_transient(exc: BaseException) -> bool:
    """True when the infrastructure failed (retry, never dead-letter); False for poison input."""
    for current in error_chain(exc):
        if isinstance(current, (OSError, ConnectionError, TimeoutError, KafkaError, *_TRANSIENT_PG)):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.InterfaceError | sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return True
        if isinstance(current, sa_exc.OperationalError):
            return True
    return False
