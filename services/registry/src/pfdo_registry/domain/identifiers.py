"""Russian state identifiers: validation with checksums, normalisation and generation.

Rules implemented (as published):

* **СНИЛС** (insurance number of an individual account, 11 digits ``XXX-XXX-XXX YY``):
  the check number ``YY`` is computed from the 9-digit number ``d1..d9`` as
  ``S = Σ d_i × (10 − i)`` (weights 9, 8, …, 1);
  S < 100 → YY = S; S = 100 or 101 → YY = 00; S > 101 → S mod 101, then the same two rules
  (a remainder of 100 gives 00). Equivalently ``YY = (S mod 101) mod 100``.
  The check applies only to numbers greater than 001-001-998; lower numbers were issued
  before the rule and are accepted with any check number.
* **ИНН** (taxpayer number): 10 digits for an organisation, check digit
  ``(Σ d_i × w_i mod 11) mod 10`` with weights 2, 4, 10, 3, 5, 9, 4, 6, 8;
  12 digits for an individual, two check digits: the 11th with weights
  7, 2, 4, 10, 3, 5, 9, 4, 6, 8 over digits 1–10, the 12th with weights
  3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8 over digits 1–11, each ``(sum mod 11) mod 10``.
* **ОГРН** (primary state registration number of a legal entity): 13 digits,
  check digit = ``(first 12 digits as a number mod 11) mod 10``; the first digit (the sign of
  the record) is 1 or 5 for an ОГРН.
* **ОГРНИП** (the same for an individual entrepreneur): 15 digits,
  check digit = ``(first 14 digits as a number mod 13) mod 10``; the first digit is 3.
* **КПП** (reason-for-registration code): 9 characters, ``NNNNPPXXX``: 4 digits (tax office),
  2 characters of ``[0-9A-Z]`` (reason), 3 digits (serial). No checksum.
* **БИК** (bank identification code): 9 digits, format only.
* **Расчётный счёт** and **корреспондентский счёт** (20 digits): the Bank of Russia's control key
  ("Порядок расчёта контрольного ключа в номере лицевого счёта", 08.09.1997 № 515). Take a
  3-digit prefix and the 20-digit account (23 digits), weights 7, 1, 3 repeating; the account is
  valid when ``Σ d_i × w_i ≡ 0 (mod 10)``. The prefix is the last three digits of the БИК for an
  account opened in a credit institution (a settlement account), and ``"0"`` + digits 5–6 of the
  БИК for an account opened in a division of the Bank of Russia (a bank's correspondent
  account). The key digit is the 9th digit of the account. Every weight is coprime with 10, so
  any single mistyped digit of the account is always caught.

Validators return the normalised value (digits only; КПП upper-case) or raise
:class:`InvalidIdentifier` with codes ``<kind>_format``, ``<kind>_length``,
``<kind>_checksum`` and ``ogrn_sign`` / ``ogrnip_sign`` (kinds: snils, inn, ogrn, ogrnip, kpp,
bik, account (a settlement account), correspondent_account).

Generators take a :class:`random.Random` (so callers control determinism) and always return
valid, normalised numbers.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from .errors import InvalidIdentifier

# --- shared helpers ---------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[\s\-]")


def _digits_only(value: str, kind: str, label: str, *, separators: bool) -> str:
    """Strip surrounding blanks (and inner separators if allowed); require only digits."""
    if not isinstance(value, str):
        raise InvalidIdentifier(f"{kind}_format", f"{label} must be a string of digits")
    text = value.strip()
    if separators:
        text = _SEPARATORS.sub("", text)
    if text and (not text.isascii() or not text.isdigit()):
        raise InvalidIdentifier(f"{kind}_format", f"{label} must contain digits only")
    return text


def _require_length(digits: str, lengths: Sequence[int], kind: str, label: str) -> None:
    if len(digits) not in lengths:
        expected = " or ".join(str(n) for n in lengths)
        raise InvalidIdentifier(
            f"{kind}_length", f"{label} must have {expected} digits, got {len(digits)}", got=len(digits)
        )


def _weighted_mod11_mod10(digits: str, weights: Sequence[int]) -> int:
    """``(Σ d_i × w_i mod 11) mod 10``: the ИНН check digit rule."""
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 % 10


# --- СНИЛС ------------------------------------------------------------------------------------

SNILS_CHECKED_ABOVE = 1_001_998
"""Numbers (first 9 digits) up to and including 001-001-998 are not checksum-checked."""


def snils_check_number(body: str) -> int:
    """The two-digit check number (0..99) of a 9-digit СНИЛС body, per the Pension Fund rule."""
    if len(body) != 9 or not body.isdigit():
        raise ValueError("a СНИЛС body is exactly 9 digits")
    total = sum(int(d) * w for d, w in zip(body, range(9, 0, -1), strict=True))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    remainder = total % 101
    return 0 if remainder == 100 else remainder


def validate_snils(value: str) -> str:
    """Validate a СНИЛС and return its 11 digits.

    Accepts ``"112-233-445 95"``, ``"112 233 445 95"``, ``"11223344595"``. Codes:
    ``snils_format``, ``snils_length``, ``snils_checksum``.
    """
    digits = _digits_only(value, "snils", "СНИЛС", separators=True)
    _require_length(digits, (11,), "snils", "СНИЛС")
    body, check = digits[:9], int(digits[9:])
    if int(body) > SNILS_CHECKED_ABOVE and snils_check_number(body) != check:
        raise InvalidIdentifier(
            "snils_checksum", "СНИЛС check number does not match (mistyped number?)"
        )
    return digits


def format_snils(value: str) -> str:
    """Display form ``XXX-XXX-XXX YY`` of a (valid) СНИЛС."""
    d = validate_snils(value)
    return f"{d[0:3]}-{d[3:6]}-{d[6:9]} {d[9:11]}"


def generate_snils(rng: random.Random, *, body: int | None = None) -> str:
    """A valid 11-digit СНИЛС; ``body`` (the 9-digit number) is random above 001-001-998."""
    if body is None:
        body = rng.randint(SNILS_CHECKED_ABOVE + 1, 999_999_999)
    if not SNILS_CHECKED_ABOVE < body <= 999_999_999:
        raise ValueError("body must be in 001-001-999 .. 999-999-999")
    text = f"{body:09d}"
    return f"{text}{snils_check_number(text):02d}"


# --- ИНН --------------------------------------------------------------------------------------

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def inn10_check_digit(first9: str) -> int:
    """Check digit of an organisation's ИНН from its first 9 digits."""
    return _weighted_mod11_mod10(first9, INN10_WEIGHTS)


