"""A certificate's balance per period as a bar chart drawn on the server (SVG, no script): one
stacked bar per period, spent + reserved + available, whose full length is the period's nominal.
The page shows the same figures in a table, which is what screen readers read (the drawing is
decoration for them: ``aria-hidden``).

Pure functions: the API's ``PeriodBalance`` items in, the geometry and the words out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..formatting import date, money

WIDTH = 600
"""The drawing's width in SVG units (it scales to the page's width)."""
BAR_HEIGHT = 28
ROW_HEIGHT = 64
"""A period's label line above its bar, the bar, and space below."""
PARTS: tuple[tuple[str, str], ...] = (("spent", "Оплачено"), ("reserved", "Зарезервировано"),
                                     ("available", "Доступно"))
"""The bar's parts from left to right, with their names in the legend and the table."""


@dataclass(frozen=True)
class Segment:
    part: str
    name: str
    kopecks: int
    x: float
    width: float


@dataclass(frozen=True)
class PeriodBar:
    label: str
    """``01.09.2027 – 31.08.2028``."""
    status: str
    nominal: int
    available: int
    reserved: int
    spent: int
    y: int
    """Top of the period's row in the drawing."""
    segments: tuple[Segment, ...]

    @property
    def summary(self) -> str:
        """The bar in words: ``Номинал 30 000,00 ₽: оплачено …, зарезервировано …, доступно …``."""
        parts = ", ".join(f"{s.name.lower()} {money(s.kopecks)}" for s in self.segments)
        return f"Номинал {money(self.nominal)}: {parts}"


@dataclass(frozen=True)
class BalanceChart:
    bars: tuple[PeriodBar, ...]
    width: int
    height: int


def _scale(amount: int, whole: int) -> float:
    return round(WIDTH * amount / whole, 2) if whole > 0 else 0.0


def period_bar(balance: Mapping[str, Any], y: int) -> PeriodBar:
    """One period's bar. The scale is the larger of the nominal and the sum of the parts, so a
    bar never runs past the drawing (the parts add up to the nominal when the ledger balances)."""
    amounts = {part: max(int(balance.get(part) or 0), 0) for part, _ in PARTS}
    nominal = int(balance.get("nominal") or 0)
    whole = max(nominal, sum(amounts.values()))
    segments, x = [], 0.0
    for part, name in PARTS:
        width = _scale(amounts[part], whole)
        segments.append(Segment(part, name, amounts[part], x, width))
        x = round(x + width, 2)
    return PeriodBar(
        label=f"{date(balance['starts_on'])} – {date(balance['ends_on'])}",
        status=str(balance.get("period_status") or ""),
        nominal=nominal, y=y, segments=tuple(segments), **amounts,
    )


def balance_chart(balances: Iterable[Mapping[str, Any]]) -> BalanceChart | None:
    """The chart of a certificate's periods, latest first; None when it has no period yet."""
    ordered = sorted(balances, key=lambda b: str(b["starts_on"]), reverse=True)
    if not ordered:
        return None
    bars = tuple(period_bar(b, i * ROW_HEIGHT) for i, b in enumerate(ordered))
    return BalanceChart(bars=bars, width=WIDTH, height=len(bars) * ROW_HEIGHT)
