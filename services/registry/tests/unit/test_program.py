"""Programs and modules: validation and the certification state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time

import pytest

from pfdo_registry.domain import program as prog
from pfdo_registry.domain.errors import IllegalTransition, InvalidProgram, RuleViolation
from pfdo_registry.domain.program import (
    Direction,
    FundingKind,
    Module,
    Program,
    ProgramStatus,
    ScheduleSlot,
    Weekday,
)
from pfdo_registry.domain.provider import ProviderStatus

S = ProgramStatus


def module(module_id: str = "m-1", **overrides) -> Module:
    base = Module(
        module_id=module_id,
        name="Стартовый уровень",
        min_age=7,
        max_age=11,
        municipality_code="01",
        address="г. Белоречье, ул. Мира, д. 5",
        schedule=(
            ScheduleSlot(Weekday.TUE, time(16, 0), time(17, 30)),
            ScheduleSlot(Weekday.THU, time(16, 0), time(17, 30)),
        ),
        hours=144,
        start_date=date(2025, 9, 1),
        end_date=date(2026, 5, 31),
        capacity=12,
        price_kopecks=2_700_000,
        funding_kind=FundingKind.CERTIFICATE,
    )
    return replace(base, **overrides)


def draft(*modules: Module) -> Program:
    result = prog.create_program(
        program_id="pr-1",
        provider_id="p-1",
        name=" Робототехника для начинающих ",
        description="Собираем роботов LEGO.",
        direction=Direction.TECHNICAL,
        modules=modules or (module(),),
    )
    assert result.event is None
    return result.state


def submitted() -> Program:
    return prog.submit(draft(), provider_status=ProviderStatus.ACTIVE).state


def certified() -> Program:
    p = prog.set_normative_cost(submitted(), "m-1", 2_500_000).state
    return prog.certify(p).state


# --- directions -------------------------------------------------------------------------------


def test_exactly_six_directions_with_russian_labels() -> None:
    assert [d.value for d in Direction] == [
        "technical",
        "natural_science",
        "physical_sports",
        "artistic",
        "tourism_local_history",
        "social_humanitarian",
    ]
    assert [d.label_ru for d in Direction] == [
        "техническая",
        "естественнонаучная",
        "физкультурно-спортивная",
        "художественная",
        "туристско-краеведческая",
        "социально-гуманитарная",
    ]


# --- module validation ------------------------------------------------------------------------


class TestModuleValidation:
    def test_valid(self) -> None:
        m = module()
        assert prog.validate_module(m) is m
        assert m.days == 273
        assert m.accepts_age(7) and m.accepts_age(11) and not m.accepts_age(12)

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"min_age": 4}, "age_range_invalid"),
            ({"max_age": 18}, "age_range_invalid"),
            ({"min_age": 12, "max_age": 11}, "age_range_invalid"),
            ({"start_date": date(2026, 5, 31)}, "module_dates_invalid"),
            ({"end_date": date(2025, 8, 31)}, "module_dates_invalid"),
            ({"capacity": 0}, "capacity_invalid"),
            ({"price_kopecks": -1}, "price_invalid"),
            ({"price_kopecks": 100.5}, "price_invalid"),
            ({"hours": 0}, "hours_invalid"),
            ({"hours": True}, "hours_invalid"),
            ({"schedule": ()}, "schedule_invalid"),
            ({"schedule": (ScheduleSlot(Weekday.MON, time(17), time(17)),)}, "schedule_invalid"),
            ({"name": " "}, "name_required"),
            ({"address": ""}, "address_required"),
            ({"municipality_code": "0"}, "municipality_code_invalid"),
            ({"normative_cost_kopecks": -5}, "normative_cost_invalid"),
        ],
    )
    def test_invalid(self, overrides: dict, code: str) -> None:
        with pytest.raises(InvalidProgram) as info:
            prog.validate_module(module(**overrides))
        assert info.value.code == code

    @pytest.mark.parametrize(("lo", "hi"), [(5, 5), (5, 17), (17, 17)])
    def test_age_range_edges(self, lo: int, hi: int) -> None:
        prog.validate_module(module(min_age=lo, max_age=hi))

    def test_free_price_and_municipal_task(self) -> None:
        prog.validate_module(module(price_kopecks=0, funding_kind=FundingKind.MUNICIPAL_TASK))

    def test_certificate_funded_module_needs_a_positive_price(self) -> None:
        with pytest.raises(InvalidProgram) as info:
            prog.validate_module(module(price_kopecks=0, funding_kind=FundingKind.CERTIFICATE))
        assert info.value.code == "price_must_be_positive"
        prog.validate_module(module(price_kopecks=1, funding_kind=FundingKind.CERTIFICATE))

    def test_one_day_module_is_invalid_but_two_days_valid(self) -> None:
        with pytest.raises(InvalidProgram):
            prog.validate_module(module(start_date=date(2025, 9, 1), end_date=date(2025, 9, 1)))
        prog.validate_module(module(start_date=date(2025, 9, 1), end_date=date(2025, 9, 2)))


class TestCreate:
    def test_draft(self) -> None:
        p = draft(module("a", min_age=5, max_age=8), module("b", min_age=9, max_age=14))
        assert p.status is S.DRAFT
        assert p.name == "Робототехника для начинающих"
        assert (p.min_age, p.max_age) == (5, 14)

    def test_duplicate_module_ids(self) -> None:
        with pytest.raises(InvalidProgram) as info:
            draft(module("a"), module("a"))
        assert info.value.code == "duplicate_module_id"

    def test_name_required(self) -> None:
        with pytest.raises(InvalidProgram) as info:
            prog.create_program(
                program_id="x", provider_id="p", name="", description="", direction=Direction.ART
            )
        assert info.value.code == "name_required"

    def test_unknown_direction(self) -> None:
        with pytest.raises(ValueError):
            prog.create_program(
                program_id="x",
                provider_id="p",
                name="X",
                description="",
                direction="music",  # type: ignore[arg-type]
            )


# --- certification ----------------------------------------------------------------------------


def with_cost(p: Program) -> Program:
    return replace(p, modules=tuple(replace(m, normative_cost_kopecks=1) for m in p.modules))


TABLE = {
    "submit": ({S.DRAFT, S.REJECTED}, S.SUBMITTED, "program.submitted"),
    "certify": ({S.SUBMITTED}, S.CERTIFIED, "program.certified"),
    "reject": ({S.SUBMITTED}, S.REJECTED, "program.rejected"),
    "archive": ({S.CERTIFIED}, S.ARCHIVED, "program.archived"),
}


def run(action: str, p: Program):
    if action == "submit":
        return prog.submit(p, provider_status=ProviderStatus.ACTIVE)
    if action == "certify":
        return prog.certify(p)
    if action == "reject":
        return prog.reject(p, reason="hours do not match the plan")
    if action == "archive":
        return prog.archive(p)
    raise AssertionError(action)


@pytest.mark.parametrize(("action", "status"), [(a, s) for a in TABLE for s in ProgramStatus])
def test_transition_table(action: str, status: ProgramStatus) -> None:
    allowed, target, event = TABLE[action]
    p = replace(with_cost(draft()), status=status)
    if status in allowed:
        result = run(action, p)
        assert (result.state.status, result.event) == (target, event)
    else:
        with pytest.raises(IllegalTransition) as info:
            run(action, p)
        assert info.value.code == "illegal_transition"


class TestCertification:
    @pytest.mark.parametrize(
        "status", [s for s in ProviderStatus if s is not ProviderStatus.ACTIVE]
    )
    def test_only_active_providers_submit(self, status: ProviderStatus) -> None:
        with pytest.raises(RuleViolation) as info:
            prog.submit(draft(), provider_status=status)
        assert info.value.code == "provider_not_active"

    def test_submit_needs_a_module(self) -> None:
        p = replace(draft(), modules=())
        with pytest.raises(RuleViolation) as info:
            prog.submit(p, provider_status=ProviderStatus.ACTIVE)
        assert info.value.code == "program_has_no_modules"

    def test_certify_needs_normative_cost_on_every_module(self) -> None:
        two = draft(module("a"), module("b"))
        p = prog.submit(two, provider_status=ProviderStatus.ACTIVE).state
        p = prog.set_normative_cost(p, "a", 2_000_000).state
        with pytest.raises(RuleViolation) as info:
            prog.certify(p)
        assert info.value.code == "normative_cost_missing"
        assert "b" in info.value.message
        p = prog.set_normative_cost(p, "b", 0).state
        result = prog.certify(p)
        assert result.state.status is S.CERTIFIED
        assert result.state.certified_before
        assert [m.normative_cost_kopecks for m in result.state.modules] == [2_000_000, 0]

    def test_normative_cost_only_while_submitted(self) -> None:
        with pytest.raises(IllegalTransition):
            prog.set_normative_cost(draft(), "m-1", 100)
        with pytest.raises(IllegalTransition):
            prog.set_normative_cost(certified(), "m-1", 100)

    @pytest.mark.parametrize("cost", [-1, 1.5, True])
    def test_normative_cost_invalid(self, cost) -> None:
        with pytest.raises(InvalidProgram) as info:
            prog.set_normative_cost(submitted(), "m-1", cost)
        assert info.value.code == "normative_cost_invalid"

    def test_normative_cost_unknown_module(self) -> None:
        with pytest.raises(RuleViolation) as info:
            prog.set_normative_cost(submitted(), "nope", 100)
        assert info.value.code == "module_not_found"

    def test_reject_needs_a_reason_then_resubmit(self) -> None:
        with pytest.raises(RuleViolation) as info:
            prog.reject(submitted(), reason=" ")
        assert info.value.code == "reason_required"
        rejected = prog.reject(submitted(), reason="too few hours").state
        assert rejected.status_reason == "too few hours"
        edited = prog.update_module(rejected, module(hours=200)).state
        assert edited.status is S.REJECTED
        again = prog.submit(edited, provider_status=ProviderStatus.ACTIVE)
        assert again.state.status is S.SUBMITTED and again.state.status_reason is None


class TestEditing:
    def test_editing_a_draft_publishes_nothing(self) -> None:
        result = prog.update_module(draft(), module(capacity=20))
        assert result.event is None
        assert result.state.status is S.DRAFT
        assert result.state.module("m-1").capacity == 20

    def test_editing_a_certified_module_sends_the_program_back(self) -> None:
        p = certified()
        result = prog.update_module(p, module(price_kopecks=3_000_000))
        assert result.state.status is S.SUBMITTED
        assert result.event == "program.changed"
        assert result.state.certified_before  # its enrolments continue
        assert result.state.module("m-1").normative_cost_kopecks is None
        assert p.status is S.CERTIFIED  # unchanged input

    def test_adding_a_module_to_a_certified_program(self) -> None:
        p = certified()
        result = prog.add_module(p, module("m-2", normative_cost_kopecks=5))
        assert (result.state.status, result.event) == (S.SUBMITTED, "program.changed")
        assert result.state.module("m-1").normative_cost_kopecks == 2_500_000  # untouched
        assert result.state.module("m-2").normative_cost_kopecks is None  # provider cannot set it
        with pytest.raises(RuleViolation):
            prog.certify(result.state)

    def test_editing_details_of_a_certified_program(self) -> None:
        result = prog.edit_details(certified(), description="Новое описание")
        assert (result.state.status, result.event) == (S.SUBMITTED, "program.changed")
        assert result.state.description == "Новое описание"
        assert result.state.module("m-1").normative_cost_kopecks == 2_500_000

    def test_editing_while_submitted_stays_submitted(self) -> None:
        p = prog.set_normative_cost(submitted(), "m-1", 10).state
        result = prog.update_module(p, module(capacity=15))
        assert (result.state.status, result.event) == (S.SUBMITTED, None)
        assert result.state.module("m-1").normative_cost_kopecks is None

    def test_invalid_edit_is_refused(self) -> None:
        with pytest.raises(InvalidProgram):
            prog.update_module(certified(), module(capacity=0))

    def test_price_zero_of_a_certificate_module_refused_on_add_and_update(self) -> None:
        moves = ((prog.update_module, module(price_kopecks=0)), (prog.add_module, module("m-2", price_kopecks=0)))
        for move, m in moves:
            with pytest.raises(InvalidProgram) as info:
                move(draft(), m)
            assert info.value.code == "price_must_be_positive"

    def test_edit_unknown_module(self) -> None:
        with pytest.raises(RuleViolation) as info:
            prog.update_module(draft(), module("zzz"))
        assert info.value.code == "module_not_found"

    def test_duplicate_module_added(self) -> None:
        with pytest.raises(InvalidProgram) as info:
            prog.add_module(draft(), module("m-1"))
        assert info.value.code == "duplicate_module_id"

    def test_archived_program_cannot_be_edited(self) -> None:
        archived = prog.archive(certified()).state
        for edit in (
            lambda: prog.update_module(archived, module()),
            lambda: prog.add_module(archived, module("m-2")),
            lambda: prog.edit_details(archived, name="X"),
            lambda: prog.remove_module(archived, "m-1"),
        ):
            with pytest.raises(IllegalTransition):
                edit()

    def test_remove_module_before_certification_only(self) -> None:
        p = draft(module("a"), module("b"))
        assert [m.module_id for m in prog.remove_module(p, "a").state.modules] == ["b"]
        with pytest.raises(IllegalTransition):
            prog.remove_module(certified(), "m-1")
        with pytest.raises(RuleViolation):
            prog.remove_module(p, "c")

    def test_edit_details_direction(self) -> None:
        result = prog.edit_details(draft(), direction=Direction.ART, name="Изостудия")
        assert (result.state.direction, result.state.name) == (Direction.ART, "Изостудия")
        with pytest.raises(InvalidProgram):
            prog.edit_details(draft(), name="  ")
