"""What a parent reads about an enrolment's state: the steps of the way to a contract
(заявка → резерв → оферта → договор), why it was refused (the reason codes of the navigator and of billing,
in Russian), the place on a waiting list or in the funding queue, and whether the page should keep
asking for news (the state can still change without the parent doing anything).

Pure functions: the API's ``EnrolmentOut`` in, words out. The state's own name comes from the
platform's labels (``enrolment_states``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STEPS: tuple[tuple[str, str], ...] = (
    ("requested", "Заявка подана"),
    ("reserved", "Средства сертификата зарезервированы"),
    ("offered", "Поставщик подтвердил заявку: вам направлена оферта"),
    ("confirmed", "Оферта принята: договор заключён"),
)
"""The way to a contract, in order."""

AWAITING = frozenset({"requested", "reserved", "waitlisted"})
"""States that change by themselves (billing reserves, the provider answers, a seat frees up):
the page keeps asking."""

REFUSED = frozenset({"rejected", "declined", "expired", "cancelled", "withdrawn"})
"""States that end the application without a contract."""

REASONS: dict[str, str] = {
    # billing's refusals to reserve
    "certificate_unknown": "Сертификат не найден в системе оплаты.",
    "certificate_not_active": "Сертификат не действует (приостановлен, закрыт или истёк).",
    "period_not_open": "Период финансирования на эти даты ещё не открыт.",
    "age_group_not_funded": "Для возрастной группы ребёнка в этом периоде не установлен номинал.",
    "direction_cap_reached": "Исчерпан лимит сертификата на эту направленность.",
    "no_free_places": "Бесплатные места по муниципальному заданию на этот год закончились.",
    "funding_cap_queued": "Лимит сертификатов финансирования исчерпан: заявка в очереди на финансирование.",
    "insufficient_balance": "На сертификате недостаточно средств.",
    "no_agreement": ("У поставщика нет действующего соглашения с уполномоченным органом вашего муниципалитета: "
                     "сертификат не может оплатить это обучение."),
    "agreement_limit_reached": ("Исчерпан годовой лимит соглашения поставщика с уполномоченным органом вашего "
                                "муниципалитета: запись за счёт сертификата сейчас невозможна."),
    # the navigator and the provider
    "reservation_rejected": "Система оплаты отказала в резервировании средств.",
    "no_seat": "В группе не осталось свободных мест.",
    "provider_refused": "Поставщик отклонил заявку.",
    "program_unavailable": "Программа больше недоступна для записи.",
    "age_not_admitted": "Возраст ребёнка не подходит для этой группы.",
    "parent_cancelled": "Заявка отменена вами.",
    "parent_left": "Вы покинули лист ожидания.",
    "no_longer_eligible": "Ребёнок больше не может быть записан в эту группу.",
    "hold_expired": "Поставщик не ответил на заявку вовремя.",
    "application_unanswered": "Поставщик не ответил на заявку в установленный срок: заявка отклонена, "
                              "средства вернулись на баланс сертификата.",
    "offer_not_accepted": "Оферта не была принята в установленный срок и отозвана: средства вернулись на баланс "
                          "сертификата, место в группе освободилось.",
    "offer_declined": "Вы отказались от оферты.",
    # the end of a contract
    "parent_request": "Договор расторгнут по вашему заявлению.",
    "provider_decision": "Договор расторгнут поставщиком.",
    "certificate_expired": "Срок действия сертификата истёк.",
    "certificate_closed": "Сертификат закрыт.",
    "provider_excluded": "Поставщик исключён из реестра.",
    "program_archived": "Программа снята с реализации.",
}
"""Reason codes -> the sentence the parent reads."""


def reason_text(code: str | None) -> str | None:
    """The Russian sentence of a reason code (an unknown code: a general sentence naming it)."""
    if not code:
        return None
    return REASONS.get(code, f"Причина: {code}.")


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    current: bool


@dataclass(frozen=True)
class StatusView:
    state: str
    steps: tuple[Step, ...]
    """The way to a contract with the steps passed; empty once it left that way."""
    reason: str | None
    """Why it was refused or ended, in Russian."""
    waiting_position: int | None
    queue_position: int | None
    live: bool
    """The state may still change by itself: keep asking."""
    refused: bool


def status_view(enrolment: Mapping[str, Any]) -> StatusView:
    state = str(enrolment["state"])
    order = [code for code, _ in STEPS]
    reached = order.index(state) if state in order else (len(order) if state in ("terminated", "ended") else -1)
    steps = tuple(Step(name, done=i <= reached, current=i == reached) for i, (_, name) in enumerate(STEPS)) \
        if reached >= 0 and state not in ("terminated", "ended") else ()
    queued = enrolment.get("queue_position")
    return StatusView(
        state=state, steps=steps,
        reason=reason_text(enrolment.get("reason")) if state in REFUSED or state == "terminated" else None,
        waiting_position=enrolment.get("waiting_position") if state == "waitlisted" else None,
        queue_position=queued if state == "requested" else None,
        live=state in AWAITING, refused=state in REFUSED,
    )
