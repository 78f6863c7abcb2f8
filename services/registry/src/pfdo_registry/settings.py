"""Registry settings (environment prefix ``PFDO_``)."""

from __future__ import annotations

from pydantic import Field

from pfdo_plumbing.settings import ServiceSettings

DEV_PII_KEY = "pfdo-dev-pii-key-NOT-FOR-PRODUCTION"
DEV_PII_HASH_KEY = "pfdo-dev-pii-hash-key-NOT-FOR-PRODUCTION"


class RegistrySettings(ServiceSettings):
    service_name: str = "registry"
    database_url: str = Field(default="postgresql+asyncpg://pfdo@127.0.0.1:5433/registry")
    pii_key: str = Field(
        default=DEV_PII_KEY,
        description="Secret for encrypting СНИЛС at rest (AES-GCM; key = SHA-256 of it). Dev default only.",
    )
    pii_hash_key: str = Field(
        default=DEV_PII_HASH_KEY,
        description="Secret for the keyed СНИЛС hash (HMAC-SHA256) used by the duplicate search. Dev default only.",
    )
    timezone: str = Field(default="Europe/Moscow", description="Region time zone: calendar dates are taken here.")
    expiry_job_interval_s: float = Field(
        default=3600.0, description="How often the (idempotent) certificate expiry job runs; it acts once per day."
    )
