"""The attendance journal (docs/domain-rules.md, "Attendance journal and disputes")."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from pfdo_contracts.rules.calendar import days_off
from pfdo_contracts.rules.lessons import planned_lesson_dates
from pfdo_navigator.domain.attendance import (
    ContractPeriod,
    Group,
    Mark,
    MarkKind,
    MarkRejection,
    MarkStatus,
    validate_marks,
)
from pfdo_navigator.domain.dates import YearMonth

P, A, E = MarkStatus.PRESENT, MarkStatus.ABSENT, MarkStatus.EXCUSED
MON_WED = frozenset({1, 3})
GROUPS = {
    "g1": Group("g1", "prov1", MON_WED),
    "g2": Group("g2", "prov1", frozenset({6})),
    "gx": Group("gx", "prov2", MON_WED),
}
CONTRACTS = {
    "e1": ContractPeriod("e1", "g1", date(2025, 9, 1), date(2026, 5, 31)),
    "e2": ContractPeriod("e2", "g1", date(2025, 9, 15), date(2025, 10, 31)),  # terminated
    "e3": ContractPeriod("e3", "gx", date(2025, 9, 1), date(2026, 5, 31)),
}
TODAY = date(2025, 10, 10)  # a Friday
MON = date(2025, 10, 6)


def run(marks, **kw):  # type: ignore[no-untyped-def]
    args = dict(provider_id="prov1", groups=GROUPS, contracts=CONTRACTS, today=TODAY, closed_months={YearMonth(2025, 8)})
    args.update(kw)
    return validate_marks(marks, **args)


def test_valid_marks_are_recorded() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e2", "g1", MON, E), Mark("e1", "g1", date(2025, 10, 8), A)])
    assert r.rejected == []
    assert [a.kind for a in r.accepted] == [MarkKind.RECORDED] * 3
    assert [a.index for a in r.accepted] == [0, 1, 2]


def test_each_rejection_reason() -> None:
    marks = [
        Mark("e3", "gx", MON, P),  # another provider's group
        Mark("e1", "nope", MON, P),  # unknown group
        Mark("e2", "g1", date(2025, 9, 8), P),  # before e2 started
        Mark("e9", "g1", MON, P),  # unknown enrolment
        Mark("e1", "g2", date(2025, 10, 4), P),  # own group, but the child is not in it
        Mark("e1", "g1", date(2025, 10, 13), P),  # future
        Mark("e1", "g1", date(2025, 9, 29), P),  # month closed (see closed_months)
        Mark("e1", "g1", date(2025, 10, 7), P),  # a Tuesday
    ]
    r = run(marks, closed_months={YearMonth(2025, 9)})
    assert r.accepted == []
    assert [x.reason for x in r.rejected] == [
        MarkRejection.FOREIGN_GROUP,
        MarkRejection.FOREIGN_GROUP,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.NOT_ENROLLED_ON_DATE,
        MarkRejection.FUTURE_DATE,
        MarkRejection.MONTH_CLOSED,
        MarkRejection.NOT_A_LESSON_DAY,
    ]
    assert [x.index for x in r.rejected] == list(range(8))


def test_after_termination_the_child_cannot_be_marked() -> None:
    r = run([Mark("e2", "g1", date(2025, 11, 3), P)], today=date(2025, 11, 5))
    assert r.rejected[0].reason is MarkRejection.NOT_ENROLLED_ON_DATE


def test_today_is_not_future_and_schedule_can_be_relaxed() -> None:
    wed = date(2025, 10, 8)
    assert run([Mark("e1", "g1", wed, P)], today=wed).rejected == []
    tue = date(2025, 10, 7)
    assert run([Mark("e1", "g1", tue, P)], enforce_schedule=False).rejected == []


def test_identical_duplicates_keep_the_first() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e2", "g1", MON, A), Mark("e1", "g1", MON, P)])
    assert [a.index for a in r.accepted] == [0, 1]
    assert [(x.index, x.reason) for x in r.rejected] == [(2, MarkRejection.DUPLICATE_MARK)]


def test_conflicting_duplicates_are_all_rejected() -> None:
    r = run([Mark("e1", "g1", MON, P), Mark("e1", "g1", MON, A)])
    assert r.accepted == []
    assert [(x.index, x.reason) for x in r.rejected] == [(0, MarkRejection.DUPLICATE_MARK), (1, MarkRejection.DUPLICATE_MARK)]


def test_corrections_until_month_closed() -> None:
    existing = {("e1", MON): A, ("e1", date(2025, 10, 1)): P}
    r = run([Mark("e1", "g1", MON, P), Mark("e1", "g1", date(2025, 10, 1), P)], existing=existing)
    assert [(a.kind, a.previous) for a in r.accepted] == [(MarkKind.CORRECTED, A), (MarkKind.UNCHANGED, P)]
    assert [a.index for a in r.changed] == [0]
    closed = run([Mark("e1", "g1", MON, P)], existing=existing, closed_months={YearMonth(2025, 10)})
    assert closed.rejected[0].reason is MarkRejection.MONTH_CLOSED


@settings(max_examples=100)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["e1", "e2", "e3", "e9"]),
            st.sampled_from(["g1", "g2", "gx"]),
            st.dates(min_value=date(2025, 8, 20), max_value=date(2025, 10, 20)),
            st.sampled_from(list(MarkStatus)),
        ),
        max_size=60,
    )
)
def test_every_mark_is_accounted_for_once(raw: list) -> None:  # type: ignore[type-arg]
    marks = [Mark(*r) for r in raw]
    result = run(marks)
    indexes = sorted([a.index for a in result.accepted] + [x.index for x in result.rejected])
    assert indexes == list(range(len(marks)))
    keys = [a.mark.key for a in result.accepted]
    assert len(keys) == len(set(keys))
    for a in result.accepted:
        assert GROUPS[a.mark.group_id].provider_id == "prov1"
        assert CONTRACTS[a.mark.enrolment_id].covers(a.mark.lesson_date)
        assert a.mark.lesson_date <= TODAY


def test_thousands_of_marks() -> None:
    contracts = {f"e{i}": ContractPeriod(f"e{i}", "g1", date(2025, 9, 1), date(2026, 5, 31)) for i in range(300)}
    days = planned_lesson_dates(date(2025, 9, 1), MON_WED, date(2025, 9, 1), date(2025, 9, 30), days_off=days_off(2025))
    marks = [Mark(e, "g1", d, P) for e in contracts for d in days]
    r = run(marks, contracts=contracts)
    assert len(marks) > 2000 and len(r.accepted) == len(marks) and r.rejected == []
