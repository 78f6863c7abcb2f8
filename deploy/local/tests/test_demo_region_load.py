"""The demo loader on a tiny region: rows and outbox events written once, a second run does nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from pfdo_plumbing.db import Database
from pfdo_devstack.demo_region.generator import RegionSize
from pfdo_devstack.demo_region.load import load

pytestmark = pytest.mark.integration

TINY = RegionSize(municipalities=2, providers=4, programs=6, children=12)


async def test_demo_load_is_complete_and_idempotent(databases, tmp_path) -> None:  # noqa: ANN001
    url = await databases.fresh("registry")
    first = await load(url, size=TINY, seed=7, stack_dir=str(tmp_path))
    assert first["loaded"]["certificates"] == 12 and first["loaded"]["providers"] == 4
    db = Database(url)
    try:
        async with db.transaction() as s:
            counts = {t: (await s.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one()  # noqa: S608
                      for t in ("municipalities", "providers", "programs", "children", "certificates")}
            types = dict((await s.execute(text("SELECT event_type, count(*) FROM outbox GROUP BY 1"))).all())
            seqs = dict((await s.execute(text("SELECT code, last_certificate_seq FROM municipalities"))).all())
            per_muni = dict((await s.execute(
                text("SELECT municipality_code, max(sequence) FROM certificates GROUP BY 1"))).all())
        assert counts == {"municipalities": 2, "providers": 4, "programs": 6, "children": 12, "certificates": 12}
        assert types["pfdo.registry.certificate.issued.v1"] == 12
        assert types["pfdo.registry.provider.registered.v1"] == 4
        assert types.get("pfdo.registry.program.certified.v1", 0) == first["loaded"]["certified_programs"]
        assert seqs == per_muni  # the next issued number continues the sequence

        second = await load(url, size=TINY, seed=7, stack_dir=str(tmp_path))
        assert second["loaded"] == {"skipped": True}
        async with db.transaction() as s:
            assert (await s.execute(text("SELECT count(*) FROM certificates"))).scalar_one() == 12
            assert (await s.execute(text("SELECT count(*) FROM outbox"))).scalar_one() == sum(types.values())
    finally:
        await db.dispose()
    accounts = json.loads((tmp_path / "demo-accounts.json").read_text())
    assert accounts["regional_operator"]["sub"] == "demo-operator-region"
    assert {m["municipality"] for m in accounts["municipal_operators"]} == {"01", "02"}
    assert accounts["parents"] and all(p["certificates"] for p in accounts["parents"])
