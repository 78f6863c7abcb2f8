"""Which failures the consumer retries in place and which it treats as poison."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import exc as sa_exc

from pfdo_plumbing.kafka.errors import is_transient


def _raised_from(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as cause:
            raise outer from cause
    except BaseException as chained:
        return chained


@pytest.mark.parametrize("exc", [
    ConnectionResetError("peer went away"),
    TimeoutError(),
    KafkaConnectionError(),
    asyncpg.exceptions.DeadlockDetectedError("deadlock"),
    asyncpg.exceptions.SerializationError("could not serialize"),
    sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
])
def test_infrastructure_failures_are_retried(exc: BaseException) -> None:
    assert is_transient(exc) is True


@pytest.mark.parametrize("exc", [
    ValueError("a bug or a bad payload"),
    KeyError("missing"),
    sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
])
def test_poison_is_not_retried(exc: BaseException) -> None:
    assert is_transient(exc) is False


def test_a_wrapped_infrastructure_failure_is_found_through_the_chain() -> None:
    assert is_transient(_raised_from(RuntimeError("while applying"), ConnectionResetError())) is True
    assert is_transient(_raised_from(RuntimeError("while applying"), ValueError())) is False
