"""adapters._h1: keep-alive connections, the keep-alive race, framing, timeouts, errors."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
import pytest_asyncio

from adapters import _h1 as h1
from adapters._h1 import Connections
from adapters._transport import DEFAULT_HEADERS, AiohttpTransport, JsonPost, post

pytestmark = pytest.mark.both_loops  # on asyncio's event loop and on uvloop's

REQUEST = b"POST /q HTTP/1.1\r\nhost: dept\r\ncontent-length: 2\r\n\r\n{}"
Reply = Callable[[int, int], bytes | None]  # (connection number, request number on it) -> bytes
Start = Callable[[Reply], Awaitable["Department"]]


def _httpx_request() -> httpx.Request:
    return httpx.Request("POST", "http://dept/q")


def ok(body: bytes = b'{"a": 1}', *headers: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *headers, "", ""]
    return "\r\n".join(head).encode() + body


class Department:
    """A raw HTTP/1.1 server: ``reply(connection, request)`` gives each answer's bytes, or None
    to close the connection without answering (it closes after an answer that says
    ``Connection: close``, too); it counts connections and requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.connections = 0
        self.requests = 0
        self.server: asyncio.Server | None = None

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection, n = self.connections, 0
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(2)
                self.requests += 1
                n += 1
                answer = self.reply(connection, n)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest_asyncio.fixture
async def department() -> AsyncIterator[Start]:
    """Start a :class:`Department` on a free loopback port."""
    started: list[Department] = []

    async def start(reply: Reply) -> Department:
        dept = Department(reply)
        dept.server = await asyncio.start_server(dept.handle, "127.0.0.1", 0)
        started.append(dept)
        return dept

    yield start
    for dept in started:
        assert dept.server is not None
        dept.server.close()
        await dept.server.wait_closed()


async def _post(pool: Connections, timeout_s: float = 2.0) -> bytes:
    answer = await pool.post(REQUEST, timeout_s, _httpx_request)
    assert answer.status == 200
    return answer.body


@pytest.mark.asyncio
async def test_answers_come_back_whole_over_one_kept_alive_connection(department: Start) -> None:
    """Three requests in turn: three answers, one connection."""
    dept = await department(lambda c, n: ok(b'{"n": %d}' % n))
    pool = Connections("127.0.0.1", dept.port)
    assert [await _post(pool) for _ in range(3)] == [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
    assert dept.connections == 1
    await pool.aclose()


@pytest.mark.asyncio
async def test_a_connection_closed_as_we_reuse_it_is_replaced_once(department: Start) -> None:
    """The keep-alive race: a pooled connection dropped unanswered is retried on a new one."""
    dept = await department(lambda c, n: ok() if n == 1 else None)  # each serves one request
    pool = Connections("127.0.0.1", dept.port)
    assert await _post(pool) == b'{"a": 1}'
    assert await _post(pool) == b'{"a": 1}'
    assert (dept.connections, dept.requests) == (2, 3)  # the dropped request, then a new one
    await pool.aclose()


@pytest.mark.asyncio
async def test_a_new_connection_closed_unanswered_is_a_protocol_error(department: Start) -> None:
    """No retry when the connection was new: httpx.RemoteProtocolError, naming the request."""
    dept = await department(lambda c, n: None)
    pool = Connections("127.0.0.1", dept.port)
    with pytest.raises(httpx.RemoteProtocolError) as caught:
        await _post(pool)
    assert caught.value.request.url == "http://dept/q"
    assert dept.requests == 1


@pytest.mark.asyncio
async def test_chunked_and_close_delimited_bodies_are_read_whole(department: Start) -> None:
    """Transfer-Encoding: chunked is joined; a body without a length ends with the connection."""
    chunked = (
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{"a\r\n5\r\n": 1}\r\n0\r\n\r\n'
    )
    dept = await department(lambda c, n: chunked)
    pool = Connections("127.0.0.1", dept.port)
    assert await _post(pool) == b'{"a": 1}'
    await pool.aclose()

    unframed = b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"b": 2}'
    dept = await department(lambda c, n: unframed if n == 1 else None)
    pool = Connections("127.0.0.1", dept.port)
    # the server closes after writing: the answer ends there, and the connection is not reused
    assert await _post(pool) == b'{"b": 2}'
    assert await _post(pool) == b'{"b": 2}'
    assert dept.connections == 2


