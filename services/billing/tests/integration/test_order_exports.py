"""The payment-order register exported through the API, on the real database: CSV, XLSX and the
1CClientBankExchange file read back; each party gets only its orders (a provider its own, a
municipal operator its municipality's, finance all); a bank file without a party's details is
refused with a clear answer. The advance request of an advance order, as PDF and JSON, to the
order's parties only: its text read back and checked against its JSON."""

from __future__ import annotations

import csv
import io
import json
import uuid
from decimal import Decimal

import pytest
from billing_testkit import Harness, conclude_agreement, start_harness
from openpyxl import load_workbook
from sqlalchemy import text

from pfdo_plumbing.documents import contract_number, verify
from pfdo_testkit.bank_files import parse_bank_exchange
from pfdo_testkit.documents import assert_pdf_matches_json, save_pages_png

pytestmark = pytest.mark.integration

P1, P2 = uuid.uuid4(), uuid.uuid4()
ORDERS = (  # provider, payer, kind, number, amount
    (P1, "01", "advance", "2026-000001", 1_234_567_89),
    (P1, "02", "advance", "2026-000002", 98_765_43),
    (P2, "01", "advance", "2026-000003", 50_00),
)
PARTY = ("INSERT INTO {table} ({key}, name, inn, kpp, bank_name, bik, account, correspondent_account, revision, "
         "changed_on) VALUES (:key, :name, :inn, :kpp, 'ПАО Сбербанк', '044525225', :account, "
         "'30101810400000000225', 1, '2026-08-01')")


async def _setup(h: Harness) -> str:
    r = await h.operator("POST", "/periods", json={"starts_on": "2026-09-01", "ends_on": "2027-08-31"})
    assert r.status_code == 201, r.text
    period = r.json()["period_id"]
    await conclude_agreement(h, P1, period, payer="01", number="15-ПФ/2026")
    async with h.db.transaction() as s:
        await s.execute(text(PARTY.format(table="payees", key="provider_id")), {
            "key": P1, "name": "АНО ДО «Кванториум»", "inn": "4826012345", "kpp": "482601001",
            "account": "40703810938000012345"})
        for code, name, account in (("01", "Управление образования г. Липецка", "03221643420000004600"),
                                    ("02", "Управление образования г. Ельца", "03221643420000004601")):
            await s.execute(text(PARTY.format(table="payers", key="municipality_code")), {
                "key": code, "name": name, "inn": "4826000000"[:9] + code[-1], "kpp": "482601001", "account": account})
        for provider, payer, kind, number, amount in ORDERS:
            await s.execute(text(
                "INSERT INTO payment_orders (order_id, provider_id, payer_code, period_id, month, kind, number, "
                "base_kopecks, advance_paid_kopecks, offset_applied_kopecks, amount_kopecks, offset_carried_kopecks, "
                "contract_count, issued_on) VALUES (:id, :p, :payer, :period, '2026-11-01', :kind, :number, :amount, "
                "0, 0, :amount, 0, 3, '2026-11-02')"),
                {"id": uuid.uuid4(), "p": provider, "payer": payer, "period": period, "kind": kind, "number": number,
                 "amount": amount})
    return period


async def _export(h: Harness, headers: dict, **params: str) -> tuple[int, bytes, dict]:
    r = await h.client.get("/api/billing/exports/payment-orders", params=params, headers=headers)
    return r.status_code, r.content, dict(r.headers)


