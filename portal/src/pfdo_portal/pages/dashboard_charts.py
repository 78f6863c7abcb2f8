"""The operator's dashboard charts, drawn on the server (SVG, no script): grouped columns per day
or per month, and horizontal bars of the share of a municipality's children holding a
certificate. The page shows the same figures in words and in tables, which is what screen
readers read (the drawings are ``aria-hidden``), as for the parent's balance chart
(:mod:`.balance_chart`).

Pure functions: the API's figures in, the geometry and the words out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WIDTH = 600
"""The drawings' width in SVG units (they scale to the page's width)."""
PLOT_HEIGHT = 160
"""The columns' full height; the value axis' top is the largest value."""
GAP = 0.2
"""The share of a category's width left empty between categories."""


@dataclass(frozen=True)
class Series:
    key: str
    """The figure's name in the data and the CSS class of its colour (``column--<key>``)."""
    name: str
    header: str = ""
    """The table's column header: the name with soft hyphens in its long words, so that the
    table fits a phone (the name when empty)."""

    @property
    def column(self) -> str:
        return self.header or self.name


@dataclass(frozen=True)
class Column:
    key: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Category:
    label: str
    values: dict[str, int]
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class ColumnChart:
    series: tuple[Series, ...]
    categories: tuple[Category, ...]
    top: int
    """The largest value (the height of a full column); 0 when every value is 0."""
    totals: dict[str, int]
    width: int = WIDTH
    height: int = PLOT_HEIGHT

    @property
    def empty(self) -> bool:
        return self.top == 0


def column_chart(rows: Iterable[Mapping[str, Any]], series: Sequence[Series], *, label: str) -> ColumnChart:
    """One category per row (its ``label`` field names it), one column per series side by side,
    heights to one scale (the largest value of all)."""
    rows = list(rows)
    values = [{s.key: max(int(row.get(s.key) or 0), 0) for s in series} for row in rows]
    top = max((v for row in values for v in row.values()), default=0)
    slot = WIDTH / len(rows) if rows else 0.0
    inner = slot * (1 - GAP)
    width = inner / len(series) if series else 0.0
    categories = []
    for i, (row, figures) in enumerate(zip(rows, values, strict=True)):
        columns = []
        for j, s in enumerate(series):
            height = round(PLOT_HEIGHT * figures[s.key] / top, 2) if top else 0.0
            columns.append(Column(s.key, figures[s.key], x=round(i * slot + slot * GAP / 2 + j * width, 2),
                                  y=round(PLOT_HEIGHT - height, 2), width=round(width, 2), height=height))
        categories.append(Category(str(row[label]), figures, tuple(columns)))
    totals = {s.key: sum(figures[s.key] for figures in values) for s in series}
    return ColumnChart(tuple(series), tuple(categories), top, totals)


# ---- the share of children covered -----------------------------------------------------------

BAR_HEIGHT = 20


@dataclass(frozen=True)
class Coverage:
    code: str
    name: str
    children: int | None
    certificates: int
    share: float | None
    """Certificates in force per child living there (None: the number of children is not given)."""
    width: float
    """The bar's length in SVG units (the whole drawing is 100 %; a share above 100 % is drawn full)."""

    @property
    def percent(self) -> str:
        """``12,5 %``; ``нет данных`` without the number of children."""
        if self.share is None:
            return "нет данных"
        return f"{self.share * 100:.1f}".replace(".", ",") + "\u00a0%"


def coverage(municipalities: Iterable[Mapping[str, Any]]) -> list[Coverage]:
    """Each municipality's share of children holding a certificate in force."""
    found = []
    for m in municipalities:
        children = m.get("children_count")
        certificates = int(m.get("certificates_active") or 0)
        share = certificates / children if children else None
        width = round(WIDTH * min(share, 1.0), 2) if share is not None else 0.0
        found.append(Coverage(str(m["code"]), str(m["name"]), children, certificates, share, width))
    return found


def total_coverage(rows: Sequence[Coverage]) -> Coverage | None:
    """The whole scope's share, over the municipalities whose number of children is known
    (None when there is one municipality or none with a figure)."""
    known = [r for r in rows if r.children]
    if len(rows) < 2 or not known:
        return None
    children = sum(r.children or 0 for r in known)
    certificates = sum(r.certificates for r in known)
    return Coverage("", "Все муниципалитеты с известным числом детей", children, certificates,
                    certificates / children, round(WIDTH * min(certificates / children, 1.0), 2))