@pytest.mark.asyncio
async def test_connection_close_is_honoured(department: Start) -> None:
    """An answer saying ``Connection: close`` is the connection's last."""
    dept = await department(lambda c, n: ok(b"{}", "Connection: close"))
    pool = Connections("127.0.0.1", dept.port)
    await _post(pool)
    await _post(pool)
    assert dept.connections == 2


@pytest.mark.asyncio
async def test_a_slow_answer_is_a_read_timeout_and_its_connection_is_dropped(
    department: Start,
) -> None:
    """No whole answer within the timeout: httpx.ReadTimeout; the next request connects anew."""
    dept = await department(
        lambda c, n: b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{" if c == 1 else ok()
    )
    pool = Connections("127.0.0.1", dept.port)
    with pytest.raises(httpx.ReadTimeout):
        await _post(pool, timeout_s=0.2)
    assert await _post(pool) == b'{"a": 1}'
    assert dept.connections == 2
    await pool.aclose()


@pytest.mark.asyncio
async def test_the_systems_own_read_timeout_is_a_read_timeout(
    department: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection the kernel gives up on (ETIMEDOUT) while an answer is awaited, long before
    the call's own deadline: httpx.ReadTimeout, not a protocol error, and the connection goes."""
    made: list[h1._Connection] = []

    class Recorded(h1._Connection):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(h1, "_Connection", Recorded)
    asked = asyncio.Event()

    def reply(connection: int, request: int) -> bytes:
        asked.set()
        return b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{"  # the rest never comes

    dept = await department(reply)
    pool = Connections("127.0.0.1", dept.port)
    call = asyncio.create_task(_post(pool, timeout_s=30.0))
    await asyncio.wait_for(asked.wait(), 5.0)
    made[0].connection_lost(TimeoutError(110, "Connection timed out"))
    with pytest.raises(httpx.ReadTimeout, match="timed out"):
        await asyncio.wait_for(call, 5.0)
    assert not made[0].open
    await pool.aclose()


@pytest.mark.asyncio
async def test_a_refused_connection_is_a_connect_error() -> None:
    """A closed port: httpx.ConnectError (which the retry policy retries)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await _post(Connections("127.0.0.1", port))


@pytest.mark.asyncio
async def test_callers_beyond_the_limit_wait_for_a_connection(department: Start) -> None:
    """With ``limit=1`` ten concurrent callers share one connection, one request at a time."""
    dept = await department(lambda c, n: ok(b'{"n": %d}' % n))
    pool = Connections("127.0.0.1", dept.port, limit=1)
    bodies = await asyncio.gather(*(_post(pool) for _ in range(10)))
    assert sorted(bodies) == sorted(b'{"n": %d}' % n for n in range(1, 11))
    assert dept.connections == 1
    await pool.aclose()


@pytest.mark.asyncio
async def test_no_free_connection_within_the_timeout_is_a_pool_timeout(department: Start) -> None:
    """With ``limit=1`` and the one connection waiting on a slow answer, the next caller's
    timeout runs out in the queue: httpx.PoolTimeout, and nothing sent for it."""
    gate = asyncio.Event()
    dept = await department(lambda c, n: ok())
    original = dept.handle

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await gate.wait()
        await original(reader, writer)

    assert dept.server is not None
    dept.server.close()
    dept.server = await asyncio.start_server(slow, "127.0.0.1", 0)
    pool = Connections("127.0.0.1", dept.port, limit=1)
    first = asyncio.create_task(_post(pool, timeout_s=5.0))
    await asyncio.sleep(0.05)
    with pytest.raises(httpx.PoolTimeout):
        await _post(pool, timeout_s=0.1)
    gate.set()
    assert await first == b'{"a": 1}'
    assert dept.requests == 1
    await pool.aclose()


@pytest.mark.asyncio
async def test_a_cancelled_call_does_not_leave_its_connection_in_the_pool(
    department: Start,
) -> None:
    """Cancelled while waiting: that connection is closed; the next call gets its own answer."""
    gate = asyncio.Event()

    def reply(c: int, n: int) -> bytes | None:
        return ok(b'{"late": 1}') if c == 1 else ok(b'{"own": 1}')

    dept = await department(reply)
    original = dept.handle

    async def slow_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if dept.connections == 0:
            await gate.wait()  # the first connection answers only after the cancellation
        await original(reader, writer)

    dept.server.close()  # type: ignore[union-attr]
    dept.server = await asyncio.start_server(slow_first, "127.0.0.1", 0)
    pool = Connections("127.0.0.1", dept.port)
    call = asyncio.create_task(_post(pool))
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    gate.set()
    assert await _post(pool) == b'{"own": 1}'
    await pool.aclose()


def test_each_event_loop_gets_its_own_connections() -> None:
    """Used from two event loops in turn (``asyncio.run`` each), the same pool works in both."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        pool = Connections("127.0.0.1", server.server_address[1])

        async def post_and_close() -> bytes:
            try:
                return await _post(pool)
            finally:
                await pool.aclose()

        assert asyncio.run(post_and_close()) == b"{}"
        assert asyncio.run(post_and_close()) == b"{}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1 from a throw-away CA, and a client
    context that trusts that CA (and verifies host names, as the default context does)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("dept"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([ip]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return server, ssl.create_default_context(cafile=str(folder / "ca.pem"))


@pytest.mark.asyncio
async def test_answers_come_back_over_verified_tls(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """Over TLS with a certificate the client trusts: the answers, over one connection."""
    server_tls, client_tls = tls
    dept = Department(lambda c, n: ok(b'{"n": %d}' % n))
    dept.server = await asyncio.start_server(dept.handle, "127.0.0.1", 0, ssl=server_tls)
    pool = Connections("127.0.0.1", dept.port, tls=client_tls)
    try:
        assert [await _post(pool) for _ in range(2)] == [b'{"n": 1}', b'{"n": 2}']
        assert dept.connections == 1
    finally:
        await pool.aclose()
        dept.server.close()
        await dept.server.wait_closed()


@pytest.mark.asyncio
async def test_an_untrusted_certificate_is_a_connect_error(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """A certificate from a CA the client does not trust: httpx.ConnectError, nothing sent."""
    server_tls, _ = tls
    dept = Department(lambda c, n: ok())
    dept.server = await asyncio.start_server(dept.handle, "127.0.0.1", 0, ssl=server_tls)
    pool = Connections("127.0.0.1", dept.port, tls=ssl.create_default_context())
    try:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await _post(pool)
        assert dept.requests == 0
    finally:
        dept.server.close()
        await dept.server.wait_closed()


@pytest.mark.asyncio
async def test_the_adapters_https_posts_take_the_plain_path(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    """An adapter's POST to an https department, verified with the transport's context, goes
    over these connections and gives the answer's body and Content-Type."""
    server_tls, client_tls = tls
    dept = Department(lambda c, n: ok(b'{"a": 1}', "Content-Type: application/json"))
    dept.server = await asyncio.start_server(dept.handle, "127.0.0.1", 0, ssl=server_tls)
    transport = AiohttpTransport(client_tls)
    url = httpx.URL(f"https://127.0.0.1:{dept.port}/q")
    try:
        form = JsonPost(url, {**DEFAULT_HEADERS, "Content-Type": "application/json"})
        assert await post(transport, form, "r-1", b"{}", 2.0) == (b'{"a": 1}', "application/json")
        assert ("https", "127.0.0.1", dept.port) in transport._plain
    finally:
        await transport.aclose()
        dept.server.close()
        await dept.server.wait_closed()
