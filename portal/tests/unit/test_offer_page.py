"""The offer (договор-оферта) in the parent's cabinet: its text from the API's answers, «Принять
оферту» (a form, no script) and «Отказаться» (the confirmation page before cancelling), an expired
offer's refusal next to it; and the provider's applications saying «ожидает акцепта»."""

from __future__ import annotations

import datetime as dt

import httpx
from fastapi.testclient import TestClient

from pfdo_portal.app import create_app
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages.offer import contract_number, offer_view
from pfdo_portal.settings import PortalSettings

from .test_cabinet_views import CERT, ENROLMENT, ENROLMENT_ID, MODULE_ID, PROGRAM, PROGRAM_ID

D = dt.date
NNBSP, NBSP = "\u202f", "\u00a0"
PROVIDER_ID = "77777777-7777-4777-8777-777777777777"
PROVIDER = {"id": PROVIDER_ID, "name": "ООО «Кванториум-Липецк»", "inn": "4826000000", "address": "Липецк"}
GROUP = {**PROGRAM["modules"][0], "schedule": [
    {"weekday": 4, "starts_at": "16:00:00", "ends_at": "17:30:00"},
    {"weekday": 2, "starts_at": "16:00:00", "ends_at": "17:30:00"}]}
PROGRAM_PAGE = {**PROGRAM, "venue_address": "Липецк, ул. Гагарина, 10, каб. 21", "modules": [GROUP]}
OFFERED = {**ENROLMENT, "state": "offered", "provider_id": PROVIDER_ID, "payment_mode": "attendance",
           "total_cost_kopecks": 2_017_582, "reserved_kopecks": 1_513_190, "family_kopecks": 504_392,
           "offered_on": "2026-12-07", "offer_expires_on": "2026-12-17"}


def test_the_offer_is_built_from_the_enrolment_the_group_the_certificate_and_the_provider() -> None:
    offer = offer_view(OFFERED, program=PROGRAM_PAGE, certificate=CERT, provider=PROVIDER, today=D(2026, 12, 8))
    assert offer is not None
    assert offer.number == contract_number(ENROLMENT_ID) == "44444444"
    assert (offer.provider, offer.child, offer.certificate_number) == (PROVIDER["name"], "Артём Соколов", "4801000001")
    assert (offer.program, offer.group) == ("Робототехника", "Группа 1")
    assert [(lesson.weekday, lesson.starts_at, lesson.ends_at) for lesson in offer.lessons] == [
        (2, "16:00", "17:30"), (4, "16:00", "17:30")]
    assert (offer.total_kopecks, offer.certificate_kopecks, offer.family_kopecks) == (2_017_582, 1_513_190, 504_392)
    assert (offer.expires_on, offer.days_left) == (D(2026, 12, 17), 10)  # the 8th to the 17th, both included
    assert offer_view(OFFERED, program=None, certificate=None, provider=None, today=D(2026, 12, 18)).days_left == 0
    assert offer_view({**OFFERED, "state": "confirmed"}, program=PROGRAM_PAGE, certificate=CERT, provider=PROVIDER,
                      today=D(2026, 12, 8)) is None


def _portal(monkeypatch, answers: dict[str, object], sent: list[httpx.Request], refuse: bool = False) -> TestClient:  # noqa: ANN001
    from pfdo_plumbing.auth.principal import Role
    from pfdo_portal.auth import PortalUser, csrf_protect
    from pfdo_portal.pages import cabinet

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {
                "enrolment_states": {"offered": "Ожидает акцепта оферты", "confirmed": "Договор заключён"},
                "payment_modes": {"attendance": "По факту посещения"}}})
        if request.method == "POST" and refuse:
            return httpx.Response(409, json={"status": 409, "code": "offer_expired",
                                             "detail": "Срок акцепта оферты истёк: оферта отозвана."},
                                  headers={"content-type": "application/problem+json"})
        answer = answers.get(request.url.path)
        return httpx.Response(200, json=answer) if answer is not None else httpx.Response(404, json={})

    monkeypatch.setattr(cabinet, "access_token", lambda request: "parent-token")
    monkeypatch.setattr(cabinet, "today", lambda: D(2026, 12, 8))
    app = create_app(PortalSettings(log_json=False),
                     api=GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler)))
    app.dependency_overrides[cabinet.parent_only] = lambda: PortalUser("parent-1", Role.PARENT, "Мама")
    app.dependency_overrides[csrf_protect] = lambda: None
    return TestClient(app)


