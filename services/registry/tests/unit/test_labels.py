"""The labels of the platform's codes are public, Russian by default and English on request, and
cover every value of the enums the APIs carry."""

from __future__ import annotations

import httpx
import pytest

from pfdo_contracts import common
from pfdo_contracts.events.billing import OrderKind
from pfdo_contracts.events.navigator import DisputeOutcome
from pfdo_contracts.labels import LABELS, label
from pfdo_plumbing.settings import ServiceSettings

from pfdo_registry.domain.certificate import CertificateStatus
from pfdo_registry.domain.program import ProgramStatus
from pfdo_registry.domain.provider import ProviderStatus, ProviderType
from pfdo_registry.main import build_app


@pytest.mark.parametrize(("group", "enum"), [
    ("directions", common.Direction), ("funding_kinds", common.FundingKind), ("certificate_kinds", common.UsageKind),
    ("certificate_statuses", CertificateStatus), ("provider_types", ProviderType), ("provider_statuses", ProviderStatus),
    ("program_statuses", ProgramStatus), ("payment_modes", common.PaymentMode), ("mark_statuses", common.AttendanceStatus),
    ("dispute_decisions", DisputeOutcome), ("payment_order_kinds", OrderKind),
])
def test_every_value_of_an_enum_has_its_labels(group: str, enum: type) -> None:
    assert set(LABELS[group]) == {v.value for v in enum}
    for ru, en in LABELS[group].values():
        assert ru and en and ru != en


def test_an_unknown_value_keeps_its_code() -> None:
    assert label("directions", "technical") == "Техническая"
    assert label("directions", "technical", "en") == "Technical"
    assert label("directions", "cooking") == "cooking"


@pytest.fixture
async def client():
    settings = ServiceSettings(service_name="registry", database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
                               kafka_bootstrap="127.0.0.1:1", jwks_url="/nonexistent/jwks.json")
    transport = httpx.ASGITransport(app=build_app(settings))  # no lifespan: the route touches no database
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_labels_answer_without_a_token_in_russian_then_english(client) -> None:
    ru = await client.get("/api/registry/labels")
    assert ru.status_code == 200 and ru.headers["content-language"] == "ru"
    assert ru.json()["labels"]["directions"]["social_humanitarian"] == "Социально-гуманитарная"
    assert ru.json()["labels"]["enrolment_states"]["waitlisted"] == "В листе ожидания"
    en = await client.get("/api/registry/labels", headers={"Accept-Language": "en-US,en;q=0.9,ru;q=0.1"})
    assert en.json()["language"] == "en" and en.json()["labels"]["directions"]["artistic"] == "Arts"
    assert set(en.json()["labels"]) == set(ru.json()["labels"]) == set(LABELS)
