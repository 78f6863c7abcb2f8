"""Programs, their modules, and certification (docs/domain-rules.md, "Providers and programs").

A program belongs to a provider and has one of six directions; its modules (groups of study)
carry the age range, municipality, address, schedule, hours, dates, group capacity, price
(kopecks), funding kind and the **normative cost** set by the certifier.

Module rules: age range within 5..17 and min ≤ max; end date after start date; capacity ≥ 1;
price ≥ 0 kopecks (integers, never floats); hours > 0; a non-empty schedule whose lessons end
after they start; address and name required; normative cost, when set, ≥ 0.

Certification::

    draft ──submit──▶ submitted ──certify──▶ certified ──archive──▶ archived
                        │   ▲
                 reject ▼   │ submit (after edits)
                      rejected

* only an **active** provider may submit (``provider_not_active``);
* the certifier sets each module's normative cost while the program is submitted; certifying
  requires one on every module (``normative_cost_missing``) and at least one module;
* editing a certified program (details or a module) sends it back to ``submitted`` and
  publishes ``program.changed``; existing enrolments continue (they keep the terms they were
  made on), only new enrolments wait for re-certification. Editing a module clears that
  module's normative cost, so the certifier looks at it again;
* an archived program cannot be changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from enum import IntEnum, StrEnum

from .age import MAX_APPLICATION_AGE, MIN_APPLICATION_AGE
from .certificate_number import is_valid_code
from .errors import IllegalTransition, InvalidProgram, RuleViolation
from .provider import ProviderStatus
from .transition import Transition


class Direction(StrEnum):
    """The six directions (направленности) of extra-curricular programs.

    Values are the event contracts' codes (``pfdo_contracts.common.Direction``); the long
    member names are aliases of the short ones."""

    TECHNICAL = "technical"
    NATURAL_SCIENCE = "natural_science"
    SPORT = "physical_sports"
    ART = "artistic"
    TOURISM = "tourism_local_history"
    SOCIAL_HUMANITARIAN = "social_humanitarian"
    PHYSICAL_SPORTS = "physical_sports"
    ARTISTIC = "artistic"
    TOURISM_LOCAL_HISTORY = "tourism_local_history"

    @property
    def label_ru(self) -> str:
        return _DIRECTION_LABELS[self]


_DIRECTION_LABELS = {
    Direction.TECHNICAL: "техническая",
    Direction.NATURAL_SCIENCE: "естественнонаучная",
    Direction.SPORT: "физкультурно-спортивная",
    Direction.ART: "художественная",
    Direction.TOURISM: "туристско-краеведческая",
    Direction.SOCIAL_HUMANITARIAN: "социально-гуманитарная",
}


class FundingKind(StrEnum):
    """``certificate``: paid from certificate money; ``municipal_task``: a free place."""

    CERTIFICATE = "certificate"
    MUNICIPAL_TASK = "municipal_task"


class Weekday(IntEnum):
    """ISO weekday numbers (Monday = 1)."""

    MON = 1
    TUE = 2
    WED = 3
    THU = 4
    FRI = 5
    SAT = 6
    SUN = 7


@dataclass(frozen=True, slots=True, order=True)
class ScheduleSlot:
    """A weekly lesson: weekday and local start/end times."""

    weekday: Weekday
    starts_at: time
    ends_at: time


@dataclass(frozen=True, slots=True)
class Module:
    """A module (group of study) of a program. Money in integer kopecks."""

    module_id: str
    name: str
    min_age: int
    max_age: int
    municipality_code: str
    address: str
    schedule: tuple[ScheduleSlot, ...]
    hours: int
    start_date: date
    end_date: date
    capacity: int
    price_kopecks: int
    funding_kind: FundingKind = FundingKind.CERTIFICATE
    normative_cost_kopecks: int | None = None

    @property
    def days(self) -> int:
        """Calendar days of the module, both ends included."""
        return (self.end_date - self.start_date).days + 1

    def accepts_age(self, age: int) -> bool:
        return self.min_age <= age <= self.max_age


class ProgramStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    ARCHIVED = "archived"


class ProgramEvent(StrEnum):
    SUBMITTED = "program.submitted"
    CERTIFIED = "program.certified"
    REJECTED = "program.rejected"
    CHANGED = "program.changed"
    ARCHIVED = "program.archived"


EDITABLE_STATUSES = frozenset(
    {
        ProgramStatus.DRAFT,
        ProgramStatus.SUBMITTED,
        ProgramStatus.REJECTED,
        ProgramStatus.CERTIFIED,
    }
)


@dataclass(frozen=True, slots=True)
class Program:
    """A provider's program (immutable; moves return a new value).

    ``certified_before`` is set once the program has been certified at least once: its
    enrolments may exist and continue while a re-submission is reviewed.
    """

    program_id: str
    provider_id: str
    name: str
    description: str
    direction: Direction
    modules: tuple[Module, ...] = field(default=())
    status: ProgramStatus = ProgramStatus.DRAFT
    status_reason: str | None = None
    certified_before: bool = False

    def module(self, module_id: str) -> Module:
        for m in self.modules:
            if m.module_id == module_id:
                return m
        raise RuleViolation("module_not_found", f"no module {module_id!r} in this program", module_id=module_id)

    @property
    def min_age(self) -> int | None:
        return min((m.min_age for m in self.modules), default=None)

    @property
    def max_age(self) -> int | None:
        return max((m.max_age for m in self.modules), default=None)


# --- validation -------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_module(module: Module) -> Module:
    """Check a module's data; returns it unchanged or raises :class:`InvalidProgram`."""
    m = module
    if not m.name or not m.name.strip():
        raise InvalidProgram("name_required", "the module's name is required")
    if not (_is_int(m.min_age) and _is_int(m.max_age)) or not (
        MIN_APPLICATION_AGE <= m.min_age <= m.max_age <= MAX_APPLICATION_AGE
    ):
        raise InvalidProgram(
            "age_range_invalid",
            f"age range must lie within {MIN_APPLICATION_AGE}..{MAX_APPLICATION_AGE} "
            f"with min <= max, got {m.min_age}..{m.max_age}",
            min_age=MIN_APPLICATION_AGE, max_age=MAX_APPLICATION_AGE,
        )
    if not is_valid_code(m.municipality_code):
        raise InvalidProgram(
            "municipality_code_invalid", "municipality code must be two digits 01..99"
        )
    if not m.address or not m.address.strip():
        raise InvalidProgram("address_required", "the module's address is required")
    if not m.schedule or any(s.ends_at <= s.starts_at for s in m.schedule):
        raise InvalidProgram(
            "schedule_invalid", "the schedule needs lessons that end after they start"
        )
    if not _is_int(m.hours) or m.hours <= 0:
        raise InvalidProgram("hours_invalid", "hours must be a positive integer")
    if m.end_date <= m.start_date:
        raise InvalidProgram("module_dates_invalid", "the end date must be after the start date")
    if not _is_int(m.capacity) or m.capacity < 1:
        raise InvalidProgram("capacity_invalid", "group capacity must be at least 1")
    if not _is_int(m.price_kopecks) or m.price_kopecks < 0:
        raise InvalidProgram("price_invalid", "price must be a non-negative integer of kopecks")
    if FundingKind(m.funding_kind) is FundingKind.CERTIFICATE and m.price_kopecks == 0:
        # the certificate pays a share of the price: a price of 0 would make every quote and
        # reservation zero and hide a data-entry error (a free place is funding kind municipal_task)
        raise InvalidProgram("price_must_be_positive", "a certificate-funded module needs a price above 0")
    if m.normative_cost_kopecks is not None and (
        not _is_int(m.normative_cost_kopecks) or m.normative_cost_kopecks < 0
    ):
        raise InvalidProgram(
            "normative_cost_invalid", "normative cost must be a non-negative integer of kopecks"
        )
    return module


