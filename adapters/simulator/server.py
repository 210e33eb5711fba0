"""The simulator's HTTP server (aiohttp): seven department APIs plus a small control API.

Control API (prefix ``/_sim``, for tests, benchmarks and the ``hedui sim`` command)::

    GET /_sim/health                        → {"status": "ok", "seed": 7, "households": 200}
    GET /_sim/households?offset=0&limit=20  → {"seed", "reference_date", "total", "offset",
                                               "limit", "households": [case file, …]}
    GET /_sim/households/{index}            → one case file (see :mod:`.casefiles`)
    GET /_sim/departments                   → [{"department", "path", "mode", …}, …]
    GET|PUT /_sim/departments/{name}/faults → fault state (see :mod:`.faults`)

The department APIs are described in :mod:`.departments`. The server binds loopback by default.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import date
from typing import Any

import orjson
from aiohttp import web

from adapters.simulator.casefiles import household_json
from adapters.simulator.departments import DEPARTMENTS, Department, parse_request
from adapters.simulator.faults import Action, DepartmentSettings, DepartmentState, FaultMode
from adapters.simulator.population import DEFAULT_REFERENCE_DATE, Population, build_population

__all__ = ["Simulator", "SimulatorSettings", "run_simulator"]

HANG_LIMIT_S = 600.0  # a hanging request is answered 503 after this long, or at shutdown
ANSWER_CACHE_SIZE = 16_384  # answers kept ready: 8 departments x 2,000 households, a few MB
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SimulatorSettings:
    """Population shape and per-department behaviour (``departments`` overrides ``default``)."""

    default: DepartmentSettings = dataclasses.field(default_factory=DepartmentSettings)
    departments: Mapping[str, DepartmentSettings] = dataclasses.field(default_factory=dict)
    reference_date: date = DEFAULT_REFERENCE_DATE
    discrepancy_rate: float = 0.25
    regions: tuple[str, ...] = ()  # region-code prefixes of the population; empty = all China


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON error response ``{"error": {"code", "message"}}``."""
    return web.Response(
        status=status, body=_error_body(code, message), headers={**_JSON_HEADERS, **(headers or {})}
    )


@functools.lru_cache(maxsize=1024)
def _error_body(code: str, message: str) -> bytes:
    """The bytes of an error (most are a department's 404, asked again and again)."""
    return _dumps({"error": {"code": code, "message": message}}).encode()


def _dumps(doc: Any) -> str:
    """JSON as departments send it: UTF-8 Chinese, not ``\\u`` escapes."""
    return json.dumps(doc, ensure_ascii=False)


