"""Certificate numbers: 2-digit region + 2-digit municipality + 6-digit sequence."""

from __future__ import annotations

import pytest

from pfdo_registry.domain.certificate_number import (
    CertificateNumber,
    format_certificate_number,
    parse_certificate_number,
    validate_certificate_number,
)
from pfdo_registry.domain.errors import InvalidCertificateNumber


def code_of(fn, *args) -> str:
    with pytest.raises(InvalidCertificateNumber) as info:
        fn(*args)
    return info.value.code


def test_format() -> None:
    assert format_certificate_number("48", "01", 123) == "4801000123"
    assert format_certificate_number("48", "17", 999_999) == "4817999999"


def test_parse() -> None:
    number = parse_certificate_number("4801000123")
    assert number == CertificateNumber(region="48", municipality="01", sequence=123)
    assert str(number) == "4801000123"
    assert number.display == "48-01-000123"


@pytest.mark.parametrize("value", ["48-01-000123", "48 01 000123", " 4801000123 "])
def test_parse_accepts_separators(value: str) -> None:
    assert validate_certificate_number(value) == "4801000123"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("480100012", "certificate_number_length"),
        ("48010001234", "certificate_number_length"),
        ("", "certificate_number_length"),
        ("48O1000123", "certificate_number_format"),
        ("48/01/000123", "certificate_number_format"),
        ("0001000123", "certificate_number_region"),
        ("4800000123", "certificate_number_municipality"),
        ("4801000000", "certificate_number_sequence"),
    ],
)
def test_invalid(value: str, code: str) -> None:
    assert code_of(validate_certificate_number, value) == code


@pytest.mark.parametrize(
    ("region", "municipality", "sequence", "code"),
    [
        ("4", "01", 1, "certificate_number_region"),
        ("48", "1", 1, "certificate_number_municipality"),
        ("48", "AB", 1, "certificate_number_municipality"),
        ("48", "01", 0, "certificate_number_sequence"),
        ("48", "01", 1_000_000, "certificate_number_sequence"),
    ],
)
def test_format_rejects_bad_parts(region: str, municipality: str, sequence: int, code: str) -> None:
    assert code_of(format_certificate_number, region, municipality, sequence) == code


def test_order_follows_the_number() -> None:
    numbers = ["4802000001", "4801000002", "4801000010"]
    assert [str(n) for n in sorted(map(parse_certificate_number, numbers))] == sorted(numbers)
