"""Billing settings (environment prefix PFDO_, like every service)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from pfdo_plumbing.settings import ServiceSettings


class BillingSettings(ServiceSettings):
    service_name: str = "billing"
    consumer_max_records: int = Field(
        default=2000, ge=1,
        description="Records per fetch; a month-end flood of attendance journals is applied in few, large transactions.",
    )
    advance_percent: int = Field(default=80, ge=0, le=100, description="Advance share of a month's instalments, %.")
    timezone: str = Field(default="Europe/Moscow", description="The region's time zone for calendar dates.")
    region_days_off: list[date] = Field(
        default_factory=list,
        description="The region's own days off (a JSON list of dates), added to the official production calendar: "
        "no lessons are planned on them.",
    )
    month_close_chunk: int = Field(default=25_000, ge=100, description="Contract-months closed per transaction.")
    month_close_requires_month_end: bool = Field(
        default=True, description="Refuse to close a month that has not ended (off only in tests and demos)."
    )
