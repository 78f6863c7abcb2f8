"""Amounts of money typed by a person, the Russian way, to kopecks for the API.

A price is typed as ``1 800,00``, ``1800``, ``1 800``, ``1800,5`` or ``1800.50``, perhaps with ``₽``
or ``руб.`` after it: spaces (ordinary, no-break or narrow no-break) group the thousands, a comma
(or a dot) comes before the kopecks, at most two digits of them. Anything else is refused with a
sentence the form shows next to the field. The API takes whole kopecks (docs/domain-rules.md:
money is integer kopecks everywhere).
"""

from __future__ import annotations

import re

from .formatting import group_thousands

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")
_SUFFIX = re.compile(r"(₽|руб\.?|р\.)$", re.IGNORECASE)
_GROUPED = re.compile(r"^\d{1,3}( \d{3})+$")
_PLAIN = re.compile(r"^\d+$")

MOST_KOPECKS = 1_000_000_000_000
"""The most the API takes for one amount (ten billion roubles)."""


class MoneyInputError(ValueError):
    """The text is not an amount of money; ``message`` is the Russian sentence for the form."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_roubles(text: str | None) -> int:
    """``«1 800,00»`` -> ``180000`` kopecks; raises :class:`MoneyInputError` for what is not an amount."""
    value = _SPACES.sub(" ", (text or "").strip())
    value = _SUFFIX.sub("", value).strip()
    if not value:
        raise MoneyInputError("Укажите сумму в рублях, например 1 800,00.")
    if value.startswith("-"):
        raise MoneyInputError("Сумма не может быть отрицательной.")
    whole, separator, fraction = _split_fraction(value)
    if not (_PLAIN.match(whole) or _GROUPED.match(whole)):
        raise MoneyInputError("Сумма — это рубли цифрами и, через запятую, копейки: например 1 800,00.")
    if separator and not re.fullmatch(r"\d{1,2}", fraction):
        raise MoneyInputError("После запятой — не больше двух цифр копеек: например 1 800,50.")
    kopecks = int(whole.replace(" ", "")) * 100 + int((fraction or "0").ljust(2, "0"))
    if kopecks > MOST_KOPECKS:
        raise MoneyInputError("Слишком большая сумма.")
    return kopecks


def _split_fraction(value: str) -> tuple[str, str, str]:
    """The roubles, the separator found (``,`` or ``.``; empty when none) and the kopecks' digits."""
    if value.count(",") + value.count(".") > 1:
        raise MoneyInputError("В сумме может быть только одна запятая — перед копейками.")
    for separator in (",", "."):
        if separator in value:
            whole, _, fraction = value.partition(separator)
            return whole.strip(), separator, fraction.strip()
    return value, "", ""


def roubles_for_input(kopecks: int | None) -> str:
    """``180000`` -> ``1 800,00`` (ordinary spaces: what a person would type back); None -> ``""``."""
    if kopecks is None:
        return ""
    roubles, rest = divmod(int(kopecks), 100)
    return f"{group_thousands(roubles).replace(chr(0x202F), ' ')},{rest:02d}"
