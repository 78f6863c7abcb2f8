"""Заявление на обучение: the application as the parent (or a child of 14+) submitted it."""

from __future__ import annotations

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import (
    Column, Document, Fields, Line, Money, Month, Party, Signature, Table, Text, regional_date,
)

from pfdo_navigator.domain.documents.facts import PAYMENT_MODE_TEXT, ApplicationFacts, CostSplit, ModuleDetails

KIND = "application"
PREFIX = "ЗВ"


def module_fields(module: ModuleDetails, heading: str = "Программа") -> Fields:
    lines = [
        Line("Программа", module.program),
        Line("Модуль", module.module),
        Line("Направленность", module.direction),
        Line("Адрес проведения занятий", module.address),
        Line("Расписание", "; ".join(module.schedule) or None),
        Line("Срок реализации модуля", f"{ru.date(module.starts_on)} — {ru.date(module.ends_on)}"),
    ]
    if module.hours is not None:
        lines.append(Line("Объём, академических часов", module.hours))
    return Fields(heading, tuple(lines))


def cost_fields(cost: CostSplit, payment_mode: str) -> Fields:
    return Fields("Стоимость обучения", (
        Line("Стоимость обучения", Money(cost.total_kopecks)),
        Line("Оплата сертификатом", Money(cost.certificate_kopecks)),
        Line("Доплата семьи (софинансирование)", Money(cost.family_kopecks)),
        Line("Порядок оплаты", PAYMENT_MODE_TEXT[payment_mode]),
    ))


def instalments_table(cost: CostSplit) -> Table:
    return Table(
        "График платежей",
        (Column("Месяц", 3), Column("Оплата сертификатом", 3, True, "RIGHT"),
         Column("Доплата семьи", 3, True, "RIGHT")),
        tuple((Month(m.month), Money(m.certificate_kopecks), Money(m.family_kopecks)) for m in cost.months),
    )


def application_document(facts: ApplicationFacts) -> Document:
    """The application for enrolment."""
    applicant_role = "Обучающийся (заявитель)" if facts.applicant_is_child else "Заявитель (родитель, законный представитель)"
    parties = [facts.provider.party("Исполнитель"),
               Party(applicant_role, facts.applicant.full_name,
                     (Line("Контакты", facts.applicant.contact),) if facts.applicant.contact else ())]
    child_lines = (
        Line("Обучающийся", facts.child.full_name),
        Line("Дата рождения", facts.child.birth_date),
        Line("Номер сертификата", facts.certificate_number),
        Line("Желаемая дата начала обучения", facts.starts_on),
    )
    sections = [
        Text("", (f"Прошу зачислить {facts.child.full_name} на обучение по программе «{facts.module.program}» "
                  f"(модуль «{facts.module.module}») с оплатой по сертификату дополнительного образования "
                  f"№ {facts.certificate_number}.",)),
        Fields("Обучающийся", child_lines),
        module_fields(facts.module),
        cost_fields(facts.cost, facts.payment_mode),
    ]
    if facts.cost.months:
        sections.append(instalments_table(facts.cost))
    sections.append(Text("Согласие", (
        "Заявитель даёт согласие на обработку персональных данных (152-ФЗ) обучающегося и заявителя "
        "в целях зачисления и учёта обучения по сертификату.",)))
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=(facts.application_id,),
        date=regional_date(facts.submitted_at),
        title="Заявление на обучение",
        parties=tuple(parties),
        sections=tuple(sections),
        signatures=(Signature("Заявитель", facts.applicant.full_name, facts.submitted_at,
                              "Подано в электронной форме в навигаторе дополнительного образования."),),
    )