class Simulator:
    """A running simulator: its population, its departments' live state and its base URL."""

    def __init__(self, population: Population, settings: SimulatorSettings) -> None:
        self.population = population
        self.settings = settings
        self.base_url = ""
        self.departments = {
            name: DepartmentState(
                name, settings.departments.get(name, settings.default), population.seed
            )
            for name in DEPARTMENTS
        }
        self._closing = asyncio.Event()
        # An answer depends only on (department, persons, as-of date): the population never
        # changes while serving, and faults spoil the bytes after the lookup. Building and
        # serialising it was a third of the simulator's CPU per call.
        self._answer_body = functools.lru_cache(maxsize=ANSWER_CACHE_SIZE)(self._build_answer)

    def url(self, department: str) -> str:
        """The full URL of a department's API."""
        return self.base_url + DEPARTMENTS[department].path

    def set_fault(self, department: str, mode: FaultMode | str, **changes: Any) -> None:
        """Switch a fault mode on in-process (what ``PUT …/faults`` does over HTTP)."""
        self.departments[department].update({"mode": FaultMode(mode).value, **changes})

    def reset_faults(self) -> None:
        """Switch every department's fault off."""
        for state in self.departments.values():
            state.reset()

    def case_files(self, offset: int = 0, limit: int = 20) -> list[dict[str, Any]]:
        """Case files ``offset`` … ``offset + limit - 1`` (see :func:`household_json`)."""
        return [household_json(h) for h in self.population.households[offset : offset + limit]]

    def app(self) -> web.Application:
        """The aiohttp application with every route."""
        app = web.Application()
        app.router.add_get("/_sim/health", self._health)
        app.router.add_get("/_sim/households", self._households)
        app.router.add_get("/_sim/households/{index}", self._household)
        app.router.add_get("/_sim/departments", self._departments)
        app.router.add_get("/_sim/departments/{name}/faults", self._get_faults)
        app.router.add_put("/_sim/departments/{name}/faults", self._put_faults)
        for dept in DEPARTMENTS.values():
            app.router.add_post(dept.path, self._department_handler(dept))
        return app

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"status": "ok", "seed": self.population.seed, "households": len(self.population)}
        )

    async def _households(self, request: web.Request) -> web.Response:
        try:
            offset = int(request.query.get("offset", "0"))
            limit = int(request.query.get("limit", "20"))
        except ValueError:
            return _error(400, "BAD_REQUEST", "offset and limit must be integers")
        if offset < 0 or not 0 < limit <= 1000:
            return _error(400, "BAD_REQUEST", "need offset >= 0 and 0 < limit <= 1000")
        page = {
            "seed": self.population.seed,
            "reference_date": self.population.reference_date.isoformat(),
            "total": len(self.population),
            "offset": offset,
            "limit": limit,
            "households": self.case_files(offset, limit),
        }
        return web.json_response(page, dumps=_dumps)

    async def _household(self, request: web.Request) -> web.Response:
        index = request.match_info["index"]
        if not index.isdigit() or int(index) >= len(self.population):
            return _error(404, "NOT_FOUND", f"no household {index}")
        return web.json_response(self.case_files(int(index), 1)[0], dumps=_dumps)

    async def _departments(self, request: web.Request) -> web.Response:
        listing = [
            {**s.to_json(), "path": DEPARTMENTS[n].path} for n, s in self.departments.items()
        ]
        return web.json_response(listing)

    async def _get_faults(self, request: web.Request) -> web.Response:
        state = self.departments.get(request.match_info["name"])
        if state is None:
            return _error(404, "NOT_FOUND", f"no department {request.match_info['name']!r}")
        return web.json_response(state.to_json())

    async def _put_faults(self, request: web.Request) -> web.Response:
        state = self.departments.get(request.match_info["name"])
        if state is None:
            return _error(404, "NOT_FOUND", f"no department {request.match_info['name']!r}")
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("body must be a JSON object")
            state.update(changes)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            return _error(400, "BAD_REQUEST", str(exc))
        return web.json_response(state.to_json())

    def _department_handler(self, dept: Department) -> Handler:
        """The request handler of one department API."""

        async def handle(request: web.Request) -> web.StreamResponse:
            plan = self.departments[dept.name].plan()
            if plan.delay_s:
                await self._wait_closing(plan.delay_s)
            if plan.action is Action.ANSWER or plan.action in _BODY_ACTIONS:
                return await self._answer(dept, request, plan.action)
            return await self._fail(dept, plan.action)

        return handle

    async def _fail(self, dept: Department, action: Action) -> web.Response:
        """Hang, 500, 503 or 429."""
        if action is Action.HANG:
            await self._wait_closing(HANG_LIMIT_S)
            return _error(503, "UNAVAILABLE", "the simulator is shutting down")
        if action is Action.STATUS_429:
            retry = str(self.departments[dept.name].retry_after_s)
            return _error(429, "RATE_LIMITED", "too many requests", {"Retry-After": retry})
        if action is Action.HTTP_503:
            return _error(503, "UNAVAILABLE", f"{dept.title}: temporarily unavailable")
        return _error(500, "INTERNAL", f"{dept.title}: internal error")

    async def _answer(self, dept: Department, request: web.Request, action: Action) -> web.Response:
        """Validate the request and answer it (possibly spoiling the body, by the fault mode)."""
        try:
            query = parse_request(orjson.loads(await request.read()))
        except ValueError as exc:  # orjson.JSONDecodeError is a ValueError
            return _error(400, "BAD_REQUEST", str(exc))
        if dept.needs_authorization and not query.authorization_ref:
            return _error(403, "AUTHORIZATION_REQUIRED", "查询须提供授权书编号 (authorization_ref)")
        body = self._answer_body(dept.name, query.id_numbers, query.as_of)
        if body is None:
            return _error(404, "NOT_FOUND", f"{dept.title}: no record for any of the subjects")
        return web.Response(body=_spoil(body, action), headers=_JSON_HEADERS)

    def _build_answer(self, department: str, ids: tuple[str, ...], as_of: date) -> bytes | None:
        """The department's answer document as bytes, or None when it knows nobody (→ 404)."""
        holdings = [(i, self.population.records_of(i)) for i in ids]
        doc = DEPARTMENTS[department].answer(holdings, as_of)
        return None if doc is None else _dumps(doc).encode()

    async def _wait_closing(self, seconds: float) -> None:
        """Sleep ``seconds``, waking early when the simulator shuts down."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def close(self) -> None:
        """Wake every sleeping or hanging request (called at shutdown)."""
        self._closing.set()


_BODY_ACTIONS = {Action.MALFORMED_JSON, Action.TRUNCATED_BODY, Action.WRONG_SCHEMA}


def _spoil(body: bytes, action: Action) -> bytes:
    """The answer's bytes, spoiled as the fault mode says."""
    if (
        action is Action.WRONG_SCHEMA
    ):  # the bytes of _dumps({"errcode": 0, "data": {"rows": [doc]}})
        return b'{"errcode": 0, "data": {"rows": [' + body + b"]}}"
    if action is Action.TRUNCATED_BODY:
        return body[: len(body) // 2]
    if action is Action.MALFORMED_JSON:
        return b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    return body


@contextlib.asynccontextmanager
async def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 7,
    households: int = 200,
    settings: SimulatorSettings | None = None,
) -> AsyncIterator[Simulator]:
    """Serve a simulator on ``host:port`` (0 = any free port) while the block runs."""
    settings = settings or SimulatorSettings()
    population = build_population(
        seed,
        households,
        reference_date=settings.reference_date,
        discrepancy_rate=settings.discrepancy_rate,
        regions=settings.regions,
    )
    sim = Simulator(population, settings)
    runner = web.AppRunner(
        sim.app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        sim.base_url = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
        yield sim
    finally:
        sim.close()
        await runner.cleanup()
