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

:func:`post` is the built-in adapters' per-call path: a :class:`JsonPost` keeps the URL and the
fixed headers of one adapter, and over an :class:`AiohttpTransport` a 2xx answer is read
without building an httpx ``Request`` or ``Response`` at all (the same headers and body go on
the wire; an error or an encoded body still goes through httpx, so nothing else changes).
Measured (the seven adapters against the simulator in its own process, 32 callers, fetch +
decode, client CPU, medians of 3, two A/B pairs): hukou 0.34 → 0.23 ms per call; one fan-out
over all seven 2.37 → 1.88 ms (≈70 µs per call: there 45 % of the answers are 404s, which still
build httpx's error objects, ≈60 µs each).

Since session 10 such a POST to an ``http://`` or ``https://`` department (TLS verified, as
``verify`` says), with no proxy configured, does not go through aiohttp's ``ClientSession``
either but through :mod:`adapters._h1` (asyncio connections, httptools' parser): the same bytes
on the wire, the same answers and httpx errors (``tests/adapters/test_http_post_fastpath.py``
compares both paths), and one fan-out of the seven fetches 1.6–1.9 → 0.8–0.95 ms of client
CPU. Proxied departments, and ``verify=False``, keep aiohttp.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import urllib.request
from collections.abc import Callable, Mapping, Sequence

import aiohttp
import httpx
import yarl

from adapters._h1 import Connections

__all__ = [
    "DEFAULT_HEADERS",
    "AiohttpTransport",
    "JsonPost",
    "StatusError",
    "endpoint",
    "exchange",
    "post",
]

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
_PLACEHOLDER = "hedui-request-id-placeholder"


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


class JsonPost:
    """One adapter's POST: a fixed URL and fixed headers; per call only the request id and body.

    ``headers`` are the adapter's own; the request id goes in ``X-Request-Id``. What httpx.Request
    would send is worked out once (:meth:`wire_headers` fills in the two values that change), so
    the per-call path builds no httpx objects; :meth:`request` builds the real one when needed.
    """

    def __init__(self, url: httpx.URL, headers: Mapping[str, str]) -> None:
        self.url = url
        self.wire_url = yarl.URL(str(url), encoded=True)  # sent as httpx quoted it
        self._headers = dict(headers)
        template = self.request(_PLACEHOLDER, b"-", 1.0).headers.multi_items()
        try:
            self._request_id_at = template.index(("x-request-id", _PLACEHOLDER))
            self._length_at = template.index(("content-length", "1"))
            self._template: list[tuple[str, str]] | None = template
        except ValueError:  # the adapter's headers set one of them: httpx decides, every call
            self._template = None
        self._wire = "" if self._template is None else self._wire_template(self._template)

    def _wire_template(self, template: list[tuple[str, str]]) -> str:
        """The request line and header block, ``{rid}`` and ``{length}`` left to fill in."""
        lines = [f"POST {self.wire_url.raw_path_qs} HTTP/1.1"]
        for at, (name, value) in enumerate(template):
            escaped = value.replace("{", "{{").replace("}", "}}")
            slot = {self._request_id_at: "{rid}", self._length_at: "{length}"}.get(at, escaped)
            lines.append(f"{name.replace('{', '{{').replace('}', '}}')}: {slot}")
        return "\r\n".join([*lines, "", ""])

    def sendable(self, request_id: str, content: bytes) -> bool:
        """Whether :meth:`wire_headers` and :meth:`wire_request` can stand in for httpx.

        httpx encodes header values as ASCII (and raises otherwise), so any other request id
        takes httpx's path, and raises as it always did; so does one with a control character
        (a CR or LF would end the header early), and an empty body (httpx puts its
        ``content-length: 0`` elsewhere).
        """
        return (
            self._template is not None
            and request_id.isascii()
            and request_id.isprintable()
            and bool(content)
        )

    def request(self, request_id: str, content: bytes, timeout_s: float) -> httpx.Request:
        """The httpx request these values make (for other transports, and for errors)."""
        return httpx.Request(
            "POST",
            self.url,
            content=content,
            headers={**self._headers, "X-Request-Id": request_id},
            extensions={"timeout": httpx.Timeout(timeout_s).as_dict()},
        )

    def wire_request(self, request_id: str, content: bytes) -> bytes:
        """The whole HTTP/1.1 request httpx would send, as bytes (when :meth:`sendable`)."""
        head = self._wire.format(rid=request_id, length=len(content))
        return head.encode("ascii") + content

    def wire_headers(self, request_id: str, content: bytes) -> list[tuple[str, str]] | None:
        """``request(…).headers.multi_items()`` without httpx; None unless :meth:`sendable`."""
        if not self.sendable(request_id, content) or self._template is None:
            return None
        items = self._template.copy()
        items[self._request_id_at] = ("x-request-id", request_id)
        items[self._length_at] = ("content-length", str(len(content)))
        return items


async def post(
    transport: httpx.AsyncBaseTransport,
    form: JsonPost,
    request_id: str,
    content: bytes,
    timeout_s: float,
) -> tuple[bytes, str | None]:
    """POST ``content``; a 2xx answer's body and Content-Type (None when it has none).

    Anything else raises the httpx error that :func:`exchange` and ``raise_for_status`` would
    (``HTTPStatusError`` for a non-2xx status, with the full response).
    """
    if isinstance(transport, AiohttpTransport) and form.sendable(request_id, content):
        return await transport.post(form, request_id, content, timeout_s)
    response = await exchange(transport, form.request(request_id, content, timeout_s))
    return _checked(response)


class StatusError(httpx.HTTPStatusError):
    """httpx's HTTPStatusError for a non-2xx answer, its request and response made when read.

    Departments answer "not found" with a 404 (about half of all answers from the simulator):
    httpx's Request, Response and raise_for_status' message for each cost ≈ 40 µs, and the
    adapters need only the status, the reason, Retry-After and the body, which this keeps as
    they came. Whoever reads ``response``, ``request`` or the message gets exactly what
    ``raise_for_status`` would have given (tests/adapters/test_http_post_fastpath.py).
    """

    def __init__(
        self,
        status: int,
        reason: str | None,
        raw_headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        request: Callable[[], httpx.Request],
    ) -> None:
        Exception.__init__(self, status)  # HTTPStatusError's own __init__ would build them now
        self.status_code, self.body = status, body
        self._reason, self._raw_headers, self._make_request = reason, raw_headers, request
        self._built: httpx.HTTPStatusError | None = None

    @property
    def reason_phrase(self) -> str:
        """As ``httpx.Response.reason_phrase`` gives it."""
        if self._reason is None:
            return httpx.codes.get_reason_phrase(self.status_code)
        return self._reason.encode("ascii", "replace").decode("ascii")

    def header(self, name: str) -> str:
        """A header's values joined by ", " (as ``httpx.Headers.get``), "" when absent."""
        key = name.lower().encode("ascii")
        values = [v.decode("latin-1") for k, v in self._raw_headers if k.lower() == key]
        return ", ".join(values)

    @property
    def response(self) -> httpx.Response:
        return self._real().response

    @response.setter
    def response(self, response: httpx.Response) -> None:
        self._real().response = response

    @property
    def request(self) -> httpx.Request:
        return self._real().request

    @request.setter
    def request(self, request: httpx.Request) -> None:
        self._real().request = request

    def __str__(self) -> str:
        return str(self._real())

    def _real(self) -> httpx.HTTPStatusError:
        if self._built is None:
            response = _response(self.status_code, self._reason, self._raw_headers, self.body)
            response.request = self._make_request()
            try:
                response.raise_for_status()
            except httpx.HTTPStatusError as exc:
                self._built = exc
        assert self._built is not None, "raise_for_status raised for a non-2xx status"
        return self._built


def _checked(response: httpx.Response) -> tuple[bytes, str | None]:
    """A 2xx response's body and Content-Type; HTTPStatusError for any other status."""
    response.raise_for_status()
    return response.content, response.headers.get("content-type")


class AiohttpTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 keep-alive pool (``limit`` connections) for one adapter; TLS with ``verify``.

    The aiohttp session is opened on the first request, in the loop that makes it (aiohttp
    binds a session to its loop), and again if a later request runs in another loop. The
    adapters' plain POSTs to ``http://`` departments (:meth:`post`, no proxy configured) use
    :class:`adapters._h1.Connections` instead, up to ``limit`` connections per origin.
    """

    def __init__(self, verify: ssl.SSLContext | bool = True, limit: int = 100) -> None:
        self._verify = verify
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # HTTP(S)_PROXY / NO_PROXY are honoured, as by httpx, and read once, as by httpx: only
        # when set, since aiohttp's trust_env would read the environment on every request.
        self._proxied = bool(urllib.request.getproxies())
        # plain http:// POSTs (adapters._h1), per origin; https and proxies go through aiohttp
        self._plain: dict[tuple[str, str, int], Connections] = {}

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
        return _response(answer.status, answer.reason, answer.raw_headers, content)

    async def post(
        self, form: JsonPost, request_id: str, content: bytes, timeout_s: float
    ) -> tuple[bytes, str | None]:
        """:func:`post` over this pool (when ``form.sendable``); httpx objects only for what is
        not a plain 2xx answer."""
        url = form.wire_url
        plain = url.scheme == "http" or (url.scheme == "https" and self._verify is not False)
        send = self._plain_post if plain and not self._proxied else self._aiohttp_post
        status, reason, raw_headers, body = await send(form, request_id, content, timeout_s)
        content_type = _plain_content_type(raw_headers)
        if content_type is not _ENCODED:
            if 200 <= status < 300:
                return body, content_type
            raise StatusError(
                status,
                reason,
                raw_headers,
                body,
                lambda: form.request(request_id, content, timeout_s),
            )
        response = _response(status, reason, raw_headers, body)  # httpx decodes, or raises
        response.request = form.request(request_id, content, timeout_s)
        return _checked(response)

    async def _plain_post(
        self, form: JsonPost, request_id: str, content: bytes, timeout_s: float
    ) -> _Answered:
        """Through :mod:`adapters._h1`; failures are already httpx's."""
        url = form.wire_url
        origin = (
            url.scheme,
            url.raw_host or "",
            url.port or (443 if url.scheme == "https" else 80),
        )
        if origin not in self._plain:
            tls = self._tls() if url.scheme == "https" else None
            self._plain[origin] = Connections(*origin[1:], limit=self._limit, tls=tls)
        answer = await self._plain[origin].post(
            form.wire_request(request_id, content),
            timeout_s,
            lambda: form.request(request_id, content, timeout_s),
        )
        return answer.status, answer.reason.decode("latin-1"), answer.headers, answer.body

    def _tls(self) -> ssl.SSLContext:
        """The TLS context ``verify`` stands for (True: the system's default, verifying)."""
        return self._verify if isinstance(self._verify, ssl.SSLContext) else _default_tls()

    async def _aiohttp_post(
        self, form: JsonPost, request_id: str, content: bytes, timeout_s: float
    ) -> _Answered:
        """Through aiohttp's session; its failures translated."""
        headers = form.wire_headers(request_id, content)
        try:
            async with self._open().request(
                "POST",
                form.wire_url,
                headers=headers,
                data=content,
                timeout=_timeouts(timeout_s),
                allow_redirects=False,
            ) as answer:
                body = await answer.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _translate(exc, form.request(request_id, content, timeout_s)) from exc
        return answer.status, answer.reason, answer.raw_headers, body

    async def aclose(self) -> None:
        """Close the pool (a session opened in a loop that has ended is dropped)."""
        for connections in self._plain.values():
            await connections.aclose()
        session, self._session = self._session, None
        if session is not None and self._loop is not None and not self._loop.is_closed():
            await session.close()


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """``ssl.create_default_context()``, made once (it loads the CA certificates)."""
    return ssl.create_default_context()


def _response(
    status: int, reason: str | None, raw_headers: Sequence[tuple[bytes, bytes]], content: bytes
) -> httpx.Response:
    """The httpx response for one we read (httpx decodes any Content-Encoding from ``content``)."""
    extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
    if reason is not None:  # without one, httpx gives the standard phrase of the status
        extensions["reason_phrase"] = reason.encode("ascii", "replace")
    return httpx.Response(status, headers=raw_headers, content=content, extensions=extensions)


#: status, reason phrase, raw headers and body of a response read whole
_Answered = tuple[int, str | None, Sequence[tuple[bytes, bytes]], bytes]

_ENCODED = "\0encoded"  # _plain_content_type: httpx would decode this body


def _plain_content_type(raw_headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """Content-Type as httpx's ``headers.get`` gives it; ``_ENCODED`` if httpx must step in.

    httpx decodes a body with a Content-Encoding, and decodes header values as ASCII when they
    all are (else UTF-8 or Latin-1): both cases are left to httpx.
    """
    values = []
    for key, value in raw_headers:
        name = key.lower()
        if name == b"content-encoding":
            return _ENCODED
        if name == b"content-type":
            if not value.isascii():
                return _ENCODED
            values.append(value.decode("ascii"))
    return ", ".join(values) if values else None


def _timeouts(timeout_s: float) -> aiohttp.ClientTimeout:
    """``httpx.Timeout(timeout_s)`` as :func:`_timeout` translates it (every phase the same)."""
    return aiohttp.ClientTimeout(
        connect=timeout_s, sock_connect=timeout_s, sock_read=timeout_s, ceil_threshold=_NO_CEILING
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
