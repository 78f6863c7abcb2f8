"""Уведомление о расторжении договора: the contract ends on the last day of the month of the request."""

from __future__ import annotations

import datetime as dt

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents import Document, Fields, Line, Party, Signature, Text, contract_number

from pfdo_navigator.domain.dates import last_day_of_month
from pfdo_navigator.domain.documents.facts import TerminationFacts

KIND = "termination"
PREFIX = "РД"
INITIATOR_TEXT = {"parent": "Заказчик (родитель, законный представитель)", "provider": "Исполнитель"}


def termination_effective_on(requested_on: dt.date) -> dt.date:
    """A termination takes effect at the end of the month in which it was requested."""
    return last_day_of_month(requested_on)


def termination_document(facts: TerminationFacts) -> Document:
    effective = termination_effective_on(facts.requested_on)
    number = contract_number(facts.enrolment_id)
    initiator = INITIATOR_TEXT[facts.initiated_by]
    signer = facts.parent.full_name if facts.initiated_by == "parent" else (facts.provider.head or facts.provider.name)
    return Document(
        kind=KIND,
        number_prefix=PREFIX,
        identity=(facts.enrolment_id,),
        date=facts.requested_on,
        title="Уведомление о расторжении договора об обучении",
        parties=(facts.provider.party("Исполнитель"),
                 Party("Заказчик (родитель, законный представитель)", facts.parent.full_name)),
        sections=(
            Text("", (f"{initiator} уведомляет о расторжении договора № {number} об обучении "
                      f"{facts.child.full_name} по программе «{facts.module.program}» (модуль «{facts.module.module}»). "
                      f"Договор прекращается {ru.date(effective)} — в последний день месяца, в котором подано "
                      "уведомление; этот месяц оплачивается в установленном договором порядке, средства "
                      "сертификата, зарезервированные на следующие месяцы, возвращаются на сертификат.",)),
            Fields("Сведения о расторжении", (
                Line("Договор", number),
                Line("Обучающийся", facts.child.full_name),
                Line("Номер сертификата", facts.certificate_number),
                Line("Инициатор", initiator),
                Line("Уведомление подано", facts.requested_at),
                Line("Причина", facts.reason or None),
                Line("Договор прекращается", effective),
            )),
        ),
        signatures=(Signature(initiator, signer, facts.requested_at,
                              "Подано в электронной форме в навигаторе дополнительного образования."),),
    )
