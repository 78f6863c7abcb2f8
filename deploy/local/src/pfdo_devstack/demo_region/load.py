"""Load the synthetic demo region into the registry database, with the matching events.

    python -m pfdo_devstack.demo_region.load --size small [--seed 48] [--stack-dir DIR]

Writes municipalities, providers, programs with modules, children and their certificates in
batches (one transaction: all or nothing), and puts into the outbox what the navigator and
billing need to build their read models: payer details of each municipality, provider
registered (with its payee details), program certified, certificate issued. The running registry's relay publishes them.

Idempotent: when the registry already has municipalities it writes nothing (it still writes
the accounts file). The dev accounts file ``demo-accounts.json`` (in ``--stack-dir`` or
``$PFDO_STACK_DIR``) lists token subjects the demo can mint tokens for:

* ``regional_operator``: subject ``demo-operator-region``;
* ``municipal_operators``: subject ``demo-operator-<code>`` with claim municipality=<code>;
* ``providers``: subject ``demo-provider-<n>`` with claim provider_id=<uuid> (active ones first);
* ``parents``: subject = the parent id (a uuid) with their children's certificate numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_contracts.common import ProviderStatus as CPS
from pfdo_contracts.common import ProviderType as CPT
from pfdo_contracts.common import UsageKind as CUK
from pfdo_contracts.events import registry as ev
from pfdo_plumbing import clock
from pfdo_plumbing.db import Database
from pfdo_plumbing.kafka.topics import TopicNames
from pfdo_plumbing.outbox import OutboxWriter

from pfdo_registry.adapters.pii import PiiCipher
from pfdo_registry.adapters.tables import CERTIFICATES, CHILDREN, MODULES, MUNICIPALITIES, PROGRAMS, PROVIDERS, REGION_SETTINGS
from pfdo_registry.domain.age import certificate_valid_until, expiry_date
from pfdo_registry.domain.identifiers import (
    correspondent_account_for, generate_kpp, generate_org_inn, settlement_key_prefix, with_account_key,
)
from pfdo_registry.domain.program import Program, ProgramStatus
from pfdo_registry.service.providers import payee_details
from pfdo_registry.service.reference import payer_details
from pfdo_registry.service.programs import certified_event, module_row
from pfdo_registry.settings import RegistrySettings
from .generator import DemoRegion, RegionSize, generate_region

BATCH = 2000
ACCOUNTS_FILE = "demo-accounts.json"


def _batches(items: Iterable[Any], size: int = BATCH) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _say(msg: str) -> None:
    print(msg, flush=True)


def provider_owner(index: int) -> str:
    return f"demo-provider-{index}"


_BIK = "044206604"  # ПАО Сбербанк, Липецкое отделение № 8593


def _bank(index: int) -> dict[str, str]:
    """Valid bank details of the ``index``-th provider (the control keys match the БИК)."""
    account = with_account_key(settlement_key_prefix(_BIK), f"40702810{index:012d}")
    return {"bank_name": "Демо-банк", "bik": _BIK, "settlement_account": account,
            "correspondent_account": correspondent_account_for(_BIK)}


def _payer(code: str, name: str) -> dict[str, Any]:
    """Valid payer details of a municipality: its education department (deterministic per code)."""
    rng = random.Random(f"payer-{code}")
    inn = generate_org_inn(rng)
    account = with_account_key(settlement_key_prefix(_BIK), f"40204810{int(code):012d}")
    return {"payer_title": f"Управление образования администрации муниципального образования «{name}»",
            "payer_inn": inn, "payer_kpp": generate_kpp(rng, inn=inn), "payer_bank_name": "Демо-банк", "payer_bik": _BIK, "payer_account": account,
            "payer_correspondent_account": correspondent_account_for(_BIK), "payer_revision": 1}


async def _load(session: AsyncSession, region: DemoRegion, pii: PiiCipher, outbox: OutboxWriter) -> dict[str, int]:
    issued_on = region.on_date
    await session.execute(update(REGION_SETTINGS).where(REGION_SETTINGS.c.id == 1).values(region_code=region.region_code))
    municipalities = [
        {"code": m.code, "name": m.name, "region_code": region.region_code, "last_certificate_seq": 0,
         "payer_changed_on": issued_on, **_payer(m.code, m.name)}
        for m in region.municipalities()
    ]
    await session.execute(insert(MUNICIPALITIES), municipalities)
    await outbox.put_many(session, [
        ev.PayerDetailsChanged(municipality_code=m["code"], details=payer_details(m), changed_on=issued_on)
        for m in municipalities
    ])
    n_prov = 0
    for chunk in _batches(enumerate(region.providers())):
        rows, events = [], []
        for i, p in chunk:
            rows.append({
                "id": uuid.UUID(p.provider_id), "owner_sub": provider_owner(i), "provider_type": p.provider_type.value,
                "name": p.name, "inn": p.inn, "ogrn": p.ogrn, "kpp": p.kpp, "municipality_code": p.municipality_code,
                "address": p.address, **_bank(i), "details_revision": 1,
                "status": p.status.value, "registered_on": issued_on,
            })
            events.append(ev.ProviderRegistered(
                provider_id=uuid.UUID(p.provider_id), provider_type=CPT(p.provider_type.value),
                municipality_code=p.municipality_code, status=CPS(p.status.value), registered_on=issued_on,
                details=payee_details(rows[-1])))
        await session.execute(insert(PROVIDERS), rows)
        await outbox.put_many(session, events)
        n_prov += len(rows)
        _say(f"providers: {n_prov}/{region.size.providers}")
    n_prog = n_cert = 0
    for chunk in _batches(region.programs(), 500):
        programs, modules, events = [], [], []
        for p in chunk:
            pid = uuid.UUID(p.program_id)
            certified = p.status in (ProgramStatus.CERTIFIED, ProgramStatus.ARCHIVED)
            programs.append({
                "id": pid, "provider_id": uuid.UUID(p.provider_id), "name": p.name, "description": p.description,
                "direction": p.direction.value, "status": p.status.value, "certified_before": certified, "revision": 1,
            })
            modules.extend(module_row(pid, k, m) for k, m in enumerate(p.modules))
            if p.status is ProgramStatus.CERTIFIED:
                domain = Program(program_id=p.program_id, provider_id=p.provider_id, name=p.name,
                                 description=p.description, direction=p.direction, modules=p.modules,
                                 status=p.status, certified_before=True)
                events.append(certified_event(domain, 1, issued_on))
                n_cert += 1
        await session.execute(insert(PROGRAMS), programs)
        await session.execute(insert(MODULES), modules)
        await outbox.put_many(session, events)
        n_prog += len(programs)
        _say(f"programs: {n_prog}/{region.size.programs} ({n_cert} certified)")
    n_child = 0
    sequences: dict[str, int] = {}
    for chunk in _batches(region.children()):
        children, certs, events = [], [], []
        for c in chunk:
            child_id, cert_id = uuid.UUID(c.child_id), uuid.uuid5(uuid.UUID(c.child_id), "certificate")
            seq = int(c.certificate_number[4:])
            sequences[c.municipality_code] = max(seq, sequences.get(c.municipality_code, 0))
            children.append({
                "id": child_id, "parent_id": c.parent_id, "surname": c.last_name, "first_name": c.first_name,
                "patronymic": c.patronymic, "birth_date": c.birth_date, "municipality_code": c.municipality_code,
                "snils_encrypted": pii.encrypt(c.snils), "snils_hash": pii.lookup_hash(c.snils),
            })
            valid_until = certificate_valid_until(c.birth_date)
            certs.append({
                "id": cert_id, "number": c.certificate_number, "child_id": child_id,
                "municipality_code": c.municipality_code, "sequence": seq, "status": "active",
                "usage_kind": "accounting", "issued_on": issued_on, "valid_until": valid_until,
                "expires_on": expiry_date(c.birth_date), "snils_hash": children[-1]["snils_hash"],
            })
            events.append(ev.CertificateIssued(
                certificate_id=cert_id, number=c.certificate_number, region_code=region.region_code,
                municipality_code=c.municipality_code, birth_date=c.birth_date, issued_on=issued_on,
                valid_until=valid_until, usage_kind=CUK.ACCOUNTING, parent_id=c.parent_id))
        await session.execute(insert(CHILDREN), children)
        await session.execute(insert(CERTIFICATES), certs)
        await outbox.put_many(session, events)
        n_child += len(children)
        _say(f"children and certificates: {n_child}/{region.size.children}")
    for code, seq in sequences.items():
        await session.execute(update(MUNICIPALITIES).where(MUNICIPALITIES.c.code == code).values(last_certificate_seq=seq))
    return {"providers": n_prov, "programs": n_prog, "certified_programs": n_cert, "certificates": n_child}


def accounts(region: DemoRegion, *, parents: int = 10, providers: int = 10) -> dict[str, Any]:
    """The dev accounts of a demo region (derived from the generator, no database needed)."""
    active = [(i, p) for i, p in enumerate(islice(region.providers(), 500)) if p.status.value == "active"]
    by_parent: dict[str, list[str]] = {}
    for c in islice(region.children(), parents * 4):
        if len(by_parent) >= parents and c.parent_id not in by_parent:
            break
        by_parent.setdefault(c.parent_id, []).append(c.certificate_number)
    return {
        "region_code": region.region_code,
        "regional_operator": {"role": "regional_operator", "sub": "demo-operator-region"},
        "municipal_operators": [
            {"role": "municipal_operator", "sub": f"demo-operator-{m.code}", "municipality": m.code, "name": m.name}
            for m in region.municipalities()
        ],
        "providers": [
            {"role": "provider", "sub": provider_owner(i), "provider_id": p.provider_id, "name": p.name,
             "municipality": p.municipality_code}
            for i, p in active[:providers]
        ],
        "parents": [{"role": "parent", "sub": sub, "certificates": numbers} for sub, numbers in by_parent.items()],
    }


def school_year_start(today: date) -> date:
    """1 September of the school year under way: the demo's programs run in the current year."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


