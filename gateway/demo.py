"""``make demo``: the whole product on one machine, in about half a minute.

1. start the department simulator (real HTTP on loopback) over a seeded synthetic population;
2. open the gateway on a SQLite file with the seven built-in adapters pointed at it;
3. submit several households through the real gRPC client, concurrently;
4. verify every DSSE envelope against the exported public key, resubmit one request id to show
   idempotency, and print a table. Exit 0 only if every signature verified.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from adapters.simulator import SimulatorSettings, run_simulator
from audit import dsse
from audit.keys import load_public_pem
from gateway.api._proto.hedui.v1 import verification_pb2 as pb
from gateway.app import Gateway
from gateway.client import Client, request_from_case
from gateway.config import load_settings
from gateway.logging import configure_logging
from gateway.server import running_server

__all__ = ["DEMO_REGIONS", "run_demo"]

DEMO_REGIONS = ("61", "64")


async def run_demo(households: int, workdir: Path) -> int:
    """Run the demo; the return value is the process exit code."""
    console = Console(width=max(Console().width, 150))
    configure_logging(json=False, level="WARNING")
    await asyncio.to_thread(workdir.mkdir, parents=True, exist_ok=True)
    # Shaanxi and Ningxia: the regions with shipped policy files, so assessments have a rule set.
    world = SimulatorSettings(regions=DEMO_REGIONS)
    async with run_simulator(
        host="127.0.0.1", port=0, seed=7, households=max(households, 50), settings=world
    ) as sim:
        console.print(f"[bold]department simulator[/] at {sim.base_url} (seed 7, regions 61/64)")
        settings = load_settings(
            database_url=f"sqlite:///{workdir / 'hedui.db'}",
            key_dir=workdir / "keys",
            sources_base_url=sim.base_url,
        )
        gateway = await Gateway.open(settings)
        try:
            async with running_server(gateway) as server:
                console.print(
                    f"[bold]gateway[/] on {server.target} (SQLite {workdir / 'hedui.db'})"
                )
                cases = await _cases(sim.base_url, households)
                return await _submit_all(console, gateway, server.target, cases)
        finally:
            await gateway.close()


async def _cases(base_url: str, count: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.get("/_sim/households", params={"offset": 0, "limit": count})
        response.raise_for_status()
        data = response.json()
    return list(data["households"] if isinstance(data, dict) else data)


async def _submit_all(
    console: Console, gateway: Gateway, target: str, cases: list[dict[str, Any]]
) -> int:
    today = datetime.now(UTC).date()
    keys = {k.keyid: load_public_pem(k.pem.encode()) for k in gateway.keys.public_keys("report")}
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    async with Client(target, caller="demo") as client:
        requests = [
            request_from_case(c, today=today, request_id=f"demo-{stamp}-{i}")
            for i, c in enumerate(cases)
        ]
        responses = await asyncio.gather(*(client.submit(r, timeout=15) for r in requests))
        again = await client.submit(requests[0], timeout=15)
    table = Table(title="hedui demo: household verifications")
    columns = ("household", "category", "sources", "advisory outcome", "findings", "report", "sig")
    for column in columns:
        table.add_column(column)
    verified = 0
    for case, response in zip(cases, responses, strict=True):
        ok = _verified(response, keys)
        verified += ok
        table.add_row(*_row(case, response, ok))
    console.print(table)
    same = again.replayed and again.report.report_id == responses[0].report.report_id
    console.print(
        f"resubmitting request {requests[0].request_id}: "
        f"{'same report returned, no second query ✓' if same else 'NOT idempotent ✗'}"
    )
    console.print(
        f"{verified}/{len(responses)} envelopes verified with the published key "
        f"{next(iter(keys))[:16]}…"
    )
    return 0 if verified == len(responses) and same else 1


def _verified(response: pb.SubmitVerificationResponse, keys: dict[str, Any]) -> bool:
    envelope = dsse.Envelope(
        response.envelope.payload_type,
        response.envelope.payload,
        tuple(dsse.Signature(s.keyid, s.sig) for s in response.envelope.signatures),
    )
    try:
        dsse.verify(envelope, keys)
    except Exception:
        return False
    return json.loads(envelope.payload)["report_id"] == response.report.report_id


_ANSWERED = (pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND)


def _outcomes(report: pb.Report) -> str:
    """``dibao: ELIGIBLE`` per programme (household-level outcomes; advisory)."""
    lines = [f"{o.programme}: {o.decision}" for o in report.outcomes if o.unit != "single_person"]
    return "\n".join(lines) or "—"


def _row(
    case: dict[str, Any], response: pb.SubmitVerificationResponse, ok: bool
) -> tuple[str, ...]:
    report = response.report
    head = report.household.members[0]
    answered = sum(1 for s in report.sources if s.status in _ANSWERED)
    codes = sorted({f.code for f in report.findings})
    size = len(report.household.members)
    return (
        f"{report.household.region_code} {head.name[:1]}** ({size} people)",
        pb.Category.Name(report.household.category).removeprefix("CATEGORY_"),
        f"{answered}/{len(report.sources)}" + ("" if report.complete else " (incomplete)"),
        _outcomes(report),
        "\n".join(codes) or "—",
        report.report_id[:8],
        "✓" if ok else "✗",
    )
