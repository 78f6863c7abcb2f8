"""One platform for the whole fault suite, on a PostgreSQL cluster of its own (so that crashing it
disturbs no other test) and, in the full run (``PFDO_CHAOS=full``, ``make chaos``), on a 3-broker
Kafka cluster of its own; the short run shares the session's broker in its own namespace."""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pfdo_devstack.platform import PlatformUnderTest

from .harness import FULL, Audit, Auditor, Injected, PrivateKafkaCluster, PrivatePostgres, table
from .load import LoadConfig, LoadGenerator

TABLES: list[str] = []


@dataclass
class Chaos:
    platform: PlatformUnderTest
    pg: PrivatePostgres
    kafka: PrivateKafkaCluster | None
    bootstrap: str
    load: LoadGenerator
    auditor: Auditor
    injected: Injected
    rng: random.Random
    seed: int
    full: bool
    rows: list[Audit] = field(default_factory=list)

    async def audit(self, phase: str, faults: int) -> Audit:
        try:
            result = await self.auditor.audit(phase, faults)
        except AssertionError:  # did not drain: what the services said is the next clue
            print(self.platform.logs(), flush=True)
            raise
        self.rows.append(result)
        print(f"\n[faults] {phase}: {result.row()}\n{result.problems()}", flush=True)
        return result

    def check(self, result: Audit) -> None:
        assert not (result.lost or result.duplicated or result.violations), (
            f"after {result.phase}:\n{result.problems()}\n{table(self.rows)}"
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:  # noqa: ANN401
    for text in TABLES:
        terminalreporter.write_sep("=", "fault injection")
        terminalreporter.write_line(text)


@pytest.fixture(scope="module")
async def chaos(auth: Any, infra: Any) -> AsyncIterator[Chaos]:  # noqa: ANN401
    seed = int(os.environ.get("PFDO_CHAOS_SEED", random.randrange(1 << 30)))
    pg = PrivatePostgres()
    await asyncio.to_thread(pg.start)
    kafka = None
    bootstrap = infra.kafka_bootstrap
    extra_env = {"PFDO_LOG_LEVEL": "INFO"}
    if FULL:
        kafka = PrivateKafkaCluster()
        await asyncio.to_thread(kafka.start)
        bootstrap = kafka.bootstrap
        extra_env["PFDO_KAFKA_REPLICATION_FACTOR"] = "3"
    urls = {name: await asyncio.to_thread(pg.create, f"f_{name}_{uuid.uuid4().hex[:8]}")
            for name in ("registry", "navigator", "billing", "ratings")}
    platform = PlatformUnderTest(
        kafka_bootstrap=bootstrap, database_url=urls.__getitem__, jwks_url=str(auth.jwks_path),
        issuer=auth.issuer, audience=auth.audience, extra_env=extra_env,
        service_env={"billing": {"PFDO_MONTH_CLOSE_REQUIRES_MONTH_END": "false"},
                     "navigator": {"PFDO_JOURNAL_FREEZE_REQUIRES_MONTH_END": "false"}},
        work_dir=pg.folder,  # our own folder: no other session's clean-up can pull it away
    )
    try:
        await asyncio.to_thread(platform.start)
    except BaseException:
        print(platform.logs())
        platform.stop()
        pg.stop()
        if kafka:
            kafka.stop()
        raise
    for process in platform.processes.values():
        process.run_migrations = False  # migrated by the first start; a restart is only the process
    injected = Injected()
    config = LoadConfig(seed=seed, certificates=24 if FULL else 10, concurrency=4 if FULL else 3)
    load = LoadGenerator(platform.gateway_url, auth, config)
    state = Chaos(platform, pg, kafka, bootstrap, load, Auditor(platform, bootstrap, auth, injected), injected,
                  random.Random(seed), seed, FULL)
    print(f"\n[faults] seed {seed} (PFDO_CHAOS_SEED to repeat), {'full' if FULL else 'short'} run", flush=True)
    try:
        yield state
    finally:
        if state.rows:
            TABLES.append(f"seed {seed}, {'full' if FULL else 'short'} run; load: {load.stats.summary()}\n"
                          + table(state.rows))
            print("\n" + TABLES[-1], flush=True)
        await load.aclose()
        for extra in getattr(state, "extras", []):
            extra.stop(timeout=10)
        platform.stop()
        pg.stop()
        if kafka:
            kafka.stop()
