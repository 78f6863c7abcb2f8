"""The base of every service's domain errors: a stable machine-readable ``code``, a human
``message`` and structured ``details``. Pure Python: domain packages may import it.

Use cases and domain code raise these and know nothing of HTTP: the answer an API gives for one
(its status, its Russian and English text filled from ``details``) is the error catalogue's entry
for the code, applied by the problem+json handlers every service's app installs."""

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


class NotFound(DomainError):
    """What the caller asked for does not exist, or the caller may not know that it does (answered
    the same way, so its existence is not revealed).

    ``what`` names it in English (``"Module"``, ``"Enrolment"``); the answer shows its Russian or
    English name. Without ``what`` the answer only says that nothing was found.
    """

    code = "not_found"

    def __init__(self, what: str | None = None, message: str = "", **details: Any) -> None:
        if what:
            details = {"what": what, **details}
        super().__init__("not_found", message or f"{what or 'it'} not found", **details)