def inn12_check_digits(first10: str) -> str:
    """The two check digits of an individual's ИНН from its first 10 digits."""
    d11 = _weighted_mod11_mod10(first10, INN12_WEIGHTS_11)
    d12 = _weighted_mod11_mod10(first10 + str(d11), INN12_WEIGHTS_12)
    return f"{d11}{d12}"


def validate_inn(value: str) -> str:
    """Validate an ИНН of either kind (10 or 12 digits) and return its digits.

    Codes: ``inn_format``, ``inn_length``, ``inn_checksum``.
    """
    digits = _digits_only(value, "inn", "ИНН", separators=False)
    _require_length(digits, (10, 12), "inn", "ИНН")
    if len(digits) == 10:
        ok = inn10_check_digit(digits[:9]) == int(digits[9])
    else:
        ok = inn12_check_digits(digits[:10]) == digits[10:]
    if not ok:
        raise InvalidIdentifier("inn_checksum", "ИНН check digit does not match")
    return digits


def validate_org_inn(value: str) -> str:
    """Validate the 10-digit ИНН of an organisation (``inn_length`` if not 10 digits)."""
    digits = _digits_only(value, "inn", "ИНН", separators=False)
    _require_length(digits, (10,), "inn", "ИНН of an organisation")
    return validate_inn(digits)


def validate_individual_inn(value: str) -> str:
    """Validate the 12-digit ИНН of an individual (``inn_length`` if not 12 digits)."""
    digits = _digits_only(value, "inn", "ИНН", separators=False)
    _require_length(digits, (12,), "inn", "ИНН of an individual")
    return validate_inn(digits)


def _region(region: str) -> str:
    if len(region) != 2 or not region.isdigit():
        raise ValueError("region code is 2 digits")
    return region


def generate_org_inn(
    rng: random.Random, *, region: str = "48", serial: int | None = None
) -> str:
    """A valid 10-digit organisation ИНН: region(2) + tax office(2) + serial(5) + check.

    Pass distinct ``serial`` values (0..99 999) to get distinct numbers for one tax office.
    """
    office = rng.randint(1, 99)
    serial = rng.randint(0, 99_999) if serial is None else serial
    if not 0 <= serial <= 99_999:
        raise ValueError("serial must be 0..99999")
    first9 = f"{_region(region)}{office:02d}{serial:05d}"
    return f"{first9}{inn10_check_digit(first9)}"


