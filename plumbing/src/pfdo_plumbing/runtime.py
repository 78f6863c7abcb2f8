"""The parts every service process has, wired once: database, outbox writer and relay, event
consumer, Kafka broker, token verifier, background jobs. A service's composition root builds a
:class:`ServiceRuntime`, registers its handlers and routers, and calls :func:`create_app`."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

from .auth.jwks import JWKSCache
from .auth.ratelimit import SubjectLimiter
from .auth.tokens import TokenVerifier
from .db import Database
from .kafka.consumer import EventConsumer
from .kafka.errors import is_transient
from .kafka.topics import TopicNames, ensure_topics
from .logging import configure_logging, get_logger
from .metrics import OUTBOX_PENDING, watch_loop_lag
from .outbox import OutboxRelay, OutboxWriter
from .settings import ServiceSettings

log = get_logger(__name__)
Job = Callable[[], Awaitable[None]]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings, *, configure_logs: bool = True) -> None:
        self.settings = settings
        self.service = settings.service_name
        if configure_logs:
            configure_logging(self.service, settings.log_level, settings.log_json)
        self.names = TopicNames(settings.kafka_namespace)
        self.db = Database(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow)
        self.outbox = OutboxWriter(settings.source, self.names)
        self.consumer = EventConsumer(
            service=self.service, db=self.db, names=self.names,
            retries=settings.consumer_retries, max_records=settings.consumer_max_records,
            unit_bytes=settings.consumer_unit_bytes,
        )
        self.broker = KafkaBroker(
            # a list: FastStream hands a plain string to aiokafka as ONE host, "a:1,b:2" included
            [host.strip() for host in settings.kafka_bootstrap.split(",") if host.strip()], client_id=f"pfdo-{self.service}", logger=None, graceful_timeout=10.0,
            # topics come from the contracts only (ensure_topics, or the cluster's topic resources):
            # FastStream would create a missing one at subscription with 1 partition and 1 replica
            allow_auto_create_topics=False,
        )
        self.verifier = TokenVerifier(
            JWKSCache(settings.jwks_url, ttl_s=settings.jwks_cache_ttl_s),
            issuer=settings.jwt_issuer, audience=settings.jwt_audience, leeway_s=settings.jwt_leeway_s,
            max_lifetime_s=settings.jwt_max_lifetime_s,
        )
        self.subject_limiter = (
            SubjectLimiter(settings.rate_per_subject, settings.burst_per_subject) if settings.rate_per_subject > 0 else None
        )
        self.producer: AIOKafkaProducer | None = None
        self.relay: OutboxRelay | None = None
        self.jobs: list[tuple[str, float, Job]] = []
        self._job_tasks: list[asyncio.Task[None]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self._on_start: list[Callable[[], Awaitable[None]]] = []
        self.started = False

    def every(self, name: str, interval_s: float) -> Callable[[Job], Job]:
        """Register a periodic background job (runs in every instance; make it idempotent)."""

        def register(fn: Job) -> Job:
            self.jobs.append((name, interval_s, fn))
            return fn

        return register

    async def start(self, *, consume: bool = True, relay: bool = True) -> None:
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(60), wait=wait_exponential(max=5), retry=retry_if_exception(is_transient), reraise=True
        ):
            with attempt:
                await self.db.ping()
                await ensure_topics(
                    self.settings.kafka_bootstrap, self.names, {self.service}, self.settings.kafka_replication_factor
                )
        self.producer = AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            client_id=f"pfdo-{self.service}-relay",
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
            max_batch_size=256 * 1024,
            compression_type=None,
        )
        await self.producer.start()
        self.consumer.producer = self.producer
        if consume:
            self.consumer.attach(self.broker)
        await self.broker.start()
        if relay:
            self.relay = OutboxRelay(
                self.db, self.producer, service=self.service,
                batch_size=self.settings.relay_batch_size, idle_interval_s=self.settings.relay_idle_interval_s,
                min_gap_s=self.settings.relay_min_gap_s,
            )
            self.relay.start()
        # everything built at start-up lives as long as the process: keep it out of collections,
        # and collect the young generation less often (see ServiceSettings.gc_gen0_threshold)
        gc.collect()
        gc.freeze()
        _, gen1, gen2 = gc.get_threshold()
        gc.set_threshold(self.settings.gc_gen0_threshold, gen1, gen2)
        for name, interval, fn in self.jobs:
            self._job_tasks.append(asyncio.create_task(self._run_job(name, interval, fn), name=name))
        self._job_tasks.append(asyncio.create_task(
            watch_loop_lag(self.service, self.settings.loop_lag_interval_s), name="loop-lag"))
        for begin in self._on_start:
            await begin()
        self.started = True
        log.info("service_started", topics=sorted(self.consumer.topics))

    async def _run_job(self, name: str, interval: float, fn: Job) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await fn()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("background_job_failed", job=name)

    def on_start(self, begin: Callable[[], Awaitable[None]]) -> None:
        """Start something of the composition root's (a long-running task) once the runtime is up."""
        self._on_start.append(begin)

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Close something of the composition root's (an HTTP client) when the service stops."""
        self._on_stop.append(close)

    async def stop(self) -> None:
        for task in self._job_tasks:
            task.cancel()
        await asyncio.gather(*self._job_tasks, return_exceptions=True)
        self._job_tasks.clear()
        for close in self._on_stop:
            try:
                await close()
            except Exception:  # noqa: BLE001  (stopping goes on)
                log.exception("close_on_stop_failed")
        if self.relay is not None:
            await self.relay.stop()
        await self.broker.stop()
        if self.producer is not None:
            await self.producer.stop()
        await self.db.dispose()
        self.started = False

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await asyncio.wait_for(self.db.ping(), timeout=2)
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["database"] = f"down: {type(exc).__name__}"
        try:
            ok = await asyncio.wait_for(self.broker.ping(timeout=2), timeout=3)
            checks["kafka"] = "ok" if ok else "down"
        except Exception as exc:  # noqa: BLE001
            checks["kafka"] = f"down: {type(exc).__name__}"
        if self.relay is not None:
            try:
                pending = await self.relay.pending()
                OUTBOX_PENDING.labels(self.service).set(pending)
                checks["outbox_pending"] = pending
            except Exception:  # noqa: BLE001
                pass
        return checks

    @asynccontextmanager
    async def running(self, **kwargs: Any):  # noqa: ANN201
        await self.start(**kwargs)
        try:
            yield self
        finally:
            await self.stop()
