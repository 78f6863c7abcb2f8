"""Signing keys of the development token issuer (RS256), kept in a folder; rotation adds a key."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class DevKeys:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._loaded: dict[Path, Any] = {}  # parsing an RSA key costs ~0.1 s: once per file

    def _private(self, path: Path) -> Any:
        if path not in self._loaded:
            self._loaded[path] = serialization.load_pem_private_key(path.read_bytes(), password=None)
        return self._loaded[path]

    def _key_files(self) -> list[Path]:
        return sorted(self.folder.glob("*.pem"), key=lambda p: p.stat().st_mtime)

    def ensure(self) -> None:
        if not self._key_files():
            self.rotate()

    def rotate(self) -> str:
        """Create a new signing key; older keys stay published so their tokens still verify."""
        self.folder.mkdir(parents=True, exist_ok=True)
        kid = f"dev-{int(time.time())}-{uuid.uuid4().hex[:8]}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path = self.folder / f"{kid}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        return kid

    def current(self) -> tuple[str, Any]:
        self.ensure()
        path = self._key_files()[-1]
        return path.stem, self._private(path)

    def jwks(self) -> dict[str, Any]:
        self.ensure()
        keys = []
        for path in self._key_files():
            private = self._private(path)
            jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
            jwk.update({"kid": path.stem, "use": "sig", "alg": "RS256"})
            keys.append(jwk)
        return {"keys": keys}

    def write_jwks(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.jwks()))

    def sign(self, claims: dict[str, Any]) -> str:
        """Sign any claims with the current key (RS256, its ``kid`` in the header)."""
        kid, key = self.current()
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def public_key(self, kid: str) -> Any | None:
        """The public key of ``kid``, while it is still published; else None."""
        path = self.folder / f"{kid}.pem"
        if not path.is_file() or path.parent != self.folder or not kid.replace("-", "").isalnum():
            return None
        return self._private(path).public_key()

    def mint(
        self, *, sub: str, role: str, issuer: str, audience: str, ttl_s: int = 3600,
        municipality: str | None = None, provider_id: str | None = None, now: float | None = None,
    ) -> str:
        kid, key = self.current()
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "sub": sub, "role": role, "iss": issuer, "aud": audience,
            "iat": issued, "nbf": issued, "exp": issued + ttl_s, "jti": uuid.uuid4().hex,
        }
        if municipality:
            claims["municipality"] = municipality
        if provider_id:
            claims["provider_id"] = provider_id
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