def generate_individual_inn(
    rng: random.Random, *, region: str = "48", serial: int | None = None
) -> str:
    """A valid 12-digit individual ИНН: region(2) + tax office(2) + serial(6) + 2 checks."""
    office = rng.randint(1, 99)
    serial = rng.randint(0, 999_999) if serial is None else serial
    if not 0 <= serial <= 999_999:
        raise ValueError("serial must be 0..999999")
    first10 = f"{_region(region)}{office:02d}{serial:06d}"
    return f"{first10}{inn12_check_digits(first10)}"


# --- ОГРН / ОГРНИП ----------------------------------------------------------------------------

OGRN_SIGNS = frozenset("15")
OGRNIP_SIGNS = frozenset("3")


def ogrn_check_digit(first12: str) -> int:
    """ОГРН check digit: (first 12 digits as a number mod 11) mod 10."""
    return int(first12) % 11 % 10


def ogrnip_check_digit(first14: str) -> int:
    """ОГРНИП check digit: (first 14 digits as a number mod 13) mod 10."""
    return int(first14) % 13 % 10


def validate_ogrn(value: str) -> str:
    """Validate a 13-digit ОГРН of a legal entity; codes ``ogrn_format``, ``ogrn_length``,
    ``ogrn_sign`` (first digit not 1 or 5), ``ogrn_checksum``."""
    digits = _digits_only(value, "ogrn", "ОГРН", separators=False)
    _require_length(digits, (13,), "ogrn", "ОГРН")
    if digits[0] not in OGRN_SIGNS:
        raise InvalidIdentifier("ogrn_sign", "ОГРН of a legal entity starts with 1 or 5")
    if ogrn_check_digit(digits[:12]) != int(digits[12]):
        raise InvalidIdentifier("ogrn_checksum", "ОГРН check digit does not match")
    return digits


def validate_ogrnip(value: str) -> str:
    """Validate a 15-digit ОГРНИП of an individual entrepreneur; codes ``ogrnip_format``,
    ``ogrnip_length``, ``ogrnip_sign`` (first digit not 3), ``ogrnip_checksum``."""
    digits = _digits_only(value, "ogrnip", "ОГРНИП", separators=False)
    _require_length(digits, (15,), "ogrnip", "ОГРНИП")
    if digits[0] not in OGRNIP_SIGNS:
        raise InvalidIdentifier("ogrnip_sign", "ОГРНИП starts with 3")
    if ogrnip_check_digit(digits[:14]) != int(digits[14]):
        raise InvalidIdentifier("ogrnip_checksum", "ОГРНИП check digit does not match")
    return digits


def generate_ogrn(
    rng: random.Random, *, region: str = "48", serial: int | None = None
) -> str:
    """A valid ОГРН: sign(1|5) + year(2) + region(2) + record number(7) + check."""
    sign = rng.choice("15")
    year = rng.randint(2, 24)
    serial = rng.randint(0, 9_999_999) if serial is None else serial
    if not 0 <= serial <= 9_999_999:
        raise ValueError("serial must be 0..9999999")
    first12 = f"{sign}{year:02d}{_region(region)}{serial:07d}"
    return f"{first12}{ogrn_check_digit(first12)}"


def generate_ogrnip(
    rng: random.Random, *, region: str = "48", serial: int | None = None
) -> str:
    """A valid ОГРНИП: sign 3 + year(2) + region(2) + record number(9) + check."""
    year = rng.randint(4, 24)
    serial = rng.randint(0, 999_999_999) if serial is None else serial
    if not 0 <= serial <= 999_999_999:
        raise ValueError("serial must be 0..999999999")
    first14 = f"3{year:02d}{_region(region)}{serial:09d}"
    return f"{first14}{ogrnip_check_digit(first14)}"


# --- КПП --------------------------------------------------------------------------------------

_KPP = re.compile(r"\d{4}[0-9A-Z]{2}\d{3}")


def validate_kpp(value: str) -> str:
    """Validate a КПП (format only, no checksum) and return it upper-cased.

    Codes: ``kpp_length`` (not 9 characters), ``kpp_format``.
    """
    if not isinstance(value, str):
        raise InvalidIdentifier("kpp_format", "КПП must be a string")
    text = value.strip().upper()
    if len(text) != 9:
        raise InvalidIdentifier("kpp_length", f"КПП must have 9 characters, got {len(text)}", got=len(text))
    if not _KPP.fullmatch(text):
        raise InvalidIdentifier(
            "kpp_format", "КПП is 4 digits, 2 characters of 0-9/A-Z, then 3 digits"
        )
    return text


