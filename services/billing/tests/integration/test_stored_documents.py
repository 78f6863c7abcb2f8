"""Billing's documents stored and versioned, on the real database, through the API: the invoice and
the act of a month closed for one payer, as PDF (its text read back) and as JSON (verified); the
same facts answer the stored version byte for byte; changed payee details and a reissued order
make versions 2 and 3 under the same number, version 1 still served; the list of documents and
the invoices export; parties only (a foreign provider or another municipality's operator: 404);
a missing certificate number answers 409. And the certificate's number kept from the registry's
event."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from billing_testkit import Harness, certificate, conclude_agreement, start_harness
from sqlalchemy import text

from pfdo_plumbing.documents import contract_number, verify
from pfdo_testkit.documents import assert_pdf_matches_json, pdf_text, save_pages_png, squash

pytestmark = pytest.mark.integration

P1, P2 = uuid.uuid4(), uuid.uuid4()
MONTH = "2026-11"
PARTY = ("INSERT INTO {table} ({key}, name, inn, kpp, bank_name, bik, account, correspondent_account, revision, "
         "changed_on) VALUES (:key, :name, :inn, '482601001', 'ПАО Сбербанк', '044525225', :account, "
         "'30101810400000000225', 1, '2026-08-01')")
ORDER = ("INSERT INTO payment_orders (order_id, provider_id, payer_code, period_id, month, kind, number, base_kopecks, "
         "advance_paid_kopecks, offset_applied_kopecks, amount_kopecks, offset_carried_kopecks, contract_count, "
         "issued_on) VALUES (:id, :p, :payer, :period, '2026-11-01', 'final', :number, :base, :advance, 0, :amount, "
         "0, :n, '2026-12-02')")
LINES = ((uuid.uuid4(), uuid.uuid4(), "4801000111", 1_234_56), (uuid.uuid4(), uuid.uuid4(), "4801000222", 2_000_00))


async def _setup(h: Harness) -> uuid.UUID:
    """November 2026 closed for payer 01 (not 02); P1's final orders from both payers."""
    r = await h.operator("POST", "/periods", json={"starts_on": "2026-09-01", "ends_on": "2027-08-31"})
    assert r.status_code == 201, r.text
    period = r.json()["period_id"]
    await conclude_agreement(h, P1, period, payer="01", number="15-ПФ/2026")
    await conclude_agreement(h, P1, period, payer="02", number="7-ПФ/2026")
    order = uuid.uuid4()
    async with h.db.transaction() as s:
        await s.execute(text(PARTY.format(table="payees", key="provider_id")),
                        {"key": P1, "name": "АНО ДО «Кванториум»", "inn": "4826012345", "account": "40703810938000012345"})
        for code, name in (("01", "Управление образования г. Липецка"), ("02", "Управление образования г. Ельца")):
            await s.execute(text(PARTY.format(table="payers", key="municipality_code")),
                            {"key": code, "name": name, "inn": "482600000" + code[-1], "account": "0322164342000000460" + code[-1]})
        total = sum(line[3] for line in LINES)
        await s.execute(text(ORDER), {"id": order, "p": P1, "payer": "01", "period": period, "number": "2026-000101",
                                      "base": total, "advance": 2_000_00, "amount": total - 2_000_00, "n": len(LINES)})
        await s.execute(text(ORDER), {"id": uuid.uuid4(), "p": P1, "payer": "02", "period": period,
                                      "number": "2026-000102", "base": 100, "advance": 0, "amount": 100, "n": 0})
        for enrolment, cert, number, amount in LINES:
            await s.execute(text(
                "INSERT INTO certificates (certificate_id, municipality_code, birth_date, status, usage_kind, parent_id, "
                "number) VALUES (:c, '01', '2016-03-14', 'active', 'funding', 'parent-1', :n)"), {"c": cert, "n": number})
            await s.execute(text("INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, amount_kopecks) "
                                 "VALUES (:o, :e, :c, :a)"), {"o": order, "e": enrolment, "c": cert, "a": amount})
        await s.execute(text("INSERT INTO month_closes (month, municipality_code, status, finished_at) "
                             "VALUES ('2026-11-01', '01', 'done', now())"))
    return order


async def _get(h: Harness, kind: str, headers: dict, payer: str = "01", **params: str):  # noqa: ANN202
    return await h.client.get(f"/api/billing/documents/{kind}", headers=headers,
                              params={"provider_id": str(P1), "payer_code": payer, "month": MONTH, **params})


