"""Счёт поставщика плательщику за месяц, с приложением — реестром договоров.

The invoice is for the services delivered in the month under the payer's certificates; the
advance already paid and an offset carried from earlier months are deducted as the final
settlement rule says (``payment_orders.final_settlement``).
"""

from __future__ import annotations

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Column, Document, Fields, Line, Money, Month, Signature, Table

from pfdo_billing.domain.documents.appendix import appendix_total, contracts_register
from pfdo_billing.domain.documents.facts import InvoiceFacts
from pfdo_billing.domain.payment_orders import final_settlement

KIND = "invoice"
PREFIX = "СЧ"


def invoice_document(facts: InvoiceFacts) -> Document:
    p = facts.parties
    total = appendix_total(facts.lines)
    settlement = final_settlement(p.provider_id, p.month, total, facts.advance_paid_kopecks,
                                  facts.carried_offset_kopecks)
    service = (f"Образовательные услуги по сертификатам дополнительного образования за {ru.month(p.month)} "
               f"(договоров: {len(facts.lines)}, см. приложение)")
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=p.identity(),
        date=facts.issued_on,
        title=f"Счёт на оплату образовательных услуг за {ru.month(p.month)}",
        parties=(p.provider.party("Поставщик (получатель)"), p.payer.party("Плательщик")),
        sections=(
            Fields("Основание", (
                Line("Соглашение", p.agreement.text()),
                Line("Период оказания услуг", Month(p.month)),
                *((Line("Платёжное поручение", f"№ {facts.order_number}"),) if facts.order_number else ()),
            )),
            Table("", (Column("Наименование", 8), Column("Сумма", 3, total=True, align="RIGHT")),
                  ((service, Money(total)),), total_label="Всего оказано услуг"),
            Fields("Расчёт суммы к оплате", (
                Line("Оказано услуг за месяц", Money(settlement.posted)),
                Line("Перечислен аванс", Money(settlement.advance)),
                Line("Зачёт переплаты прошлых месяцев", Money(settlement.offset_in)),
                Line("К оплате", Money(settlement.amount)),
                Line("Переплата к зачёту в следующем месяце", Money(settlement.offset_out)),
                Line("НДС", "не облагается"),
            )),
        ),
        signatures=(Signature("Руководитель поставщика", p.provider.head or p.provider.name),),
        appendix=(contracts_register(facts.lines, "Реестр договоров"),),
    )
