"""Deterministic synthetic region: municipalities, providers, programs, children.

Pure: no I/O, no clock, no global random state. The same ``seed`` and ``size`` always give
the same data, item for item, so demos, tests and benchmarks are reproducible.

* Everything is streamed (``providers()``, ``programs()``, ``children()`` are iterators), so
  the large size (50 000 programs, hundreds of thousands of children) needs little memory.
* Providers and programs are random-access too (``provider(i)``, ``program(i)``): each item is
  derived from its own seeded random source, so a program can name its provider's municipality
  and status without generating every provider first.
* Identifiers are valid by construction and unique within a region: ИНН, ОГРН, ОГРНИП and КПП
  per provider type, СНИЛС for children (a bijection of the child's index onto the checked
  range of СНИЛС numbers), certificate numbers (region + municipality + per-municipality
  sequence).
* Names of people, municipalities and organisations are invented; program names and
  descriptions are realistic Russian text so that full-text search has something to find.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Literal

from pfdo_registry.domain.age import MAX_APPLICATION_AGE, MIN_APPLICATION_AGE, anniversary
from pfdo_registry.domain.certificate_number import format_certificate_number
from pfdo_registry.domain.identifiers import (
    SNILS_CHECKED_ABOVE,
    generate_individual_inn,
    generate_kpp,
    generate_ogrn,
    generate_ogrnip,
    generate_org_inn,
    snils_check_number,
)
from pfdo_registry.domain.program import (
    Direction,
    FundingKind,
    Module,
    ProgramStatus,
    ScheduleSlot,
    Weekday,
)
from pfdo_registry.domain.provider import ProviderStatus, ProviderType
from . import vocabulary as vocab

# --- sizes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionSize:
    """How many of each thing to generate."""

    municipalities: int
    providers: int
    programs: int
    children: int

    def __post_init__(self) -> None:
        if not 1 <= self.municipalities <= 99:
            raise ValueError("municipalities must be 1..99 (two-digit codes)")
        if not 1 <= self.providers <= 99_999:
            raise ValueError("providers must be 1..99999")
        if self.programs < 0 or self.children < 0:
            raise ValueError("counts must be non-negative")


SIZES: dict[str, RegionSize] = {
    "small": RegionSize(municipalities=5, providers=50, programs=300, children=2_000),
    "medium": RegionSize(municipalities=20, providers=500, programs=4_000, children=40_000),
    "large": RegionSize(municipalities=40, providers=5_000, programs=50_000, children=300_000),
}

SizeName = Literal["small", "medium", "large"]

# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoMunicipality:
    code: str
    name: str
    center: str
    """The town or village where its addresses are."""


@dataclass(frozen=True, slots=True)
class DemoProvider:
    provider_id: str
    provider_type: ProviderType
    name: str
    inn: str
    ogrn: str
    """ОГРН for organisations, ОГРНИП for individual entrepreneurs."""
    kpp: str | None
    municipality_code: str
    address: str
    status: ProviderStatus


@dataclass(frozen=True, slots=True)
class DemoProgram:
    program_id: str
    provider_id: str
    name: str
    description: str
    direction: Direction
    status: ProgramStatus
    modules: tuple[Module, ...]


@dataclass(frozen=True, slots=True)
class DemoChild:
    child_id: str
    parent_id: str
    last_name: str
    first_name: str
    patronymic: str
    sex: Literal["m", "f"]
    birth_date: date
    snils: str
    municipality_code: str
    certificate_number: str


# --- the region -------------------------------------------------------------------------------

_SNILS_SPAN = 999_999_999 - SNILS_CHECKED_ABOVE  # bodies 001-001-999 .. 999-999-999
_PROVIDER_CACHE_SIZE = 20_000  # programs look their provider up; bounded memory
_SNILS_STRIDE = 387_420_489  # 3**18, coprime with the span: i -> body is a bijection


@dataclass(frozen=True)
class DemoRegion:
    """A synthetic region; call the iterators to stream its contents."""

    seed: int
    size: RegionSize
    region_code: str = "48"
    on_date: date = date(2025, 9, 1)
    """Reference date: children are 5..17 on it, module dates are in the school year from it."""
    _municipalities: tuple[DemoMunicipality, ...] = field(init=False, repr=False, compare=False)
    _snils_offset: int = field(init=False, repr=False, compare=False)
    _provider_cache: dict[int, DemoProvider] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.region_code) != 2 or not self.region_code.isdigit():
            raise ValueError("region_code is two digits")
        object.__setattr__(self, "_municipalities", tuple(self._make_municipalities()))
        object.__setattr__(self, "_snils_offset", self._rng("snils", 0).randrange(_SNILS_SPAN))
        object.__setattr__(self, "_provider_cache", {})

    # randomness: one independent, reproducible source per item
    def _rng(self, kind: str, index: int) -> random.Random:
        return random.Random(f"pfdo-demo:{self.seed}:{kind}:{index}")

    def _id(self, kind: str, index: int | str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pfdo-demo:{self.seed}:{kind}:{index}"))

    # --- municipalities -----------------------------------------------------------------------

    def _make_municipalities(self) -> Iterator[DemoMunicipality]:
        rng = self._rng("municipalities", 0)
        names = list(vocab.MUNICIPALITIES)
        rng.shuffle(names)
        for i in range(self.size.municipalities):
            if i < len(names):
                name, center = names[i]
            else:
                name, center = f"Муниципальный округ № {i + 1}", f"пос. Северный-{i + 1}"
            yield DemoMunicipality(code=f"{i + 1:02d}", name=name, center=center)

    def municipalities(self) -> tuple[DemoMunicipality, ...]:
        return self._municipalities

    def _municipality(self, index: int) -> DemoMunicipality:
        return self._municipalities[index % len(self._municipalities)]

    # --- providers ----------------------------------------------------------------------------

    def provider_id(self, index: int) -> str:
        return self._id("provider", index)

    def provider(self, index: int) -> DemoProvider:
        """The ``index``-th provider (0-based); identifiers unique by construction."""
        cached = self._provider_cache.get(index)
        if cached is not None:
            return cached
        provider = self._make_provider(index)
        if len(self._provider_cache) < _PROVIDER_CACHE_SIZE:
            self._provider_cache[index] = provider
        return provider

    def _make_provider(self, index: int) -> DemoProvider:
        if not 0 <= index < self.size.providers:
            raise IndexError(index)
        rng = self._rng("provider", index)
        muni = self._municipality(index)
        ptype = rng.choices(
            list(vocab.PROVIDER_TYPE_WEIGHTS), weights=list(vocab.PROVIDER_TYPE_WEIGHTS.values())
        )[0]
        status = rng.choices(
            [ProviderStatus.ACTIVE, ProviderStatus.NEW, ProviderStatus.SUSPENDED],
            weights=[94, 4, 2],
        )[0]
        region = self.region_code
        if ptype.is_organisation:
            inn = generate_org_inn(rng, region=region, serial=index)
            ogrn = generate_ogrn(rng, region=region, serial=index)
            kpp: str | None = generate_kpp(rng, inn=inn)
            name = vocab.organisation_name(rng, ptype, index)
        else:
            inn = generate_individual_inn(rng, region=region, serial=index)
            ogrn = generate_ogrnip(rng, region=region, serial=index)
            kpp = None
            name = vocab.entrepreneur_name(rng)
        return DemoProvider(
            provider_id=self.provider_id(index),
            provider_type=ptype,
            name=name,
            inn=inn,
            ogrn=ogrn,
            kpp=kpp,
            municipality_code=muni.code,
            address=vocab.address(rng, muni.center),
            status=status,
        )

    def providers(self) -> Iterator[DemoProvider]:
        for i in range(self.size.providers):
            yield self.provider(i)

    # --- programs -----------------------------------------------------------------------------

    def program(self, index: int) -> DemoProgram:
        """The ``index``-th program (0-based) with 1..3 valid modules."""
        if not 0 <= index < self.size.programs:
            raise IndexError(index)
        rng = self._rng("program", index)
        provider_index = rng.randrange(self.size.providers)
        provider = self.provider(provider_index)
        muni = self._municipality(provider_index)
        direction = rng.choices(
            list(vocab.DIRECTION_WEIGHTS), weights=list(vocab.DIRECTION_WEIGHTS.values())
        )[0]
        entry = rng.choice(vocab.PROGRAM_CATALOGUE[direction])
        name = vocab.program_name(rng, entry)
        if provider.status is ProviderStatus.ACTIVE:
            status = rng.choices(
                [
                    ProgramStatus.CERTIFIED,
                    ProgramStatus.SUBMITTED,
                    ProgramStatus.DRAFT,
                    ProgramStatus.REJECTED,
                    ProgramStatus.ARCHIVED,
                ],
                weights=[84, 6, 5, 2, 3],
            )[0]
        else:
            status = ProgramStatus.DRAFT
        n_modules = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
        lo, hi = entry.ages
        modules = tuple(
            self._module(rng, index, k, n_modules, lo, hi, muni, status) for k in range(n_modules)
        )
        capacity = max(m.capacity for m in modules)
        return DemoProgram(
            program_id=self._id("program", index),
            provider_id=provider.provider_id,
            name=name,
            description=vocab.program_description(rng, entry, capacity, lo, hi),
            direction=direction,
            status=status,
            modules=modules,
        )

    def _module(
        self,
        rng: random.Random,
        program_index: int,
        k: int,
        n_modules: int,
        lo: int,
        hi: int,
        muni: DemoMunicipality,
        status: ProgramStatus,
    ) -> Module:
        # split the program's age band between modules (each at least one year wide)
        span = hi - lo + 1
        step = max(1, span // n_modules)
        min_age = min(lo + k * step, hi)
        max_age = hi if k == n_modules - 1 else max(min_age, min(hi, lo + (k + 1) * step - 1))
        year = self.on_date.year if self.on_date.month >= 6 else self.on_date.year - 1
        start, end = rng.choice(
            [
                (date(year, 9, 1), date(year + 1, 5, 31)),
                (date(year, 9, 15), date(year + 1, 5, 25)),
                (date(year, 9, 1), date(year, 12, 28)),
                (date(year + 1, 1, 12), date(year + 1, 5, 31)),
                (date(year + 1, 6, 1), date(year + 1, 8, 20)),
            ]
        )
        slots = _schedule(rng)
        weeks = max(1, (end - start).days // 7)
        per_lesson = sum(_academic_hours(s) for s in slots)
        hours = max(1, weeks * per_lesson)
        months = max(1, round((end - start).days / 30))
        funding = rng.choices([FundingKind.CERTIFICATE, FundingKind.MUNICIPAL_TASK], [80, 20])[0]
        if funding is FundingKind.MUNICIPAL_TASK:
            price = 0
        else:
            price = rng.randrange(1_500, 6_001, 100) * months * 100  # rubles/month → kopecks
        normative = None
        if status in (ProgramStatus.CERTIFIED, ProgramStatus.ARCHIVED):
            normative = round(price * rng.uniform(0.8, 1.1) / 100) * 100
        level = vocab.LEVELS[min(k, len(vocab.LEVELS) - 1)] if n_modules > 1 else "Основной"
        return Module(
            module_id=self._id(f"module:{program_index}", k),
            name=f"Модуль {k + 1}. {level} уровень ({min_age}–{max_age} лет)",
            min_age=min_age,
            max_age=max_age,
            municipality_code=muni.code,
            address=vocab.address(rng, muni.center),
            schedule=slots,
            hours=hours,
            start_date=start,
            end_date=end,
            capacity=rng.randint(8, 25),
            price_kopecks=price,
            funding_kind=funding,
            normative_cost_kopecks=normative,
        )

    def programs(self) -> Iterator[DemoProgram]:
        for i in range(self.size.programs):
            yield self.program(i)

    # --- children -----------------------------------------------------------------------------

    def snils_for(self, child_index: int) -> str:
        """The child's СНИЛС: an injective map from the index onto checked СНИЛС numbers."""
        step = (_SNILS_STRIDE * child_index + self._snils_offset) % _SNILS_SPAN
        body = f"{SNILS_CHECKED_ABOVE + 1 + step:09d}"
        return f"{body}{snils_check_number(body):02d}"

    def children(self) -> Iterator[DemoChild]:
        """Children in families of 1..3 (shared parent, surname, municipality)."""
        oldest = anniversary(self.on_date, -(MAX_APPLICATION_AGE + 1)) + timedelta(days=1)
        youngest = anniversary(self.on_date, -MIN_APPLICATION_AGE)
        span_days = (youngest - oldest).days
        sequences: dict[str, int] = {}
        produced = 0
        family = 0
        while produced < self.size.children:
            rng = self._rng("family", family)
            parent_id = self._id("parent", family)
            muni = self._municipality(rng.randrange(len(self._municipalities)))
            surname = rng.choice(vocab.SURNAMES)
            father = rng.choice(vocab.PATRONYMICS)
            size = min(rng.choices([1, 2, 3], [60, 30, 10])[0], self.size.children - produced)
            for _ in range(size):
                sex: Literal["m", "f"] = rng.choice(("m", "f"))
                first = rng.choice(vocab.BOYS if sex == "m" else vocab.GIRLS)
                sequences[muni.code] = sequences.get(muni.code, 0) + 1
                yield DemoChild(
                    child_id=self._id("child", produced),
                    parent_id=parent_id,
                    last_name=vocab.surname_for(surname, sex),
                    first_name=first,
                    patronymic=father[0] if sex == "m" else father[1],
                    sex=sex,
                    birth_date=oldest + timedelta(days=rng.randint(0, span_days)),
                    snils=self.snils_for(produced),
                    municipality_code=muni.code,
                    certificate_number=format_certificate_number(
                        self.region_code, muni.code, sequences[muni.code]
                    ),
                )
                produced += 1
            family += 1


def _schedule(rng: random.Random) -> tuple[ScheduleSlot, ...]:
    days = sorted(rng.sample(list(Weekday)[:6], rng.choice([1, 2, 2, 3])))
    start_minutes = rng.randrange(14 * 60, 18 * 60 + 1, 30)
    length = rng.choice([45, 90, 90, 135])
    starts = time(start_minutes // 60, start_minutes % 60)
    end_minutes = start_minutes + length
    ends = time(end_minutes // 60, end_minutes % 60)
    return tuple(ScheduleSlot(Weekday(d), starts, ends) for d in days)


def _academic_hours(slot: ScheduleSlot) -> int:
    minutes = (slot.ends_at.hour * 60 + slot.ends_at.minute) - (
        slot.starts_at.hour * 60 + slot.starts_at.minute
    )
    return max(1, minutes // 45)


def generate_region(
    seed: int = 48, size: SizeName | RegionSize = "small", *, region_code: str = "48",
    on_date: date = date(2025, 9, 1),
) -> DemoRegion:
    """A synthetic region of a named size (small, medium, large) or explicit counts."""
    counts = SIZES[size] if isinstance(size, str) else size
    return DemoRegion(seed=seed, size=counts, region_code=region_code, on_date=on_date)
