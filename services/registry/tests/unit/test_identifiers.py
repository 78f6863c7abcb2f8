"""Examples for the identifier validators (valid numbers checked by hand against the rules)."""

from __future__ import annotations

import random

import pytest

from pfdo_registry.domain.errors import InvalidIdentifier
from pfdo_registry.domain.identifiers import (
    format_snils,
    generate_individual_inn,
    generate_kpp,
    generate_ogrn,
    generate_ogrnip,
    generate_org_inn,
    generate_snils,
    inn10_check_digit,
    inn12_check_digits,
    ogrn_check_digit,
    ogrnip_check_digit,
    snils_check_number,
    validate_individual_inn,
    validate_inn,
    validate_kpp,
    validate_ogrn,
    validate_ogrnip,
    validate_org_inn,
    validate_snils,
)


def code_of(fn, value) -> str:
    with pytest.raises(InvalidIdentifier) as info:
        fn(value)
    return info.value.code


# --- СНИЛС ------------------------------------------------------------------------------------


class TestSnils:
    # 112-233-445: 1·9+1·8+2·7+2·6+3·5+3·4+4·3+4·2+5·1 = 95 (< 100: the check number is the sum)
    @pytest.mark.parametrize(
        "value", ["112-233-445 95", "11223344595", "112 233 445 95", " 112-233-445-95 "]
    )
    def test_accepts_formatted_and_normalises(self, value: str) -> None:
        assert validate_snils(value) == "11223344595"

    def test_sum_above_101_uses_remainder_of_101(self) -> None:
        # 123456789: 9+16+21+24+25+24+21+16+9 = 165; 165 mod 101 = 64
        assert snils_check_number("123456789") == 64
        assert validate_snils("123-456-789 64") == "12345678964"

    def test_sum_100_gives_00(self) -> None:
        # 001326679: 1·7+3·6+2·5+6·4+6·3+7·2+9·1 = 100
        assert snils_check_number("001326679") == 0
        assert validate_snils("001-326-679 00") == "00132667900"

    def test_sum_101_gives_00(self) -> None:
        # 001508816: 1·7+5·6+8·4+8·3+1·2+6·1 = 101
        assert snils_check_number("001508816") == 0
        assert validate_snils("00150881600") == "00150881600"

    def test_remainder_100_gives_00(self) -> None:
        # 017996174: 1·8+7·7+9·6+9·5+6·4+1·3+7·2+4·1 = 201; 201 mod 101 = 100 → 00
        assert snils_check_number("017996174") == 0
        assert validate_snils("017-996-174 00") == "01799617400"

    def test_largest_number(self) -> None:
        # 999999999: 9·45 = 405; 405 mod 101 = 1
        assert validate_snils("999-999-999 01") == "99999999901"

    def test_wrong_check_number(self) -> None:
        assert code_of(validate_snils, "112-233-445 96") == "snils_checksum"
        assert code_of(validate_snils, "123-456-789 00") == "snils_checksum"

    def test_numbers_up_to_001_001_998_are_not_checked(self) -> None:
        assert validate_snils("001-001-998 00") == "00100199800"
        assert validate_snils("001-001-998 57") == "00100199857"
        assert validate_snils("000-000-001 99") == "00000000199"

    def test_001_001_999_is_checked(self) -> None:
        # 001001999: 1·7+1·4+9·3+9·2+9·1 = 65
        assert validate_snils("001-001-999 65") == "00100199965"
        assert code_of(validate_snils, "001-001-999 64") == "snils_checksum"

    @pytest.mark.parametrize("value", ["1122334459", "112233445955", "", "   "])
    def test_length(self, value: str) -> None:
        assert code_of(validate_snils, value) == "snils_length"

    @pytest.mark.parametrize("value", ["112-233-445 9a", "112.233.445 95", "١١٢٢٣٣٤٤٥٩٥"])
    def test_format(self, value: str) -> None:
        assert code_of(validate_snils, value) == "snils_format"

    def test_not_a_string(self) -> None:
        assert code_of(validate_snils, 11223344595) == "snils_format"

    def test_display_form(self) -> None:
        assert format_snils("11223344595") == "112-233-445 95"

    def test_generator_with_given_body(self) -> None:
        assert generate_snils(random.Random(1), body=112233445) == "11223344595"
        with pytest.raises(ValueError):
            generate_snils(random.Random(1), body=1_001_998)


# --- ИНН --------------------------------------------------------------------------------------


