"""Payment orders as a 1CClientBankExchange text file, the format Russian accounting software
imports: Windows-1251, one ``key=value`` per line (CRLF), a header, one
``СекцияДокумент=Платежное поручение`` … ``КонецДокумента`` block per order, ``КонецФайла``.
Amounts are roubles with a dot and two decimals (``Сумма=1234.56``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from pfdo_plumbing import russian_format as ru

from pfdo_billing.domain.documents.facts import Organisation
from pfdo_billing.domain.exports.orders import ExportedOrder

FORMAT_VERSION = "1.03"
ENCODING = "cp1251"
DOCUMENT = "Платежное поручение"
SENDER = "ПФДО"


def _party_lines(role: str, party: Organisation) -> list[tuple[str, str | None]]:
    """The payer's or the payee's keys of an order section (``role``: Плательщик or Получатель)."""
    return [
        (f"{role}Счет", party.account),
        (role, f"ИНН {party.inn} {party.name}"),
        (f"{role}ИНН", party.inn),
        (f"{role}КПП", party.kpp or ""),
        (f"{role}1", party.name),
        (f"{role}РасчСчет", party.account),
        (f"{role}Банк1", party.bank),
        (f"{role}БИК", party.bik),
        (f"{role}Корсчет", party.corr_account),
    ]


def _order_section(o: ExportedOrder) -> list[tuple[str, str | None]]:
    return [
        ("СекцияДокумент", DOCUMENT),
        ("Номер", o.number),
        ("Дата", ru.date(o.issued_on)),
        ("Сумма", ru.roubles_with_dot(o.amount_kopecks)),
        *_party_lines("Плательщик", o.payer),
        *_party_lines("Получатель", o.payee),
        ("ВидОплаты", "01"),
        ("Очередность", "5"),
        ("НазначениеПлатежа", o.purpose()),
        ("КонецДокумента", None),
    ]


def _clean(value: str) -> str:
    """One line per key: no line breaks inside a value."""
    return " ".join(value.split())


def bank_exchange_text(orders: Sequence[ExportedOrder], created_at: dt.datetime, *, receiver: str = "") -> str:
    """The file's text; ``created_at`` is the regional local time of creation. Without orders the
    file has its header only, for the day of creation."""
    accounts = list(dict.fromkeys(o.payer.account for o in orders))
    dates = [o.issued_on for o in orders] or [created_at.date()]
    lines: list[tuple[str, str | None]] = [
        ("1CClientBankExchange", None),
        ("ВерсияФормата", FORMAT_VERSION),
        ("Кодировка", "Windows"),
        ("Отправитель", SENDER),
        ("Получатель", receiver),
        ("ДатаСоздания", ru.date(created_at.date())),
        ("ВремяСоздания", created_at.strftime("%H:%M:%S")),
        ("ДатаНачала", ru.date(min(dates))),
        ("ДатаКонца", ru.date(max(dates))),
        *(("РасчСчет", account) for account in accounts),
        ("Документ", DOCUMENT),
    ]
    for order in orders:
        lines += _order_section(order)
    lines.append(("КонецФайла", None))
    return "".join(f"{key}\r\n" if value is None else f"{key}={_clean(value)}\r\n" for key, value in lines)


def bank_exchange_bytes(orders: Sequence[ExportedOrder], created_at: dt.datetime, *, receiver: str = "") -> bytes:
    """The file in Windows-1251 (a character outside it is an error, never silently replaced)."""
    return bank_exchange_text(orders, created_at, receiver=receiver).encode(ENCODING)
