"""Bearer token verification: signature (RS256/ES256 from the JWKS), issuer, audience, expiry,
and a maximum lifetime (``exp - iat``): a token minted for days is refused even while it is
unexpired, so a leaked one is useful for a bounded time only.

The reason of a refusal is for the structured log only (``InvalidToken.reason``): the 401 answer
says the same thing for every refusal, so that a caller probing with crafted tokens does not learn
which check failed."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import jwt
from pydantic import ValidationError

from .jwks import JWKSCache
from .principal import Principal

ALGORITHMS = ["RS256", "ES256"]
MAX_LIFETIME_S = 12 * 3600
"""Default longest accepted lifetime of a token (``exp - iat``), seconds; setting ``jwt_max_lifetime_s``."""


class InvalidToken(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _unverified_header(token: str) -> dict:
    """The JOSE header, only to pick the key (``jwt.decode`` below checks the whole token again).
    PyJWT's own ``get_unverified_header`` validates every segment character by character in
    Python, which doubled the cost of a request's token check."""
    try:
        head = token.split(".", 1)[0]
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    kid: str
    key: Any
    expires_at: float


class TokenVerifier:
    """Verifies bearer tokens, and remembers the ones it verified (``remember`` of them at most)
    until they expire: a parent's or provider's session sends the same token with every request,
    and checking its RSA signature again was about 6 % of the navigator's profile under the search
    bench. A remembered token is still refused once it expires (the same leeway), and is checked
    again in full when the JWKS no longer has the very key that verified it (the key was removed
    or the set was fetched again)."""

    def __init__(self, jwks: JWKSCache, *, issuer: str, audience: str, leeway_s: int = 30,
                 remember: int = 10_000, max_lifetime_s: int = MAX_LIFETIME_S) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s
        self.max_lifetime_s = max_lifetime_s
        self.remember = remember
        self._verified: dict[str, _Verified] = {}

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            if known.expires_at <= time.time() - self.leeway_s:
                self._verified.pop(token, None)
                raise InvalidToken("token expired")
            if await self.jwks.key(known.kid) is known.key:
                return known.principal
            self._verified.pop(token, None)  # another request of this token may have dropped it meanwhile
        principal, kid, key, expires_at = await self._verify(token)
        if len(self._verified) >= self.remember:
            now = time.time() - self.leeway_s
            self._verified = {t: v for t, v in self._verified.items() if v.expires_at > now}
            if len(self._verified) >= self.remember:
                self._verified.clear()
        self._verified[token] = _Verified(principal, kid, key, expires_at)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, str, Any, float]:
        header = _unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("unsupported algorithm")
        kid = str(header.get("kid", ""))
        key = await self.jwks.key(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims = jwt.decode(
                token, key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                leeway=self.leeway_s, options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("wrong audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("wrong issuer") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("invalid token") from exc
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > self.max_lifetime_s:
            raise InvalidToken("token lifetime exceeds the maximum")
        try:
            principal = Principal(
                sub=claims["sub"], role=claims.get("role"), municipality=claims.get("municipality"),
                provider_id=claims.get("provider_id"), token_id=claims.get("jti"),
            )
        except ValidationError as exc:
            raise InvalidToken("token claims are not valid") from exc
        return principal, kid, key, float(claims["exp"])