class TestInn:
    def test_organisation_inn(self) -> None:
        # 770708389: 7·2+7·4+0·10+7·3+0·5+8·9+3·4+8·6+9·8 = 267; 267 mod 11 = 3 → 3
        assert inn10_check_digit("770708389") == 3
        assert validate_inn("7707083893") == "7707083893"
        assert validate_org_inn(" 7707083893 ") == "7707083893"

    def test_individual_inn(self) -> None:
        # 5001007322: n11 = (5·7+0+0+1·10+0+0+7·9+3·4+2·6+2·8) mod 11 mod 10
        #   = 148 mod 11 = 5; n12 = (5·3+0+0+1·4+0+0+7·5+3·9+2·4+2·6+5·8) = 141 mod 11 = 9
        assert inn12_check_digits("5001007322") == "59"
        assert validate_inn("500100732259") == "500100732259"
        assert validate_individual_inn("500100732259") == "500100732259"

    @pytest.mark.parametrize("value", ["7707083894", "500100732258", "500100732249"])
    def test_checksum(self, value: str) -> None:
        assert code_of(validate_inn, value) == "inn_checksum"

    @pytest.mark.parametrize("value", ["770708389", "77070838931", "5001007322591", ""])
    def test_length(self, value: str) -> None:
        assert code_of(validate_inn, value) == "inn_length"

    @pytest.mark.parametrize("value", ["77070838-3", "7707 083893", "ИНН7707083"])
    def test_format(self, value: str) -> None:
        assert code_of(validate_inn, value) == "inn_format"

    def test_kind_specific_lengths(self) -> None:
        assert code_of(validate_org_inn, "500100732259") == "inn_length"
        assert code_of(validate_individual_inn, "7707083893") == "inn_length"


# --- ОГРН / ОГРНИП ----------------------------------------------------------------------------


class TestOgrn:
    @pytest.mark.parametrize("value", ["1027700132195", "1037739010891", "1022200525819"])
    def test_valid(self, value: str) -> None:
        assert validate_ogrn(value) == value

    def test_check_digit_rule(self) -> None:
        # 102770013219 mod 11 = 5 → 5
        assert 102770013219 % 11 == 5
        assert ogrn_check_digit("102770013219") == 5

    def test_check_digit_ten_becomes_zero(self) -> None:
        # first 12 digits with remainder 10 mod 11: the check digit is 0
        first12 = next(f"1{n:011d}" for n in range(10**6) if int(f"1{n:011d}") % 11 == 10)
        assert ogrn_check_digit(first12) == 0
        assert validate_ogrn(first12 + "0") == first12 + "0"

    def test_checksum(self) -> None:
        assert code_of(validate_ogrn, "1027700132194") == "ogrn_checksum"

    def test_sign(self) -> None:
        # a 13-digit number that would pass the checksum but starts with 3 (an individual)
        first12 = "302770013219"
        value = first12 + str(ogrn_check_digit(first12))
        assert code_of(validate_ogrn, value) == "ogrn_sign"

    @pytest.mark.parametrize("value", ["102770013219", "10277001321950", "304500116000157"])
    def test_length(self, value: str) -> None:
        assert code_of(validate_ogrn, value) == "ogrn_length"

    def test_format(self) -> None:
        assert code_of(validate_ogrn, "1027700I32195") == "ogrn_format"


class TestOgrnip:
    def test_valid(self) -> None:
        # 30450011600015 mod 13 = 7 → 7
        assert 30450011600015 % 13 == 7
        assert ogrnip_check_digit("30450011600015") == 7
        assert validate_ogrnip("304500116000157") == "304500116000157"

    def test_checksum(self) -> None:
        assert code_of(validate_ogrnip, "304500116000158") == "ogrnip_checksum"

    def test_sign(self) -> None:
        first14 = "10450011600015"
        value = first14 + str(ogrnip_check_digit(first14))
        assert code_of(validate_ogrnip, value) == "ogrnip_sign"

    @pytest.mark.parametrize("value", ["1027700132195", "3045001160001570"])
    def test_length(self, value: str) -> None:
        assert code_of(validate_ogrnip, value) == "ogrnip_length"

    def test_format(self) -> None:
        assert code_of(validate_ogrnip, "30450011600015x") == "ogrnip_format"


# --- КПП --------------------------------------------------------------------------------------


class TestKpp:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("773601001", "773601001"), ("7736AB001", "7736AB001"), (" 7736ab001 ", "7736AB001")],
    )
    def test_valid(self, value: str, expected: str) -> None:
        assert validate_kpp(value) == expected

    @pytest.mark.parametrize("value", ["77360100", "7736010010", ""])
    def test_length(self, value: str) -> None:
        assert code_of(validate_kpp, value) == "kpp_length"

    @pytest.mark.parametrize("value", ["A73601001", "7736010A1", "7736-1001", "7736ЯЯ001"])
    def test_format(self, value: str) -> None:
        assert code_of(validate_kpp, value) == "kpp_format"


# --- generators -------------------------------------------------------------------------------


def test_generators_use_region_and_serial() -> None:
    rng = random.Random(7)
    assert generate_org_inn(rng, region="48", serial=12).startswith("48")
    assert generate_org_inn(rng, region="48", serial=12)[4:9] == "00012"
    assert generate_individual_inn(rng, region="36", serial=5)[4:10] == "000005"
    ogrn = generate_ogrn(rng, region="48", serial=77)
    assert ogrn[3:5] == "48" and ogrn[5:12] == "0000077"
    ogrnip = generate_ogrnip(rng, region="48", serial=77)
    assert ogrnip[0] == "3" and ogrnip[3:5] == "48"
    assert generate_kpp(rng, inn="4812000001").startswith("4812")


@pytest.mark.parametrize(
    "generator", [generate_org_inn, generate_individual_inn, generate_ogrn, generate_ogrnip]
)
def test_generators_reject_out_of_range_serials(generator) -> None:
    with pytest.raises(ValueError):
        generator(random.Random(1), serial=-1)
    with pytest.raises(ValueError):
        generator(random.Random(1), region="4", serial=1)
