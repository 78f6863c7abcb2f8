"""Service settings from the environment (prefix ``PFDO_``), one model for every service."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PFDO_", extra="ignore")

    service_name: str = Field(default="pfdo", description="registry | navigator | billing | ratings")
    database_url: str = Field(default="postgresql+asyncpg://pfdo@127.0.0.1:5433/pfdo")
    db_pool_size: int = Field(default=10, ge=1, description="Connections of the process's pool, opened as needed and kept.")
    db_max_overflow: int = Field(
        default=0, ge=0,
        description="Extra connections beyond the pool under load. Each is closed as soon as it is returned to "
        "a pool holding its size idle, so a burst opens and closes them again and again: a new PostgreSQL "
        "backend, its statements prepared anew, and the process's one event loop doing that work too. Measured "
        "(application rush at 200/s on 2 cores, request p99): 10 + 20 over 300 ms in 3 of 10 runs, 10 + 0 in 1 of "
        "23. Requests beyond the pool wait in line for a connection instead.",
    )

    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_namespace: str = Field(
        default="", description="Prefix for topic and group names; lets test runs share one broker."
    )
    kafka_replication_factor: int = Field(default=3, description="Capped at the broker count.")
    consumer_max_records: int = Field(default=1000, description="Records per fetch handed to the consumer at most.")
    consumer_unit_bytes: int = Field(
        default=1024 * 1024, ge=1024,
        description="Payload per transaction when a batch handler takes a run of events: smaller units let "
        "decoding the next one overlap applying this one and hold less memory; larger ones pay fewer "
        "statements. Measured on 2 cores (attendance flood, 20 marks per event): 1 MB drains 25-50 k "
        "marks/s with billing at ~145 MB; 4 MB units with 2 000-record fetches reach ~52 k marks/s "
        "but billing peaks at its 200 MB bound.",
    )
    consumer_retries: int = Field(default=3, description="Attempts before a message goes to the DLQ.")
    gc_gen0_threshold: int = Field(
        default=50_000, ge=700,
        description="Allocations between young-generation collections. Decoding thousands of events per "
        "batch allocates many small objects; the interpreter's default (700) makes every batch pay for "
        "repeated collections (measured: 3x slower decoding of a 5 000-record batch).",
    )
    relay_batch_size: int = 1000
    relay_idle_interval_s: float = Field(
        default=1.0, gt=0,
        description="Longest wait of an idle outbox relay: commits in its own process wake it at once, this "
        "poll finds rows written by other instances or by plain SQL.",
    )
    relay_min_gap_s: float = Field(
        default=0.05, ge=0, description="Shortest time between the starts of two outbox relay runs (batching).",
    )

    loop_lag_interval_s: float = Field(
        default=0.25, gt=0, description="How often the event loop's lag is sampled (metric pfdo_event_loop_lag_seconds).",
    )

    idempotency_retention_h: float = Field(
        default=24.0, ge=24,
        description="Hours an Idempotency-Key and its stored answer are kept (at least 24, as the API promises).",
    )
    idempotency_cleanup_interval_s: float = Field(
        default=3600.0, gt=0, description="How often the keys older than the retention are deleted.",
    )
    idempotency_abandoned_after_s: float = Field(
        default=120.0, ge=4,
        description="A running request says every quarter of this that it is alive; a key whose request stopped "
        "saying so this long ago (its process died) may be taken by a retry with the same request. Until then a "
        "retry gets 409 idempotency_key_in_progress.",
    )

    docs_assets_dir: str = Field(
        default="",
        description="The node_modules folder with swagger-ui-dist and redoc (web/package-lock.json) that the "
        "/docs and /redoc pages load their files from; empty: the workspace's web/node_modules.",
    )

    jwks_url: str = "http://127.0.0.1:8100/auth/.well-known/jwks.json"
    jwt_issuer: str = "pfdo-dev-issuer"
    jwt_audience: str = "pfdo"
    jwt_leeway_s: int = 30
    jwt_max_lifetime_s: int = Field(
        default=12 * 3600, ge=60,
        description="Longest accepted token lifetime (exp - iat), seconds: longer-lived tokens are refused even "
        "before they expire. The development issuer mints no longer ones.",
    )
    jwks_cache_ttl_s: int = 300

    rate_per_subject: float = Field(
        default=0.0, ge=0,
        description="Requests per second of one token subject (all its tokens together), counted by each "
        "process after the signature is verified; 0 turns the limit off. The gateway limits per token only "
        "(it cannot verify signatures). Production sets it (deploy/k8s/base/config.yaml); test stacks leave it off.",
    )
    burst_per_subject: int = Field(default=40, ge=0, description="Requests of one subject allowed at once above the rate.")
    cursor_key: str = Field(
        default="pfdo-dev-cursor-key", min_length=8,
        description="HMAC key signing the opaque page cursors of every list (set a secret one in production).",
    )

    dev_issuer_enabled: bool = False
    dev_keys_dir: str = ".work/auth-keys"

    log_level: str = "INFO"
    log_json: bool = True

    registry_url: str = "http://127.0.0.1:8101"
    billing_url: str = "http://127.0.0.1:8103"
    navigator_url: str = "http://127.0.0.1:8102"
    ratings_url: str = "http://127.0.0.1:8104"

    @property
    def source(self) -> str:
        return f"pfdo/{self.service_name}"
