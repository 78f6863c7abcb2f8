"""A JWKS cache: keys fetched from a URL (or a file, for local runs), refreshed on expiry and
whenever a token names a key id we do not know yet, so keys rotate without a restart."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt


class JWKSUnavailable(Exception):
    pass


class JWKSCache:
    def __init__(self, source: str, *, ttl_s: int = 300, min_refresh_interval_s: float = 5.0) -> None:
        self.source = source
        self.ttl_s = ttl_s
        self.min_refresh_interval_s = min_refresh_interval_s
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _load(self) -> dict[str, Any]:
        if self.source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.source)
                response.raise_for_status()
                document = response.json()
        else:
            document = json.loads(Path(self.source.removeprefix("file://")).read_text())
        keys = {}
        for jwk in document.get("keys", []):
            if "kid" in jwk:
                keys[jwk["kid"]] = jwt.PyJWK(jwk).key
        return keys

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            age = time.monotonic() - self._fetched_at
            if not force and age < self.ttl_s and self._keys:
                return
            if force and age < self.min_refresh_interval_s and self._keys:
                return
            try:
                self._keys = await self._load()
            except (httpx.HTTPError, OSError, ValueError) as exc:
                if not self._keys:
                    raise JWKSUnavailable(str(exc)) from exc
            self._fetched_at = time.monotonic()

    async def key(self, kid: str) -> Any | None:
        await self._refresh(force=False)
        if kid not in self._keys:
            await self._refresh(force=True)
        return self._keys.get(kid)