def _csv_numbers(raw: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    return [r[0] for r in rows[1:-1]]


async def test_exports_by_party_and_format(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        await _setup(h)
        finance = h.headers("finance", "fin-1")
        status, raw, headers = await _export(h, finance, format="csv", month="2026-11")
        assert status == 200 and headers["content-type"].startswith("text/csv")
        assert "attachment" in headers["content-disposition"]
        assert _csv_numbers(raw) == ["2026-000001", "2026-000002", "2026-000003"]

        # a provider: its own orders only, whatever it asks for
        provider = h.headers("provider", "prov-1", provider_id=str(P1))
        assert _csv_numbers((await _export(h, provider, format="csv"))[1]) == ["2026-000001", "2026-000002"]
        assert _csv_numbers((await _export(h, provider, format="csv", provider_id=str(P2)))[1]) == []
        # a municipal operator: the orders its municipality pays
        muni = h.headers("municipal_operator", "mo-2", municipality="02")
        assert _csv_numbers((await _export(h, muni, format="csv"))[1]) == ["2026-000002"]
        # a parent has no business here
        assert (await _export(h, h.headers("parent", "parent-1"), format="csv"))[0] == 403

        status, raw, _ = await _export(h, provider, format="xlsx")
        sheet = load_workbook(io.BytesIO(raw)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert [r[0] for r in rows[1:-1]] == ["2026-000001", "2026-000002"]
        assert Decimal(str(rows[-1][12])) == Decimal("1333333.32")

        # the bank file: both sides' details and the agreement in the purpose
        status, raw, headers = await _export(h, provider, format="1c")
        assert status == 200 and "windows-1251" in headers["content-type"]
        header, sections = parse_bank_exchange(raw)
        assert [s["Номер"] for s in sections] == ["2026-000001", "2026-000002"]
        assert [s["Сумма"] for s in sections] == ["1234567.89", "98765.43"]
        assert sorted(header["РасчСчет"]) == ["03221643420000004600", "03221643420000004601"]
        assert sections[0]["ПолучательИНН"] == "4826012345" and sections[0]["Плательщик1"].endswith("Липецка")
        assert "15-ПФ/2026" in sections[0]["НазначениеПлатежа"] and "ноябрь 2026" in sections[0]["НазначениеПлатежа"]

        # provider 2 has sent no bank details: no bank file with its orders
        status, raw, _ = await _export(h, finance, format="1c")
        assert status == 409
        problem = json.loads(raw)
        assert problem["code"] == "party_details_missing" and "2026-000003" in problem["detail"]
    finally:
        await h.stack.aclose()


async def test_the_advance_request_to_the_parties_only(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        period = await _setup(h)
        order, enrolments = uuid.uuid4(), [uuid.uuid4() for _ in range(3)]
        instalments = [1_111_12, 1_111_12, 2_000_00]
        async with h.db.transaction() as s:
            await s.execute(text(
                "INSERT INTO payment_orders (order_id, provider_id, payer_code, period_id, month, kind, number, "
                "base_kopecks, advance_paid_kopecks, offset_applied_kopecks, amount_kopecks, offset_carried_kopecks, "
                "contract_count, issued_on) VALUES (:id, :p, '01', :period, '2026-12-01', 'advance', '2026-000010', "
                ":base, 0, 0, :amount, 0, 3, '2026-12-01')"),
                {"id": order, "p": P1, "period": period, "base": sum(instalments),
                 "amount": sum(instalments) * 80 // 100})
            for enrolment, amount in zip(enrolments, instalments, strict=True):
                await s.execute(text("INSERT INTO payment_order_lines (order_id, enrolment_id, certificate_id, "
                                     "amount_kopecks) VALUES (:o, :e, :c, :a)"),
                                {"o": order, "e": enrolment, "c": uuid.uuid4(), "a": amount})
        path = f"/api/billing/payment-orders/{order}/advance-request"
        provider = h.headers("provider", "prov-1", provider_id=str(P1))
        r = await h.client.get(path, params={"format": "json"}, headers=provider)
        assert r.status_code == 200, r.text
        assert verify(r.content)
        data = r.json()
        assert data["kind"] == "advance_request" and data["version"] == 1
        lines = {line["label"]: line["value"] for line in data["sections"][1]["lines"]}
        assert lines["Сумма аванса"] == {"kopecks": 3_377_79} and lines["Договоров"] == 3  # 80 % of 4 222,24, down
        assert sorted(row[1] for row in data["sections"][2]["rows"]) == sorted(contract_number(e) for e in enrolments)
        assert data["parties"][0]["name"] == "АНО ДО «Кванториум»"

        pdf = await h.client.get(path, headers=h.headers("municipal_operator", "mo-1", municipality="01"))
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert_pdf_matches_json(pdf.content, r.content)
        save_pages_png(pdf.content, "billing-api-advance-request")
        # the same facts: the same document, byte for byte
        assert (await h.client.get(path, params={"format": "json"}, headers=h.headers("finance", "f-1"))).content == r.content

        # not a party: another provider, another municipality's operator, a parent
        for headers in (h.headers("provider", "prov-2", provider_id=str(P2)),
                        h.headers("municipal_operator", "mo-2", municipality="02")):
            assert (await h.client.get(path, headers=headers)).status_code == 404
        assert (await h.client.get(path, headers=h.headers("parent", "parent-1"))).status_code == 403
        # a final order has no advance request; an unknown order is not found
        assert (await h.client.get(f"/api/billing/payment-orders/{uuid.uuid4()}/advance-request",
                                   headers=provider)).status_code == 404

        # provider 2 has sent no bank details: the answer says what is missing
        async with h.db.transaction() as s:
            other = (await s.execute(text("SELECT order_id FROM payment_orders WHERE number = '2026-000003'"))).scalar()
        r = await h.client.get(f"/api/billing/payment-orders/{other}/advance-request",
                               headers=h.headers("finance", "f-1"))
        assert r.status_code == 409 and r.json()["code"] == "document_facts_missing"
        assert "реквизиты получателя" in r.json()["detail"]
    finally:
        await h.stack.aclose()
