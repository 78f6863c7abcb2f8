"""Договор-оферта об обучении and its acceptance.

The platform issues the offer after the provider confirms the application; the parent accepts
it in the cabinet; the acceptance (who and when) is part of the document, so the accepted offer
is a new version of the same document number.
"""

from __future__ import annotations

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Document, Fields, Line, Party, Signature, Text
from pfdo_plumbing.documents.numbers import OFFER_KIND, OFFER_PREFIX

from pfdo_navigator.domain.documents.application import cost_fields, instalments_table, module_fields
from pfdo_navigator.domain.documents.facts import PAYMENT_MODE_TEXT, OfferFacts

KIND = OFFER_KIND
PREFIX = OFFER_PREFIX
"""The offer's number is the contract's number (``pfdo_plumbing.documents.contract_number``)."""


def offer_terms(facts: OfferFacts) -> tuple[str, ...]:
    mode = PAYMENT_MODE_TEXT[facts.payment_mode]
    attendance = (" Ежемесячная сумма уменьшается пропорционально посещённым занятиям месяца: "
                  "оплачивается доля запланированных занятий, которые обучающийся посетил; "
                  "пропуски по уважительной причине не оплачиваются.") if facts.payment_mode == "attendance" else ""
    return (
        f"1. Исполнитель обязуется оказать образовательную услугу по программе «{facts.module.program}» "
        f"(модуль «{facts.module.module}») обучающемуся {facts.child.full_name} с {ru.date(facts.starts_on)} "
        f"по {ru.date(facts.ends_on)}, а Заказчик — принять и оплатить её.",
        f"2. Услуга оплачивается за счёт сертификата дополнительного образования № {facts.certificate_number} "
        f"(плательщик — {facts.payer}) и, в части, не покрытой сертификатом, Заказчиком. Оплата {mode}.{attendance}",
        "3. Договор заключается путём акцепта настоящей оферты Заказчиком в личном кабинете навигатора "
        f"дополнительного образования не позднее {ru.date(facts.accept_by)}; без акцепта в этот срок оферта "
        "отзывается, место в группе и зарезервированные средства сертификата освобождаются.",
        "4. Каждая сторона вправе расторгнуть договор; договор прекращается в последний день месяца, в котором "
        "подано уведомление о расторжении. Месяц расторжения оплачивается в установленном порядке.",
    )


def offer_document(facts: OfferFacts) -> Document:
    """The offer; with ``facts.acceptance`` set, the accepted offer (the contract in force)."""
    accepted = facts.acceptance is not None
    acceptance_lines = (
        (Line("Статус", "оферта акцептована, договор заключён"),
         Line("Акцепт дал", facts.acceptance.accepted_by),  # type: ignore[union-attr]
         Line("Дата и время акцепта", facts.acceptance.accepted_at))  # type: ignore[union-attr]
        if accepted else
        (Line("Статус", "ожидает акцепта"), Line("Принять до", facts.accept_by))
    )
    sections = [
        Fields("Обучающийся", (
            Line("Обучающийся", facts.child.full_name),
            Line("Дата рождения", facts.child.birth_date),
            Line("Номер сертификата", facts.certificate_number),
            Line("Плательщик по сертификату", facts.payer),
        )),
        module_fields(facts.module, "Предмет договора"),
        cost_fields(facts.cost, facts.payment_mode),
    ]
    if facts.cost.months:
        sections.append(instalments_table(facts.cost))
    sections += [Text("Условия", offer_terms(facts)), Fields("Акцепт оферты", acceptance_lines)]
    signatures = [Signature("Исполнитель", facts.provider.head or facts.provider.name, None,
                            "Оферта выдана от имени исполнителя после подтверждения им заявки.")]
    if accepted:
        signatures.append(Signature("Заказчик (акцепт)", facts.acceptance.accepted_by,  # type: ignore[union-attr]
                                    facts.acceptance.accepted_at,  # type: ignore[union-attr]
                                    "Акцепт дан в личном кабинете навигатора дополнительного образования."))
    else:
        signatures.append(Signature("Заказчик (акцепт)", facts.parent.full_name))
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=(facts.enrolment_id,),
        date=facts.offered_on,
        title="Договор-оферта об обучении по дополнительной общеобразовательной программе",
        parties=(facts.provider.party("Исполнитель"),
                 Party("Заказчик (родитель, законный представитель)", facts.parent.full_name,
                       (Line("Контакты", facts.parent.contact),) if facts.parent.contact else ())),
        sections=tuple(sections),
        signatures=tuple(signatures),
    )
