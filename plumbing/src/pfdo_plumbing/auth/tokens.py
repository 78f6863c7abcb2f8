"""Bearer token verification: signature (RS256/ES256 from the JWKS), issuer, audience, expiry."""

from __future__ import annotations

import jwt
from pydantic import ValidationError

from .jwks import JWKSCache
from .principal import Principal

ALGORITHMS = ["RS256", "ES256"]


class InvalidToken(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenVerifier:
    def __init__(self, jwks: JWKSCache, *, issuer: str, audience: str, leeway_s: int = 30) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.leeway_s = leeway_s

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("unsupported algorithm")
        key = await self.jwks.key(str(header.get("kid", "")))
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
        try:
            return Principal(
                sub=claims["sub"], role=claims.get("role"), municipality=claims.get("municipality"),
                provider_id=claims.get("provider_id"), token_id=claims.get("jti"),
            )
        except ValidationError as exc:
            raise InvalidToken("token claims are not valid") from exc
