"""Billing's documents downloaded through the portal: the file is fetched from the API with the
person's token and passed on with its type and name; the API's refusal (not a party, the month
not closed) becomes the error page with the API's Russian words."""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from pfdo_plumbing.auth.principal import Role
from pfdo_portal.app import create_app
from pfdo_portal.auth import PortalUser
from pfdo_portal.gateway import GatewayApi
from pfdo_portal.pages import documents
from pfdo_portal.settings import PortalSettings

PROVIDER = "3f7a2c91-8b4e-4d1a-a6f0-2e9c5b7d1a48"
ORDER = "b7e2a9d4-3c6f-4a81-9d0e-4f5c1b8a3e72"
PDF = b"%PDF-1.7 the invoice"


def portal(monkeypatch, handler) -> TestClient:  # noqa: ANN001
    monkeypatch.setattr(documents, "access_token", lambda request: "token")
    app = create_app(PortalSettings(log_json=False),
                     api=GatewayApi("http://gateway.test/api/", transport=httpx.MockTransport(handler)))
    app.dependency_overrides[documents.parties] = lambda: PortalUser("p", Role.PROVIDER, "Поставщик")
    return TestClient(app)


def test_the_invoice_is_passed_on_from_the_api_with_the_persons_token(monkeypatch) -> None:  # noqa: ANN001
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=PDF, headers={
            "content-type": "application/pdf", "content-disposition": 'attachment; filename="invoice-2027-10-v2.pdf"'})

    answer = portal(monkeypatch, handler).get(documents.invoice_link(PROVIDER, "01", "2027-10"))
    assert answer.status_code == 200 and answer.content == PDF
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="invoice-2027-10-v2.pdf"'
    (sent,) = seen
    assert sent.url.path == "/api/billing/documents/invoice" and sent.headers["authorization"] == "Bearer token"
    assert dict(sent.url.params) == {"provider_id": PROVIDER, "payer_code": "01", "month": "2027-10", "format": "pdf"}


def test_the_act_and_the_advance_request_go_to_their_api_addresses(monkeypatch) -> None:  # noqa: ANN001
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(f"{request.url.path}?{request.url.query.decode()}")
        return httpx.Response(200, content=b"{}", headers={"content-type": "application/json"})

    client = portal(monkeypatch, handler)
    assert client.get(documents.act_link(PROVIDER, "02", "2027-10", "json")).status_code == 200
    assert client.get(documents.advance_request_link(ORDER)).status_code == 200
    assert client.get(documents.act_link(PROVIDER, "02", "2027-10") + "&version=1").status_code == 200
    assert paths == [f"/api/billing/documents/act?provider_id={PROVIDER}&payer_code=02&month=2027-10&format=json",
                     f"/api/billing/payment-orders/{ORDER}/advance-request?format=pdf",
                     f"/api/billing/documents/act?provider_id={PROVIDER}&payer_code=02&month=2027-10&format=pdf&version=1"]


def test_a_refusal_of_the_api_is_the_error_page_in_russian(monkeypatch) -> None:  # noqa: ANN001
    problem = {"type": "about:blank", "title": "Конфликт", "status": 409, "code": "month_not_closed",
               "detail": "Счёт и акт формируются после закрытия месяца 2027-10 для плательщика."}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json=problem, headers={"content-type": "application/problem+json"})

    answer = portal(monkeypatch, handler).get(documents.invoice_link(PROVIDER, "01", "2027-10"))
    assert answer.status_code == 409 and "после закрытия месяца" in answer.text


def test_an_orders_documents_are_linked_by_its_kind() -> None:
    from pfdo_portal.rendering import templates

    block = templates().env.get_template("_order_documents.html")
    final = block.render(order={"order_id": ORDER, "kind": "final", "provider_id": PROVIDER, "payer_code": "01",
                                "month": "2027-10"})
    assert documents.invoice_link(PROVIDER, "01", "2027-10").replace("&", "&amp;") in final
    assert documents.act_link(PROVIDER, "01", "2027-10", "json").replace("&", "&amp;") in final
    advance = block.render(order={"order_id": ORDER, "kind": "advance", "provider_id": PROVIDER, "payer_code": "01",
                                  "month": "2027-10"})
    assert documents.advance_request_link(ORDER) in advance and "/documents/invoice" not in advance


def test_the_invoices_export_passes_its_filters(monkeypatch) -> None:  # noqa: ANN001
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"xlsx", headers={
            "content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "content-disposition": 'attachment; filename="invoices-2027-10.xlsx"'})

    answer = portal(monkeypatch, handler).get("/documents/invoices.xlsx?month=2027-10")
    assert answer.status_code == 200 and answer.content == b"xlsx"
    assert seen[0].url.path == "/api/billing/exports/invoices"
    assert dict(seen[0].url.params) == {"format": "xlsx", "month": "2027-10"}
