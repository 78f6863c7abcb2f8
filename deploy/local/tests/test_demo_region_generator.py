"""The synthetic region: deterministic, valid, streaming."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

import pytest

from pfdo_devstack.demo_region import SIZES, RegionSize, generate_region
from pfdo_registry.domain.age import age_on
from pfdo_registry.domain.certificate_number import parse_certificate_number
from pfdo_registry.domain.identifiers import validate_snils
from pfdo_registry.domain.program import Direction, ProgramStatus, validate_module
from pfdo_registry.domain.provider import (
    ProviderStatus,
    ProviderType,
    validate_provider_identifiers,
)

TINY = RegionSize(municipalities=3, providers=30, programs=60, children=300)


@pytest.fixture(scope="module")
def small():
    region = generate_region(seed=7, size="small")
    return (
        region,
        list(region.providers()),
        list(region.programs()),
        list(region.children()),
    )


def test_sizes() -> None:
    assert SIZES["small"] == RegionSize(5, 50, 300, 2_000)
    assert SIZES["large"].programs == 50_000
    assert SIZES["medium"].programs >= 2_000 and SIZES["medium"].children >= 10_000


def test_counts(small) -> None:
    region, providers, programs, children = small
    assert len(region.municipalities()) == 5
    assert (len(providers), len(programs), len(children)) == (50, 300, 2_000)


def test_deterministic_for_a_seed() -> None:
    a, b = generate_region(11, TINY), generate_region(11, TINY)
    assert a.municipalities() == b.municipalities()
    assert list(a.providers()) == list(b.providers())
    assert list(a.programs()) == list(b.programs())
    assert list(a.children()) == list(b.children())


def test_other_seed_other_data() -> None:
    a, b = generate_region(11, TINY), generate_region(12, TINY)
    assert list(a.programs()) != list(b.programs())
    assert [c.snils for c in a.children()] != [c.snils for c in b.children()]


def test_random_access_matches_the_stream() -> None:
    region = generate_region(3, TINY)
    assert list(region.programs())[17] == region.program(17)
    assert list(region.providers())[5] == region.provider(5)
    with pytest.raises(IndexError):
        region.program(TINY.programs)


def test_municipality_codes(small) -> None:
    region, *_ = small
    assert [m.code for m in region.municipalities()] == ["01", "02", "03", "04", "05"]
    assert len({m.name for m in region.municipalities()}) == 5


def test_provider_identifiers_valid_and_unique(small) -> None:
    _, providers, _, _ = small
    for p in providers:
        ids = validate_provider_identifiers(p.provider_type, inn=p.inn, ogrn=p.ogrn, kpp=p.kpp)
        assert (ids.inn, ids.ogrn, ids.kpp) == (p.inn, p.ogrn, p.kpp)
        assert p.inn.startswith("48")
    assert len({p.inn for p in providers}) == len(providers)
    assert len({p.ogrn for p in providers}) == len(providers)
    assert len({p.provider_id for p in providers}) == len(providers)
    assert {p.provider_type for p in providers} == set(ProviderType)
    assert Counter(p.status for p in providers)[ProviderStatus.ACTIVE] > 40


def test_programs_valid(small) -> None:
    _, providers, programs, _ = small
    by_id = {p.provider_id: p for p in providers}
    assert {p.direction for p in programs} == set(Direction)
    for program in programs:
        provider = by_id[program.provider_id]
        assert program.name and program.description
        assert 1 <= len(program.modules) <= 3
        assert len({m.module_id for m in program.modules}) == len(program.modules)
        for m in program.modules:
            validate_module(m)
            assert m.municipality_code == provider.municipality_code
            if program.status in (ProgramStatus.CERTIFIED, ProgramStatus.ARCHIVED):
                assert m.normative_cost_kopecks is not None
        if provider.status is not ProviderStatus.ACTIVE:
            assert program.status is ProgramStatus.DRAFT
    assert Counter(p.status for p in programs)[ProgramStatus.CERTIFIED] > 200


def test_program_texts_make_search_meaningful(small) -> None:
    _, _, programs, _ = small
    names = " ".join(p.name for p in programs)
    for word in ("Робототехника", "шахматист", "студия"):
        assert word in names
    assert len({p.name for p in programs}) > 40


def test_children_valid(small) -> None:
    region, _, _, children = small
    for child in children:
        assert validate_snils(child.snils) == child.snils
        assert 5 <= age_on(child.birth_date, region.on_date) <= 17
        number = parse_certificate_number(child.certificate_number)
        assert (number.region, number.municipality) == ("48", child.municipality_code)
        assert child.first_name and child.last_name and child.patronymic
    assert len({c.snils for c in children}) == len(children)
    assert len({c.certificate_number for c in children}) == len(children)
    assert len({c.child_id for c in children}) == len(children)
    ages = Counter(age_on(c.birth_date, region.on_date) for c in children)
    assert set(ages) == set(range(5, 18))


def test_families_share_parent_surname_and_municipality(small) -> None:
    _, _, _, children = small
    families: dict[str, list] = {}
    for child in children:
        families.setdefault(child.parent_id, []).append(child)
    assert any(len(kids) > 1 for kids in families.values())
    for kids in families.values():
        assert len({k.municipality_code for k in kids}) == 1
        assert len({k.last_name.removesuffix("а") for k in kids}) == 1


def test_snils_unique_across_a_large_index_range() -> None:
    region = generate_region(5, "large")
    sample = [region.snils_for(i) for i in range(0, 300_000, 7)]
    assert len(set(sample)) == len(sample)
    assert all(validate_snils(s) == s for s in sample[:2000])


def test_large_size_streams_lazily() -> None:
    region = generate_region(1, "large")
    first = list(itertools.islice(region.programs(), 5))
    assert len(first) == 5
    assert len(list(itertools.islice(region.children(), 5))) == 5


def test_reference_date_and_region_code() -> None:
    region = generate_region(2, TINY, region_code="36", on_date=date(2026, 1, 15))
    for child in region.children():
        assert child.certificate_number.startswith("36")
        assert 5 <= age_on(child.birth_date, date(2026, 1, 15)) <= 17
    for p in region.providers():
        assert p.inn.startswith("36")


def test_region_size_limits() -> None:
    with pytest.raises(ValueError):
        RegionSize(municipalities=100, providers=1, programs=1, children=1)
    with pytest.raises(ValueError):
        RegionSize(municipalities=1, providers=0, programs=1, children=1)
