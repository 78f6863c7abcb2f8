"""Personal data at rest: СНИЛС encrypted with AES-GCM, plus a keyed hash for the duplicate
search (HMAC-SHA256, so equal numbers find each other without the number being readable).

Keys come from settings ``PFDO_PII_KEY`` and ``PFDO_PII_HASH_KEY`` (any secret text; a 256-bit
key is derived from it with SHA-256). The defaults are development keys only: production sets
both from a secret store. Rotating the hash key needs a re-hash of every child row.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12
_AAD = b"pfdo-registry:snils:v1"


class PiiCipher:
    def __init__(self, key: str, hash_key: str) -> None:
        if not key or not hash_key:
            raise ValueError("PII keys must not be empty")
        self._aead = AESGCM(hashlib.sha256(key.encode()).digest())
        self._hash_key = hashlib.sha256(hash_key.encode()).digest()

    def encrypt(self, value: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, value.encode(), _AAD)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(bytes(blob[:_NONCE]), bytes(blob[_NONCE:]), _AAD).decode()

    def lookup_hash(self, value: str) -> bytes:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).digest()
