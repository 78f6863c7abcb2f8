"""Tools of the fault-injection suite: a PostgreSQL cluster (and, in the full run, a 3-broker
Kafka cluster) of the suite's own, so that crashing them disturbs no other test; one more
instance of a service in the same consumer group; resident memory of a service; consumer lag;
and the audit that proves, after every fault, that nothing was lost, nothing was paid twice and
every invariant holds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from pfdo_contracts.envelope import Envelope
from pfdo_contracts.topics import ALL_TOPICS, SERVICES
from pfdo_devstack.catch_up import committed_offsets, uncommitted
from pfdo_devstack.config import StackConfig
from pfdo_devstack.platform import PlatformUnderTest
from pfdo_devstack.postgres import PostgresCluster
from pfdo_devstack.proc import group_pids
from pfdo_devstack.services import ServiceProcess
from pfdo_plumbing.kafka.topics import TopicNames

FULL = os.environ.get("PFDO_CHAOS", "").lower() == "full"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


# ------------------------------------------------------------------------------ infrastructure
class PrivatePostgres:
    """A PostgreSQL cluster of the fault suite alone (initdb into a temporary folder)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="pfdo-faults-pg-"))
        self.folder.chmod(0o755)  # the cluster runs as an unprivileged user when we are root
        self.config = StackConfig.for_tests().replace(name="faults", stack_dir=self.folder, pg_port=free_port())
        self.cluster = PostgresCluster(self.config, databases=())
        self.restarts = 0

    def start(self) -> None:
        self.cluster.start()

    def url(self, database: str) -> str:
        return self.config.pg_dsn(database)

    def create(self, database: str) -> str:
        self.cluster.create_database(database)
        return self.url(database)

    def crash_restart(self) -> float:
        """Stop like a crash (``pg_ctl -m immediate``: no checkpoint, clients cut off), then start
        again (crash recovery replays the WAL). Returns the seconds it was down."""
        began = time.monotonic()
        self.cluster._tool(  # noqa: SLF001 - the immediate mode is the crash; stop() is a clean shutdown
            "pg_ctl", "-D", str(self.cluster.data_dir), "-m", "immediate", "-w", "-t", "30", "stop", timeout=40
        )
        self.cluster.start()
        self.restarts += 1
        return time.monotonic() - began

    def stop(self) -> None:
        try:
            self.cluster.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


class PrivateKafkaCluster:
    """Three KRaft brokers of the suite alone (full run): one of them can be killed."""

    def __init__(self) -> None:
        from pfdo_devstack.kafka_cluster import KafkaCluster

        self.folder = Path(tempfile.mkdtemp(prefix="pfdo-faults-kafka-"))
        base = _free_port_run(6)
        config = StackConfig.for_tests().replace(name="faults-kafka", stack_dir=self.folder, kafka_port=base,
                                                 kafka_brokers=3)
        self.cluster = KafkaCluster(config, 3)

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap

    def start(self) -> None:
        self.cluster.start()

    def stop(self) -> None:
        try:
            self.cluster.stop(kill=True)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _free_port_run(n: int) -> int:
    for _ in range(100):
        base = free_port()
        try:
            socks = []
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            for s in socks:
                s.close()
            return base
        except OSError:
            for s in socks:
                s.close()
    raise RuntimeError(f"no run of {n} free ports")


def start_extra_instance(platform: PlatformUnderTest, name: str, index: int = 2) -> ServiceProcess:
    """One more process of ``name`` with the same environment (same database, same consumer
    group) on another port: the group rebalances over both."""
    base = platform.processes[name]
    config = platform.config.replace(stack_dir=platform.config.stack_dir / f"{name}-{index}")
    process = ServiceProcess(name, config, extra_env=dict(base.extra_env), port=free_port(), run_migrations=False)
    process.start(timeout=90)
    return process


def rss_mb(pid: int | None) -> float:
    """Resident memory of a process group (MB), from /proc/<pid>/status VmRSS."""
    if not pid:
        return 0.0
    total = 0
    for p in group_pids(pid) or [pid]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


# ------------------------------------------------------------------------------ Kafka reading
def namespaced_topics(namespace: str) -> dict[str, str]:
    names = TopicNames(namespace)
    return {names.name(t): t.name for t in ALL_TOPICS}


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = []
        for topic in topics:
            for p in consumer.partitions_for_topic(topic) or await _partitions(consumer, topic):
                parts.append(TopicPartition(topic, p))
        return dict(await consumer.end_offsets(parts)) if parts else {}
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # noqa: SLF001
    return consumer.partitions_for_topic(topic) or set()


