"""Plain HTTP/1.1 keep-alive connections for the adapters' POSTs: asyncio and httptools.

:class:`~adapters._transport.AiohttpTransport` sends a built-in adapter's POST to an ``http://``
or ``https://`` department through :class:`Connections` instead of aiohttp's ``ClientSession``
(proxies, TLS without verification and everything that is not such a POST still go through
aiohttp). The request bytes are the ones httpx would send (:class:`~adapters._transport.JsonPost`
works out the headers); the response is parsed by httptools (llhttp, the parser of Node.js and
uvicorn): Content-Length, chunked and close-delimited bodies, keep-alive as the response says.

Why: aiohttp's client does a great deal per request that these calls never use (tracing hooks,
cookie and redirect handling, per-request timer objects, a streaming response object). Measured
on the seven built-in adapters against the simulator in its own process, 32 callers, client CPU
for one fan-out of seven fetches (docs/BENCHMARKS.md, session 10): 1.6–1.9 ms through aiohttp,
0.5–0.7 ms through this module, with the same answers.

What it does, and no more:

1. one request at a time per connection, no pipelining, over TCP or TLS; at most ``limit``
   connections per origin, callers beyond that wait for one to come back;
2. a connection goes back to the pool only when its response was read whole and allows
   keep-alive; after a timeout, a cancellation or any error it is closed;
3. a request sent on a *reused* connection that the department closed before a byte of the
   answer came (the keep-alive race: the server dropped an idle connection as we wrote) is sent
   once more on a new connection, as browsers and httpcore do; these POSTs are queries;
4. failures are httpx's exceptions, as httpcore raises them: ``ConnectError``,
   ``ConnectTimeout`` (the connection not made within the timeout; a TLS handshake or
   certificate that fails is a ``ConnectError``, as with httpcore), ``PoolTimeout`` (no free
   connection within it), ``ReadTimeout`` (no whole answer within it), ``RemoteProtocolError``
   (the connection dropped or the answer unparsable);
5. the timeout bounds the whole call: the wait for a free connection, connecting, and the
   answer, the keep-alive race's second attempt included (it is the time left before the
   caller's deadline).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import ssl
from collections.abc import Callable
from typing import cast

import httptools
import httpx

__all__ = ["Answer", "Connections"]


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """A whole HTTP response as it came: status, reason phrase, raw headers and body."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


class _Connection(asyncio.Protocol):
    """One TCP connection; :meth:`exchange` sends a request and waits for its whole answer."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[Answer] | None = None
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._headers_done = False
        self.started = False  # a byte of the current answer has come
        self.open = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport, though not always a subclass of asyncio.Transport (uvloop's
        # TCPTransport and SSLProtocol's transport are not): no isinstance check
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.started = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def eof_received(self) -> bool | None:
        if self._waiter is not None and self._headers_done and self._close_delimited():
            self.on_message_complete()  # the end of the connection is the end of the body
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(exc or ConnectionResetError("the department closed the connection"))

    # httptools callbacks
    def on_status(self, reason: bytes) -> None:
        self._reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        answer = Answer(
            self._parser.get_status_code(), self._reason, self._headers, b"".join(self._body)
        )
        if not self._parser.should_keep_alive():
            self.close()
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(answer)

    # ours
    async def exchange(self, request: bytes) -> Answer:
        """Send ``request``; its whole answer (raises if the connection fails first)."""
        assert self._transport is not None
        assert self._waiter is None
        self._reason, self._headers, self._body = b"", [], []
        self._headers_done = self.started = False
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(request)
        return await self._waiter

    def _close_delimited(self) -> bool:
        """Neither Content-Length nor Transfer-Encoding: the body runs to the connection's end."""
        framing = {b"content-length", b"transfer-encoding"}
        return not any(name.lower() in framing for name, _ in self._headers)

    def close(self) -> None:
        self.open = False
        if self._transport is not None:
            self._transport.close()

    def _fail(self, exc: BaseException) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)


