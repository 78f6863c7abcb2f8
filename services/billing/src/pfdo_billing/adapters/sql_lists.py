"""Constant value lists for SQL text built once (statuses of a group in an ``IN (...)``)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


def sql_list(values: Iterable[StrEnum]) -> str:
    """``'a', 'b'``: the values quoted for an SQL ``IN (...)`` list, sorted so the text is stable.

    Only for the project's own enum constants (never for input)."""
    quoted = []
    for value in sorted(v.value for v in values):
        if "'" in value:
            raise ValueError(f"not a plain constant: {value!r}")
        quoted.append(f"'{value}'")
    return ", ".join(quoted)


__all__ = ["sql_list"]