async def read_all(bootstrap: str, topics: Iterable[str], *, timeout: float = 60.0) -> dict[str, list[Any]]:
    """Every record now on ``topics`` (from offset 0 to the end offsets of this moment)."""
    ends = {tp: off for tp, off in (await end_offsets(bootstrap, topics)).items() if off > 0}
    out: dict[str, list[Any]] = defaultdict(list)
    if not ends:
        return out
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        remaining = dict(ends)
        deadline = time.monotonic() + timeout
        while remaining and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for r in records:
                    if r.offset < ends[tp]:
                        out[tp.topic].append(r)
                if records and records[-1].offset >= ends[tp] - 1:
                    remaining.pop(tp, None)
        if remaining:
            raise AssertionError(f"could not read the topics to their end in {timeout}s: {remaining}")
    finally:
        await consumer.stop()
    return out


async def group_lag(bootstrap: str, group: str, topics: Iterable[str]) -> int:
    """Messages the group has not committed yet, over ``topics`` (a missing commit counts as 0)."""
    ends = await end_offsets(bootstrap, list(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return uncommitted(ends, await committed_offsets(admin, group))
    finally:
        await admin.close()


def parse(value: bytes | None) -> Envelope | None:
    try:
        return Envelope.model_validate_json(value or b"")
    except ValidationError:
        return None


# ------------------------------------------------------------------------------ what each service consumes
_SUBSCRIPTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def subscriptions(service: str) -> tuple[frozenset[str], frozenset[str]]:
    """(base topics, versioned event types) a service's consumer handles, read from its composition
    root (built, never started: no connection is made)."""
    if service not in _SUBSCRIPTIONS:
        import importlib

        from pfdo_plumbing.settings import ServiceSettings

        main = importlib.import_module(f"pfdo_{service}.main")
        settings = ServiceSettings(service_name=service, database_url="postgresql+asyncpg://x@127.0.0.1:1/x",
                                   log_json=True)
        app = main.build_app(settings)
        consumer = app.state.runtime.consumer
        _SUBSCRIPTIONS[service] = (frozenset(consumer.topics),
                                   frozenset(consumer.handlers) | frozenset(consumer.batch_handlers))
    return _SUBSCRIPTIONS[service]


# ------------------------------------------------------------------------------ the audit
@dataclass
class Injected:
    """What the suite put on the topics itself (so the audit can tell it from the services' own)."""

    poison: list[tuple[str, int, int]] = field(default_factory=list)
    """(topic, partition, offset) of malformed records: each must reach every consumer's DLQ."""
    poison_ids: set[uuid.UUID] = field(default_factory=set)
    duplicates: int = 0
    reordered: int = 0
    synthetic: set[uuid.UUID] = field(default_factory=set)
    """Ids of valid events the suite wrote (not duplicates): they must be processed like any other."""
    synthetic_enrolments: set[uuid.UUID] = field(default_factory=set)
    """Enrolments that exist only in events the suite wrote (the navigator does not know them)."""


@dataclass
class Audit:
    phase: str
    faults: int
    processed: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    dead_lettered: int = 0
    lag_s: float = 0.0

    def row(self) -> tuple[Any, ...]:
        return (self.phase, self.faults, self.processed, len(self.lost), len(self.duplicated), len(self.violations),
                self.dead_lettered, f"{self.lag_s:.1f}")

    def problems(self) -> str:
        parts = []
        for name in ("lost", "duplicated", "violations"):
            items = getattr(self, name)
            if items:
                parts.append(f"{name} ({len(items)}): " + "; ".join(items[:15]))
        return "\n".join(parts)


HEADER = ("phase", "faults injected", "events processed", "lost", "duplicated", "invariant violations",
          "dead-lettered (malformed)", "drain s")


def table(rows: list[Audit]) -> str:
    cells = [HEADER] + [tuple(str(c) for c in a.row()) for a in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(HEADER))]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [line]
    for n, r in enumerate(cells):
        out.append(" | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
        if n == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


# money effects that must happen at most once per business key (distinct event ids)
_ONCE: dict[str, tuple[str, ...]] = {
    "pfdo.billing.reservation.created.v1": ("enrolment_id",),
    "pfdo.billing.reservation.rejected.v1": ("enrolment_id",),
    "pfdo.billing.certificate.credited.v1": ("certificate_id", "period_id"),
    "pfdo.billing.charge.posted.v1": ("enrolment_id", "month"),
    "pfdo.billing.copayment.invoiced.v1": ("enrolment_id", "month"),
    "pfdo.billing.payment_order.issued.v1": ("provider_id", "month", "kind"),
    "pfdo.billing.period.opened.v1": ("period_id",),
    "pfdo.navigator.enrolment.requested.v1": ("enrolment_id",),
    "pfdo.navigator.enrolment.confirmed.v1": ("enrolment_id",),
    "pfdo.navigator.enrolment.cancelled.v1": ("enrolment_id",),
    "pfdo.registry.certificate.issued.v1": ("certificate_id",),
}


_CREDITED = "pfdo.billing.certificate.credited.v1"
_FUNDING_RETURNED = "pfdo.billing.certificate.funding_returned.v1"


class Auditor:
    def __init__(self, platform: PlatformUnderTest, bootstrap: str, auth: Any, injected: Injected) -> None:
        self.platform = platform
        self.bootstrap = bootstrap
        self.auth = auth
        self.injected = injected
        self.names = TopicNames(platform.namespace)
        self.services = [s for s in SERVICES if s in platform.processes]

    async def sql(self, service: str, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(plain(self.platform.databases[service]), timeout=10)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def outbox_pending(self) -> dict[str, int]:
        return {s: (await self.sql(s, "SELECT count(*) AS n FROM outbox"))[0]["n"] for s in self.services}

    async def lags(self) -> dict[str, int]:
        out = {}
        for s in self.services:
            topics, _ = subscriptions(s)
            if topics:
                out[s] = await group_lag(self.bootstrap, self.names.group(s), [self.names.name(t) for t in topics])
        return out

    async def drain(self, timeout: float = 120.0) -> float:
        """Wait until every outbox is empty and every consumer group has committed up to the
        log end, twice in a row; returns the seconds it took."""
        began = time.monotonic()
        quiet = 0
        last: tuple[dict[str, int], dict[str, int]] = ({}, {})
        while time.monotonic() - began < timeout:
            try:
                last = (await self.outbox_pending(), await self.lags())
            except (OSError, asyncpg.PostgresError) as exc:  # a service or the database is still coming back
                last = ({"error": 1}, {str(exc)[:80]: 1})
            if not any(last[0].values()) and not any(last[1].values()):
                quiet += 1
                if quiet >= 2:
                    return time.monotonic() - began
            else:
                quiet = 0
            await asyncio.sleep(0.5)
        raise AssertionError(f"not drained after {timeout:.0f}s: outbox {last[0]}, consumer lag {last[1]}")

    async def audit(self, phase: str, faults: int) -> Audit:
        result = Audit(phase, faults)
        result.lag_s = await self.drain()
        topic_names = [self.names.name(t) for t in ALL_TOPICS]
        dlq_names = [self.names.dead_letter(s) for s in self.services]
        records = await read_all(self.bootstrap, topic_names + dlq_names)
        await self._lost(result, records)
        await self._duplicates(result, records)
        await self._invariants(result)
        return result

    # -- zero lost events --------------------------------------------------------------------
    async def _lost(self, result: Audit, records: dict[str, list[Any]]) -> None:
        poison_at = set(self.injected.poison)
        for service in self.services:
            topics, types = subscriptions(service)
            if not topics:
                continue
            inbox = {r["event_id"] for r in await self.sql(service, "SELECT event_id FROM inbox")}
            result.processed += len(inbox)
            expected: dict[uuid.UUID, str] = {}
            poison_expected: set[tuple[str, int, int]] = set()
            for base in topics:
                name = self.names.name(base)
                for r in records.get(name, []):
                    env = parse(r.value)
                    where = (r.topic, r.partition, r.offset)
                    if where in poison_at:
                        if env is None or env.type in types:
                            poison_expected.add(where)
                        continue
                    if env is None:
                        result.violations.append(f"{service}: a malformed record the suite did not write at {where}")
                        continue
                    if env.type in types:
                        expected[env.id] = env.type
            dead: dict[tuple[str, int, int], Any] = {}
            for r in records.get(self.names.dead_letter(service), []):
                h = {k: v.decode() for k, v in (r.headers or [])}
                dead[(h.get("x-dlq-original-topic", ""), int(h.get("x-dlq-original-partition", -1)),
                      int(h.get("x-dlq-original-offset", -1)))] = r
            dead_valid = set()
            for where, r in dead.items():
                if where in poison_at:
                    continue
                env = parse(r.value)
                dead_valid.add(env.id if env else where)
                result.violations.append(
                    f"{service}: valid event dead-lettered at {where}: "
                    f"{dict((k, v.decode()[:200]) for k, v in (r.headers or []) if k.startswith('x-dlq-error'))}"
                )
            for event_id, kind in expected.items():
                if event_id not in inbox:
                    result.lost.append(f"{service} never processed {kind} {event_id}"
                                       + (" (dead-lettered)" if event_id in dead_valid else ""))
            for where in poison_expected:
                if where in dead:
                    result.dead_lettered += 1
                else:
                    result.lost.append(f"{service}: malformed record at {where} is neither processed nor dead-lettered")
            swallowed = inbox & self.injected.poison_ids
            for event_id in swallowed:
                result.violations.append(f"{service}: accepted a malformed event {event_id} into its inbox")

    # -- zero duplicated money effects ----------------------------------------------------------
    async def _duplicates(self, result: Audit, records: dict[str, list[Any]]) -> None:
        seen: dict[tuple[Any, ...], set[uuid.UUID]] = defaultdict(set)
        returns: dict[tuple[str, str], set[uuid.UUID]] = defaultdict(set)
        for name in (self.names.name(t) for t in ALL_TOPICS):
            for r in records.get(name, []):
                env = parse(r.value)
                if env is None:
                    continue
                if env.type == _FUNDING_RETURNED:
                    returns[(str(env.data.get("certificate_id")), str(env.data.get("period_id")))].add(env.id)
                if env.type not in _ONCE:
                    continue
                key = (env.type, *(str(env.data.get(f)) for f in _ONCE[env.type]))
                seen[key].add(env.id)
        for key, ids in seen.items():
            # a certificate that gave its funding slot back is credited again when funded again
            allowed = 1 + (len(returns[(key[1], key[2])]) if key[0] == _CREDITED else 0)
            if len(ids) > allowed:
                result.duplicated.append(f"{key[0]} {key[1:]} published {len(ids)} times with distinct ids"
                                         + (f" ({allowed - 1} funding returns)" if allowed > 1 else ""))
        if "billing" not in self.services:
            return
        rows = await self.sql("billing", """
            SELECT kind, certificate_id, enrolment_id, month, period_id, count(*) AS n, sum(amount) AS total
            FROM transfers t WHERE kind IN ('credit_nominal', 'reserve', 'post', 'invoice_family')
            GROUP BY kind, certificate_id, enrolment_id, month, period_id
            HAVING count(*) > 1 + CASE WHEN kind <> 'credit_nominal' THEN 0 ELSE (
                SELECT count(*) FROM transfers r WHERE r.kind = 'return_unused' AND r.transfer_id LIKE 'unfund:%'
                AND r.certificate_id = t.certificate_id AND r.period_id = t.period_id) END""")
        for r in rows:
            result.duplicated.append(f"ledger: {r['n']} '{r['kind']}' transfers for certificate {r['certificate_id']} "
                                     f"enrolment {r['enrolment_id']} month {r['month']}")

    # -- invariants -------------------------------------------------------------------------------
    async def _invariants(self, result: Audit) -> None:
        v = result.violations
        if "billing" in self.services:
            v += await self._ledger()
        if "navigator" in self.services:
            v += await self._sagas()

    async def _ledger(self) -> list[str]:
        out: list[str] = []
        sql = self.sql
        total = (await sql("billing", """
            SELECT (SELECT coalesce(sum(balance), 0) FROM accounts)
                 + (SELECT coalesce(sum(available + reserved + spent), 0) FROM certificate_balances) AS t"""))[0]["t"]
        if total != 0:
            out.append(f"ledger: total of all balances is {total}, not 0")
        for r in await sql("billing", """
            WITH legs AS (
                SELECT debit_kind AS kind, debit_owner AS owner, period_id, -amount AS delta FROM transfers
                UNION ALL SELECT credit_kind, credit_owner, period_id, amount FROM transfers),
            replay AS (SELECT kind, owner, period_id, sum(delta) AS v FROM legs GROUP BY 1, 2, 3),
            stored AS (
                SELECT kind, owner, period_id, balance AS v FROM accounts
                UNION ALL SELECT 'certificate_available', certificate_id::text, period_id, available FROM certificate_balances
                UNION ALL SELECT 'certificate_reserved', certificate_id::text, period_id, reserved FROM certificate_balances
                UNION ALL SELECT 'certificate_spent', certificate_id::text, period_id, spent FROM certificate_balances)
            SELECT coalesce(r.kind, s.kind) AS kind, coalesce(r.owner, s.owner) AS owner,
                   coalesce(r.v, 0) AS replayed, coalesce(s.v, 0) AS stored
            FROM replay r FULL JOIN stored s USING (kind, owner, period_id)
            WHERE coalesce(r.v, 0) <> coalesce(s.v, 0)"""):
            out.append(f"ledger: {r['kind']} {r['owner']} stored {r['stored']} but the journal says {r['replayed']}")
        for r in await sql("billing", """
            SELECT b.certificate_id, b.reserved, coalesce(p.pending, 0) AS pending
            FROM certificate_balances b LEFT JOIN (
                SELECT certificate_id, period_id, sum(amount) AS pending FROM transfers
                WHERE kind = 'reserve' AND pending_state = 'pending' GROUP BY 1, 2) p USING (certificate_id, period_id)
            WHERE b.reserved <> coalesce(p.pending, 0)"""):
            out.append(f"ledger: certificate {r['certificate_id']} reserved {r['reserved']} != open pendings {r['pending']}")
        for r in await sql("billing", """
            SELECT c.enrolment_id, c.status, c.certificate_kopecks, coalesce(sum(t.amount), 0) AS reserved
            FROM contracts c LEFT JOIN transfers t ON t.enrolment_id = c.enrolment_id AND t.kind = 'reserve'
            GROUP BY 1, 2, 3 HAVING coalesce(sum(t.amount), 0) > c.certificate_kopecks"""):
            out.append(f"ledger: enrolment {r['enrolment_id']} reserved {r['reserved']} > its certificate part "
                       f"{r['certificate_kopecks']}")
        out += await self._reconciliation()
        return out

    async def _reconciliation(self) -> list[str]:
        headers = self.auth.headers("regional_operator", "faults-ro")
        async with httpx.AsyncClient(base_url=self.platform.gateway_url, timeout=60) as client:
            r = await client.get("/api/billing/reconciliation", headers=headers)
        if r.status_code == 404 and "application/problem+json" not in r.headers.get("content-type", ""):
            return []  # no reconciliation endpoint (yet): the SQL checks above stand alone
        if r.status_code != 200:
            return [f"reconciliation answered {r.status_code}: {r.text[:300]}"]
        body = r.json()
        if body.get("ok") is True:
            return []
        failed = [c for c in body.get("checks", []) if not c.get("ok")]
        return [f"reconciliation: {orjson.dumps(c).decode()[:300]}" for c in failed] or [
            f"reconciliation not ok: {orjson.dumps(body).decode()[:300]}"]

    async def _sagas(self) -> list[str]:
        out: list[str] = []
        stuck = await self.sql("navigator", "SELECT enrolment_id FROM enrolments WHERE state = 'requested'")
        out += [f"saga: enrolment {r['enrolment_id']} still 'requested' after the drain" for r in stuck]
        for r in await self.sql("navigator", """
            SELECT m.module_id, m.held, m.capacity, count(e.enrolment_id) AS holding
            FROM modules m LEFT JOIN enrolments e ON e.module_id = m.module_id
                 AND e.state IN ('requested', 'reserved', 'offered', 'confirmed', 'terminated')
            GROUP BY 1, 2, 3 HAVING m.held <> count(e.enrolment_id) OR m.held > m.capacity"""):
            out.append(f"seats: module {r['module_id']} held {r['held']} but {r['holding']} enrolments hold a seat "
                       f"(capacity {r['capacity']})")
        if "billing" not in self.services:
            return out
        nav = {r["enrolment_id"]: r["state"] for r in await self.sql("navigator", "SELECT enrolment_id, state FROM enrolments")}
        bil = {r["enrolment_id"]: r["status"] for r in await self.sql("billing", "SELECT enrolment_id, status FROM contracts")}
        agree = {
            "reserved": {"reserved"}, "offered": {"reserved"}, "confirmed": {"active"}, "rejected": {"rejected", None},
            "cancelled": {"cancelled", "rejected", None}, "declined": {"declined", "rejected", None},
            "expired": {"expired", "rejected", None}, "terminated": {"terminated", "active"}, "ended": {"ended"},
        }
        states = Counter()
        for enrolment_id, state in nav.items():
            states[state] += 1
            if state in agree and bil.get(enrolment_id) not in agree[state]:
                out.append(f"saga: enrolment {enrolment_id} is {state} in the navigator but "
                           f"{bil.get(enrolment_id)} in billing")
        for enrolment_id, status in bil.items():
            if enrolment_id not in nav and enrolment_id not in self.injected.synthetic_enrolments and status in ("reserved", "active"):
                out.append(f"saga: billing holds money for enrolment {enrolment_id} the navigator does not know")
        return out
