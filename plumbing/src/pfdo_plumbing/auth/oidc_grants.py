"""The authorization code grant of the development OpenID Connect provider, without I/O:
checking an authorization request, PKCE (S256 only, RFC 7636), and single-use codes and
refresh tokens kept in memory (the issuer is one process; a restart signs everybody out)."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .oidc_accounts import DemoAccount
from .oidc_settings import DevOidcSettings

_VERIFIER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


class AuthorizeError(Exception):
    """A refused authorization request. ``redirectable``: the client and redirect URI are valid,
    so the answer goes back to the client as ``error=`` (RFC 6749 §4.1.2.1); otherwise the
    person sees an error page and is never sent to an unverified address."""

    def __init__(self, error: str, description: str, *, redirectable: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirectable = redirectable


class TokenError(Exception):
    """A refused token request (RFC 6749 §5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


def s256(verifier: str) -> str:
    """The S256 code challenge of a code verifier: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str | None, challenge: str) -> bool:
    if not verifier or not 43 <= len(verifier) <= 128 or not set(verifier) <= _VERIFIER_CHARS:
        return False
    return secrets.compare_digest(s256(verifier), challenge)


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str
    nonce: str
    code_challenge: str

    def as_params(self) -> dict[str, str]:
        return {"client_id": self.client_id, "redirect_uri": self.redirect_uri, "response_type": "code",
                "scope": self.scope, "state": self.state, "nonce": self.nonce,
                "code_challenge": self.code_challenge, "code_challenge_method": "S256"}


def check_authorization_request(params: Mapping[str, str], settings: DevOidcSettings) -> AuthorizationRequest:
    """The request when it is acceptable, else :class:`AuthorizeError`. PKCE with S256, a state
    and a nonce are required of every client."""
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    if not client_id or not secrets.compare_digest(client_id, settings.client_id):
        raise AuthorizeError("unauthorized_client", "Неизвестное приложение (client_id).", redirectable=False)
    if redirect_uri not in settings.redirect_uris:
        raise AuthorizeError("invalid_request", "Адрес возврата (redirect_uri) не зарегистрирован.", redirectable=False)
    if params.get("response_type") != "code":
        raise AuthorizeError("unsupported_response_type", "Поддерживается только response_type=code.", redirectable=True)
    scope = params.get("scope", "")
    if "openid" not in scope.split():
        raise AuthorizeError("invalid_scope", "В scope нет openid.", redirectable=True)
    challenge = params.get("code_challenge", "")
    if params.get("code_challenge_method") != "S256" or not 43 <= len(challenge) <= 128:
        raise AuthorizeError("invalid_request", "Нужен PKCE: code_challenge с методом S256.", redirectable=True)
    state, nonce = params.get("state", ""), params.get("nonce", "")
    if not state or not nonce or len(state) > 512 or len(nonce) > 512:
        raise AuthorizeError("invalid_request", "Нужны параметры state и nonce.", redirectable=True)
    return AuthorizationRequest(client_id, redirect_uri, scope, state, nonce, challenge)


@dataclass(frozen=True)
class Grant:
    """What a code or a refresh token stands for."""

    request: AuthorizationRequest
    account: DemoAccount
    session_id: str
    auth_time: int


@dataclass
class _Entry:
    grant: Grant
    expires_at: float


@dataclass
class GrantStore:
    """Authorization codes (single use: a second redemption is refused) and refresh tokens
    (rotated on use; all of a sign-in session's are revoked at end-session)."""

    code_ttl_s: float
    refresh_ttl_s: float
    _codes: dict[str, _Entry] = field(default_factory=dict)
    _refresh: dict[str, _Entry] = field(default_factory=dict)

    def _sweep(self, now: float) -> None:
        for table in (self._codes, self._refresh):
            for key in [k for k, e in table.items() if e.expires_at <= now]:
                del table[key]

    def issue_code(self, grant: Grant, now: float | None = None) -> str:
        now = time.time() if now is None else now
        self._sweep(now)
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Entry(grant, now + self.code_ttl_s)
        return code

    def redeem_code(self, code: str, now: float | None = None) -> Grant | None:
        now = time.time() if now is None else now
        entry = self._codes.pop(code, None)  # gone after the first try, whatever its outcome
        return entry.grant if entry is not None and entry.expires_at > now else None

    def issue_refresh(self, grant: Grant, now: float | None = None) -> str:
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(32)
        self._refresh[token] = _Entry(grant, now + self.refresh_ttl_s)
        return token

    def redeem_refresh(self, token: str, now: float | None = None) -> Grant | None:
        now = time.time() if now is None else now
        entry = self._refresh.pop(token, None)
        return entry.grant if entry is not None and entry.expires_at > now else None

    def end_session(self, session_id: str) -> int:
        """Revoke the refresh tokens of a sign-in session; how many there were."""
        gone = [t for t, e in self._refresh.items() if e.grant.session_id == session_id]
        for token in gone:
            del self._refresh[token]
        return len(gone)
