"""The Russian and English names of the codes a portal shows: directions, funding kinds, statuses...

One vocabulary for every service and for the portal (served by the registry at
``GET /api/registry/labels``); the keys are the machine values the APIs and events carry, which
never change. A test keeps each group complete against the enums that define the values.
"""

from __future__ import annotations

from typing import Final

# group -> value -> (Russian, English)
LABELS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "directions": {
        "technical": ("Техническая", "Technical"),
        "natural_science": ("Естественнонаучная", "Natural science"),
        "physical_sports": ("Физкультурно-спортивная", "Physical culture and sports"),
        "artistic": ("Художественная", "Arts"),
        "tourism_local_history": ("Туристско-краеведческая", "Tourism and local history"),
        "social_humanitarian": ("Социально-гуманитарная", "Social and humanitarian"),
    },
    "funding_kinds": {
        "certificate": ("Оплата сертификатом", "Paid with the certificate"),
        "municipal_task": ("Бесплатное место по муниципальному заданию", "Free place under the municipal task"),
    },
    "certificate_kinds": {
        "accounting": ("Сертификат учёта", "Accounting certificate"),
        "funding": ("Сертификат финансирования", "Funding certificate"),
    },
    "certificate_statuses": {
        "pending": ("На рассмотрении", "Pending"),
        "active": ("Действует", "Active"),
        "refused": ("Отказано", "Refused"),
        "suspended": ("Приостановлен", "Suspended"),
        "expired": ("Срок действия истёк", "Expired"),
        "closed": ("Закрыт", "Closed"),
    },
    "application_statuses": {
        "pending": ("На рассмотрении", "Pending"),
        "approved": ("Одобрено", "Approved"),
        "refused": ("Отказано", "Refused"),
    },
    "enrolment_states": {
        "requested": ("Заявка подана", "Requested"),
        "reserved": ("Средства зарезервированы", "Funds reserved"),
        "offered": ("Ожидает акцепта оферты", "Offer awaiting acceptance"),
        "rejected": ("Отказ в оплате", "Payment refused"),
        "confirmed": ("Договор заключён", "Contract concluded"),
        "declined": ("Отклонена поставщиком", "Declined by the provider"),
        "expired": ("Срок ответа истёк", "Expired"),
        "cancelled": ("Отменена", "Cancelled"),
        "terminated": ("Договор расторгнут", "Contract terminated"),
        "ended": ("Обучение завершено", "Ended"),
        "waitlisted": ("В листе ожидания", "On the waiting list"),
        "withdrawn": ("Отозвана из листа ожидания", "Withdrawn from the waiting list"),
    },
    "mark_statuses": {
        "present": ("Присутствовал", "Present"),
        "absent": ("Отсутствовал", "Absent"),
        "excused": ("Уважительная причина", "Excused"),
    },
    "dispute_states": {
        "open": ("На рассмотрении", "Open"),
        "upheld": ("Удовлетворено", "Upheld"),
        "rejected": ("Отклонено", "Rejected"),
    },
    "dispute_decisions": {
        "upheld": ("Удовлетворено", "Upheld"),
        "rejected": ("Отклонено", "Rejected"),
    },
    "payment_modes": {
        "monthly": ("Помесячно", "Monthly"),
        "attendance": ("По факту посещения", "By attendance"),
    },
    "payment_order_kinds": {
        "advance": ("Аванс", "Advance"),
        "final": ("Окончательный расчёт", "Final settlement"),
    },
    # the treasury's loop: issued → accepted → paid | returned (a returned order is reissued)
    "payment_order_statuses": {
        "issued": ("Сформировано", "Issued"),
        "accepted": ("Принято казначейством", "Accepted by the treasury"),
        "paid": ("Оплачено", "Paid"),
        "returned": ("Возвращено", "Returned"),
    },
    "period_statuses": {
        "draft": ("Черновик", "Draft"),
        "open": ("Открыт", "Open"),
        "closed": ("Закрыт", "Closed"),
    },
    "provider_types": {
        "municipal_or_state_org": ("Государственная или муниципальная организация", "State or municipal organisation"),
        "private_org": ("Частная организация", "Private organisation"),
        "entrepreneur_with_staff": ("ИП с наёмными работниками", "Individual entrepreneur with staff"),
        "entrepreneur_without_staff": ("ИП без наёмных работников", "Individual entrepreneur without staff"),
    },
    "provider_statuses": {
        "new": ("Новый", "New"),
        "active": ("Действует", "Active"),
        "refused": ("Отказано", "Refused"),
        "suspended": ("Приостановлен", "Suspended"),
        "excluded": ("Исключён из реестра", "Excluded"),
    },
    "program_statuses": {
        "draft": ("Черновик", "Draft"),
        "submitted": ("На сертификации", "Submitted"),
        "certified": ("Сертифицирована", "Certified"),
        "rejected": ("Отклонена", "Rejected"),
        "archived": ("В архиве", "Archived"),
    },
    "rating_scales": {
        "results": ("Достижение результатов", "Results"),
        "teachers_and_group": ("Педагоги и наполняемость группы", "Teachers and group"),
        "materials_and_equipment": ("Материально-техническая база", "Materials and equipment"),
        "overall_satisfaction": ("Общая удовлетворённость", "Overall satisfaction"),
    },
}


def labels(language: str = "ru") -> dict[str, dict[str, str]]:
    """Every group's labels in one language (``ru`` or ``en``)."""
    index = 1 if language == "en" else 0
    return {group: {value: names[index] for value, names in values.items()} for group, values in LABELS.items()}


def label(group: str, value: str, language: str = "ru") -> str:
    """One value's label; an unknown value stays as it is."""
    names = LABELS.get(group, {}).get(value)
    return value if names is None else names[1 if language == "en" else 0]