def _answers() -> dict[str, object]:
    return {f"/api/navigator/enrolments/{ENROLMENT_ID}": OFFERED, f"/api/navigator/programs/{PROGRAM_ID}": PROGRAM_PAGE,
            "/api/registry/certificates": {"items": [CERT], "next_cursor": None},
            f"/api/registry/providers/{PROVIDER_ID}": PROVIDER,
            "/api/navigator/attendance": {"items": [], "next_cursor": None},
            f"/api/billing/certificates/{CERT['id']}/history": {"items": [], "next_cursor": None},
            "/api/navigator/disputes": {"items": [], "next_cursor": None},
            f"/api/navigator/enrolments/{ENROLMENT_ID}/accept": {**OFFERED, "state": "confirmed"}}


def test_the_parent_reads_the_offer_and_accepts_it(monkeypatch) -> None:  # noqa: ANN001
    sent: list[httpx.Request] = []
    with _portal(monkeypatch, _answers(), sent) as client:
        page = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}")
        assert page.status_code == 200, page.text
        offer = page.text[page.text.index('id="offer"'):]
        for words in ("Договор-оферта № 44444444 от 07.12.2026", "ООО «Кванториум-Липецк» (ИНН 4826000000)",
                      "Артём Соколов", "№ 4801000001", "Робототехника", "Группа 1", "Липецк, ул. Гагарина, 10",
                      "вторник, 16:00–17:30", "четверг, 16:00–17:30", "с 07.12.2026 по 30.04.2027",
                      f"20{NNBSP}175,82{NBSP}₽", f"15{NNBSP}131,90{NBSP}₽", f"5{NNBSP}043,92{NBSP}₽",
                      "По факту посещения", "до 17.12.2026 включительно", "Принять оферту"):
            assert words in offer, words
        assert f'action="/cabinet/enrolments/{ENROLMENT_ID}/accept"' in offer
        assert f'href="/cabinet/enrolments/{ENROLMENT_ID}/end"' in offer and "Отказаться" in offer
        assert 'id="end"' not in page.text  # the offer's own «Отказаться», not the cancel section
        refuse = client.get(f"/cabinet/enrolments/{ENROLMENT_ID}/end")
        assert refuse.status_code == 200 and "Отказаться от оферты" in refuse.text
        assert 'name="action" value="cancel"' in refuse.text
        done = client.post(f"/cabinet/enrolments/{ENROLMENT_ID}/accept", data={"idempotency_key": "k-1"},
                           follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?done=accepted#status")
    accept = next(r for r in sent if r.method == "POST")
    assert accept.url.path == f"/api/navigator/enrolments/{ENROLMENT_ID}/accept"
    assert accept.headers["idempotency-key"] and accept.headers["authorization"] == "Bearer parent-token"


def test_an_expired_offer_is_refused_next_to_it(monkeypatch) -> None:  # noqa: ANN001
    with _portal(monkeypatch, _answers(), [], refuse=True) as client:
        page = client.post(f"/cabinet/enrolments/{ENROLMENT_ID}/accept", data={"idempotency_key": "k-2"})
    assert page.status_code == 409
    offer = page.text[page.text.index('id="offer"'):]
    assert "Срок акцепта оферты истёк: оферта отозвана." in offer[:offer.index("Принять оферту")]


def test_the_provider_sees_an_offer_waiting_for_acceptance(monkeypatch) -> None:  # noqa: ANN001
    from pfdo_plumbing.auth.principal import Role
    from pfdo_portal.auth import PortalUser
    from pfdo_portal.pages import provider

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/registry/labels":
            return httpx.Response(200, json={"language": "ru", "labels": {
                "enrolment_states": {"offered": "Ожидает акцепта оферты"}}})
        if path == "/api/registry/programs":
            return httpx.Response(200, json={"items": [{"id": PROGRAM_ID, "name": "Робототехника", "status": "certified",
                                                        "modules": [{"id": MODULE_ID, "name": "Группа 1", "start_date": "2026-12-07", "end_date": "2027-04-30", "schedule": []}]}],
                                             "next_cursor": None})
        if path == "/api/navigator/enrolments":
            return httpx.Response(200, json={"items": [{**OFFERED, "requested_at": "2026-12-05T09:00:00Z"}],
                                             "next_cursor": None})
        return httpx.Response(404, json={})

    monkeypatch.setattr(provider, "access_token", lambda request: "provider-token")
    app = create_app(PortalSettings(log_json=False),
                     api=GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler)))
    app.dependency_overrides[provider.provider_only] = lambda: PortalUser("staff", Role.PROVIDER, "Сотрудник",
                                                                         provider_id=PROVIDER_ID)
    with TestClient(app) as client:
        page = client.get("/provider")
    assert page.status_code == 200, page.text
    row = page.text[page.text.index('id="applications-heading"'):]
    assert "Ожидает акцепта оферты" in row and "ожидает акцепта до 17.12.2026" in row
    assert f"/provider/applications/{ENROLMENT_ID}/confirm" not in row
