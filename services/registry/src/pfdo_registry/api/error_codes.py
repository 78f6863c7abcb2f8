"""The registry's error codes with their HTTP status and their Russian and English texts.

Registered into the error catalogue when this module is imported, which the ``api`` package does
first, so every route (and ``problems(...)`` in its decorator) finds them. Texts are templates
filled from the error's details; a part in square brackets shows only when its details are known
(see ``pfdo_plumbing.http.errors``).
"""

from __future__ import annotations

from typing import Any

from pfdo_contracts.labels import label
from pfdo_plumbing.http.errors import ErrorCode, register

SERVICE = "registry"

_ENTITIES = {
    "certificate": ("Сертификат", "The certificate", "certificate_statuses"),
    "application": ("Заявление на сертификат", "The application", "application_statuses"),
    "provider": ("Поставщик", "The provider", "provider_statuses"),
    "program": ("Программа", "The program", "program_statuses"),
}
# the action of an illegal move, as the sentence "action «...» is not available" reads it
_ACTIONS = {
    "approve": ("одобрить", "approve"),
    "refuse": ("отказать", "refuse"),
    "suspend": ("приостановить", "suspend"),
    "reinstate": ("возобновить", "reinstate"),
    "close": ("закрыть", "close"),
    "expire": ("завершить по сроку", "expire"),
    "activate": ("активировать", "activate"),
    "exclude": ("исключить", "exclude"),
    "submit": ("подать на сертификацию", "submit"),
    "certify": ("сертифицировать", "certify"),
    "reject": ("отклонить", "reject"),
    "archive": ("перенести в архив", "archive"),
    "edit": ("изменить", "edit"),
    "add_module": ("добавить модуль", "add a module"),
    "update_module": ("изменить модуль", "change a module"),
    "remove_module": ("удалить модуль", "remove a module"),
    "set_normative_cost": ("установить нормативную стоимость", "set the normative cost"),
    "issue": ("выдать", "issue"),
    "start_funding": ("перевести в сертификат финансирования", "make a funding certificate"),
}
_IDENTIFIERS = {"snils": "СНИЛС", "inn": "ИНН", "ogrn": "ОГРН", "ogrnip": "ОГРНИП", "kpp": "КПП"}


def _transition(details: dict[str, Any], language: str) -> dict[str, Any]:
    en = language == "en"
    entity = str(details.get("entity", ""))
    ru_name, en_name, group = _ENTITIES.get(entity, (entity, entity, ""))
    action = str(details.get("action", ""))
    state = str(details.get("from_state", ""))
    return {
        **details,
        "entity": en_name if en else ru_name,
        "action": (_ACTIONS.get(action) or (action, action))[1 if en else 0],
        "from_state": label(group, state, language) if group else state,
    }


def _identifier(kind: str, length: str) -> tuple[ErrorCode, ...]:
    name = _IDENTIFIERS[kind]
    return (
        ErrorCode(f"{kind}_format", 422, f"{name} должен состоять только из цифр.",
                  f"The {name} must contain digits only.", SERVICE),
        ErrorCode(f"{kind}_length", 422, f"В {name} должно быть {length} цифр[, а указано {{got}}].",
                  f"The {name} must have {length} digits[, not {{got}}].", SERVICE),
        ErrorCode(f"{kind}_checksum", 422, f"{name} указан с ошибкой: не сходится контрольное число.",
                  f"The {name} has a typo: its check digit does not match.", SERVICE),
    )


def _account(kind: str, name: str, locative: str, english: str) -> tuple[ErrorCode, ...]:
    return (
        ErrorCode(f"{kind}_format", 422, f"{name} должен состоять только из цифр.",
                  f"The {english} must contain digits only.", SERVICE),
        ErrorCode(f"{kind}_length", 422, f"В {locative} должно быть 20 цифр[, а указано {{got}}].",
                  f"The {english} has 20 digits[, not {{got}}].", SERVICE),
        ErrorCode(f"{kind}_checksum", 422,
                  f"{name} не сходится с БИК (контрольный ключ): проверьте номер счёта и БИК.",
                  f"The {english} does not match the БИК (control key): check both.", SERVICE),
    )


