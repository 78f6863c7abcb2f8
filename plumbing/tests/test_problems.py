"""Failures leave as problem+json: a dropped database connection is a 503 the caller may retry,
a bug is a 500."""

from __future__ import annotations

import asyncpg
import httpx
from fastapi import FastAPI
from sqlalchemy import exc as sa_exc

from pfdo_plumbing.http.problems import install_problem_handlers


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.get("/dropped")
    async def dropped() -> None:
        raise sa_exc.InterfaceError("SELECT 1", {}, asyncpg.exceptions.InterfaceError("connection is closed"))

    @application.get("/bug")
    async def bug() -> None:
        raise KeyError("a bug")

    return application


async def test_a_dropped_connection_is_503_with_retry_after_and_a_bug_is_500() -> None:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        dropped = await client.get("/dropped")
        bug = await client.get("/bug")
    assert dropped.status_code == 503
    assert dropped.headers["retry-after"] == "1"
    assert dropped.headers["content-type"] == "application/problem+json"
    assert dropped.json()["code"] == "temporarily_unavailable"
    assert bug.status_code == 500
    assert bug.json()["code"] == "internal_error"
