"""What every billing use case needs: the runtime (database, outbox) and the settings."""

from __future__ import annotations

from pfdo_plumbing import clock
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pfdo_plumbing.runtime import ServiceRuntime

from pfdo_billing.settings import BillingSettings


@dataclass
class Billing:
    runtime: ServiceRuntime
    settings: BillingSettings

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def local_date(self, moment: datetime) -> date:
        """The region's calendar date of a UTC timestamp."""
        return moment.astimezone(self.tz).date()

    def today(self) -> date:
        return clock.today(self.tz)
