"""БИК, settlement and correspondent accounts (the Bank of Russia's control key), and the
payee / payer details built from them.

Known values: correspondent accounts of real banks as published in the Bank of Russia's БИК
directory, and the two worked examples of the Bank of Russia's "Порядок расчёта контрольного
ключа" (08.09.1997 № 515).

Property: every weight (7, 1, 3) is coprime with 10, so a single digit of the account replaced by
another changes the sum mod 10 and is always caught, for both kinds of account.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pfdo_registry.domain.bank_details import validate_bank_details, validate_payer_details
from pfdo_registry.domain.errors import InvalidBankDetails, InvalidIdentifier
from pfdo_registry.domain.identifiers import (
    account_key_sum,
    correspondent_account_for,
    correspondent_key_prefix,
    generate_bik,
    generate_kpp,
    generate_org_inn,
    generate_settlement_account,
    settlement_key_prefix,
    validate_bik,
    validate_correspondent_account,
    validate_settlement_account,
    with_account_key,
)

# (БИК, correspondent account) of real banks
REAL_CORRESPONDENT = [
    ("044525225", "30101810400000000225"),  # ПАО Сбербанк, Москва
    ("044525187", "30101810700000000187"),  # Банк ВТБ (ПАО), Москва
    ("044525593", "30101810200000000593"),  # АО «Альфа-Банк», Москва
    ("044525974", "30101810145250000974"),  # АО «Тинькофф Банк», Москва
    ("044206604", "30101810800000000604"),  # ПАО Сбербанк, Липецкое отделение № 8593
    ("049805000", "30101810800000000746"),  # the Bank of Russia's worked example (РКЦ 005)
]


def code_of(call) -> str:  # noqa: ANN001
    with pytest.raises(InvalidIdentifier) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(("bik", "account"), REAL_CORRESPONDENT)
def test_real_correspondent_accounts_are_valid(bik: str, account: str) -> None:
    assert validate_correspondent_account(account, bik=bik) == account


def test_the_bank_of_russia_worked_examples() -> None:
    # correspondent account in the РКЦ with БИК 049805000: prefix 005, key 8
    assert correspondent_key_prefix("049805000") == "005"
    assert with_account_key("005", "30101810000000000746") == "30101810800000000746"
    # client account 40702810К00000000025 in the bank with БИК 044514512: prefix 512, key 9
    assert settlement_key_prefix("044514512") == "512"
    assert with_account_key("512", "40702810000000000025") == "40702810900000000025"
    assert validate_settlement_account("40702810900000000025", bik="044514512") == "40702810900000000025"


def test_correspondent_account_for_numbers_like_the_bank_of_russia() -> None:
    assert correspondent_account_for("044525225") == "30101810400000000225"
    assert correspondent_account_for("044206604") == "30101810800000000604"


def test_a_correspondent_account_does_not_pass_as_a_settlement_account_of_its_bank() -> None:
    # the keys use different prefixes: "225" against "025"
    assert code_of(lambda: validate_settlement_account("30101810400000000225", bik="044525225")) == "account_checksum"


@pytest.mark.parametrize(("value", "code"), [
    ("04452522", "bik_length"), ("0445252250", "bik_length"), ("04452522X", "bik_format"), ("", "bik_length"),
    ("０４４５２５２２５", "bik_format"),  # full-width digits are not ASCII digits
])
def test_bik_format(value: str, code: str) -> None:
    assert code_of(lambda: validate_bik(value)) == code


def test_bik_is_stripped() -> None:
    assert validate_bik(" 044525225 ") == "044525225"


@pytest.mark.parametrize(("value", "code"), [
    ("4070281093800000000", "account_length"), ("407028109380000000011", "account_length"),
    ("4070281093800000000X", "account_format"), ("40702810938000000002", "account_checksum"),
])
def test_settlement_account_codes(value: str, code: str) -> None:
    assert code_of(lambda: validate_settlement_account(value, bik="044525225")) == code


@pytest.mark.parametrize(("value", "code"), [
    ("3010181040000000022", "correspondent_account_length"),
    ("3010181040000000022X", "correspondent_account_format"),
    ("30101810500000000225", "correspondent_account_checksum"),
])
def test_correspondent_account_codes(value: str, code: str) -> None:
    assert code_of(lambda: validate_correspondent_account(value, bik="044525225")) == code


def test_an_account_is_checked_against_a_valid_bik_first() -> None:
    assert code_of(lambda: validate_settlement_account("40702810938000000001", bik="04452")) == "bik_length"


# --- properties ------------------------------------------------------------------------------

seeds = st.integers(min_value=0, max_value=2**32)


def _details(seed: int) -> tuple[str, str, str]:
    rng = random.Random(seed)
    bik = generate_bik(rng, region=f"{rng.randint(1, 99):02d}")
    return bik, generate_settlement_account(rng, bik=bik), correspondent_account_for(bik)


@given(seeds)
def test_generated_details_are_valid(seed: int) -> None:
    bik, account, correspondent = _details(seed)
    assert validate_settlement_account(account, bik=bik) == account
    assert validate_correspondent_account(correspondent, bik=bik) == correspondent
    assert account_key_sum(settlement_key_prefix(bik), account) == 0


@given(seeds, st.integers(min_value=0, max_value=19), st.integers(min_value=1, max_value=9),
       st.sampled_from(["settlement", "correspondent"]))
def test_any_single_changed_digit_of_an_account_fails(seed: int, position: int, shift: int, kind: str) -> None:
    bik, account, correspondent = _details(seed)
    valid = account if kind == "settlement" else correspondent
    changed = valid[:position] + str((int(valid[position]) + shift) % 10) + valid[position + 1:]
    validator = validate_settlement_account if kind == "settlement" else validate_correspondent_account
    with pytest.raises(InvalidIdentifier) as caught:
        validator(changed, bik=bik)
    assert caught.value.code.endswith("_checksum")


@given(seeds, st.integers(min_value=6, max_value=8), st.integers(min_value=1, max_value=9))
def test_a_changed_key_digit_of_the_bik_fails_the_settlement_account(seed: int, position: int, shift: int) -> None:
    bik, account, _ = _details(seed)
    other = bik[:position] + str((int(bik[position]) + shift) % 10) + bik[position + 1:]
    with pytest.raises(InvalidIdentifier):
        validate_settlement_account(account, bik=other)


@given(seeds, st.text(alphabet="0123456789", min_size=20, max_size=20))
def test_with_account_key_always_gives_a_valid_account(seed: int, digits: str) -> None:
    bik = generate_bik(random.Random(seed))
    for prefix, validator in ((settlement_key_prefix(bik), validate_settlement_account),
                              (correspondent_key_prefix(bik), validate_correspondent_account)):
        keyed = with_account_key(prefix, digits)
        assert keyed[:8] == digits[:8] and keyed[9:] == digits[9:]
        assert validator(keyed, bik=bik) == keyed


# --- the details of the two sides ---------------------------------------------------------------

BANK = {"bank_name": " ПАО   Сбербанк ", "bik": "044525225", "settlement_account": "40702810938000000001",
        "correspondent_account": "30101810400000000225"}


def test_bank_details_are_normalised() -> None:
    details = validate_bank_details(**BANK)
    assert details.bank_name == "ПАО Сбербанк" and details.bik == "044525225"


@pytest.mark.parametrize("name", ["", "   ", None, "Б" * 501])
def test_bank_name_is_required(name: str | None) -> None:
    with pytest.raises(InvalidBankDetails) as caught:
        validate_bank_details(**BANK | {"bank_name": name})
    assert caught.value.code == "bank_name_required"


def test_payer_details() -> None:
    rng = random.Random(7)
    inn = generate_org_inn(rng)
    payer = validate_payer_details(authority_name="Управление образования", inn=inn, kpp=generate_kpp(rng, inn=inn),
                                   **BANK)
    assert payer.inn == inn and payer.bank.correspondent_account == "30101810400000000225"
    with pytest.raises(InvalidBankDetails) as caught:
        validate_payer_details(authority_name=" ", inn=inn, kpp="482601001", **BANK)
    assert caught.value.code == "authority_name_required"
    # the payer is an organisation: a 12-digit ИНН and a missing КПП are refused
    assert code_of(lambda: validate_payer_details(authority_name="У", inn="500100732259", kpp="482601001",
                                                  **BANK)) == "inn_length"
    assert code_of(lambda: validate_payer_details(authority_name="У", inn=inn, kpp="", **BANK)) == "kpp_length"