def _check_unique(modules: tuple[Module, ...]) -> None:
    ids = [m.module_id for m in modules]
    if len(ids) != len(set(ids)):
        raise InvalidProgram("duplicate_module_id", "module ids must be unique in a program")


def _require_text(value: str, what: str) -> str:
    if not value or not value.strip():
        raise InvalidProgram("name_required", f"the program's {what} is required")
    return value.strip()


# --- moves ------------------------------------------------------------------------------------


def _require(p: Program, action: str, *allowed: ProgramStatus) -> None:
    if p.status not in allowed:
        raise IllegalTransition("program", p.status.value, action)


def _after_edit(old: Program, new: Program) -> Transition[Program]:
    """An edit of a certified program sends it back to submitted (event program.changed)."""
    if old.status is ProgramStatus.CERTIFIED:
        return Transition(
            replace(new, status=ProgramStatus.SUBMITTED, status_reason=None),
            ProgramEvent.CHANGED.value,
        )
    return Transition(new, None)


def create_program(
    *,
    program_id: str,
    provider_id: str,
    name: str,
    description: str,
    direction: Direction,
    modules: tuple[Module, ...] = (),
) -> Transition[Program]:
    """A new draft (not published: event ``None``)."""
    modules = tuple(validate_module(m) for m in modules)
    _check_unique(modules)
    program = Program(
        program_id=program_id,
        provider_id=provider_id,
        name=_require_text(name, "name"),
        description=(description or "").strip(),
        direction=Direction(direction),
        modules=modules,
    )
    return Transition(program, None)


