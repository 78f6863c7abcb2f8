"""The base of every service's domain errors: a stable machine-readable ``code``, a human
``message`` and structured ``details``. Pure Python: domain packages may import it."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule was violated.

    ``code`` is stable and machine-readable (snake_case, part of the public API), ``message`` is
    for humans, ``details`` carries structured context (ids, states, per-field errors).
    """

    def __init__(self, code: str, message: str = "", **details: Any) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message or code
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, details={self.details!r})"
