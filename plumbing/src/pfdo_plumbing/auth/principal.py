"""Who is calling: the verified claims of a bearer token."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    PARENT = "parent"
    PROVIDER = "provider"  # staff of one provider organisation
    MUNICIPAL_OPERATOR = "municipal_operator"  # one municipality
    REGIONAL_OPERATOR = "regional_operator"  # the whole region
    FINANCE = "finance"  # read-only money
    SERVICE = "service"  # service accounts (jobs, other services)


class Principal(BaseModel):
    """Who is calling, from a verified token. Frozen: the verifier hands the same one to every
    request of that token."""

    model_config = ConfigDict(frozen=True)

    sub: str = Field(description="Subject: the account id.")
    role: Role
    municipality: str | None = Field(default=None, description="Municipality code, for municipal operators.")
    provider_id: str | None = Field(default=None, description="Provider id, for provider staff.")
    token_id: str | None = None

    def is_operator(self) -> bool:
        return self.role in (Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR)

    def covers_municipality(self, code: str | None) -> bool:
        """Operators act within their municipality; regional operators and services everywhere."""
        if self.role in (Role.REGIONAL_OPERATOR, Role.SERVICE):
            return True
        return self.role == Role.MUNICIPAL_OPERATOR and code is not None and self.municipality == code

    def is_provider(self, provider_id: object) -> bool:
        return self.role == Role.PROVIDER and self.provider_id is not None and str(provider_id) == self.provider_id
