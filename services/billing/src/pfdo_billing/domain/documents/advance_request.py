"""Заявка на авансовый платёж: the advance of a month for one payer (``payment_orders.advance``)."""

from __future__ import annotations

from fractions import Fraction

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Column, Document, Fields, Line, Money, Month, Signature, Table, Text

from pfdo_billing.domain.documents.facts import AdvanceRequestFacts
from pfdo_billing.domain.payment_orders import advance

KIND = "advance_request"
PREFIX = "ЗА"


def percent_text(percent: int | Fraction) -> str:
    """``80`` -> ``80 %``."""
    return ru.share(Fraction(percent) / 100)


def advance_request_document(facts: AdvanceRequestFacts) -> Document:
    p = facts.parties
    result = advance(p.provider_id, p.month, (i.instalment_kopecks for i in facts.instalments), facts.percent)
    ordered = sorted(facts.instalments, key=lambda i: i.contract_number)
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=p.identity(),
        date=facts.issued_on,
        title=f"Заявка на авансовый платёж за {ru.month(p.month)}",
        parties=(p.provider.party("Поставщик (получатель)"), p.payer.party("Плательщик")),
        sections=(
            Text("", (f"Просим перечислить аванс за {ru.month(p.month)} по соглашению {p.agreement.text()} "
                      f"в размере {ru.money(result.amount)} — {percent_text(result.percent)} ежемесячных платежей "
                      "по сертификатам дополнительного образования по действующим договорам.",)),
            Fields("Расчёт аванса", (
                Line("Месяц", Month(p.month)),
                Line("Договоров", len(facts.instalments)),
                Line("Ежемесячные платежи по сертификатам", Money(result.instalments_total)),
                Line("Доля аванса", percent_text(result.percent)),
                Line("Сумма аванса", Money(result.amount)),
            )),
            Table("Договоры", (Column("№ п/п", 1, align="RIGHT"), Column("Договор №", 6),
                               Column("Платёж по сертификату за месяц", 5, total=True, align="RIGHT")),
                  tuple((n, i.contract_number, Money(i.instalment_kopecks)) for n, i in enumerate(ordered, start=1))),
        ),
        signatures=(Signature("Руководитель поставщика", p.provider.head or p.provider.name),),
    )
