"""Who signed in, read from the identity provider's claims by configuration (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pfdo_plumbing.auth.principal import Role

PERSON_ROLES: tuple[Role, ...] = (
    Role.PARENT, Role.PROVIDER, Role.MUNICIPAL_OPERATOR, Role.REGIONAL_OPERATOR, Role.FINANCE,
)
"""Roles that can sign in to the portal (service accounts cannot)."""


@dataclass(frozen=True)
class ClaimMapping:
    role: str = "role"
    municipality: str = "municipality"
    provider_id: str = "provider_id"
    name: str = "name"
    role_aliases: Mapping[str, str] | None = None


@dataclass(frozen=True)
class PortalUser:
    sub: str
    role: Role
    name: str
    municipality: str | None = None
    provider_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"sub": self.sub, "role": self.role.value, "name": self.name,
                "municipality": self.municipality, "provider_id": self.provider_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PortalUser:
        return cls(sub=data["sub"], role=Role(data["role"]), name=data["name"],
                   municipality=data.get("municipality"), provider_id=data.get("provider_id"))


class UnmappedIdentity(Exception):
    """The claims name no role the portal knows, or lack the scope the role needs."""


def claim_at(claims: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (``realm_access.roles``); a key holding a dot itself is found too."""
    if path in claims:
        return claims[path]
    node: Any = claims
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def map_role(value: Any, aliases: Mapping[str, str]) -> Role:
    """The one portal role among the claim's values (a string or a list: other roles of the
    provider, e.g. Keycloak's ``offline_access``, are ignored). Two portal roles at once are
    refused: the portal would not know whose cabinet to show."""
    names = value if isinstance(value, list) else [value]
    found: set[Role] = set()
    for name in names:
        if not isinstance(name, str):
            continue
        name = aliases.get(name, name)
        if name in {r.value for r in PERSON_ROLES}:
            found.add(Role(name))
    if len(found) != 1:
        raise UnmappedIdentity("no portal role" if not found else "more than one portal role")
    return found.pop()


def map_identity(claims: Mapping[str, Any], mapping: ClaimMapping) -> PortalUser:
    sub = _text(claims.get("sub"))
    if sub is None:
        raise UnmappedIdentity("no subject")
    role = map_role(claim_at(claims, mapping.role), mapping.role_aliases or {})
    municipality = _text(claim_at(claims, mapping.municipality))
    provider_id = _text(claim_at(claims, mapping.provider_id))
    if role is Role.MUNICIPAL_OPERATOR and municipality is None:
        raise UnmappedIdentity("a municipal operator without a municipality")
    if role is Role.PROVIDER and provider_id is None:
        raise UnmappedIdentity("provider staff without a provider id")
    name = _text(claim_at(claims, mapping.name)) or sub
    return PortalUser(sub=sub, role=role, name=name, municipality=municipality, provider_id=provider_id)
