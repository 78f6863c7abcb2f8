"""The provider's attendance journal of one group for one month, as a grid: its children (rows)
× the month's planned lessons (columns), each cell a mark present / absent / excused.

Pure functions of the API's answers, no I/O: the page module (:mod:`.provider`) loads the
group, its contracts and their marks, and posts the month in one request.

- The columns are the planned lesson dates of the month: the days of the group's weekly
  timetable between its first and last day, less the days off of the production calendar (the
  rule every service shares, ``pfdo_contracts.rules.lessons``).
- The rows are the contracts in force during the month (confirmed, terminated or ended and
  overlapping it); a cell outside a child's contract is not markable.
- Each cell is a form field ``mark.<enrolment id>.<YYYY-MM-DD>``; quick fill sets a whole row or
  column; the API's refusals come back per posted mark (its position in the posting, i.e. the
  JSON pointer ``/marks/<i>``) and are mapped back to their cells.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pfdo_contracts.rules.calendar import days_off_between, month_end
from pfdo_contracts.rules.lessons import planned_lesson_dates

STATUSES = ("present", "absent", "excused")
SHORT = {"present": "был", "absent": "не был", "excused": "уважит."}
"""What a cell's list shows (the legend above the grid spells them out)."""
IN_FORCE = frozenset({"confirmed", "terminated", "ended"})
"""Enrolment states whose contract is or was running: the children a journal lists."""
FIELD_PREFIX = "mark."

REFUSALS = {
    "foreign_group": "Группа принадлежит другой организации.",
    "not_enrolled_on_date": "В этот день ребёнок не обучался в группе.",
    "future_date": "Нельзя отметить занятие, которое ещё не прошло.",
    "month_closed": "Месяц уже закрыт.",
    "not_a_lesson_day": "В этот день по расписанию нет занятия.",
    "duplicate_mark": "Отметка за это занятие передана дважды.",
}
"""The navigator's reasons for a refused mark, as the page says them."""

Key = tuple[str, dt.date]
"""(enrolment id, lesson date): one cell."""


def parse_month(text: str | None) -> dt.date | None:
    """``2026-09`` -> 1 September 2026; None for anything else."""
    if not text or not re.fullmatch(r"(20\d{2}|2100)-(0[1-9]|1[0-2])", text):
        return None
    return dt.date(int(text[:4]), int(text[5:]), 1)