CODES: tuple[ErrorCode, ...] = (
    *_identifier("snils", "11"),
    *_identifier("inn", "10 (у организации) или 12 (у ИП)"),
    *_identifier("ogrn", "13"),
    *_identifier("ogrnip", "15"),
    ErrorCode("kpp_format", 422, "КПП — 9 знаков: 4 цифры, 2 цифры или латинские буквы, затем 3 цифры.",
              "A КПП is 9 characters: 4 digits, 2 digits or Latin letters, then 3 digits.", SERVICE),
    ErrorCode("kpp_length", 422, "В КПП должно быть 9 знаков[, а указано {got}].",
              "A КПП has 9 characters[, not {got}].", SERVICE),
    ErrorCode("ogrn_sign", 422, "ОГРН организации начинается с 1 или 5.", "The ОГРН of an organisation starts with 1 or 5.",
              SERVICE),
    ErrorCode("ogrnip_sign", 422, "ОГРНИП начинается с 3.", "An ОГРНИП starts with 3.", SERVICE),
    ErrorCode("certificate_number_format", 422, "Номер сертификата должен состоять только из цифр.",
              "The certificate number must contain digits only.", SERVICE),
    ErrorCode("certificate_number_length", 422, "В номере сертификата должно быть 10 цифр[, а указано {got}].",
              "The certificate number has 10 digits[, not {got}].", SERVICE),
    ErrorCode("certificate_number_region", 422, "Номер сертификата начинается с кода региона от 01 до 99.",
              "The certificate number starts with a region code 01..99.", SERVICE),
    ErrorCode("certificate_number_municipality", 422,
              "Цифры 3–4 номера сертификата — код муниципалитета от 01 до 99.",
              "Digits 3-4 of the certificate number are a municipality code 01..99.", SERVICE),
    ErrorCode("certificate_number_sequence", 422, "Последние 6 цифр номера сертификата не могут быть нулями.",
              "The last 6 digits of the certificate number cannot all be zero.", SERVICE),
    ErrorCode("certificate_number_mismatch", 422,
              "Код муниципалитета в номере не совпадает с муниципалитетом сертификата.",
              "The number's municipality code differs from the certificate's municipality.", SERVICE),
    ErrorCode("age_too_young", 422, "Сертификат выдаётся с {min_age} лет[; ребёнку {age}].",
              "A certificate is issued from age {min_age}[; the child is {age}].", SERVICE),
    ErrorCode("age_too_old", 422, "Сертификат выдаётся до {max_age} лет[; ребёнку {age}].",
              "A certificate is issued up to age {max_age}[; the child is {age}].", SERVICE),
    ErrorCode("birth_date_in_future", 422, "Дата рождения позже даты заявления.",
              "The birth date is after the application date.", SERVICE),
    ErrorCode("applicant_too_young", 422, "Ребёнок может подать заявление сам только с 14 лет.",
              "A child may apply alone only from age 14.", SERVICE),
    ErrorCode("certificate_duplicate", 409,
              "У этого ребёнка уже есть сертификат[ № {number}] или заявление на рассмотрении.",
              "This child already has a certificate[ No. {number}] or a pending application.", SERVICE),
    ErrorCode("certificate_not_found", 404, "Сертификат с таким номером и фамилией не найден.",
              "No certificate with this number and surname.", SERVICE),
    ErrorCode("illegal_transition", 409, "{entity} в статусе «{from_state}»: действие «{action}» сейчас недоступно.",
              "{entity} (status: {from_state}) does not allow this now: {action}.", SERVICE, prepare=_transition),
    ErrorCode("reason_required", 422, "Укажите причину.", "A reason must be given.", SERVICE),
    ErrorCode("provider_not_active", 422, "Подавать программы может только действующий поставщик.",
              "Only an active provider may submit programs.", SERVICE),
    ErrorCode("normative_cost_missing", 422,
              "Сначала укажите нормативную стоимость каждого модуля[ (не указана: {missing})].",
              "Set the normative cost of every module first[ (missing: {missing})].", SERVICE),
    ErrorCode("program_has_no_modules", 422, "В программе должен быть хотя бы один модуль.",
              "A program needs at least one module.", SERVICE),
    ErrorCode("module_not_found", 422, "В этой программе нет такого модуля[ ({module_id})].",
              "This program has no such module[ ({module_id})].", SERVICE),
    ErrorCode("expiry_not_due", 422, "Срок действия сертификата ещё не истёк[: он действует до {valid_until}].",
              "The certificate has not expired yet[: it is valid until {valid_until}].", SERVICE),
    ErrorCode("already_funding", 422, "Это уже сертификат финансирования.", "The certificate is already a funding one.",
              SERVICE),
    ErrorCode("municipality_code_invalid", 422, "Код муниципалитета — две цифры от 01 до 99.",
              "A municipality code is two digits 01..99.", SERVICE),
    ErrorCode("municipality_unknown", 422, "Муниципалитета[ {municipality}] нет в регионе.",
              "Municipality[ {municipality}] is not in the region.", SERVICE),
    ErrorCode("region_code_invalid", 422, "Код региона — две цифры от 01 до 99.", "A region code is two digits 01..99.",
              SERVICE),
    ErrorCode("age_window_invalid", 422, "Возрастные границы должны быть такими: 0 ≤ от ≤ до ≤ 17.",
              "The age window must satisfy 0 <= min <= max <= 17.", SERVICE),
    ErrorCode("name_required", 422, "Заполните название или имя[: {field}].", "A name is required[: {field}].", SERVICE),
    ErrorCode("age_range_invalid", 422, "Возраст обучающихся должен быть в пределах от {min_age} до {max_age} лет.",
              "The age range must lie within {min_age}..{max_age}.", SERVICE),
    ErrorCode("module_dates_invalid", 422, "Дата окончания модуля должна быть позже даты начала.",
              "The module's end date must be after its start date.", SERVICE),
    ErrorCode("capacity_invalid", 422, "В группе должно быть хотя бы одно место.", "Group capacity must be at least 1.",
              SERVICE),
    ErrorCode("price_invalid", 422, "Цена — целое неотрицательное число копеек.",
              "The price is a non-negative whole number of kopecks.", SERVICE),
    ErrorCode("price_must_be_positive", 422,
              "У модуля, оплачиваемого сертификатом, цена должна быть больше нуля.",
              "A certificate-funded module must have a price above zero.", SERVICE),
    ErrorCode("hours_invalid", 422, "Количество часов — целое положительное число.", "Hours must be a positive whole number.",
              SERVICE),
    ErrorCode("schedule_invalid", 422, "В расписании нужны занятия, которые заканчиваются позже, чем начинаются.",
              "The schedule needs lessons that end after they start.", SERVICE),
    ErrorCode("address_required", 422, "Укажите адрес проведения занятий.", "The module's address is required.", SERVICE),
    ErrorCode("normative_cost_invalid", 422, "Нормативная стоимость — целое неотрицательное число копеек.",
              "The normative cost is a non-negative whole number of kopecks.", SERVICE),
    ErrorCode("duplicate_module_id", 422, "Идентификаторы модулей в программе не должны повторяться.",
              "Module ids must be unique in a program.", SERVICE),
    ErrorCode("kpp_required", 422, "Организация должна указать КПП.", "An organisation must give its КПП.", SERVICE),
    ErrorCode("kpp_not_allowed", 422, "У индивидуального предпринимателя нет КПП: уберите его.",
              "An individual entrepreneur has no КПП: remove it.", SERVICE),
    ErrorCode("bik_format", 422, "БИК должен состоять только из цифр.", "A БИК contains digits only.", SERVICE),
    ErrorCode("bik_length", 422, "В БИК должно быть 9 цифр[, а указано {got}].", "A БИК has 9 digits[, not {got}].",
              SERVICE),
    *_account("account", "Расчётный счёт", "расчётном счёте", "settlement account"),
    *_account("correspondent_account", "Корреспондентский счёт", "корреспондентском счёте", "correspondent account"),
    ErrorCode("bank_name_required", 422, "Укажите наименование банка.", "The bank's name is required.", SERVICE),
    ErrorCode("authority_name_required", 422, "Укажите наименование уполномоченного органа — плательщика.",
              "The name of the authorised body (the payer) is required.", SERVICE),
    ErrorCode("provider_id_invalid", 422, "В токене указан неверный идентификатор поставщика.",
              "The token's provider id is not a UUID.", SERVICE),
    ErrorCode("provider_duplicate", 409, "Поставщик с такими ИНН и ОГРН уже зарегистрирован.",
              "A provider with these identifiers is already registered.", SERVICE),
    ErrorCode("provider_not_registered", 409, "Сначала зарегистрируйте свою организацию.",
              "Register your organisation first.", SERVICE),
)

register(*CODES)
