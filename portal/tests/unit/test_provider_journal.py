"""The attendance journal's grid: its columns (the planned lesson dates of the month), its rows
(the contracts in force), quick fill, the month's posting and the API's refusals back in their cells."""

from __future__ import annotations

import datetime as dt

from pfdo_portal.pages import provider_journal as j

D = dt.date
GROUP = {"id": "m1", "name": "Группа 1", "start_date": "2026-09-01", "end_date": "2027-05-31",
         "schedule": [{"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"},
                      {"weekday": 4, "starts_at": "16:00:00", "ends_at": "17:30:00"}]}
A, B, C = "aaaaaaaa-0000-4000-8000-000000000001", "bbbbbbbb-0000-4000-8000-000000000002", "cccccccc-0000-4000-8000-000000000003"


def enrolment(eid: str, state: str, starts: str, ends: str) -> dict:
    return {"enrolment_id": eid, "state": state, "starts_on": starts, "ends_on": ends, "module_id": "m1"}


ENROLMENTS = [
    enrolment(B, "confirmed", "2026-09-10", "2027-05-31"),
    enrolment(A, "confirmed", "2026-09-01", "2027-05-31"),
    enrolment(C, "reserved", "2026-09-01", "2027-05-31"),  # not a contract yet: no row
    enrolment("dddddddd-0000-4000-8000-000000000004", "terminated", "2026-09-01", "2026-08-31"),
]


def test_the_columns_are_the_timetables_days_of_the_month_less_the_days_off() -> None:
    assert j.lesson_dates(GROUP, D(2026, 9, 1)) == [
        D(2026, 9, 1), D(2026, 9, 3), D(2026, 9, 8), D(2026, 9, 10), D(2026, 9, 15), D(2026, 9, 17),
        D(2026, 9, 22), D(2026, 9, 24), D(2026, 9, 29)]
    # 31 December 2026 (a Thursday) is a day off by decree; January: 1–8 January off
    assert D(2026, 12, 31) not in j.lesson_dates(GROUP, D(2026, 12, 1))
    assert j.lesson_dates(GROUP, D(2027, 1, 1))[0] == D(2027, 1, 12)
    # the region's own day off, and the group's first and last days bound the month
    assert D(2026, 9, 8) not in j.lesson_dates(GROUP, D(2026, 9, 1), region_days_off=[D(2026, 9, 8)])
    assert j.lesson_dates({**GROUP, "start_date": "2026-09-09"}, D(2026, 9, 1))[0] == D(2026, 9, 10)
    assert j.lesson_dates({**GROUP, "schedule": []}, D(2026, 9, 1)) == []


def test_the_month_shown_stays_within_the_groups_months() -> None:
    assert j.parse_month("2026-10") == D(2026, 10, 1)
    assert j.parse_month("2026-13") is None and j.parse_month("октябрь") is None and j.parse_month(None) is None
    assert j.journal_month(GROUP, None, D(2026, 11, 17)) == D(2026, 11, 1)
    assert j.journal_month(GROUP, D(2026, 5, 1), D(2026, 11, 17)) == D(2026, 9, 1)
    assert j.journal_month(GROUP, D(2027, 8, 1), D(2026, 11, 17)) == D(2027, 5, 1)
    assert len(j.group_months(GROUP)) == 9
    assert j.shift_month(D(2026, 12, 1), 1) == D(2027, 1, 1) and j.shift_month(D(2027, 1, 1), -1) == D(2026, 12, 1)


def test_rows_are_the_contracts_in_force_in_the_month_and_cells_outside_a_contract_are_not_markable() -> None:
    marks = [{"enrolment_id": A, "lesson_date": "2026-09-01", "status": "present"}]
    grid = j.build_grid(GROUP, D(2026, 9, 1), ENROLMENTS, marks, today=D(2026, 9, 16), frozen=False)
    assert [(r.child.number, r.child.enrolment_id) for r in grid.rows] == [(1, A), (2, B)]
    first, second = grid.rows
    assert first.cells[0].saved == "present" and first.cells[0].value == "present" and first.cells[0].markable
    assert [c.markable for c in second.cells[:4]] == [False, False, False, True]  # B starts on 10 September
    assert [c.future for c in first.cells] == [False] * 5 + [True] * 4  # after 16 September
    assert first.cells[1].name == f"mark.{A}.2026-09-03"
    assert grid.editable