async def load(database_url: str, *, size: "str | RegionSize", seed: int = 48, stack_dir: str | None = None,
               settings: RegistrySettings | None = None) -> dict[str, Any]:
    settings = settings or RegistrySettings(database_url=database_url)
    region = generate_region(seed, size, on_date=school_year_start(clock.today(settings.timezone)))  # type: ignore[arg-type]
    db = Database(database_url, pool_size=1, max_overflow=0)
    result: dict[str, Any]
    try:
        async with db.transaction() as session:
            present = (await session.execute(select(func.count()).select_from(MUNICIPALITIES))).scalar_one()
            if present:
                _say(f"registry already holds {present} municipalities: demo load skipped")
                result = {"skipped": True}
            else:
                outbox = OutboxWriter(settings.source, TopicNames(settings.kafka_namespace))
                result = await _load(session, region, PiiCipher(settings.pii_key, settings.pii_hash_key), outbox)
    finally:
        await db.dispose()
    info = accounts(region)
    folder = stack_dir or os.environ.get("PFDO_STACK_DIR")
    if folder:
        path = Path(folder) / ACCOUNTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(info, ensure_ascii=False, indent=2))
        _say(f"dev accounts written to {path}")
    _say(json.dumps({"loaded": result, "accounts": info}, ensure_ascii=False, indent=2))
    return {"loaded": result, "accounts": info}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load the demo region into the registry database.")
    parser.add_argument("--size", choices=("small", "medium", "large"), default="small")
    parser.add_argument("--seed", type=int, default=48)
    parser.add_argument("--stack-dir", default=None, help="Folder for demo-accounts.json (default $PFDO_STACK_DIR).")
    parser.add_argument("--database-url", default=None, help="Default: PFDO_DATABASE_URL / registry settings.")
    args = parser.parse_args(argv)
    settings = RegistrySettings()
    url = args.database_url or settings.database_url
    asyncio.run(load(url, size=args.size, seed=args.seed, stack_dir=args.stack_dir, settings=settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())

