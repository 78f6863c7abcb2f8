"""The offer (договор-оферта) a parent reads before accepting it: the parties, the child, the
certificate's number, the group and its timetable, the cost split, the payment mode and the
deadline (docs/domain-rules.md, "Offer and acceptance").

A pure function over the API's answers: the enrolment (navigator), the program page with the group
(navigator), the certificate (registry) and the provider (registry). Whatever the portal could not
read is left out rather than guessed; the figures are the enrolment's own (billing's reservation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Lesson:
    weekday: int
    starts_at: str
    ends_at: str


@dataclass(frozen=True)
class OfferView:
    number: str
    """The contract's number: the enrolment's id, shortened (upper case), as on every document."""
    provider: str | None
    provider_inn: str | None
    child: str | None
    certificate_number: str | None
    program: str | None
    group: str | None
    address: str | None
    lessons: tuple[Lesson, ...]
    starts_on: dt.date
    ends_on: dt.date
    total_kopecks: int | None
    certificate_kopecks: int | None
    family_kopecks: int | None
    payment_mode: str
    offered_on: dt.date | None
    expires_on: dt.date | None
    days_left: int | None
    """Days left to accept, today included (0: the deadline has passed)."""


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def contract_number(enrolment_id: Any) -> str:
    return str(enrolment_id).split("-")[0].upper()


def offer_view(enrolment: Mapping[str, Any], *, program: Mapping[str, Any] | None,
               certificate: Mapping[str, Any] | None, provider: Mapping[str, Any] | None,
               today: dt.date) -> OfferView | None:
    """The offer of an ``offered`` enrolment (None in any other state)."""
    if enrolment.get("state") != "offered":
        return None
    group = next((m for m in (program or {}).get("modules", ())
                  if str(m.get("module_id")) == str(enrolment["module_id"])), None)
    lessons = tuple(Lesson(int(s["weekday"]), str(s["starts_at"])[:5], str(s["ends_at"])[:5])
                    for s in sorted((group or {}).get("schedule", ()), key=lambda s: (s["weekday"], s["starts_at"])))
    expires_on = _day(enrolment.get("offer_expires_on"))
    child = f"{certificate['first_name']} {certificate['surname']}" if certificate else None
    return OfferView(
        number=contract_number(enrolment["enrolment_id"]),
        provider=(provider or {}).get("name"), provider_inn=(provider or {}).get("inn"), child=child,
        certificate_number=(certificate or {}).get("number"), program=(program or {}).get("title"),
        group=(group or {}).get("title"), address=(program or {}).get("venue_address"), lessons=lessons,
        starts_on=_day(enrolment["starts_on"]) or today, ends_on=_day(enrolment["ends_on"]) or today,
        total_kopecks=enrolment.get("total_cost_kopecks"), certificate_kopecks=enrolment.get("reserved_kopecks"),
        family_kopecks=enrolment.get("family_kopecks"), payment_mode=str(enrolment.get("payment_mode") or "monthly"),
        offered_on=_day(enrolment.get("offered_on")), expires_on=expires_on,
        days_left=max(0, (expires_on - today).days + 1) if expires_on else None,
    )
