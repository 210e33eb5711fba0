"""The default HTTP transport of the built-in adapters: httpx's API over aiohttp's connection pool.

Adapters speak :mod:`httpx` (requests, responses, ``MockTransport`` in tests, error types the
resilience layer inspects); only the bytes on the wire go through :class:`AiohttpTransport`.
Why not httpx's own transport: httpcore's pool re-scans every pooled connection (a ``poll``
and a ``getpeername`` each) and counts idle connections in a nested loop on every request, and
imports the optional ``sniffio`` on every lock it sets up, which searches ``sys.path`` each time
when it is not installed. Measured on the seven adapters against the simulator at concurrency
32 (fetch + decode, client CPU per call): ≈3.5 ms through httpx.AsyncClient and httpcore,
≈0.65 ms through httpx.AsyncClient and this transport, ≈0.3 ms through this transport alone.

aiohttp's failures are translated here to the httpx exception httpcore raises for the same
failure, so :func:`adapters._http.send` and the retry policy see what they always saw:

=====================================================  ===========================
aiohttp                                                httpx
=====================================================  ===========================
``ConnectionTimeoutError`` (pool wait or connect)      ``ConnectTimeout``
``SocketTimeoutError``, any other timeout              ``ReadTimeout``
``ClientConnectorError`` (refused, DNS, TLS)           ``ConnectError``
``ServerDisconnectedError``, ``ClientPayloadError``,   ``RemoteProtocolError``
``ClientResponseError`` (unparsable response)
any other ``ClientError``                              ``ReadError``
=====================================================  ===========================
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request

import aiohttp
import httpx
import yarl

__all__ = ["DEFAULT_HEADERS", "AiohttpTransport", "endpoint", "exchange"]

#: What httpx.AsyncClient would add to every request (the compressions httpx can decode).
DEFAULT_HEADERS = {
    "Accept": "*/*",
    "Accept-Encoding": "gzip, deflate",
    "Connection": "keep-alive",
    "User-Agent": f"python-httpx/{httpx.__version__}",
}

# Exactly the timeout asked for: aiohttp would round timeouts of 5 s and more up to a whole
# second of loop time, and the adapter's timeout is the request's remaining time.
_NO_CEILING = float("inf")


def endpoint(base_url: str, path: str) -> httpx.URL:
    """``path`` under ``base_url``, as httpx.AsyncClient(base_url=…) resolves it (absolute kept)."""
    url = httpx.URL(path)
    if url.is_absolute_url:
        return url
    return httpx.URL(base_url.rstrip("/") + "/" + path.lstrip("/"))


async def exchange(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    """Send ``request`` through ``transport``; the response with its whole body read.

    What httpx.AsyncClient.send does for us, minus what these adapters do not use (cookies,
    auth, redirects, event hooks): the response knows its request (``raise_for_status`` needs
    it), and its stream is read and closed, so the connection goes back to the pool.
    """
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive pool (``limit`` connections) for one adapter; TLS with ``verify``.

    The aiohttp session is opened on the first request, in the loop that makes it (aiohttp
    binds a session to its loop), and again if a later request runs in another loop.
    """

    def __init__(self, verify: ssl.SSLContext | bool = True, limit: int = 100) -> None:
        self._verify = verify
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # HTTP(S)_PROXY / NO_PROXY are honoured, as by httpx, and read once, as by httpx: only
        # when set, since aiohttp's trust_env would read the environment on every request.
        self._proxied = bool(urllib.request.getproxies())

    def _open(self) -> aiohttp.ClientSession:
        """The session of the running loop (made on first use in that loop)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._limit, ssl=self._verify)
            self._session = aiohttp.ClientSession(
                connector=connector,
                cookie_jar=aiohttp.DummyCookieJar(),  # departments get no cookies back
                auto_decompress=False,  # httpx decodes Content-Encoding, as with its transport
                trust_env=self._proxied,
            )
            self._loop = loop
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send the request and read the whole response; failures as httpx exceptions."""
        body = await request.aread()
        try:
            async with self._open().request(
                request.method,
                yarl.URL(str(request.url), encoded=True),  # sent as httpx quoted it
                headers=request.headers.multi_items(),
                data=body or None,
                timeout=_timeout(request),
                allow_redirects=False,  # httpx follows redirects (if asked to), not the pool
            ) as answer:
                content = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translate(exc, request) from exc
        return _response(answer, content)

    async def aclose(self) -> None:
        """Close the pool (a session opened in a loop that has ended is dropped)."""
        session, self._session = self._session, None
        if session is not None and self._loop is not None and not self._loop.is_closed():
            await session.close()


def _response(answer: aiohttp.ClientResponse, content: bytes) -> httpx.Response:
    """The httpx response for aiohttp's (httpx decodes any Content-Encoding from ``content``)."""
    extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
    if answer.reason is not None:  # without one, httpx gives the standard phrase of the status
        extensions["reason_phrase"] = answer.reason.encode("ascii", "replace")
    return httpx.Response(
        answer.status, headers=answer.raw_headers, content=content, extensions=extensions
    )


def _timeout(request: httpx.Request) -> aiohttp.ClientTimeout:
    """httpx's per-phase timeouts (pool, connect, read) as aiohttp's."""
    phases = request.extensions.get("timeout", {})
    return aiohttp.ClientTimeout(
        connect=phases.get("pool"),
        sock_connect=phases.get("connect"),
        sock_read=phases.get("read"),
        ceil_threshold=_NO_CEILING,
    )


def _translate(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error httpcore would have raised for this failure (module table)."""
    what = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(what, request=request)
    if isinstance(exc, TimeoutError):  # SocketTimeoutError is one too
        return httpx.ReadTimeout(what, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(what, request=request)
    if isinstance(
        exc,
        aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError,
    ):
        return httpx.RemoteProtocolError(what, request=request)
    return httpx.ReadError(what, request=request)
