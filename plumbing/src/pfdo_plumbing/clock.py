"""The business clock: what "now" and "today" mean for the domain rules of every service.

In production it is the wall clock. Tests and demos that must live through a school year in
minutes may move the business calendar with ``PFDO_CLOCK_OFFSET_FILE``: a file holding an offset
in seconds, re-read whenever it changes. Only business dates and times move (enrolment start
dates, attendance dates, month ends, expiry); token expiry, timeouts, Kafka and the database keep
real time. The setting is off unless the variable names a file.
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo


class Clock:
    def __init__(self, offset_file: str | None = None) -> None:
        self.offset_file = offset_file or None
        self._stamp: tuple[int, int, int] | None = None
        self._offset = dt.timedelta(0)

    def offset(self) -> dt.timedelta:
        if not self.offset_file:
            return dt.timedelta(0)
        try:
            st = os.stat(self.offset_file)
        except OSError:
            return self._offset
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                with open(self.offset_file, encoding="ascii") as handle:
                    self._offset = dt.timedelta(seconds=float(handle.read().strip() or 0))
                self._stamp = stamp
            except (OSError, ValueError):
                pass
        return self._offset

    def now(self, tz: dt.tzinfo = dt.UTC) -> dt.datetime:
        return dt.datetime.now(tz) + self.offset()

    def today(self, tz: str | dt.tzinfo = "Europe/Moscow") -> dt.date:
        zone = ZoneInfo(tz) if isinstance(tz, str) else tz
        return self.now(zone).date()


_clock = Clock(os.environ.get("PFDO_CLOCK_OFFSET_FILE"))


def now(tz: dt.tzinfo = dt.UTC) -> dt.datetime:
    """The business time (UTC by default)."""
    return _clock.now(tz)


def today(tz: str | dt.tzinfo = "Europe/Moscow") -> dt.date:
    """The business date in a time zone (the region's, Europe/Moscow by default)."""
    return _clock.today(tz)
