"""Server-side sessions in the portal's own database: the browser holds only a random id in an
HttpOnly cookie; the row (found by the id's SHA-256) holds the person, their tokens and the CSRF
token. Any portal instance reads any session, and sessions outlive a restart."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, Table, Text, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import JSONB

from pfdo_plumbing.db import Database

from .claims import PortalUser
from .sealing import TokenSeal

METADATA = MetaData()
SESSIONS = Table(
    "sessions", METADATA,
    Column("id_hash", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("login", JSONB),
    Column("person", JSONB),
    Column("tokens", JSONB),
)

SEEN_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often (not a write per page view)."""


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class Session:
    id_hash: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    csrf_token: str
    login: dict[str, Any] | None = None
    person: dict[str, Any] | None = None
    tokens: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def user(self) -> PortalUser | None:
        return PortalUser.from_json(self.person) if self.person else None


@dataclass
class SessionStore:
    db: Database
    max_age: timedelta
    idle: timedelta
    seal: TokenSeal

    @classmethod
    def connect(cls, url: str, *, pool_size: int, max_age_s: int, idle_s: int, secret: str) -> SessionStore:
        return cls(Database(url, pool_size=pool_size), timedelta(seconds=max_age_s), timedelta(seconds=idle_s),
                   TokenSeal(secret))

    async def close(self) -> None:
        await self.db.dispose()

    async def create(self, *, login: dict[str, Any] | None = None, person: dict[str, Any] | None = None,
                     tokens: dict[str, Any] | None = None, lifetime: timedelta | None = None) -> tuple[str, Session]:
        """A new session; returns the cookie value (shown once, stored only as its hash) and the row."""
        session_id = secrets.token_urlsafe(32)
        now = now_utc()
        row = Session(id_hash(session_id), now, now, now + (lifetime or self.max_age), secrets.token_urlsafe(32),
                      login, person, tokens)
        async with self.db.transaction() as tx:
            await tx.execute(insert(SESSIONS).values(**{**row.__dict__, "tokens": self._sealed(tokens)}))
        return session_id, row

    def _sealed(self, tokens: dict[str, Any] | None) -> dict[str, Any] | None:
        return self.seal.seal(tokens) if tokens else None

    async def load(self, session_id: str) -> Session | None:
        """The live session of a cookie value; an expired or idle one is deleted and None."""
        key = id_hash(session_id)
        async with self.db.transaction() as tx:
            found = (await tx.execute(select(SESSIONS).where(SESSIONS.c.id_hash == key))).mappings().first()
            if found is None:
                return None
            row = Session(**{**found, "tokens": self.seal.open(found["tokens"])})
            now = now_utc()
            if row.expires_at <= now or row.last_seen_at + self.idle <= now:
                await tx.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == key))
                return None
            if now - row.last_seen_at >= SEEN_EVERY:
                await tx.execute(update(SESSIONS).where(SESSIONS.c.id_hash == key).values(last_seen_at=now))
                row.last_seen_at = now
        return row

    async def take_login(self, session_id: str) -> dict[str, Any] | None:
        """The sign-in under way of a session, removed (a callback can be used once)."""
        key = id_hash(session_id)
        async with self.db.transaction() as tx:
            login = (await tx.execute(
                select(SESSIONS.c.login).where(SESSIONS.c.id_hash == key, SESSIONS.c.expires_at > func.now())
                .with_for_update()
            )).scalar_one_or_none()
            if login is not None:
                await tx.execute(update(SESSIONS).where(SESSIONS.c.id_hash == key).values(login=None))
        return login

    async def refresh_tokens(self, key: str, *, margin_s: int,
                             refresh: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> dict[str, Any] | None:
        """The session's tokens, refreshed by ``refresh`` when the access token is within
        ``margin_s`` of expiry. The row stays locked meanwhile: requests of the same session on
        any instance wait and then find the fresh tokens (the provider rotates refresh tokens, so
        a second refresh with the old one would fail). None: nothing to refresh with."""
        async with self.db.transaction() as tx:
            tokens = self.seal.open((await tx.execute(
                select(SESSIONS.c.tokens).where(SESSIONS.c.id_hash == key).with_for_update()
            )).scalar_one_or_none())
            if not tokens:
                return None
            if tokens.get("expires_at", 0) - margin_s > time.time():
                return tokens
            if not tokens.get("refresh_token"):
                return None
            fresh = {**tokens, **await refresh(tokens)}
            await tx.execute(update(SESSIONS).where(SESSIONS.c.id_hash == key).values(tokens=self.seal.seal(fresh)))
        return fresh

    async def delete(self, session_id: str) -> Session | None:
        async with self.db.transaction() as tx:
            found = (await tx.execute(
                delete(SESSIONS).where(SESSIONS.c.id_hash == id_hash(session_id)).returning(*SESSIONS.c)
            )).mappings().first()
        return Session(**{**found, "tokens": self.seal.open(found["tokens"])}) if found else None

    async def delete_by_hash(self, key: str) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(delete(SESSIONS).where(SESSIONS.c.id_hash == key))

    async def purge_expired(self) -> int:
        async with self.db.transaction() as tx:
            result = await tx.execute(delete(SESSIONS).where(SESSIONS.c.expires_at <= func.now()))
        return int(result.rowcount or 0)
