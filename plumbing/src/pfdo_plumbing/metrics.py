"""Prometheus metrics shared by every service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter("pfdo_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "pfdo_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_CONSUMED = Counter("pfdo_events_consumed_total", "Events applied", ["service", "event_type"])
EVENTS_DUPLICATE = Counter("pfdo_events_duplicate_total", "Duplicate deliveries skipped by the inbox", ["service"])
EVENTS_DEAD_LETTERED = Counter("pfdo_events_dead_lettered_total", "Events sent to the dead-letter topic", ["service"])
OUTBOX_PENDING = Gauge("pfdo_outbox_pending", "Events waiting in the outbox", ["service"])
CONSUMER_LAG = Gauge("pfdo_consumer_lag", "Messages behind the log end, per topic partition", ["service", "topic", "partition"])
