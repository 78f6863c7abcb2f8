"""Topics, their partition keys, settings and consumer groups: named once, here.

The Kubernetes KafkaTopic resources, the local runner and the services all read this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Topic:
    """A Kafka topic: its name, default partition key field, producer and consumers.

    ``key`` names the payload field whose value is the Kafka key of most events on the topic;
    an event keyed by another field says so (and why) in its registration (``key_note``).
    """

    name: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    description: str
    partitions: int = 6
    replication_factor: int = 3
    min_insync_replicas: int = 2
    retention_ms: int = -1  # event topics are the system of record for replays: keep forever
    finance_facing: bool = False  # read by treasury/accounting: no personal data, ever
    external_readers: tuple[str, ...] = ()  # systems outside the platform that read the topic
    config: dict[str, str] = field(default_factory=dict)

    @property
    def dead_letter(self) -> str:
        return f"{self.name}.dlq"


# Registry
CERTIFICATES = Topic(
    "pfdo.registry.certificates.v1", key="certificate_id", producer="registry",
    consumers=("billing", "navigator"),
    description=(
        "Certificate lifecycle. Carries the child's birth date (age rules, nominal age group) "
        "and the parent's opaque account id; no names, no СНИЛС."
    ),
)
PROVIDERS = Topic(
    "pfdo.registry.providers.v1", key="provider_id", producer="registry",
    consumers=("navigator", "billing"),
    description=(
        "Provider registration, moderation status and the provider's payee details (name, ИНН, КПП, bank, "
        "БИК, accounts) for payment orders. An individual entrepreneur's name and account are personal "
        "data: billing alone reads them, to pay him; nothing else about a person travels here."
    ),
)
PAYERS = Topic(
    "pfdo.registry.payers.v1", key="municipality_code", producer="registry",
    consumers=("billing",),
    description=(
        "Payer details of each municipality (the authorised body that pays for its certificates: name, "
        "ИНН, КПП, bank, БИК, accounts), set by the regional operator. Organisations only: no personal data."
    ),
)
PROGRAMS = Topic(
    "pfdo.registry.programs.v1", key="program_id", producer="registry",
    consumers=("navigator", "billing"),
    description="Program certification: modules with prices, normative costs, schedule, capacity.",
)
# Navigator
ENROLMENTS = Topic(
    "pfdo.navigator.enrolments.v1", key="certificate_id", producer="navigator",
    consumers=("billing", "ratings"),
    description="Enrolment saga: requested, confirmed, declined, cancelled, expired, terminated, ended.",
)
ATTENDANCE = Topic(
    "pfdo.navigator.attendance.v1", key="certificate_id", producer="navigator",
    consumers=("billing",),
    description="Attendance marks (in batches per enrolment) and disputes.",
    partitions=12,
)
# Billing
RESERVATIONS = Topic(
    "pfdo.billing.reservations.v1", key="certificate_id", producer="billing",
    consumers=("navigator",), finance_facing=True, external_readers=("treasury", "accounting"),
    description="Results of enrolment requests: reservation created, rejected or released.",
)
LEDGER = Topic(
    "pfdo.billing.ledger.v1", key="certificate_id", producer="billing",
    consumers=(), finance_facing=True, external_readers=("treasury", "accounting"),
    description=(
        "Money movements: period opened/closed, certificate credited, charge posted, "
        "co-payment invoiced. Period events are keyed by period_id."
    ),
)
PAYMENT_ORDERS = Topic(
    "pfdo.billing.payment-orders.v1", key="provider_id", producer="billing",
    consumers=(), finance_facing=True, external_readers=("treasury", "accounting"),
    description="Payment orders to providers: advance and final settlement per payer and month, and their treasury statuses.",
)
# Treasury (the region's finance system, outside the platform)
TREASURY_STATUSES = Topic(
    "pfdo.treasury.payment-statuses.v1", key="order_id", producer="treasury",
    consumers=("billing",), finance_facing=True,
    description=(
        "The treasury's statuses of billing's payment orders: accepted, paid or returned (with the reason). "
        "Written by the finance system outside the platform; duplicates and reordering are harmless."
    ),
)
# Ratings
RATINGS = Topic(
    "pfdo.ratings.ratings.v1", key="program_id", producer="ratings",
    consumers=("navigator",),
    description="Rating aggregates per program and per provider (provider events keyed by provider_id).",
)

ALL_TOPICS: tuple[Topic, ...] = (
    CERTIFICATES, PROVIDERS, PAYERS, PROGRAMS, ENROLMENTS, ATTENDANCE,
    RESERVATIONS, LEDGER, PAYMENT_ORDERS, TREASURY_STATUSES, RATINGS,
)


def by_name(name: str) -> Topic:
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
    raise KeyError(name)


def consumed_by(service: str) -> tuple[Topic, ...]:
    """Topics a service subscribes to."""
    return tuple(t for t in ALL_TOPICS if service in t.consumers)


def produced_by(service: str) -> tuple[Topic, ...]:
    """Topics a service publishes to."""
    return tuple(t for t in ALL_TOPICS if t.producer == service)


SERVICES: tuple[str, ...] = ("registry", "navigator", "billing", "ratings")

EXTERNAL_PRODUCERS: tuple[str, ...] = ("treasury",)
"""Systems outside the platform that write to a topic of theirs (the topic is created and
described here; no platform service runs for them)."""


def consumer_group(service: str) -> str:
    """One consumer group per service: instances of a service share the work."""
    return f"pfdo-{service}"
