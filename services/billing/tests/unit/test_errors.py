import re

from pfdo_billing.domain import errors
from pfdo_billing.domain.errors import BillingDomainError, InsufficientFunds


def _all_errors() -> list[type[BillingDomainError]]:
    return [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, BillingDomainError)
    ]


def test_codes_are_unique_snake_case() -> None:
    codes = [cls.code for cls in _all_errors()]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", code) for code in codes)


def test_error_carries_code_message_and_details() -> None:
    error = InsufficientFunds("not enough", available=10, amount=20)
    assert error.code == "insufficient_funds"
    assert error.message == str(error) == "not enough"
    assert error.details == {"available": 10, "amount": 20}
