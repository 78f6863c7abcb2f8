"""A document as plain facts: what it is, who the parties are, what it says, who signs it.

A document is built by a pure function from the facts that produced it (each service owns its
builders). The same ``Document`` renders to a PDF for people (``pdf.render_pdf``) and to
canonical JSON for machines (``canonical.to_json``); both carry the same number, version and
content hash.

Values inside a document are typed, so the JSON keeps the machine form (kopecks, ISO dates) and
the PDF the Russian one (``1 234,56 ₽``, ``15.11.2027``, ``ноябрь 2027``):
``str``, ``int``, ``Money``, ``datetime.date``, ``datetime.datetime`` (aware, UTC), ``Month``,
``Share`` or ``None`` (printed as a dash).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, Union
from zoneinfo import ZoneInfo

REGION_TIMEZONE = "Europe/Moscow"


@dataclass(frozen=True)
class Money:
    """An amount in integer kopecks."""

    kopecks: int


@dataclass(frozen=True)
class Month:
    """A calendar month, given by any of its days (kept as the first day)."""

    day: dt.date

    @property
    def first_day(self) -> dt.date:
        return self.day.replace(day=1)


@dataclass(frozen=True)
class Share:
    """A share of a whole (the share of a month's service delivered), with an optional detail
    such as ``8 из 10 занятий``."""

    value: Fraction
    detail: str = ""


Value = Union[str, int, Money, dt.date, dt.datetime, Month, Share, None]


@dataclass(frozen=True)
class Line:
    """One ``label: value`` line."""

    label: str
    value: Value


@dataclass(frozen=True)
class Fields:
    """A section of ``label: value`` lines."""

    heading: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Column:
    """A table column: its title, its relative width, and whether the table totals it."""

    title: str
    width: int = 1
    total: bool = False
    align: Literal["LEFT", "RIGHT", "CENTER"] = "LEFT"


@dataclass(frozen=True)
class Table:
    """A table; the columns marked ``total`` (``Money`` or ``int`` cells) are summed into a last row."""

    heading: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    total_label: str = "Итого"

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.heading!r}: a row has {len(row)} cells for {len(self.columns)} columns")

    @property
    def has_totals(self) -> bool:
        return any(c.total for c in self.columns)

    def totals(self) -> tuple[Value, ...]:
        """The totals row: the label in the first column, sums under the totalled columns."""
        out: list[Value] = []
        for index, column in enumerate(self.columns):
            if column.total:
                cells = [row[index] for row in self.rows]
                if all(isinstance(c, Money) for c in cells):
                    out.append(Money(sum(c.kopecks for c in cells)))  # type: ignore[union-attr]
                else:
                    out.append(sum(int(c) for c in cells))  # type: ignore[arg-type]
            else:
                out.append(None)
        if out and out[0] is None:
            out[0] = self.total_label
        return tuple(out)


@dataclass(frozen=True)
class Text:
    """Free paragraphs (the terms of an offer, a statement of an act)."""

    heading: str
    paragraphs: tuple[str, ...]


Section = Union[Fields, Table, Text]


@dataclass(frozen=True)
class Party:
    """A party: its role in the document (``Исполнитель``), its name and its details."""

    role: str
    name: str
    details: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Signature:
    """A signature or acceptance line: who signs for which party, and when if already signed."""

    role: str
    name: str
    signed_at: dt.datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class Document:
    """A document's content. ``identity`` names the facts it is about (e.g. the contract id),
    not their values: the number comes from it, so a changed fact keeps the number and makes a
    new version."""

    kind: str
    number_prefix: str
    identity: tuple[str, ...]
    date: dt.date
    title: str
    parties: tuple[Party, ...]
    sections: tuple[Section, ...]
    signatures: tuple[Signature, ...] = ()
    appendix: tuple[Section, ...] = ()
    """Printed after the signatures, from a new page headed «Приложение к … № …»."""
    timezone: str = REGION_TIMEZONE


def regional_date(moment: dt.datetime, timezone: str = REGION_TIMEZONE) -> dt.date:
    """The calendar date of an aware timestamp in the region's time zone."""
    return moment.astimezone(ZoneInfo(timezone)).date()
