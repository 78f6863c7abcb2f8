"""Typed values of paths and query strings shared by the services, each with its range, so that
input out of range answers 422 (never a 500 from a date or an integer the database refuses)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path
from pydantic import Field, StringConstraints

MONTH_PATTERN = r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"

YearMonth = Annotated[str, StringConstraints(pattern=MONTH_PATTERN)]
"""A calendar month 'YYYY-MM' from 2000-01 to 2100-12."""

MonthPath = Annotated[YearMonth, Path(description="Month, 'YYYY-MM' (2000-01..2100-12).", examples=["2027-10"])]
"""A month in a route's path (the constraint is kept only in this form, not as ``= Path(...)``)."""

KOPECKS_MAX = 10**12
"""The largest amount of money in kopecks accepted as a filter (10 billion roubles)."""

Kopecks = Annotated[int, Field(ge=0, le=KOPECKS_MAX)]


def first_day(month: str) -> dt.date:
    """The first day of a 'YYYY-MM' month (already validated as :data:`YearMonth`)."""
    return dt.date(int(month[:4]), int(month[5:7]), 1)


__all__ = ["KOPECKS_MAX", "MONTH_PATTERN", "Kopecks", "MonthPath", "YearMonth", "first_day"]
