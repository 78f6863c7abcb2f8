"""The transport under the gateway client: aiohttp's connection pool behind httpx's interface.

Pages make several API calls each and many pages run at once, so the pool holds tens of kept-alive
connections. httpcore (httpx's own transport) looks at every pooled connection on every request,
which made the HTTP client half of the portal's CPU time under load; aiohttp's pool does not. The
pages, their tests (with httpx's mock transport) and :class:`GatewayApi` keep httpx's interface.
"""

from __future__ import annotations

import asyncio

import aiohttp
import httpx


class PooledTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, source_address: str = "", connections: int = 100) -> None:
        self._source = (source_address, 0) if source_address else None
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        # made on first use, inside the running event loop (aiohttp binds its session to it)
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, local_addr=self._source,
                                             enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, auto_decompress=False,
                                                  skip_auto_headers=("User-Agent",))
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limits = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(total=None, connect=limits.get("connect"), sock_read=limits.get("read"))
        body = await request.aread()
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw]
        try:
            async with self._open().request(request.method, str(request.url), headers=headers,
                                            data=body or None, timeout=timeout, allow_redirects=False,
                                            compress=None) as answer:
                content = await answer.read()
                return httpx.Response(answer.status, headers=list(answer.raw_headers), content=content,
                                      request=request)
        except TimeoutError as exc:  # asyncio's, raised by aiohttp for its time limits
            raise httpx.ReadTimeout(str(exc) or "the API did not answer in time", request=request) from exc
        except aiohttp.ClientConnectionError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except aiohttp.ClientError as exc:
            raise httpx.TransportError(str(exc), request=request) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            await asyncio.sleep(0)  # let the connector close its sockets
