"""Waiting until the consumers have read what a service published.

``up`` loads the demo region into the registry; the navigator and billing learn of it through
Kafka. Without waiting, ``make up`` returned while they were still reading it, and a parent's
first search found nothing. Caught up means: the producer's outbox is empty (everything it
committed is on Kafka), and each consumer group's committed offsets have reached the end of
every partition of the producer's topics it reads (by the contracts' list of consumers).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .proc import StackError

if TYPE_CHECKING:
    from aiokafka import TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

#: how long a consumer group's offsets are asked for again while Kafka answers with a retriable error
COORDINATOR_WAIT_S = 30.0


def outbox_pending(ready_url: str) -> int | None:
    """The producer's outbox rows not yet on Kafka, from its readiness answer (None: no answer)."""
    try:
        with urllib.request.urlopen(ready_url, timeout=5) as resp:
            return int(json.load(resp)["checks"]["outbox_pending"])
    except urllib.error.HTTPError as exc:  # 503 while not ready: the body still has the checks
        try:
            return int(json.load(exc)["checks"]["outbox_pending"])
        except (KeyError, ValueError, TypeError):
            return None
    except (urllib.error.URLError, OSError, KeyError, ValueError, TypeError):
        return None


async def events_behind(bootstrap: str, namespace: str, producer: str, consumers: Iterable[str]) -> dict[str, int]:
    """Per consumer: the events of ``producer``'s topics it reads and its group has not committed."""
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    from pfdo_contracts.topics import ALL_TOPICS
    from pfdo_plumbing.kafka.topics import TopicNames

    names = TopicNames(namespace)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await reader.start()
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        produced = [names.name(t) for t in ALL_TOPICS if t.producer == producer and names.name(t) in existing]
        partitions_of = {
            described["topic"]: sorted(p.get("partition", p.get("partition_index")) for p in described["partitions"])
            for described in (await admin.describe_topics(produced) if produced else [])
        }
        behind = {}
        for service in consumers:
            partitions = [
                TopicPartition(names.name(topic), p)
                for topic in ALL_TOPICS if topic.producer == producer and service in topic.consumers
                for p in partitions_of.get(names.name(topic), ())
            ]
            if not partitions:
                behind[service] = 0
                continue
            ends = await reader.end_offsets(partitions)
            behind[service] = uncommitted(ends, await committed_offsets(admin, names.group(service), partitions))
        return behind
    finally:
        await admin.close()
        await reader.stop()


async def committed_offsets(admin: AIOKafkaAdminClient, group: str,
                            partitions: list[TopicPartition] | None = None) -> dict[TopicPartition, int]:
    """The group's committed offsets (a partition it never committed is left out). A group's
    coordinator may not be known yet (a broker just started, or is loading its offsets): Kafka calls
    that retriable, and so do we, for up to ``COORDINATOR_WAIT_S``."""
    from aiokafka.errors import KafkaError
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

    async for attempt in AsyncRetrying(
        stop=stop_after_delay(COORDINATOR_WAIT_S), wait=wait_exponential(multiplier=0.1, max=2),
        retry=retry_if_exception(lambda exc: isinstance(exc, KafkaError) and exc.retriable), reraise=True,
    ):
        with attempt:
            answer = await admin.list_consumer_group_offsets(group, partitions=partitions)
    return {tp: meta.offset for tp, meta in answer.items() if meta.offset >= 0}


def uncommitted(ends: Mapping[TopicPartition, int], committed: Mapping[TopicPartition, int]) -> int:
    """Records up to ``ends`` that the committed offsets have not reached (no commit: from 0)."""
    return sum(max(0, end - committed.get(tp, 0)) for tp, end in ends.items())


def wait_caught_up(*, bootstrap: str, namespace: str, producer: str, ready_url: str, consumers: Iterable[str],
                   say: Callable[[str], None], timeout_s: float = 600.0, every_s: float = 2.0) -> float:
    """Block until the consumers have read everything ``producer`` committed; says how far
    behind they are every few seconds. Returns the seconds waited."""
    consumers = list(consumers)
    started = time.monotonic()
    said_at: float | None = None
    while True:
        pending = outbox_pending(ready_url)
        behind = asyncio.run(events_behind(bootstrap, namespace, producer, consumers)) if pending == 0 else {}
        waited = time.monotonic() - started
        if pending == 0 and not any(behind.values()):
            return waited
        if waited > timeout_s:
            raise StackError(
                f"after {waited:.0f} s the consumers have not read the {producer}'s events "
                f"({_progress(pending, behind)}); see `make logs PART=<service>` for the one behind")
        if said_at is None or waited - said_at >= 10:
            say(f"waiting for {', '.join(consumers)} to read the {producer}'s events: {_progress(pending, behind)}")
            said_at = waited
        time.sleep(every_s)


def _progress(pending: int | None, behind: dict[str, int]) -> str:
    if pending is None:
        return "the producer does not answer its readiness check"
    if pending:
        return f"{pending} still in its outbox"
    return ", ".join(f"{service} {n} behind" for service, n in behind.items() if n) or "done"
