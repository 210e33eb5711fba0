"""The adapters' default transport: httpx requests and responses over aiohttp's pool, exactly."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from adapters._transport import AiohttpTransport, endpoint, exchange

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler on a free loopback port; returns the base URL."""
    runners: list[web.AppRunner] = []

    async def serve(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    yield serve
    for runner in runners:
        await runner.cleanup()


def _request(url: str, timeout_s: float = 5.0, **kwargs: Any) -> httpx.Request:
    timeout = httpx.Timeout(timeout_s).as_dict()
    return httpx.Request("POST", url, extensions={"timeout": timeout}, **kwargs)


@pytest.mark.asyncio
async def test_request_and_response_cross_unchanged(served: Callable[..., Awaitable[str]]) -> None:
    """Method, quoted query, headers and body arrive as httpx built them; gzip is decoded."""
    seen: dict[str, object] = {}

    async def handler(request: web.Request) -> web.Response:
        seen.update(query=request.raw_path, rid=request.headers["X-Request-Id"])
        seen["body"] = await request.read()
        body = gzip.compress("答复".encode())
        return web.Response(body=body, reason="Fine", headers={"Content-Encoding": "gzip"})

    base = await served(handler)
    request = _request(
        base + "/p:q", params={"id": "中 文+/&="}, content=b"{}", headers={"X-Request-Id": "r1"}
    )
    transport = AiohttpTransport()
    response = await exchange(transport, request)
    await transport.aclose()
    assert seen == {"query": request.url.raw_path.decode(), "rid": "r1", "body": b"{}"}
    assert (response.status_code, response.reason_phrase, response.text) == (200, "Fine", "答复")
    assert response.request is request


@pytest.mark.asyncio
async def test_connections_are_kept_alive_and_reused(served: Callable[..., Awaitable[str]]) -> None:
    """64 calls from 8 callers open at most 8 connections."""
    ports: set[int] = set()

    async def handler(request: web.Request) -> web.Response:
        assert request.transport is not None
        ports.add(request.transport.get_extra_info("peername")[1])
        return web.Response(body=b"ok")

    base = await served(handler)
    transport = AiohttpTransport()

    async def caller() -> None:
        for _ in range(8):
            assert (await exchange(transport, _request(base + "/x"))).content == b"ok"

    await asyncio.gather(*(caller() for _ in range(8)))
    await transport.aclose()
    assert 1 <= len(ports) <= 8


@pytest.mark.asyncio
async def test_slow_answer_is_read_timeout(served: Callable[..., Awaitable[str]]) -> None:
    """No answer within the read timeout raises httpx.ReadTimeout."""

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(body=b"late")

    base = await served(handler)
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.ReadTimeout):
            await exchange(transport, _request(base + "/slow", timeout_s=0.1))
    finally:
        await transport.aclose()


@pytest.mark.asyncio
async def test_refused_connection_is_connect_error() -> None:
    """A closed port raises httpx.ConnectError (what the retry policy retries)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.ConnectError):
            await exchange(transport, _request(f"http://127.0.0.1:{port}/x"))
    finally:
        await transport.aclose()


@pytest.mark.asyncio
async def test_cut_off_body_is_remote_protocol_error() -> None:
    """A body shorter than its Content-Length raises httpx.RemoteProtocolError."""

    async def half(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"a":')
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(half, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            await exchange(transport, _request(f"http://127.0.0.1:{port}/x"))
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("", "/hukou/v1/persons:query"),
        ("http://dept.test", "/hukou/v1/persons:query"),
        ("http://dept.test/api/", "/v1/a"),
        ("http://dept.test/api", "v1/a"),
        ("http://dept.test", "https://elsewhere.test/v2/b"),
    ],
)
def test_endpoint_resolves_like_an_httpx_client(base: str, path: str) -> None:
    """base_url + path gives the URL httpx.AsyncClient(base_url=…) would request."""
    assert endpoint(base, path) == httpx.AsyncClient(base_url=base).build_request("POST", path).url
