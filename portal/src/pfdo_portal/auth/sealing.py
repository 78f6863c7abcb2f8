"""The tokens of a session are kept sealed (Fernet: AES-128-CBC with HMAC-SHA256) with a key
derived from the setting ``session_secret``: a copy of the sessions table (a backup, a dump)
does not hand out anybody's tokens. Only the access token's expiry stays readable, for the
refresh decision. Changing the secret ends every session (their tokens no longer open)."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class TokenSeal:
    def __init__(self, secret: str) -> None:
        key = base64.urlsafe_b64encode(hashlib.sha256(("pfdo-portal-sessions:" + secret).encode("utf-8")).digest())
        self._fernet = Fernet(key)

    def seal(self, tokens: dict[str, Any]) -> dict[str, Any]:
        sealed = self._fernet.encrypt(json.dumps(tokens, separators=(",", ":")).encode("utf-8")).decode("ascii")
        return {"expires_at": tokens["expires_at"], "sealed": sealed}

    def open(self, stored: dict[str, Any] | None) -> dict[str, Any] | None:
        """The tokens, or None when there are none or they were sealed with another secret."""
        if not stored or "sealed" not in stored:
            return None
        try:
            tokens = json.loads(self._fernet.decrypt(stored["sealed"].encode("ascii")))
        except (InvalidToken, ValueError):
            return None
        return {**tokens, "expires_at": stored.get("expires_at", tokens.get("expires_at", 0))}
