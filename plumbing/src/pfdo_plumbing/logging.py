"""Structured JSON logs with correlation ids, and personal data redacted before it is written."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

PERSONAL_KEYS = re.compile(
    r"(snils|surname|first_name|last_name|patronymic|full_name|birth|phone|email|passport|child_name)",
    re.IGNORECASE,
)
SNILS_LIKE = re.compile(r"\b\d{3}-?\d{3}-?\d{3}[ -]?\d{2}\b")
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Mask personal fields anywhere in a log event (dict keys by name, СНИЛС-like numbers in text)."""
    if isinstance(value, dict):
        return {k: (REDACTED if isinstance(k, str) and PERSONAL_KEYS.search(k) else redact(v)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str):
        return SNILS_LIKE.sub(REDACTED, value)
    return value


def _redact_processor(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return redact(event_dict)


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    """Route stdlib and structlog output through one JSON renderer."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            lambda _l, _n, ev: {**ev, "service": service},
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiokafka", "sqlalchemy.engine", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
