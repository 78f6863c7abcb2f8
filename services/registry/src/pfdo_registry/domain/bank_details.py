"""Bank details (банковские реквизиты) of the two sides of a payment order.

* The **payee** is the provider: its name, ИНН and КПП (see :mod:`.provider`) and its bank
  details below.
* The **payer** of a certificate's money is the certificate's municipality: the body that holds
  the budget (the authorised body, an organisation: ИНН of 10 digits and a КПП) and its bank
  details, set by the regional operator.

Bank details: the bank's name, its БИК (9 digits), the party's settlement account and the bank's
correspondent account (20 digits each), both checked with the Bank of Russia's control key
against the БИК (:mod:`.identifiers`). Validators return normalised values or raise
:class:`InvalidIdentifier` (``bik_*``, ``account_*``, ``correspondent_account_*``, ``inn_*``,
``kpp_*``) or :class:`InvalidBankDetails` (``bank_name_required``, ``authority_name_required``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidBankDetails
from .identifiers import (
    validate_bik,
    validate_correspondent_account,
    validate_kpp,
    validate_org_inn,
    validate_settlement_account,
)

NAME_MAX = 500
"""Longest name kept (the bank's, the authorised body's)."""


@dataclass(frozen=True, slots=True)
class BankDetails:
    """Where money is paid to or from: normalised, checked with the control keys."""

    bank_name: str
    bik: str
    settlement_account: str
    correspondent_account: str


@dataclass(frozen=True, slots=True)
class PayerDetails:
    """The payer of a municipality's certificates: the authorised body and its bank details."""

    authority_name: str
    inn: str
    kpp: str
    bank: BankDetails


def _name(value: str | None, code: str, what: str) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise InvalidBankDetails(code, f"{what} is required")
    if len(text) > NAME_MAX:
        raise InvalidBankDetails(code, f"{what} is longer than {NAME_MAX} characters")
    return text


def validate_bank_details(
    *, bank_name: str | None, bik: str, settlement_account: str, correspondent_account: str
) -> BankDetails:
    """Check a set of bank details: the БИК first, then each account's key against it."""
    bik = validate_bik(bik)
    return BankDetails(
        bank_name=_name(bank_name, "bank_name_required", "the bank's name"),
        bik=bik,
        settlement_account=validate_settlement_account(settlement_account, bik=bik),
        correspondent_account=validate_correspondent_account(correspondent_account, bik=bik),
    )


def validate_payer_details(
    *, authority_name: str | None, inn: str, kpp: str, bank_name: str | None, bik: str,
    settlement_account: str, correspondent_account: str,
) -> PayerDetails:
    """Check a municipality's payer details: the authorised body is an organisation (ИНН of
    10 digits and a КПП, both required) with a bank account."""
    return PayerDetails(
        authority_name=_name(authority_name, "authority_name_required", "the authorised body's name"),
        inn=validate_org_inn(inn),
        kpp=validate_kpp(kpp or ""),
        bank=validate_bank_details(bank_name=bank_name, bik=bik, settlement_account=settlement_account,
                                   correspondent_account=correspondent_account),
    )
