"""Correlation and causation ids carried from an HTTP request to events and on to further events."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_causation_id: ContextVar[str | None] = ContextVar("causation_id", default=None)


def correlation_id() -> str:
    """The current chain's id; a fresh one when nothing set it (e.g. a scheduled job)."""
    value = _correlation_id.get()
    if value is None:
        value = str(uuid.uuid4())
        _correlation_id.set(value)
    return value


def causation_id() -> str | None:
    return _causation_id.get()


@contextmanager
def bound(*, correlation: str | None, causation: str | None = None, **log_fields: object) -> Iterator[str]:
    """Run a block as part of a chain: ids reach the outbox and every log line."""
    corr = correlation or str(uuid.uuid4())
    t1 = _correlation_id.set(corr)
    t2 = _causation_id.set(causation)
    with structlog.contextvars.bound_contextvars(correlation_id=corr, causation_id=causation, **log_fields):
        try:
            yield corr
        finally:
            _correlation_id.reset(t1)
            _causation_id.reset(t2)
