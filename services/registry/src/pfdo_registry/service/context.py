"""What every use case needs: the runtime (database, outbox), the PII cipher, today's date."""

from __future__ import annotations

from pfdo_plumbing import clock
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.domain_error import NotFound
from pfdo_plumbing.runtime import ServiceRuntime

from ..adapters.pii import PiiCipher
from ..adapters.tables import MUNICIPALITIES, REGION_SETTINGS
from ..domain.errors import DomainError
from ..settings import RegistrySettings


@dataclass
class Registry:
    runtime: ServiceRuntime
    settings: RegistrySettings
    pii: PiiCipher

    @classmethod
    def build(cls, runtime: ServiceRuntime, settings: RegistrySettings) -> Registry:
        return cls(runtime, settings, PiiCipher(settings.pii_key, settings.pii_hash_key))

    def today(self) -> dt.date:
        return clock.today(self.settings.timezone)


def not_found(what: str) -> NotFound:
    """The registry's answers do not name what was not found (the log does)."""
    return NotFound(message=f"{what} not found.")


async def region_settings(session: AsyncSession) -> dict:
    row = (await session.execute(select(REGION_SETTINGS).where(REGION_SETTINGS.c.id == 1))).mappings().one()
    return dict(row)


async def require_municipality(session: AsyncSession, code: str) -> dict:
    row = (await session.execute(select(MUNICIPALITIES).where(MUNICIPALITIES.c.code == code))).mappings().first()
    if row is None:
        raise DomainError("municipality_unknown", f"Municipality {code!r} is not in the region.", municipality=code)
    return dict(row)