async def test_invoice_and_act_stored_versioned_and_served_to_the_parties(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        order = await _setup(h)
        provider = h.headers("provider", "prov-1", provider_id=str(P1))
        muni = h.headers("municipal_operator", "mo-1", municipality="01")
        finance = h.headers("finance", "fin-1")
        contracts = sorted(contract_number(line[0]) for line in LINES)
        certificates = sorted(line[2] for line in LINES)

        for kind in ("invoice", "act"):
            r = await _get(h, kind, provider, format="json")
            assert r.status_code == 200, r.text
            assert verify(r.content)
            data = r.json()
            assert data["kind"] == kind and data["version"] == 1
            rows = data["appendix"][0]["rows"]
            assert sorted(row[1] for row in rows) == contracts and sorted(row[2] for row in rows) == certificates
            assert data["appendix"][0]["totals"][-1] == {"kopecks": 3_234_56}
            pdf = await _get(h, kind, muni)
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            assert_pdf_matches_json(pdf.content, r.content)
            printed = squash(pdf_text(pdf.content))
            for fact in ("№2026-000101", *contracts, *certificates, "3234,56₽"):
                assert fact in printed, fact
            save_pages_png(pdf.content, f"billing-api-{kind}", last=2)
            # the same facts: the stored document, byte for byte
            again = await _get(h, kind, finance, format="json")
            assert again.content == r.content
        first_invoice = (await _get(h, "invoice", provider, format="json")).content
        first_pdf = (await _get(h, "invoice", provider)).content

        # not closed for payer 02 yet
        r = await _get(h, "invoice", provider, payer="02")
        assert r.status_code == 409 and r.json()["code"] == "month_not_closed"
        # not a party: another provider, another municipality's operator; a parent is refused
        for headers in (h.headers("provider", "prov-2", provider_id=str(P2)),
                        h.headers("municipal_operator", "mo-2", municipality="02")):
            assert (await _get(h, "invoice", headers)).status_code == 404
            assert (await _get(h, "act", headers, version="1")).status_code == 404
        assert (await _get(h, "invoice", h.headers("parent", "parent-1"))).status_code == 403

        # changed payee details: version 2 under the same number; version 1 still served
        async with h.db.transaction() as s:
            await s.execute(text("UPDATE payees SET account = '40703810938000099999', revision = 2 "
                                 "WHERE provider_id = :p"), {"p": P1})
        second = (await _get(h, "invoice", provider, format="json")).json()
        first = (await _get(h, "invoice", provider, format="json", version="1"))
        assert first.content == first_invoice
        assert (await _get(h, "invoice", muni, version="1")).content == first_pdf
        assert (second["number"], second["version"]) == (first.json()["number"], 2)
        assert "40703810938000099999" in str(second["parties"])

        # the order returned by the treasury and reissued: the invoice names the new order (version 3)
        r = await h.client.post(f"/api/billing/payment-orders/{order}/treasury-status", headers=finance,
                                json={"status": "returned", "status_on": "2026-12-05", "reason": "Неверный счёт"})
        assert r.status_code == 200, r.text
        r = await h.client.post(f"/api/billing/payment-orders/{order}/reissue", headers=finance)
        assert r.status_code in (200, 201), r.text
        reissued = r.json()["number"]
        third = await _get(h, "invoice", provider, format="json")
        assert third.json()["version"] == 3 and f"№ {reissued}" in third.text

        # the list: every version, to the parties only
        r = await h.client.get("/api/billing/documents", params={"month": MONTH}, headers=provider)
        assert r.status_code == 200, r.text
        listed = [(d["kind"], d["version"]) for d in r.json()["items"]]
        assert sorted(listed) == [("act", 1), ("invoice", 1), ("invoice", 2), ("invoice", 3)]
        assert all(d["number"] == second["number"] for d in r.json()["items"] if d["kind"] == "invoice")
        r = await h.client.get("/api/billing/documents", headers=h.headers("municipal_operator", "mo-2", municipality="02"))
        assert r.json()["items"] == []

        # the invoices export: one row per contract of each invoice of a closed month
        r = await h.client.get("/api/billing/exports/invoices", params={"format": "csv"}, headers=finance)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline=""), delimiter=";"))
        assert [row[0] for row in rows[1:-1]] == [second["number"]] * 2
        assert sorted(row[7] for row in rows[1:-1]) == contracts and rows[-1][-1] == "3234,56"
        r = await h.client.get("/api/billing/exports/invoices", params={"format": "xlsx"},
                               headers=h.headers("municipal_operator", "mo-2", municipality="02"))
        assert r.status_code == 200

        # a certificate whose number billing has not received: no document
        async with h.db.transaction() as s:
            await s.execute(text("UPDATE certificates SET number = NULL WHERE number = '4801000111'"))
        r = await _get(h, "act", provider)
        assert r.status_code == 409 and r.json()["code"] == "document_facts_missing"
        assert "номера сертификатов" in r.json()["detail"]
    finally:
        await h.stack.aclose()


async def test_the_certificate_number_is_kept_from_the_registry(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        cid = uuid.uuid4()
        await h.publish(certificate(cid, "parent-9"))
        assert await h.wait_for("SELECT number FROM certificates WHERE certificate_id = :c", c=cid) == "4801000123"
        # a certificate known before the number was kept gets it from the event's replay
        async with h.db.transaction() as s:
            await s.execute(text("UPDATE certificates SET number = NULL WHERE certificate_id = :c"), {"c": cid})
        await h.replay_all(fresh_ids=True)
        assert await h.wait_for("SELECT number FROM certificates WHERE certificate_id = :c", c=cid) == "4801000123"
    finally:
        await h.stack.aclose()
