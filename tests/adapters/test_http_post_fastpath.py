"""adapters._transport.post: the adapters' per-call path gives exactly what httpx's path gives."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio
from hypothesis import given
from hypothesis import strategies as st

from adapters._http import _status_error, _status_of
from adapters._transport import (
    DEFAULT_HEADERS,
    AiohttpTransport,
    JsonPost,
    StatusError,
    _checked,
    exchange,
    post,
)

pytestmark = pytest.mark.both_loops  # on asyncio's event loop and on uvloop's

URL = httpx.URL("http://127.0.0.1:9/hukou/v1/persons:query")
HEADERS = {**DEFAULT_HEADERS, "Accept": "application/json", "Content-Type": "application/json"}
Serve = Callable[[bytes], Awaitable[tuple[httpx.URL, list[bytes]]]]

_ascii = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=30)
_names = st.sampled_from(["X-Request-Id", "x-request-id", "Content-Length", "X-Api-Key", "Accept"])


@given(
    request_id=_ascii,
    content=st.binary(max_size=300),
    extra=st.dictionaries(_names, _ascii, max_size=3),
)
def test_wire_headers_are_what_httpx_would_send(
    request_id: str, content: bytes, extra: dict[str, str]
) -> None:
    """Headers worked out without httpx equal httpx.Request's, or defer to httpx (None)."""
    form = JsonPost(URL, {**HEADERS, **extra})
    wire = form.wire_headers(request_id, content)
    expected = form.request(request_id, content, 1.0).headers.multi_items()
    assert wire is None or wire == expected
    assert wire is not None or "Content-Length" in extra or not content


@given(
    request_id=_ascii,
    content=st.binary(min_size=1, max_size=300),
    extra=st.dictionaries(
        st.sampled_from(["X-Api-Key", "Accept", "X-Note"]),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30),
        max_size=3,
    ),
)
def test_wire_request_is_the_request_line_and_httpx_headers(
    request_id: str, content: bytes, extra: dict[str, str]
) -> None:
    """The bytes sent without httpx: request line, httpx's headers in order, blank line, body."""
    form = JsonPost(URL, {**HEADERS, **extra})
    assert form.sendable(request_id, content)
    request = form.request(request_id, content, 1.0)
    head = [f"POST {URL.raw_path.decode()} HTTP/1.1"]
    head += [f"{name}: {value}" for name, value in request.headers.multi_items()]
    assert form.wire_request(request_id, content) == "\r\n".join([*head, "", ""]).encode() + content


@pytest.mark.parametrize("request_id", ["请求-1", "r\r\nX-Injected: 1", "r\n1", "r\t1", "r\x00"])
def test_request_ids_httpx_would_refuse_or_that_could_split_headers_go_through_httpx(
    request_id: str,
) -> None:
    """Non-ASCII or control characters (a CR/LF would start a header of its own): httpx's path."""
    form = JsonPost(URL, HEADERS)
    assert not form.sendable(request_id, b"{}")
    assert form.wire_headers(request_id, b"{}") is None


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """A raw HTTP/1.1 server answering every request with fixed bytes; it keeps what it read."""
    servers: list[asyncio.Server] = []

    async def start(answer: bytes) -> tuple[httpx.URL, list[bytes]]:
        seen: list[bytes] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while head := await reader.readuntil(b"\r\n\r\n"):
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                seen.append(head + await reader.readexactly(length))
                writer.write(answer)
                await writer.drain()
                if reader.at_eof():
                    break

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return httpx.URL(f"http://127.0.0.1:{port}/hukou/v1/persons:query"), seen

    yield start
    for server in servers:
        server.close()


async def _both(form: JsonPost) -> list[tuple[bytes, str | None] | BaseException]:
    """The result of the fast path and of httpx's path (exchange + raise_for_status), in turn."""
    transport = AiohttpTransport()
    outcomes: list[tuple[bytes, str | None] | BaseException] = []
    calls = [
        post(transport, form, "req-1", b'{"id_numbers": []}', 2.0),
        _slow(transport, form.request("req-1", b'{"id_numbers": []}', 2.0)),
    ]
    for call in calls:
        try:
            outcomes.append(await call)
        except httpx.HTTPError as exc:
            outcomes.append(exc)
    await transport.aclose()
    return outcomes


async def _slow(transport: AiohttpTransport, request: httpx.Request) -> tuple[bytes, str | None]:
    return _checked(await exchange(transport, request))