class Connections:
    """Keep-alive connections to one origin (``host``, ``port``), at most ``limit`` at a time;
    over TLS when given a ``tls`` context (the host name is checked against the certificate
    as the context says: ``ssl.create_default_context()`` does).

    Bound to the event loop that first uses it; in another loop it starts over (the old loop's
    connections cannot be used there).
    """

    def __init__(
        self, host: str, port: int, limit: int = 100, tls: ssl.SSLContext | None = None
    ) -> None:
        self._host, self._port, self._tls = host, port, tls
        self._limit = limit
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: collections.deque[_Connection] = collections.deque()
        self._slots = asyncio.Semaphore(limit)

    async def post(
        self, request: bytes, timeout_s: float, httpx_request: Callable[[], httpx.Request]
    ) -> Answer:
        """Send the request bytes; the whole answer, or httpx's error (module docstring, 4.).

        ``httpx_request`` makes the httpx request these bytes stand for, named by the errors.
        """
        self._bind()
        call = _Call(httpx_request)
        try:
            # one timer for the whole call (5.); where it fires decides the error (4.)
            async with asyncio.timeout(timeout_s):
                await self._slots.acquire()
                try:
                    return await self._send(request, call)
                finally:
                    self._slots.release()
        except TimeoutError as exc:
            raise call.timed_out() from exc

    async def _send(self, request: bytes, call: _Call) -> Answer:
        connection = self._reusable()
        if connection is not None:
            try:
                answer = await self._exchange(connection, request, call)
                return self._done(connection, answer)
            except _Dropped:
                pass  # 3. the keep-alive race: once more, on a new connection
        connection = await self._connect(call)
        try:
            answer = await self._exchange(connection, request, call)
        except _Dropped:
            what = "the department closed the connection without answering"
            raise httpx.RemoteProtocolError(what, request=call.httpx_request()) from None
        return self._done(connection, answer)

    def _done(self, connection: _Connection, answer: Answer) -> Answer:
        """Back to the pool if it stays open (2.); the answer."""
        if connection.open:
            self._idle.append(connection)
        return answer

    async def aclose(self) -> None:
        """Close the idle connections (those in use close when their caller is done)."""
        while self._idle:
            self._idle.pop().close()

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._idle, self._slots = (
                loop,
                collections.deque(),
                asyncio.Semaphore(self._limit),
            )

    def _reusable(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()  # the most recently used: the least likely dropped
            if connection.open:
                return connection
        return None

    async def _connect(self, call: _Call) -> _Connection:
        call.phase = "connect"
        loop = asyncio.get_running_loop()
        try:
            _, connection = await loop.create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._tls,
                server_hostname=self._host if self._tls else None,
            )
        except TimeoutError as exc:  # the system's own (ETIMEDOUT); ours is raised in post
            raise httpx.ConnectTimeout(str(exc), request=call.httpx_request()) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=call.httpx_request()) from exc
        return connection

    async def _exchange(self, connection: _Connection, request: bytes, call: _Call) -> Answer:
        call.phase = "read"
        try:
            return await connection.exchange(request)
        except TimeoutError as exc:  # the system's own (ETIMEDOUT); ours is raised in post
            connection.close()
            raise httpx.ReadTimeout(str(exc), request=call.httpx_request()) from exc
        except (OSError, httptools.HttpParserError) as exc:
            connection.close()
            if not connection.started and isinstance(exc, ConnectionError):
                raise _Dropped from exc
            raise httpx.RemoteProtocolError(str(exc), request=call.httpx_request()) from exc
        except BaseException:  # timed out or cancelled: the answer may still come, on a
            connection.close()  # connection we leave
            raise


class _Call:
    """One call's progress: what its timeout interrupted decides httpx's error (4.)."""

    __slots__ = ("httpx_request", "phase")

    def __init__(self, httpx_request: Callable[[], httpx.Request]) -> None:
        self.httpx_request = httpx_request
        self.phase = "pool"  # waiting for a free connection; then "connect", then "read"

    def timed_out(self) -> httpx.TimeoutException:
        """The error for a timeout now, as httpcore names it."""
        request = self.httpx_request()
        if self.phase == "pool":
            return httpx.PoolTimeout("no free connection within the timeout", request=request)
        if self.phase == "connect":
            return httpx.ConnectTimeout("connect timed out", request=request)
        return httpx.ReadTimeout("read timed out", request=request)


class _Dropped(Exception):
    """The connection closed before a byte of the answer came."""
