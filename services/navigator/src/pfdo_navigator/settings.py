"""Navigator settings (environment, prefix ``PFDO_``)."""

from __future__ import annotations

from pfdo_plumbing import clock
import datetime as dt


from pydantic import Field

from pfdo_plumbing.settings import ServiceSettings


class NavigatorSettings(ServiceSettings):
    service_name: str = "navigator"
    application_answer_days: int = Field(
        default=5, ge=0, le=60, description="Region setting: an application the provider has not answered more "
        "than this many days (regional business dates) after it was made is refused; seat and reservation freed.")
    offer_acceptance_days: int = Field(
        default=10, ge=0, le=60, description="Region setting: an offer (договор-оферта) not accepted by the parent "
        "within this many days of its issue is withdrawn; seat and reservation freed.")
    cursor_key: str = Field(
        default="navigator-dev-cursor-key", min_length=8, description="HMAC key signing search page cursors."
    )
    region_timezone: str = Field(default="Europe/Moscow", description="Calendar dates are dates in this zone.")
    billing_timeout_s: float = Field(default=2.0, gt=0, description="Timeout of the batch quote call to billing.")
    jobs_interval_s: float = Field(default=60.0, gt=0, description="How often the timeout and end jobs run.")
    facet_cache_s: float = Field(
        default=5.0, ge=0,
        description="Facet counts are reused for this long, and for as long again while recounted (0: never).")
    search_pool_size: int = Field(default=10, ge=1, description="Connections kept for catalogue searches.")
    search_max_overflow: int = Field(
        default=0, ge=0, description="Extra search connections under load (closed again when returned: see db_max_overflow).")
    journal_freeze_day: int = Field(
        default=5, ge=1, le=28,
        description="On this day of the next month (regional business date) the job freezes a month's journal.",
    )
    journal_freeze_requires_month_end: bool = Field(
        default=True, description="Refuse to freeze a month that has not ended (off only in tests and demos)."
    )
    attendance_max_marks: int = Field(default=20000, ge=1, description="Most marks in one journal posting.")
    events_heartbeat_s: float = Field(
        default=15.0, gt=0, description="A status stream sends a keep-alive comment after this long without events.")
    events_max_stream_s: float = Field(
        default=900.0, gt=0, description="A status stream ends after this long (the client resumes with its last id).")
    events_retry_ms: int = Field(default=3000, ge=0, description="Reconnection delay a status stream advises.")
    feed_sequence_interval_s: float = Field(
        default=1.0, gt=0, description="How often the status feed looks for rows other instances committed.")
    feed_poll_s: float = Field(default=1.0, gt=0, description="How often the stream hub looks for new feed rows.")
    feed_retention_days: int = Field(default=7, ge=1, description="Status feed rows are kept this long.")

    def today(self) -> dt.date:
        return clock.today(self.region_timezone)