def edit_details(
    p: Program,
    *,
    name: str | None = None,
    description: str | None = None,
    direction: Direction | None = None,
) -> Transition[Program]:
    """Change name, description or direction (certified → submitted, ``program.changed``)."""
    _require(p, "edit", *EDITABLE_STATUSES)
    new = replace(
        p,
        name=p.name if name is None else _require_text(name, "name"),
        description=p.description if description is None else description.strip(),
        direction=p.direction if direction is None else Direction(direction),
    )
    return _after_edit(p, new)


def add_module(p: Program, module: Module) -> Transition[Program]:
    """Add a module (without a normative cost: the certifier sets it)."""
    _require(p, "add_module", *EDITABLE_STATUSES)
    module = replace(validate_module(module), normative_cost_kopecks=None)
    modules = (*p.modules, module)
    _check_unique(modules)
    return _after_edit(p, replace(p, modules=modules))


def update_module(p: Program, module: Module) -> Transition[Program]:
    """Replace the module with the same id; its normative cost is cleared for re-review."""
    _require(p, "update_module", *EDITABLE_STATUSES)
    p.module(module.module_id)  # module_not_found
    module = replace(validate_module(module), normative_cost_kopecks=None)
    modules = tuple(module if m.module_id == module.module_id else m for m in p.modules)
    return _after_edit(p, replace(p, modules=modules))


def remove_module(p: Program, module_id: str) -> Transition[Program]:
    """Remove a module before certification (draft, submitted, rejected). A certified module
    may have enrolments: archive the program instead."""
    _require(
        p, "remove_module", ProgramStatus.DRAFT, ProgramStatus.SUBMITTED, ProgramStatus.REJECTED
    )
    p.module(module_id)
    modules = tuple(m for m in p.modules if m.module_id != module_id)
    return Transition(replace(p, modules=modules), None)


def submit(p: Program, *, provider_status: ProviderStatus) -> Transition[Program]:
    """draft | rejected → submitted for certification; the provider must be active
    (``provider_not_active``) and the program needs a module (``program_has_no_modules``)."""
    _require(p, "submit", ProgramStatus.DRAFT, ProgramStatus.REJECTED)
    if ProviderStatus(provider_status) is not ProviderStatus.ACTIVE:
        raise RuleViolation(
            "provider_not_active", "only an active provider may submit programs"
        )
    if not p.modules:
        raise RuleViolation("program_has_no_modules", "a program needs at least one module")
    return Transition(
        replace(p, status=ProgramStatus.SUBMITTED, status_reason=None),
        ProgramEvent.SUBMITTED.value,
    )


def set_normative_cost(p: Program, module_id: str, cost_kopecks: int) -> Transition[Program]:
    """The certifier sets a module's normative cost while the program is submitted."""
    _require(p, "set_normative_cost", ProgramStatus.SUBMITTED)
    if not _is_int(cost_kopecks) or cost_kopecks < 0:
        raise InvalidProgram(
            "normative_cost_invalid", "normative cost must be a non-negative integer of kopecks"
        )
    p.module(module_id)
    modules = tuple(
        replace(m, normative_cost_kopecks=cost_kopecks) if m.module_id == module_id else m
        for m in p.modules
    )
    return Transition(replace(p, modules=modules), None)


def certify(p: Program) -> Transition[Program]:
    """submitted → certified; every module needs a normative cost (``normative_cost_missing``)."""
    _require(p, "certify", ProgramStatus.SUBMITTED)
    if not p.modules:
        raise RuleViolation("program_has_no_modules", "a program needs at least one module")
    missing = [m.module_id for m in p.modules if m.normative_cost_kopecks is None]
    if missing:
        raise RuleViolation(
            "normative_cost_missing",
            f"set the normative cost of every module first (missing: {', '.join(missing)})",
            missing=", ".join(missing),
        )
    return Transition(
        replace(p, status=ProgramStatus.CERTIFIED, status_reason=None, certified_before=True),
        ProgramEvent.CERTIFIED.value,
    )


def reject(p: Program, *, reason: str) -> Transition[Program]:
    """submitted → rejected (reason required); the provider edits and submits again."""
    _require(p, "reject", ProgramStatus.SUBMITTED)
    if not reason or not reason.strip():
        raise RuleViolation("reason_required", "a reason must be given")
    return Transition(
        replace(p, status=ProgramStatus.REJECTED, status_reason=reason.strip()),
        ProgramEvent.REJECTED.value,
    )


def archive(p: Program) -> Transition[Program]:
    """certified → archived (final; no new enrolments, existing ones run to their end)."""
    _require(p, "archive", ProgramStatus.CERTIFIED)
    return Transition(replace(p, status=ProgramStatus.ARCHIVED), ProgramEvent.ARCHIVED.value)