def month_code(month: dt.date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def shift_month(month: dt.date, by: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + by
    return dt.date(index // 12, index % 12 + 1, 1)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def group_months(module: Mapping[str, Any]) -> list[dt.date]:
    """The first days of every month the group runs in."""
    first, last = _day(module["start_date"]).replace(day=1), _day(module["end_date"]).replace(day=1)
    months = []
    while first <= last:
        months.append(first)
        first = shift_month(first, 1)
    return months


def journal_month(module: Mapping[str, Any], asked: dt.date | None, today: dt.date) -> dt.date:
    """The month to show: the one asked for, else today's; kept within the group's months."""
    months = group_months(module)
    wanted = asked or today.replace(day=1)
    if not months:
        return wanted
    return min(max(wanted, months[0]), months[-1])


def lesson_dates(module: Mapping[str, Any], month: dt.date, region_days_off: Iterable[dt.date] = ()) -> list[dt.date]:
    """The planned lesson dates of the group in ``month`` (the columns)."""
    weekdays = [int(slot["weekday"]) for slot in module.get("schedule") or ()]
    if not weekdays:
        return []
    return planned_lesson_dates(
        month, weekdays, _day(module["start_date"]), _day(module["end_date"]),
        days_off=days_off_between(month, month_end(month), region_days_off))


@dataclass(frozen=True)
class Child:
    enrolment_id: str
    number: int
    """1, 2, … in the journal's order (the provider sees contracts, not names)."""
    starts_on: dt.date
    ends_on: dt.date
    state: str

    def covers(self, day: dt.date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @property
    def short_id(self) -> str:
        return self.enrolment_id[:8]


def children(enrolments: Iterable[Mapping[str, Any]], month: dt.date) -> list[Child]:
    """The contracts in force at some day of ``month``, by start date (then id): the rows."""
    first, last = month, month_end(month)
    running = sorted(
        (e for e in enrolments
         if e.get("state") in IN_FORCE and _day(e["starts_on"]) <= last and _day(e["ends_on"]) >= first),
        key=lambda e: (_day(e["starts_on"]), str(e["enrolment_id"])))
    return [Child(str(e["enrolment_id"]), n, _day(e["starts_on"]), _day(e["ends_on"]), str(e["state"]))
            for n, e in enumerate(running, start=1)]


@dataclass(frozen=True)
class Cell:
    enrolment_id: str
    lesson_date: dt.date
    saved: str | None
    """The journal's mark (None: not marked yet)."""
    value: str | None
    """What the form shows: the saved mark, or what the provider chose and has not saved."""
    markable: bool
    """Within the child's contract and the month is open."""
    future: bool
    refusal: str | None = None
    """Why the API refused the mark last sent for this cell."""

    @property
    def name(self) -> str:
        return f"{FIELD_PREFIX}{self.enrolment_id}.{self.lesson_date.isoformat()}"

    @property
    def changed(self) -> bool:
        return self.value != self.saved


@dataclass(frozen=True)
class Row:
    child: Child
    cells: list[Cell]


@dataclass(frozen=True)
class Grid:
    month: dt.date
    lessons: list[dt.date]
    rows: list[Row]
    frozen: bool
    today: dt.date
    """The business date: later lessons are shown as still to come."""
    refused: int = 0

    @property
    def editable(self) -> bool:
        return not self.frozen and any(c.markable for r in self.rows for c in r.cells)


def build_grid(
    module: Mapping[str, Any], month: dt.date, enrolments: Iterable[Mapping[str, Any]],
    marks: Iterable[Mapping[str, Any]], *, today: dt.date, frozen: bool,
    values: Mapping[Key, str] | None = None, refusals: Mapping[Key, str] | None = None,
    region_days_off: Iterable[dt.date] = (),
) -> Grid:
    """The month's grid from the API's answers. ``values``: what the provider chose (a posted
    form), shown instead of the saved marks; ``refusals``: the reason per refused cell."""
    saved = {(str(m["enrolment_id"]), _day(m["lesson_date"])): str(m["status"]) for m in marks}
    values = values or {}
    refusals = refusals or {}
    lessons = lesson_dates(module, month, region_days_off)
    rows = []
    for child in children(enrolments, month):
        cells = []
        for day in lessons:
            key = (child.enrolment_id, day)
            markable = not frozen and child.covers(day)
            value = values.get(key, saved.get(key)) if markable else saved.get(key)
            cells.append(Cell(child.enrolment_id, day, saved.get(key), value, markable, day > today,
                              refusals.get(key)))
        rows.append(Row(child, cells))
    return Grid(month, lessons, rows, frozen, today, refused=len(refusals))


def form_values(form: Iterable[tuple[str, Any]]) -> dict[Key, str]:
    """The cells' values of a posted journal form (unknown fields and empty choices left out)."""
    found: dict[Key, str] = {}
    for name, value in form:
        if not name.startswith(FIELD_PREFIX) or not isinstance(value, str) or value not in STATUSES:
            continue
        enrolment_id, _, day = name[len(FIELD_PREFIX):].rpartition(".")
        try:
            found[(enrolment_id, dt.date.fromisoformat(day))] = value
        except ValueError:
            continue
    return found


def fill(grid: Grid, values: Mapping[Key, str], target: str, status: str) -> dict[Key, str]:
    """Quick fill: ``row:<enrolment id>`` or ``column:<YYYY-MM-DD>`` set to ``status`` in every
    markable cell of it; other cells keep ``values``."""
    if status not in STATUSES:
        return dict(values)
    kind, _, what = target.partition(":")
    filled = dict(values)
    for row in grid.rows:
        for cell in row.cells:
            hit = (kind == "row" and cell.enrolment_id == what) or (
                kind == "column" and cell.lesson_date.isoformat() == what)
            if hit and cell.markable:
                filled[(cell.enrolment_id, cell.lesson_date)] = status
    return filled


def posting(grid: Grid, values: Mapping[Key, str], module_id: str) -> list[dict[str, str]]:
    """The marks of the month to send in one request: every markable cell with a status."""
    marks = []
    for row in grid.rows:
        for cell in row.cells:
            status = values.get((cell.enrolment_id, cell.lesson_date))
            if cell.markable and status in STATUSES:
                marks.append({"enrolment_id": cell.enrolment_id, "module_id": module_id,
                              "lesson_date": cell.lesson_date.isoformat(), "status": status})
    return marks


_MARK_POINTER = re.compile(r"^(?:/body)?/marks/(\d+)(?:/.*)?$")


def pointer_index(pointer: str) -> int | None:
    """``/marks/3`` or ``/body/marks/3/status`` -> 3 (the mark's position in the posting)."""
    found = _MARK_POINTER.match(pointer)
    return int(found.group(1)) if found else None


def _cell_of(posted: Sequence[Mapping[str, str]], index: int | None) -> Key | None:
    if index is None or not 0 <= index < len(posted):
        return None
    mark = posted[index]
    return (mark["enrolment_id"], dt.date.fromisoformat(mark["lesson_date"]))


def refusals_of_report(posted: Sequence[Mapping[str, str]], rejected: Iterable[Mapping[str, Any]]) -> dict[Key, str]:
    """The API's refused marks (each at ``/marks/<index>`` of the posting) per cell, in words."""
    found: dict[Key, str] = {}
    for item in rejected:
        index = item.get("index")
        key = _cell_of(posted, index if isinstance(index, int) else None)
        if key is not None:
            reason = str(item.get("reason", ""))
            found[key] = REFUSALS.get(reason, reason or "Отметка не принята.")
    return found


def refusals_of_problem(posted: Sequence[Mapping[str, str]],
                        pointers: Iterable[tuple[str, str]]) -> tuple[dict[Key, str], list[str]]:
    """A refused posting's field errors: those pointing into a mark go to its cell, the others
    (about the request as a whole) are returned apart."""
    cells: dict[Key, str] = {}
    general: list[str] = []
    for pointer, message in pointers:
        key = _cell_of(posted, pointer_index(pointer))
        if key is None:
            general.append(message)
        else:
            cells[key] = message or "Отметка не принята."
    return cells, general
