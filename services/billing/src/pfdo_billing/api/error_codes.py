"""Billing's error codes with their HTTP status and their Russian and English texts.

Registered into the error catalogue when this module is imported, which the ``api`` package does
first, so every route (and ``problems(...)`` in its decorator) finds them. No text shows a balance or
an amount of a certificate: who may learn those is decided by the routes, not by an error message.
"""

from __future__ import annotations

from pfdo_plumbing.http.errors import ErrorCode, register

SERVICE = "billing"

CODES: tuple[ErrorCode, ...] = (
    # the ledger and the money rules (domain errors)
    ErrorCode("billing_domain_error", 422, "Операция нарушает правила расчётов.",
              "The operation breaks a billing rule.", SERVICE),
    ErrorCode("invalid_amount", 422, "Сумма — целое неотрицательное число копеек.",
              "An amount is a non-negative whole number of kopecks.", SERVICE),
    ErrorCode("invalid_date_range", 422, "Дата окончания раньше даты начала.", "The range ends before it starts.",
              SERVICE),
    ErrorCode("start_outside_module", 422, "Обучение не может начаться раньше начала модуля.",
              "The enrolment cannot start before the module starts.", SERVICE),
    ErrorCode("start_after_module_end", 422, "Обучение не может начаться после окончания модуля.",
              "The enrolment cannot start after the module ends.", SERVICE),
    ErrorCode("certificate_expires_before_start", 422,
              "Сертификат действует[ до {valid_until}]: обучение[ с {enrol_start}] им уже не оплачивается.",
              "The certificate is valid[ until {valid_until}]: it cannot pay for an enrolment[ from {enrol_start}].",
              SERVICE),
    ErrorCode("invalid_percent", 422, "Процент — число от 0 до 100.", "A percentage is within 0..100.", SERVICE),
    ErrorCode("invalid_attendance", 422, "Число занятий задано неверно или не передана посещаемость.",
              "Lesson counts are invalid or the attendance is missing.", SERVICE),
    ErrorCode("no_age_group", 422, "Для возраста ребёнка не задан номинал сертификата.",
              "No nominal is set for the child's age.", SERVICE),
    ErrorCode("ambiguous_age_group", 422, "Возрастные группы номиналов пересекаются.",
              "Several nominal age groups contain the same age.", SERVICE),
    ErrorCode("idempotency_conflict", 422, "Этот идентификатор операции уже использован с другими данными.",
              "The operation id was already used with different data.", SERVICE),
    ErrorCode("contract_not_found", 404, "Договор по этой заявке ещё не создан.",
              "There is no contract for this application yet.", SERVICE),
    ErrorCode("insufficient_funds", 422, "На сертификате недостаточно средств.",
              "The certificate's balance is not enough.", SERVICE),
    ErrorCode("pending_not_found", 422, "Резерв средств не найден.", "No such reservation.", SERVICE),
    ErrorCode("pending_already_posted", 422, "Резерв уже списан.", "The reservation was already posted.", SERVICE),
    ErrorCode("pending_already_voided", 422, "Резерв уже снят.", "The reservation was already voided.", SERVICE),
    ErrorCode("post_exceeds_pending", 422, "Нельзя списать больше, чем зарезервировано.",
              "Cannot post more than is reserved.", SERVICE),
    ErrorCode("refund_exceeds_spent", 422, "Нельзя вернуть больше, чем списано у этого поставщика.",
              "Cannot refund more than was spent with this provider.", SERVICE),
    ErrorCode("credit_exceeds_invoiced", 422, "Нельзя вернуть семье больше, чем ей выставлено по договору.",
              "Cannot credit more than is invoiced to the family under the contract.", SERVICE),
    ErrorCode("invalid_payment_mode", 422, "Порядок оплаты — помесячно (monthly) или по факту посещения (attendance).",
              "The payment mode is monthly or attendance.", SERVICE),
    ErrorCode("invalid_identifier", 422, "Идентификатор[ {name}] не указан или указан неверно.",
              "An id[ ({name})] is missing or not text.", SERVICE),
    # month close
    ErrorCode("month_not_over", 409, "Закрыть месяц можно только после его окончания.",
              "A month can be closed only after it has ended.", SERVICE),
    ErrorCode("journal_not_frozen", 409, "Журнал посещаемости за месяц ещё не закрыт навигатором: повторите позже.",
              "The navigator has not frozen the month's journal yet: close later.", SERVICE),
    ErrorCode("journal_not_drained", 409, "Ещё не все отметки посещаемости за месяц учтены: повторите позже.",
              "Not every attendance mark of the month is applied yet: close later.", SERVICE),
    ErrorCode("journal_count_mismatch", 409,
              "Число учтённых отметок посещаемости не совпадает с журналом навигатора: нужна проверка.",
              "The attendance marks applied differ from the navigator's journal: needs a check.", SERVICE),
    # the treasury's loop of payment orders
    ErrorCode("invalid_treasury_status", 422,
              "Казначейство сообщает статус «принято», «оплачено» или «возвращено» (с причиной возврата).",
              "The treasury reports accepted, paid or returned (with the reason).", SERVICE),
    ErrorCode("treasury_status_conflict", 409, "Платёжное поручение уже оплачено или возвращено: статус не меняется.",
              "The payment order is paid or returned already: its status does not change.", SERVICE),
    ErrorCode("order_not_returned", 409, "Повторно выставить можно только возвращённое платёжное поручение.",
              "Only a returned payment order is reissued.", SERVICE),
    # periods, nominals, caps
    ErrorCode("invalid_age_group", 422, "Верхняя граница возраста меньше нижней.", "age_max is below age_min.",
              SERVICE),
    ErrorCode("age_groups_overlap", 422, "Возрастные группы[ муниципалитета {municipality}] пересекаются.",
              "The age groups[ of municipality {municipality}] overlap.", SERVICE),
    ErrorCode("period_overlaps", 409, "Даты пересекаются с другим незакрытым периодом.",
              "Another period that is not closed overlaps these dates.", SERVICE),
    ErrorCode("period_not_draft", 409, "Это можно сделать только с периодом в статусе «Черновик».",
              "Only a draft period allows this.", SERVICE),
    ErrorCode("period_not_open", 409, "Нет открытого периода[ на {date}].", "No open period[ on {date}].", SERVICE),
    ErrorCode("period_closed", 409, "Период закрыт.", "The period is closed.", SERVICE),
    ErrorCode("cap_below_usage", 409, "Лимит меньше уже использованного.", "The cap is below what is already used.",
              SERVICE),
    # agreements with payers
    ErrorCode("invalid_agreement", 422, "Соглашение заполнено неверно[: {field}].",
              "The agreement is invalid[: {field}].", SERVICE),
    ErrorCode("agreement_ended", 409, "Соглашение расторгнуто и больше не изменяется.",
              "The agreement has ended and cannot change.", SERVICE),
    ErrorCode("agreement_limit_below_used", 409,
              "Лимит соглашения не может быть меньше уже использованных по нему средств.",
              "The agreement's limit cannot be below the money already used under it.", SERVICE),
    ErrorCode("agreement_exists", 409,
              "У поставщика уже есть действующее соглашение с этим уполномоченным органом на этот период.",
              "The provider already has an agreement in force with this payer for the period.", SERVICE),
    # exports
    ErrorCode("party_details_missing", 409,
              "Нет банковских реквизитов получателя или плательщика[ по поручениям {orders}]: файл для банка не сформирован.",
              "The bank details of a payee or payer are missing[ for orders {orders}]: no bank file was made.",
              SERVICE),
    ErrorCode("document_facts_missing", 409, "Документ не сформирован: нет сведений[ — {what}].",
              "The document cannot be made: facts are missing[ — {what}].", SERVICE),
    ErrorCode("month_not_closed", 409, "Счёт и акт формируются после закрытия месяца[ {month}] для плательщика.",
              "The invoice and the act are made once the month[ {month}] is closed for the payer.", SERVICE),
    # quotes
    ErrorCode("module_not_available", 404, "Модуль не найден или не сертифицирован.",
              "The module is unknown or not certified.", SERVICE),
)

register(*CODES)
