"""The navigator's error codes with their HTTP status and their Russian and English texts.

Registered into the error catalogue when this module is imported, which the ``api`` package does
first, so every route (and ``problems(...)`` in its decorator) finds them. Besides the codes an answer
carries, the per-item codes of ``errors`` lists are here too: a search parameter's reason, why a
child may not enrol, why an attendance mark was refused.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pfdo_contracts.labels import label
from pfdo_plumbing.http.errors import ErrorCode, register

from ..domain.disputes import DISPUTE_WINDOW_DAYS
from ..domain.search_query import CHILD_AGE_MAX, PAGE_SIZE_MAX, TEXT_MAX_LENGTH
from ..domain.waitlist import MAX_LENGTH_LIMIT

SERVICE = "navigator"

_ACTIONS = {
    "reserve": ("зарезервировать оплату", "reserve the payment"), "reject": ("отказать в оплате", "refuse the payment"),
    "confirm": ("подтвердить", "confirm"), "accept": ("акцептовать оферту", "accept the offer"), "decline": ("отклонить", "decline"), "expire": ("закрыть по сроку", "expire"),
    "cancel": ("отменить", "cancel"), "terminate": ("расторгнуть договор", "terminate the contract"),
    "end": ("завершить обучение", "end"), "withdraw": ("отозвать из листа ожидания", "withdraw from the waiting list"),
    "promote": ("перевести из листа ожидания", "take off the waiting list"),
}


def _transition(details: dict[str, Any], language: str) -> dict[str, Any]:
    group = "dispute_states" if "dispute_id" in details else "enrolment_states"
    action = str(details.get("action", ""))
    return {
        **details,
        "state": label(group, str(details.get("state", "")), language) if details.get("state") else None,
        "action": (_ACTIONS.get(action) or (action, action))[1 if language == "en" else 0] if action else None,
    }


def _deadline(details: dict[str, Any], language: str) -> dict[str, Any]:
    deadline = details.get("deadline")
    if isinstance(deadline, str) and len(deadline) == 10:
        details = {**details, "deadline": date.fromisoformat(deadline).strftime("%d.%m.%Y")}
    return details


CODES: tuple[ErrorCode, ...] = (
    # enrolment
    ErrorCode("child_required", 422, "Чтобы искать без доплаты, выберите ребёнка (параметр child).",
              "no_copayment needs child=<certificate id>.", SERVICE),
    ErrorCode("no_free_seats", 409, "В группе нет свободных мест.", "The group is full.", SERVICE),
    ErrorCode("waiting_list_full", 409, "В группе нет мест, и лист ожидания заполнен.",
              "The group is full and its waiting list is at its maximum.", SERVICE),
    ErrorCode("already_enrolled", 409, "Ребёнок уже записан в эту группу или стоит в её листе ожидания.",
              "The child already has a live enrolment in this group.", SERVICE),
    ErrorCode("program_unavailable", 409, "Запись на эту программу сейчас не ведётся.",
              "The program does not take enrolments now.", SERVICE),
    ErrorCode("not_eligible", 422, "Ребёнка нельзя записать в эту группу: причины перечислены ниже.",
              "The child may not enrol in this group: see the reasons listed.", SERVICE),
    ErrorCode("illegal_transition", 409, "Это действие сейчас недоступно[: статус «{state}»].",
              "This cannot be done now[: the status is {state}].", SERVICE, prepare=_transition),
    ErrorCode("offer_expired", 409, "Срок акцепта оферты истёк: оферта отозвана.",
              "The offer's deadline has passed: it is withdrawn.", SERVICE),
    ErrorCode("start_outside_module", 422, "Дата начала обучения вне сроков модуля.",
              "The start date is outside the module's dates.", SERVICE),
    ErrorCode("invalid_actor", 422, "Расторгнуть договор может только родитель или поставщик.",
              "Only the parent or the provider terminates a contract.", SERVICE),
    ErrorCode("unknown_enrolment", 422, "Заявка на обучение не найдена.", "The enrolment is unknown.", SERVICE),
    ErrorCode("unknown_certificate", 422, "Сертификат не найден.", "The certificate is unknown.", SERVICE),
    ErrorCode("invalid_capacity", 422, "Число мест в группе не может быть отрицательным.",
              "Capacity cannot be negative.", SERVICE),
    ErrorCode("seat_count_underflow", 409, "Число занятых мест не может стать отрицательным.",
              "Held seats cannot become negative.", SERVICE),
    ErrorCode("invalid_waiting_list_length", 422, f"Длина листа ожидания — от 1 до {MAX_LENGTH_LIMIT}.",
              f"The waiting list length must be between 1 and {MAX_LENGTH_LIMIT}.", SERVICE),
    # reasons a child may not enrol (items of not_eligible)
    ErrorCode("certificate_not_active", 422, "Сертификат не действует.", "The certificate is not active.", SERVICE),
    ErrorCode("age_out_of_range", 422, "Возраст ребёнка не подходит для этой группы.",
              "The child's age is outside the group's age range.", SERVICE),
    ErrorCode("start_in_past", 422, "Дата начала обучения уже прошла.", "The start date is in the past.", SERVICE),
    ErrorCode("direction_cap_reached", 422, "Достигнуто наибольшее число программ одной направленности по сертификату.",
              "The certificate's limit of programs of this direction is reached.", SERVICE),
    # attendance and disputes
    ErrorCode("too_many_marks", 413, "За один раз можно передать не больше {limit} отметок.",
              "At most {limit} marks per posting.", SERVICE),
    ErrorCode("journal_frozen", 409,
              "Журнал посещаемости[ за {months}] заморожен для закрытия месяца: отметки и исправления больше не "
              "принимаются. Ничего из этой передачи не сохранено.",
              "The attendance journal[ of {months}] is frozen for month close: marks and corrections are no longer "
              "accepted. Nothing of this posting was stored.", SERVICE),
    ErrorCode("month_not_over", 409, "Журнал[ за {month}] можно закрыть только после окончания месяца.",
              "The journal[ of {month}] can be frozen only after the month has ended.", SERVICE),
    ErrorCode("invalid_month", 422, "Месяц записывается как ГГГГ-ММ (например, 2027-11).",
              "A month is written YYYY-MM (e.g. 2027-11).", SERVICE),
    ErrorCode("foreign_group", 422, "Это не ваша группа.", "This is not your group.", SERVICE),
    ErrorCode("not_enrolled_on_date", 422, "В этот день ребёнок не обучался в группе.",
              "The child was not enrolled on that date.", SERVICE),
    ErrorCode("future_date", 422, "Нельзя отметить занятие, которое ещё не прошло.",
              "A lesson in the future cannot be marked.", SERVICE),
    ErrorCode("month_closed", 422, "Месяц уже закрыт.", "The month is closed.", SERVICE),
    ErrorCode("not_a_lesson_day", 422, "В этот день по расписанию нет занятия.",
              "There is no lesson on that day by the timetable.", SERVICE),
    ErrorCode("duplicate_mark", 422, "Отметка за это занятие передана дважды.", "The same lesson is marked twice.",
              SERVICE),
    ErrorCode("dispute_already_open", 409, "По этой отметке уже есть спор на рассмотрении.",
              "This mark already has an open dispute.", SERVICE),
    ErrorCode("already_disputed", 409, "Эту отметку уже оспаривали, и по ней принято решение.",
              "This mark was disputed and decided.", SERVICE),
    ErrorCode("claim_matches_mark", 422, "Отметка уже такая, какую вы просите поставить.",
              "The claimed status is the mark's status already.", SERVICE),
    ErrorCode("dispute_window_closed", 422,
              f"Оспорить отметку можно в течение {DISPUTE_WINDOW_DAYS} дней[, то есть до {{deadline}}].",
              f"A mark may be disputed within {DISPUTE_WINDOW_DAYS} days[, that is until {{deadline}}].", SERVICE,
              prepare=_deadline),
    # the status feed (Server-Sent Events)
    ErrorCode("invalid_last_event_id", 422, "Last-Event-ID — целое неотрицательное число (номер последнего события).",
              "Last-Event-ID must be a non-negative integer (the number of the last event).", SERVICE),
    # catalogue search: the problem and the reason of each parameter
    ErrorCode("invalid_query", 422, "Параметры поиска заданы неверно: см. список ниже.",
              "The search query is not valid: see the listed parameters.", SERVICE),
    ErrorCode("text_too_long", 422, f"Текст поиска слишком длинный: не больше {TEXT_MAX_LENGTH} символов.",
              f"The search text is too long: at most {TEXT_MAX_LENGTH} characters.", SERVICE),
    ErrorCode("invalid_direction", 422, "Нет такой направленности.", "No such direction.", SERVICE),
    ErrorCode("invalid_funding_kind", 422, "Нет такого вида финансирования.", "No such funding kind.", SERVICE),
    ErrorCode("invalid_sort", 422, "Такой сортировки нет: relevance, rating, price или newest.",
              "No such sort: relevance, rating, price or newest.", SERVICE),
    ErrorCode("invalid_age", 422, f"Возраст ребёнка — целое число от 0 до {CHILD_AGE_MAX}.",
              f"The child's age is a whole number 0..{CHILD_AGE_MAX}.", SERVICE),
    ErrorCode("age_on_without_age", 422, "Дата для расчёта возраста указывается вместе с возрастом ребёнка.",
              "age_on needs child_age.", SERVICE),
    ErrorCode("invalid_weekday", 422, "День недели — число от 1 (понедельник) до 7 (воскресенье).",
              "A weekday is 1 (Monday) to 7 (Sunday).", SERVICE),
    ErrorCode("invalid_price", 422, "Цена — целое неотрицательное число копеек.",
              "A price is a non-negative whole number of kopecks.", SERVICE),
    ErrorCode("invalid_price_range", 422, "Наибольшая цена меньше наименьшей.", "price_max is below price_min.", SERVICE),
    ErrorCode("relevance_requires_text", 422, "Сортировка по релевантности нужна только вместе с текстом поиска.",
              "Sorting by relevance needs a search text.", SERVICE),
    ErrorCode("invalid_page_size", 422, f"Размер страницы — от 1 до {PAGE_SIZE_MAX}.", f"The page size is 1..{PAGE_SIZE_MAX}.",
              SERVICE),
    ErrorCode("unknown_parameter", 422, "Такого параметра поиска нет.", "No such search parameter.", SERVICE),
    ErrorCode("invalid_value", 422, "Значение не распознано.", "The value cannot be read.", SERVICE),
)

register(*CODES)
