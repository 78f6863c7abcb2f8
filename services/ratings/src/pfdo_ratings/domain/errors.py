"""Domain errors of the ratings service.

Every rule violation raises :class:`DomainError` (the platform-wide base) with a stable,
machine-readable ``code``; the API layer maps codes to HTTP statuses.
"""

from pfdo_plumbing.domain_error import DomainError

__all__ = ["DomainError"]
