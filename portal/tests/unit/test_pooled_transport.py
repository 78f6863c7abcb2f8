"""The gateway client's transport (aiohttp's pool behind httpx's interface) against a real HTTP
server in this process: what goes out, what comes back, and how failures reach the pages."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from pfdo_portal.gateway import ApiError, GatewayApi
from pfdo_portal.gateway.problems import UNREACHABLE


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({"method": request.method, "path": request.path_qs, "body": body.decode(),
                              "auth": request.headers.get("Authorization"), "lang": request.headers.get("Accept-Language"),
                              "peer": request.remote}, status=201 if request.method == "POST" else 200)


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(2)
    return web.json_response({})


async def zipped(request: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b'{"labels": {"a": {"b": "c"}}}'),
                        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})


async def refused(request: web.Request) -> web.Response:
    return web.json_response({"code": "nope", "status": 409, "title": "Нельзя", "detail": "Так нельзя."}, status=409,
                             content_type="application/problem+json")


@pytest.fixture
async def server() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/api/echo", echo)
    app.router.add_get("/api/slow", slow)
    app.router.add_get("/api/registry/labels", zipped)
    app.router.add_get("/api/refused", refused)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
    yield f"http://127.0.0.1:{port}/api/"
    await runner.cleanup()


async def test_calls_carry_the_token_the_language_the_body_and_the_source_address(server: str) -> None:
    api = GatewayApi(server, source_address="127.0.0.3")
    try:
        got = await api.get("echo", token="tok-1", params={"weekday": [2, 4], "q": "шахматы"})
        posted = await api.request("POST", "echo", json={"a": "б"})
    finally:
        await api.aclose()
    assert got["path"] == "/api/echo?weekday=2&weekday=4&q=%D1%88%D0%B0%D1%85%D0%BC%D0%B0%D1%82%D1%8B"
    assert (got["auth"], got["lang"], got["peer"]) == ("Bearer tok-1", "ru", "127.0.0.3")
    assert posted["method"] == "POST" and json.loads(posted["body"]) == {"a": "б"}


async def test_a_compressed_answer_is_read_and_a_refusal_becomes_the_apis_message(server: str) -> None:
    api = GatewayApi(server)
    try:
        assert await api.labels() == {"a": {"b": "c"}}
        with pytest.raises(ApiError) as refusal:
            await api.get("refused")
    finally:
        await api.aclose()
    assert (refusal.value.status, refusal.value.code) == (409, "nope")


async def test_a_slow_or_absent_api_is_a_clear_unreachable_answer(server: str) -> None:
    api = GatewayApi(server, timeout=0.3)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/api/"
    nowhere = GatewayApi(closed)
    try:
        for client, path in ((api, "slow"), (nowhere, "echo")):
            with pytest.raises(ApiError) as failed:
                await client.get(path)
            assert failed.value.status >= 500 and failed.value.message == UNREACHABLE
    finally:
        await api.aclose()
        await nowhere.aclose()
