"""Billing keeps the payee and payer details of payment orders from the registry's topics, over the
real broker and database: a provider's details from its registration and later changes, a
municipality's from the payers topic; duplicates change nothing and an older revision arriving
after a newer one is skipped; ``party_details`` reads both."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from billing_testkit import Harness, start_harness

from pfdo_contracts.common import ProviderStatus, ProviderType
from pfdo_contracts.events import registry as g

from pfdo_billing.service.parties import Party, party_details

pytestmark = pytest.mark.integration

D = dt.date


def details(revision: int, *, account: str = "40702810938000000001", title: str = "ООО «Кванториум»",
            kpp: str | None = "482601001") -> g.PartyDetails:
    return g.PartyDetails(title=title, inn="4826012342" if kpp else "482601234267", kpp=kpp,
                          bank_title="ПАО Сбербанк", bik="044525225", account=account,
                          correspondent_account="30101810400000000225", revision=revision)


def registered(provider_id: uuid.UUID, d: g.PartyDetails | None) -> g.ProviderRegistered:
    return g.ProviderRegistered(provider_id=provider_id, provider_type=ProviderType.PRIVATE_ORG, municipality_code="01",
                                status=ProviderStatus.NEW, registered_on=D(2026, 8, 20), details=d)


async def _parties(h: Harness, provider_id: uuid.UUID | None, payer_code: str | None):  # noqa: ANN202
    async with h.db.transaction() as session:
        return await party_details(session, provider_id=provider_id, payer_code=payer_code)


async def test_payee_and_payer_details_newest_revision_wins(infra, databases, auth) -> None:  # noqa: ANN001
    h = await start_harness(infra, databases, auth)
    try:
        provider, old_provider, entrepreneur = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        # registration with details, then a change; the change is delivered twice
        await h.publish(registered(provider, details(1)))
        change = g.ProviderDetailsChanged(provider_id=provider, details=details(2, account="40702810200000000187"),
                                          changed_on=D(2026, 9, 3))
        await h.publish(change)
        await h.publish(change)
        # an event of the time before details existed is harmless; an entrepreneur has no КПП
        await h.publish(registered(old_provider, None))
        await h.publish(registered(entrepreneur, details(1, title="ИП Иванов И. И.", kpp=None,
                                                         account="40802810400000000001")))
        # the payer: revision 2 arrives before revision 1 (reordered); 1 must not overwrite 2
        await h.publish(g.PayerDetailsChanged(municipality_code="02", changed_on=D(2026, 8, 25),
                                              details=details(2, title="Управление образования г. Ельца",
                                                              account="40204810500000000002")))
        await h.publish(g.PayerDetailsChanged(municipality_code="02", changed_on=D(2026, 8, 24),
                                              details=details(1, title="Управление образования (старое)")))
        await h.wait_for("SELECT count(*) FROM inbox", lambda v: v >= 7)
        await h.wait_for("SELECT count(*) FROM payees WHERE revision = 2")
        await h.wait_for("SELECT count(*) FROM payees", lambda v: v == 2)

        parties = await _parties(h, provider, "02")
        assert parties.payee == Party(name="ООО «Кванториум»", inn="4826012342", kpp="482601001",
                                      bank_name="ПАО Сбербанк", bik="044525225", account="40702810200000000187",
                                      correspondent_account="30101810400000000225", revision=2,
                                      changed_on=D(2026, 9, 3))
        assert parties.payer is not None
        assert (parties.payer.name, parties.payer.revision) == ("Управление образования г. Ельца", 2)
        assert parties.payer.account == "40204810500000000002" and parties.payer.changed_on == D(2026, 8, 25)

        ip = (await _parties(h, entrepreneur, None)).payee
        assert ip is not None and ip.kpp is None and ip.inn == "482601234267"
        # unknown sides are None, asked or not
        assert await _parties(h, old_provider, "77") == type(parties)(payee=None, payer=None)
        assert (await _parties(h, None, "02")).payee is None

        # a late registration (revision 1) after the change does not undo it
        await h.publish(registered(provider, details(1)))
        await h.wait_for("SELECT count(*) FROM inbox", lambda v: v >= 8)
        assert (await _parties(h, provider, None)).payee.revision == 2  # type: ignore[union-attr]
        assert await h.scalar("SELECT count(*) FROM audit_log WHERE action = 'billing.payee.changed'") == 3
        assert await h.scalar("SELECT count(*) FROM audit_log WHERE action = 'billing.payer.changed'") == 1
    finally:
        await h.stack.aclose()
