"""The portal's settings from the environment (prefix ``PFDO_PORTAL_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from .auth.settings import AuthSettings


class PortalSettings(AuthSettings):
    model_config = SettingsConfigDict(env_prefix="PFDO_PORTAL_", extra="ignore")

    api_url: str = Field(
        default="http://127.0.0.1:8080/api/",
        description="The gateway's public API (its /api/ prefix): the only place the portal reads data from.",
    )
    api_source_address: str = Field(
        default="",
        description="The local address API calls leave from: the gateway believes the visitor's X-Forwarded-For "
        "from this address only (its PORTAL_CLIENT_ADDRESS). Empty: the system's choice.",
    )
    api_timeout_s: float = Field(default=10.0, gt=0, description="Longest wait for one API answer, seconds.")
    region_name: str = Field(default="Регион", description="The region's name in the header of every page.")
    assets_dir: str = Field(
        default="",
        description="The node_modules folder holding htmx.org (web/package-lock.json); empty: the workspace's "
        "web/node_modules.",
    )
    labels_ttl_s: float = Field(
        default=600.0, ge=0, description="How long the names of directions, statuses... read from the API are kept.",
    )
    page_size: int = Field(default=20, ge=1, le=100, description="Programs on one page of the navigator.")
    log_level: str = "INFO"
    log_json: bool = True
