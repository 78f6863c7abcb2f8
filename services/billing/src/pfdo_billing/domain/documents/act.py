"""Акт об оказании услуг за месяц: what the provider delivered under the payer's certificates."""

from __future__ import annotations

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Document, Fields, Line, Money, Month, Signature, Text

from pfdo_billing.domain.documents.appendix import appendix_total, contracts_register
from pfdo_billing.domain.documents.facts import ActFacts

KIND = "act"
PREFIX = "АКТ"


def act_document(facts: ActFacts) -> Document:
    p = facts.parties
    total = appendix_total(facts.lines)
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=p.identity(),
        date=facts.issued_on,
        title=f"Акт об оказании образовательных услуг за {ru.month(p.month)}",
        parties=(p.provider.party("Исполнитель"), p.payer.party("Заказчик (плательщик)")),
        sections=(
            Text("", (f"Исполнитель оказал, а Заказчик принял образовательные услуги по сертификатам "
                      f"дополнительного образования за {ru.month(p.month)} по соглашению {p.agreement.text()} "
                      f"на сумму {ru.money(total)} по {len(facts.lines)} договорам согласно реестру (приложение). "
                      "Услуги оказаны в объёме, указанном в реестре; стороны претензий по объёму и качеству "
                      "услуг не имеют. НДС не облагается.",)),
            Fields("Итог", (Line("Период", Month(p.month)), Line("Договоров", len(facts.lines)),
                            Line("Сумма", Money(total)),
                            *((Line("Платёжное поручение", f"№ {facts.order_number}"),) if facts.order_number
                              else ()))),
        ),
        signatures=(Signature("Исполнитель", p.provider.head or p.provider.name),
                    Signature("Заказчик", p.payer.head or p.payer.name)),
        appendix=(contracts_register(facts.lines, "Реестр договоров"),),
    )
