"""Topic names with an optional namespace prefix, and creation of the topics a service uses."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from pfdo_contracts.topics import ALL_TOPICS, Topic, consumer_group


@dataclass(frozen=True)
class TopicNames:
    namespace: str = ""

    def name(self, topic: Topic | str) -> str:
        base = topic.name if isinstance(topic, Topic) else topic
        return f"{self.namespace}{base}"

    def dead_letter(self, service: str) -> str:
        return f"{self.namespace}pfdo.{service}.dlq"

    def group(self, service: str) -> str:
        return f"{self.namespace}{consumer_group(service)}"


async def ensure_topics(bootstrap: str, names: TopicNames, services: set[str], replication_factor: int) -> list[str]:
    """Create (if missing) the topics the given services produce or consume (by the contracts),
    plus their dead-letter topics.

    Consumed topics too: services start in any order, and a consumer that subscribes to a topic
    its producer has not created yet gets no partitions of it until its next metadata refresh
    (aiokafka: five minutes). The definition is the contract's either way, so whichever
    service comes first creates the same topic.

    Replication factor and min.insync.replicas come from the contracts, capped at the number of
    brokers that answer (a one-node development cluster gets 1 and 1).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        metadata = await admin.describe_cluster()
        brokers = max(1, len(metadata.get("brokers", [])))
        rf = max(1, min(replication_factor, brokers))
        wanted: list[NewTopic] = []
        for topic in ALL_TOPICS:
            if topic.producer in services or services.intersection(topic.consumers):
                wanted.append(_new_topic(names.name(topic), topic.partitions, rf, topic, brokers))
        for service in services:
            wanted.append(_new_topic(names.dead_letter(service), 3, rf, None, brokers))
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
        return [t.name for t in missing]
    finally:
        await admin.close()


def _new_topic(name: str, partitions: int, rf: int, topic: Topic | None, brokers: int) -> NewTopic:
    configs = {"min.insync.replicas": str(max(1, min(topic.min_insync_replicas if topic else 2, rf)))}
    if topic is not None:
        configs["retention.ms"] = str(topic.retention_ms)
        configs.update(topic.config)
    return NewTopic(name=name, num_partitions=partitions, replication_factor=rf, topic_configs=configs)