def generate_kpp(rng: random.Random, *, inn: str | None = None) -> str:
    """A valid КПП; with an organisation's ``inn`` the tax office part matches its first 4
    digits, as for an organisation registered at its seat (reason code 01)."""
    office = inn[:4] if inn else f"{rng.randint(100, 9999):04d}"
    return f"{office}01{rng.randint(1, 999):03d}"


# --- БИК and bank accounts ----------------------------------------------------------------------

ACCOUNT_KEY_WEIGHTS = (7, 1, 3) * 7 + (7, 1)
"""Weights of the 23 digits (3-digit prefix + 20-digit account) of the Bank of Russia key."""
ACCOUNT_KEY_POSITION = 8
"""Index (0-based) of the key digit inside the 20-digit account."""


def validate_bik(value: str) -> str:
    """Validate a БИК (9 digits, format only); codes ``bik_format``, ``bik_length``."""
    digits = _digits_only(value, "bik", "БИК", separators=False)
    _require_length(digits, (9,), "bik", "БИК")
    return digits


def settlement_key_prefix(bik: str) -> str:
    """The key prefix of an account opened in a credit institution: the БИК's last three digits."""
    return bik[6:9]


def correspondent_key_prefix(bik: str) -> str:
    """The key prefix of an account opened in the Bank of Russia: "0" + digits 5–6 of the БИК."""
    return "0" + bik[4:6]


def account_key_sum(prefix: str, account: str) -> int:
    """``Σ d_i × w_i mod 10`` over the 23 digits ``prefix + account`` (0 for a valid account)."""
    return sum(int(d) * w for d, w in zip(prefix + account, ACCOUNT_KEY_WEIGHTS, strict=True)) % 10


def with_account_key(prefix: str, account: str) -> str:
    """``account`` with its key digit (the 9th) set so that it is valid under ``prefix``."""
    zeroed = account[:ACCOUNT_KEY_POSITION] + "0" + account[ACCOUNT_KEY_POSITION + 1:]
    key = account_key_sum(prefix, zeroed) * 3 % 10  # the key's weight is 3, and 3 × 3 ≡ −1 (mod 10)
    return zeroed[:ACCOUNT_KEY_POSITION] + str(key) + zeroed[ACCOUNT_KEY_POSITION + 1:]


def _validate_account(value: str, bik: str, kind: str, label: str, prefix_of) -> str:  # noqa: ANN001
    digits = _digits_only(value, kind, label, separators=False)
    _require_length(digits, (20,), kind, label)
    if account_key_sum(prefix_of(validate_bik(bik)), digits) != 0:
        raise InvalidIdentifier(
            f"{kind}_checksum", f"{label} does not match the БИК (control key)"
        )
    return digits


def validate_settlement_account(value: str, *, bik: str) -> str:
    """Validate a 20-digit settlement account with the key of its bank's БИК; codes
    ``account_format``, ``account_length``, ``account_checksum`` (and the БИК's codes)."""
    return _validate_account(value, bik, "account", "Расчётный счёт", settlement_key_prefix)


def validate_correspondent_account(value: str, *, bik: str) -> str:
    """Validate a bank's 20-digit correspondent account with the key of its БИК; codes
    ``correspondent_account_format``, ``correspondent_account_length``,
    ``correspondent_account_checksum`` (and the БИК's codes)."""
    return _validate_account(value, bik, "correspondent_account", "Корреспондентский счёт",
                             correspondent_key_prefix)


def generate_bik(rng: random.Random, *, region: str = "42") -> str:
    """A plausible БИК: country 04 + region(2) + division(2) + bank(3, 050..999)."""
    return f"04{_region(region)}{rng.randint(0, 99):02d}{rng.randint(50, 999):03d}"


def generate_settlement_account(
    rng: random.Random, *, bik: str, balance: str = "40702", serial: int | None = None
) -> str:
    """A valid settlement account in the bank ``bik``: balance account(5) + rouble code 810 + key +
    11 digits (branch and serial); ``balance`` 40702 for an organisation, 40802 for an ИП."""
    serial = rng.randint(0, 10**11 - 1) if serial is None else serial
    if len(balance) != 5 or not balance.isdigit() or not 0 <= serial < 10**11:
        raise ValueError("balance is 5 digits, serial 0..99999999999")
    return with_account_key(settlement_key_prefix(validate_bik(bik)), f"{balance}8100{serial:011d}")


def correspondent_account_for(bik: str) -> str:
    """The correspondent account of the bank ``bik`` as the Bank of Russia numbers them:
    30101 810 + key + 00000000 + the БИК's last three digits (e.g. 30101810400000000225)."""
    bik = validate_bik(bik)
    return with_account_key(correspondent_key_prefix(bik), "30101810" + "0" * 9 + bik[6:9])
