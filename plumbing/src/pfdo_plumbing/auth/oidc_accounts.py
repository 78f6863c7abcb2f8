"""The people the development issuer's sign-in page offers: the demo region's accounts file
(written by the demo load: parents, providers' staff, municipal and regional operators) and a
finance user, which the demo region has no data for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .principal import Role

ROLE_TITLES: dict[Role, str] = {
    Role.PARENT: "Родитель",
    Role.PROVIDER: "Сотрудник организации",
    Role.MUNICIPAL_OPERATOR: "Муниципальный оператор",
    Role.REGIONAL_OPERATOR: "Региональный оператор",
    Role.FINANCE: "Финансист",
}
"""Roles a person can sign in with (service accounts get tokens from the token endpoint only)."""


@dataclass(frozen=True)
class DemoAccount:
    sub: str
    role: Role
    name: str
    municipality: str | None = None
    provider_id: str | None = None

    def claims(self) -> dict[str, Any]:
        """The identity claims shared by the access token, the ID token and userinfo."""
        out: dict[str, Any] = {"sub": self.sub, "role": self.role.value, "name": self.name}
        if self.municipality:
            out["municipality"] = self.municipality
        if self.provider_id:
            out["provider_id"] = self.provider_id
        return out


BUILT_IN: tuple[DemoAccount, ...] = (
    DemoAccount("demo-operator-region", Role.REGIONAL_OPERATOR, "Региональный оператор"),
    DemoAccount("demo-finance", Role.FINANCE, "Финансовый отдел региона"),
)


def load_accounts(path: str | Path | None) -> list[DemoAccount]:
    """The demo accounts, parents first; the built-in ones when the file is absent or unreadable."""
    data: dict[str, Any] = {}
    if path:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
    accounts: list[DemoAccount] = []
    for i, parent in enumerate(data.get("parents") or [], start=1):
        children = len(parent.get("certificates") or [])
        accounts.append(DemoAccount(str(parent["sub"]), Role.PARENT, f"Родитель {i} (детей: {children})"))
    for staff in data.get("providers") or []:
        accounts.append(DemoAccount(str(staff["sub"]), Role.PROVIDER, str(staff.get("name") or staff["sub"]),
                                    provider_id=str(staff["provider_id"])))
    for operator in data.get("municipal_operators") or []:
        accounts.append(DemoAccount(str(operator["sub"]), Role.MUNICIPAL_OPERATOR,
                                    str(operator.get("name") or operator["municipality"]),
                                    municipality=str(operator["municipality"])))
    accounts.extend(BUILT_IN)
    return accounts
