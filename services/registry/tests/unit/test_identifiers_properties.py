"""Property tests for identifiers.

What is asserted about single-digit changes (one position replaced by a different digit):
the checksums are not perfect, so each test states *exactly* when a change can slip through,
and asserts that validation fails in every other case:

* ИНН-10: the check digit is ``r mod 10`` with ``r = Σ d_i·w_i mod 11``. Every weight is
  non-zero mod 11 (a prime), so changing one digit always changes ``r``; the change escapes
  only when ``{r, r'} = {0, 10}`` (both give check digit 0). A changed check digit is always
  caught.
* ИНН-12: the same for each of the two check digits; a change in the first ten digits escapes
  only if it does so for both check sums at once. A changed check digit is always caught.
* ОГРН: ``N mod 11`` changes by ``±δ`` (10^k ≡ ±1 mod 11), so the change escapes only when
  ``{r, r'} = {0, 10}``; a changed first digit must stay 1 or 5.
* ОГРНИП: ``N mod 13`` always changes (13 is prime, coprime with 10), and escapes only when
  ``r ≡ r' (mod 10)``: ``{0, 10}``, ``{1, 11}``, ``{2, 12}``; a changed first digit is always
  caught (it must be 3).
* СНИЛС: the check number is ``(S mod 101) mod 100`` and a change moves ``S`` by at most 81,
  so ``S mod 101`` always changes; it escapes only when ``{S mod 101, S' mod 101} = {0, 100}``,
  or when the changed number falls to 001-001-998 or below, where no check applies.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from pfdo_registry.domain.certificate_number import (
    CertificateNumber,
    format_certificate_number,
    parse_certificate_number,
)
from pfdo_registry.domain.errors import InvalidIdentifier
from pfdo_registry.domain.identifiers import (
    INN10_WEIGHTS,
    INN12_WEIGHTS_11,
    INN12_WEIGHTS_12,
    SNILS_CHECKED_ABOVE,
    generate_individual_inn,
    generate_kpp,
    generate_ogrn,
    generate_ogrnip,
    generate_org_inn,
    generate_snils,
    validate_individual_inn,
    validate_inn,
    validate_kpp,
    validate_ogrn,
    validate_ogrnip,
    validate_org_inn,
    validate_snils,
)

seeds = st.integers(min_value=0, max_value=2**32)
regions = st.integers(min_value=1, max_value=99).map(lambda n: f"{n:02d}")


def passes(validator, value: str) -> bool:
    try:
        validator(value)
    except InvalidIdentifier:
        return False
    return True


def mutate(value: str, position: int, shift: int) -> str:
    """Replace the digit at ``position`` by a different digit (shift 1..9)."""
    new = (int(value[position]) + shift) % 10
    return value[:position] + str(new) + value[position + 1 :]


def weighted(digits: str, weights: tuple[int, ...], modulus: int) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % modulus


# --- generated identifiers always validate ----------------------------------------------------


@given(seeds, regions)
def test_generated_identifiers_validate(seed: int, region: str) -> None:
    rng = random.Random(seed)
    snils = generate_snils(rng)
    assert validate_snils(snils) == snils
    inn10 = generate_org_inn(rng, region=region)
    assert validate_org_inn(inn10) == inn10 == validate_inn(inn10)
    inn12 = generate_individual_inn(rng, region=region)
    assert validate_individual_inn(inn12) == inn12 == validate_inn(inn12)
    ogrn = generate_ogrn(rng, region=region)
    assert validate_ogrn(ogrn) == ogrn
    ogrnip = generate_ogrnip(rng, region=region)
    assert validate_ogrnip(ogrnip) == ogrnip
    kpp = generate_kpp(rng, inn=inn10)
    assert validate_kpp(kpp) == kpp
    assert validate_kpp(generate_kpp(rng)) is not None


# --- single-digit changes ---------------------------------------------------------------------

shifts = st.integers(min_value=1, max_value=9)


@given(seeds, st.integers(min_value=0, max_value=9), shifts)
def test_inn10_single_digit_change(seed: int, position: int, shift: int) -> None:
    inn = generate_org_inn(random.Random(seed))
    changed = mutate(inn, position, shift)
    r = weighted(inn[:9], INN10_WEIGHTS, 11)
    r_changed = weighted(changed[:9], INN10_WEIGHTS, 11)
    escapes = position < 9 and {r, r_changed} == {0, 10}
    assert passes(validate_inn, changed) == escapes


@given(seeds, st.integers(min_value=0, max_value=11), shifts)
def test_inn12_single_digit_change(seed: int, position: int, shift: int) -> None:
    inn = generate_individual_inn(random.Random(seed))
    changed = mutate(inn, position, shift)
    r11 = weighted(inn[:10], INN12_WEIGHTS_11, 11)
    r11c = weighted(changed[:10], INN12_WEIGHTS_11, 11)
    r12 = weighted(inn[:11], INN12_WEIGHTS_12, 11)
    r12c = weighted(changed[:11], INN12_WEIGHTS_12, 11)
    escapes = position < 10 and {r11, r11c} == {0, 10} and {r12, r12c} == {0, 10}
    assert passes(validate_inn, changed) == escapes


@given(seeds, st.integers(min_value=0, max_value=12), shifts)
def test_ogrn_single_digit_change(seed: int, position: int, shift: int) -> None:
    ogrn = generate_ogrn(random.Random(seed))
    changed = mutate(ogrn, position, shift)
    r, r_changed = int(ogrn[:12]) % 11, int(changed[:12]) % 11
    assert r != r_changed or position == 12
    escapes = position < 12 and changed[0] in "15" and {r, r_changed} == {0, 10}
    assert passes(validate_ogrn, changed) == escapes


@given(seeds, st.integers(min_value=0, max_value=14), shifts)
def test_ogrnip_single_digit_change(seed: int, position: int, shift: int) -> None:
    ogrnip = generate_ogrnip(random.Random(seed))
    changed = mutate(ogrnip, position, shift)
    r, r_changed = int(ogrnip[:14]) % 13, int(changed[:14]) % 13
    assert r != r_changed or position == 14
    escapes = 0 < position < 14 and r % 10 == r_changed % 10
    assert passes(validate_ogrnip, changed) == escapes


@given(seeds, st.integers(min_value=0, max_value=10), shifts)
def test_snils_single_digit_change(seed: int, position: int, shift: int) -> None:
    snils = generate_snils(random.Random(seed))
    changed = mutate(snils, position, shift)
    weights = tuple(range(9, 0, -1))
    s, s_changed = weighted(snils[:9], weights, 101), weighted(changed[:9], weights, 101)
    assert s != s_changed or position >= 9
    unchecked = int(changed[:9]) <= SNILS_CHECKED_ABOVE
    escapes = unchecked or (position < 9 and {s, s_changed} == {0, 100})
    assert passes(validate_snils, changed) == escapes


def test_single_digit_changes_mostly_caught() -> None:
    """Size of the gap: over every single-digit change of 200 organisation ИНН, more than
    90 % are caught."""
    rng = random.Random(2024)
    total = caught = 0
    for _ in range(200):
        inn = generate_org_inn(rng)
        for position in range(10):
            for shift in range(1, 10):
                total += 1
                caught += not passes(validate_inn, mutate(inn, position, shift))
    assert caught / total > 0.9


# --- certificate numbers ----------------------------------------------------------------------


@given(
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=1, max_value=99),
    st.integers(min_value=1, max_value=999_999),
)
def test_certificate_number_round_trip(region: int, municipality: int, sequence: int) -> None:
    number = format_certificate_number(f"{region:02d}", f"{municipality:02d}", sequence)
    assert len(number) == 10 and number.isdigit()
    parsed = parse_certificate_number(number)
    assert parsed == CertificateNumber(f"{region:02d}", f"{municipality:02d}", sequence)
    assert str(parsed) == number
    assert parse_certificate_number(parsed.display) == parsed
