"""Certificate numbers (docs/domain-rules.md, "Certificates").

A certificate number is 10 digits = 2-digit region code + 2-digit municipality (payer) code +
6-digit sequence, e.g. ``4801000123``: region 48, municipality 01, sequence 123.
Region and municipality codes are 01..99; the sequence is 000001..999999 (zero is never
issued). Uniqueness is the repository's job (one sequence per region + municipality).

Parsing accepts blanks and hyphens between the parts (``"48-01-000123"``, ``"48 01 000123"``)
and returns the canonical 10 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidCertificateNumber

SEQUENCE_MAX = 999_999
_SEPARATORS = re.compile(r"[\s\-]")


def is_valid_code(code: object) -> bool:
    """True for a two-digit region or municipality code 01..99."""
    return (
        isinstance(code, str)
        and len(code) == 2
        and code.isascii()
        and code.isdigit()
        and code != "00"
    )


def _check_code(code: str, what: str) -> str:
    if not is_valid_code(code):
        raise InvalidCertificateNumber(
            f"certificate_number_{what}", f"{what} code must be two digits 01..99, got {code!r}"
        )
    return code


def validate_region_code(code: str) -> str:
    """A 2-digit region code 01..99 (``certificate_number_region``)."""
    return _check_code(code, "region")


def validate_municipality_code(code: str) -> str:
    """A 2-digit municipality (payer) code 01..99 (``certificate_number_municipality``)."""
    return _check_code(code, "municipality")


@dataclass(frozen=True, slots=True, order=True)
class CertificateNumber:
    """The parts of a certificate number."""

    region: str
    municipality: str
    sequence: int

    def __post_init__(self) -> None:
        validate_region_code(self.region)
        validate_municipality_code(self.municipality)
        if not isinstance(self.sequence, int) or not 1 <= self.sequence <= SEQUENCE_MAX:
            raise InvalidCertificateNumber(
                "certificate_number_sequence",
                f"sequence must be 1..{SEQUENCE_MAX}, got {self.sequence!r}",
            )

    def __str__(self) -> str:
        return f"{self.region}{self.municipality}{self.sequence:06d}"

    @property
    def display(self) -> str:
        """Human form ``RR-MM-SSSSSS``."""
        return f"{self.region}-{self.municipality}-{self.sequence:06d}"


def format_certificate_number(region: str, municipality: str, sequence: int) -> str:
    """Canonical 10-digit number from its parts (validates each part)."""
    return str(CertificateNumber(region, municipality, sequence))


def parse_certificate_number(value: str) -> CertificateNumber:
    """Split a certificate number into its parts.

    Codes: ``certificate_number_format`` (not digits), ``certificate_number_length``,
    ``certificate_number_region``, ``certificate_number_municipality``,
    ``certificate_number_sequence`` (000000).
    """
    if not isinstance(value, str):
        raise InvalidCertificateNumber("certificate_number_format", "must be a string")
    digits = _SEPARATORS.sub("", value.strip())
    if digits and (not digits.isascii() or not digits.isdigit()):
        raise InvalidCertificateNumber(
            "certificate_number_format", "certificate number must contain digits only"
        )
    if len(digits) != 10:
        raise InvalidCertificateNumber(
            "certificate_number_length",
            f"certificate number must have 10 digits, got {len(digits)}",
            got=len(digits),
        )
    return CertificateNumber(digits[0:2], digits[2:4], int(digits[4:10]))


def validate_certificate_number(value: str) -> str:
    """Validate and return the canonical 10-digit certificate number."""
    return str(parse_certificate_number(value))
