"""Domain errors of the ratings service.

Every rule violation raises :class:`DomainError` with a stable, machine-readable ``code``
(snake_case). The API layer maps codes to HTTP statuses; the codes are part of the public
contract of this package and never change meaning.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule was violated.

    ``code`` is stable and machine-readable (e.g. ``already_rated``), ``message`` is for
    humans, ``details`` carries structured context (ids, states, per-field errors).
    """

    def __init__(self, code: str, message: str = "", **details: Any) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"DomainError(code={self.code!r}, message={self.message!r}, details={self.details!r})"