def _response(status: str, headers: list[str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers, f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(lines).encode("latin-1") + body


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        ("200 OK", ["Content-Type: application/json; charset=utf-8"], '{"a": "答"}'.encode()),
        ("200 OK", [], b"{}"),
        ("200 OK", ["Content-Type: application/json", "Content-Type: text/x"], b"{}"),
        ("200 OK", ["Content-Type: application/json", "X-Note: caf\xe9"], b"{}"),
        ("200 Fine", ["Content-Type: text/plain; x=\xe9"], b"{}"),
        ("203 Non-Authoritative", ["Content-Type: application/json"], b"[]"),
        ("200 OK", ["Content-Encoding: gzip"], gzip.compress(b'{"z": 1}')),
    ],
)
async def test_answers_are_what_httpx_gives(
    serve: Serve, status: str, headers: list[str], body: bytes
) -> None:
    """A 2xx answer: the same body (decoded as httpx decodes) and Content-Type by both paths."""
    url, seen = await serve(_response(status, headers, body))
    fast, slow = await _both(JsonPost(url, HEADERS))
    assert fast == slow
    assert seen[0] == seen[1]  # the same request bytes on the wire


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "headers"),
    [
        ("404 Not Found", ["Content-Type: application/json"]),
        ("429 Too Many Requests", ["Retry-After: 3"]),
        ("503 Service Unavailable", []),
        ("302 Found", ["Location: /elsewhere"]),
    ],
)
async def test_other_statuses_raise_what_httpx_raises(
    serve: Serve, status: str, headers: list[str]
) -> None:
    """A non-2xx answer raises the same HTTPStatusError, with an equal response and request."""
    url, _ = await serve(_response(status, headers, b'{"error": {"code": "X", "message": "m"}}'))
    fast, slow = await _both(JsonPost(url, HEADERS))
    assert isinstance(fast, httpx.HTTPStatusError)
    assert isinstance(slow, httpx.HTTPStatusError)
    assert str(fast) == str(slow)
    for a, b in ((fast.response, slow.response), (fast.request, slow.request)):
        assert a.headers.raw == b.headers.raw
        assert a.content == b.content
    assert fast.response.reason_phrase == slow.response.reason_phrase
    assert fast.response.request.url == slow.response.request.url


@pytest.mark.asyncio
async def test_refused_connection_raises_what_httpx_raises() -> None:
    """A closed port is httpx.ConnectError by both paths, naming the same request."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    form = JsonPost(httpx.URL(f"http://127.0.0.1:{port}/x"), HEADERS)
    fast, slow = await _both(form)
    assert type(fast) is type(slow) is httpx.ConnectError
    assert isinstance(fast, httpx.ConnectError)
    assert isinstance(slow, httpx.ConnectError)
    assert fast.request.headers.raw == slow.request.headers.raw


@pytest.mark.asyncio
async def test_other_transports_go_through_httpx() -> None:
    """With a MockTransport the request is httpx's own, and a 2xx answer reads the same."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}", headers={"Content-Type": "application/json"})

    form = JsonPost(URL, HEADERS)
    got = await post(httpx.MockTransport(answer), form, "r-9", b"{}", 1.0)
    assert got == (b"{}", "application/json")
    assert seen[0].headers.raw == form.request("r-9", b"{}", 1.0).headers.raw


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (
            "404 Not Found",
            ["Content-Type: application/json"],
            b'{"error": {"code": "N", "message": "m"}}',
        ),
        ("404 Not Found", [], b"not json"),
        ("429 Too Many Requests", ["Retry-After: 3"], b""),
        ("403 Forbidden", ["retry-after: 1", "Retry-After: 2"], b"{}"),
        ("503 Service Unavailable", [], b""),
        ("418 ", [], b""),
    ],
)
async def test_either_path_makes_the_same_adapter_error(
    serve: Serve, status: str, headers: list[str], body: bytes
) -> None:
    """The adapters' error for a non-2xx answer (type, message, Retry-After) is the same from
    the fast path's StatusError, whose httpx objects are never built for it, as from httpx's."""
    url, _ = await serve(_response(status, headers, body))
    fast, slow = await _both(JsonPost(url, HEADERS))
    assert isinstance(fast, StatusError)
    assert isinstance(slow, httpx.HTTPStatusError)
    made = [_status_error("dept", *_status_of(exc)) for exc in (fast, slow)]
    assert fast._built is None  # nothing read the response or the request
    assert type(made[0]) is type(made[1])
    assert str(made[0]) == str(made[1])
    assert getattr(made[0], "retry_after_s", None) == getattr(made[1], "retry_after_s", None)