def test_a_frozen_month_is_read_only() -> None:
    marks = [{"enrolment_id": A, "lesson_date": "2026-09-01", "status": "absent"}]
    grid = j.build_grid(GROUP, D(2026, 9, 1), ENROLMENTS, marks, today=D(2026, 10, 5), frozen=True,
                        values={(A, D(2026, 9, 1)): "present"})
    assert not grid.editable
    assert not any(c.markable for r in grid.rows for c in r.cells)
    assert grid.rows[0].cells[0].value == "absent"  # a posted value never shows over a frozen mark
    assert j.posting(grid, {(A, D(2026, 9, 1)): "present"}, "m1") == []


def test_quick_fill_sets_a_row_or_a_column_in_its_markable_cells_only() -> None:
    grid = j.build_grid(GROUP, D(2026, 9, 1), ENROLMENTS, [], today=D(2026, 9, 30), frozen=False)
    row = j.fill(grid, {(B, D(2026, 9, 10)): "excused"}, f"row:{A}", "present")
    assert {k for k, v in row.items() if v == "present"} == {(A, d) for d in grid.lessons}
    assert row[(B, D(2026, 9, 10))] == "excused"
    column = j.fill(grid, {}, "column:2026-09-08", "absent")
    assert column == {(A, D(2026, 9, 8)): "absent"}  # B's contract had not started on 8 September
    assert j.fill(grid, {}, "column:2026-09-10", "nonsense") == {}
    assert j.fill(grid, {}, "row:unknown", "present") == {}


def test_the_form_becomes_one_posting_of_the_month() -> None:
    form = [(f"mark.{A}.2026-09-01", "present"), (f"mark.{A}.2026-09-03", ""), (f"mark.{B}.2026-09-03", "absent"),
            (f"mark.{B}.2026-09-10", "excused"), (f"mark.{A}.not-a-date", "present"), ("csrf_token", "x"),
            (f"mark.{A}.2026-09-08", "late")]
    values = j.form_values(form)
    assert values == {(A, D(2026, 9, 1)): "present", (B, D(2026, 9, 3)): "absent", (B, D(2026, 9, 10)): "excused"}
    grid = j.build_grid(GROUP, D(2026, 9, 1), ENROLMENTS, [], today=D(2026, 9, 30), frozen=False)
    # B on 3 September is outside the contract: not sent
    assert j.posting(grid, values, "m1") == [
        {"enrolment_id": A, "module_id": "m1", "lesson_date": "2026-09-01", "status": "present"},
        {"enrolment_id": B, "module_id": "m1", "lesson_date": "2026-09-10", "status": "excused"},
    ]


def test_the_apis_refusals_go_back_to_their_cells() -> None:
    posted = [{"enrolment_id": A, "module_id": "m1", "lesson_date": "2026-09-01", "status": "present"},
              {"enrolment_id": A, "module_id": "m1", "lesson_date": "2026-09-29", "status": "present"},
              {"enrolment_id": B, "module_id": "m1", "lesson_date": "2026-09-29", "status": "absent"}]
    rejected = [{"index": 1, "enrolment_id": A, "lesson_date": "2026-09-29", "reason": "future_date"},
                {"index": 2, "enrolment_id": B, "lesson_date": "2026-09-29", "reason": "something_new"},
                {"index": 7, "enrolment_id": B, "lesson_date": "2026-09-29", "reason": "future_date"}]
    assert j.refusals_of_report(posted, rejected) == {
        (A, D(2026, 9, 29)): "Нельзя отметить занятие, которое ещё не прошло.",
        (B, D(2026, 9, 29)): "something_new",
    }
    assert j.pointer_index("/marks/2") == 2 and j.pointer_index("/body/marks/12/status") == 12
    assert j.pointer_index("/marks") is None and j.pointer_index("/body/marks/x") is None
    cells, general = j.refusals_of_problem(posted, [("/body/marks/0/status", "Недопустимое значение."),
                                                    ("/body/marks", "Слишком много отметок."),
                                                    ("/body/marks/9/status", "Вне передачи.")])
    assert cells == {(A, D(2026, 9, 1)): "Недопустимое значение."}
    assert general == ["Слишком много отметок.", "Вне передачи."]
    grid = j.build_grid(GROUP, D(2026, 9, 1), ENROLMENTS, [], today=D(2026, 9, 16), frozen=False,
                        values={(A, D(2026, 9, 29)): "present"}, refusals=j.refusals_of_report(posted, rejected))
    cell = grid.rows[0].cells[-1]
    assert (cell.value, cell.refusal, cell.saved) == ("present", "Нельзя отметить занятие, которое ещё не прошло.", None)
    assert grid.refused == 2
