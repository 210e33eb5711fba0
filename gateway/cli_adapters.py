"""`hedui adapters list` and `hedui adapters check`: the data sources, offline or from a gateway.

Without ``--target`` both work from the configuration on this machine (``HEDUI_CONFIG``): the
sources are loaded exactly as the gateway would load them. With ``--target HOST:PORT`` they ask a
running gateway's AdminService, which knows the live circuit state, latency and quota.

Exit codes: 0 success (``check``: the source is healthy), 1 a check failed or the gateway or
configuration could not be read, 2 bad usage.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import grpc
import typer
from rich.console import Console
from rich.table import Table

from adapters.base import AnswerStatus
from adapters.resilience import CircuitState
from gateway.admin import AdapterView, ProbeResult, describe, find, probe
from gateway.api._proto.hedui.v1 import admin_pb2 as pb
from gateway.api._proto.hedui.v1 import admin_pb2_grpc as pb_grpc
from gateway.api._proto.hedui.v1 import verification_pb2 as vpb
from gateway.cli_text import command, fail
from gateway.config import load_settings
from gateway.registry import LoadedAdapter, RegistryError
from gateway.sources import build_sources, close_sources

__all__ = ["adapters_app"]

adapters_app = typer.Typer(
    help="Data sources: list them with their health figures, probe one.", no_args_is_help=True
)

TargetOption = Annotated[
    str | None,
    typer.Option("--target", help="HOST:PORT of a running gateway (default: this configuration)"),
]
_CIRCUIT = {
    pb.CIRCUIT_STATE_CLOSED: CircuitState.CLOSED,
    pb.CIRCUIT_STATE_OPEN: CircuitState.OPEN,
    pb.CIRCUIT_STATE_HALF_OPEN: CircuitState.HALF_OPEN,
}
_KIND = {pb.ADAPTER_KIND_PLUGIN: "plugin", pb.ADAPTER_KIND_DECLARATIVE: "declarative"}
_STYLE = {CircuitState.CLOSED: "green", CircuitState.HALF_OPEN: "yellow", CircuitState.OPEN: "red"}


def _view_of(info: pb.AdapterInfo) -> AdapterView:
    return AdapterView(
        name=info.name,
        distribution=info.distribution,
        version=info.version,
        category=info.category,
        department=info.department,
        kind=_KIND.get(info.kind, "?"),
        tiers=tuple(info.tiers),
        circuit_state=_CIRCUIT.get(info.circuit_state, CircuitState.CLOSED),
        p50_ms=info.p50_latency_ms,
        p99_ms=info.p99_latency_ms,
        error_rate=info.error_rate,
        calls=info.calls,
        quota_limit=info.quota_limit,
        quota_left=info.quota_left,
    )


def _row(v: AdapterView, live: bool) -> list[str]:
    quota = f"{v.quota_left}/{v.quota_limit}" if v.quota_limit else "∞"
    tiers = ", ".join(v.tiers)
    row = [v.name, v.kind, f"{v.distribution} {v.version}", v.category, v.department, tiers, quota]
    if live:
        state = f"[{_STYLE[v.circuit_state]}]{v.circuit_state.value}[/]"
        row += [state, f"{v.p50_ms:.1f}", f"{v.p99_ms:.1f}", f"{v.error_rate:.0%}"]
    return row


def _table(views: list[AdapterView], live: bool) -> Table:
    """Offline (from the configuration) the live figures are unknown: no columns for them."""
    table = Table(title="data sources" + ("" if live else " (from the configuration)"))
    for column in ("name", "kind", "provided by", "category", "department", "tiers"):
        table.add_column(column)
    table.add_column("quota left", justify="right")
    for column in ("circuit", "p50 ms", "p99 ms", "errors") if live else ():
        table.add_column(column, justify="right")
    for view in views:
        table.add_row(*_row(view, live))
    return table


def _load_local(console: Console) -> list[LoadedAdapter]:
    try:
        return build_sources(load_settings())
    except (RegistryError, ValueError) as exc:
        fail(console, f"configuration: {exc}")


async def _list_remote(target: str) -> list[AdapterView]:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.AdminServiceStub(channel)
        response = await stub.ListAdapters(pb.ListAdaptersRequest(), timeout=10.0)
    return [_view_of(info) for info in response.adapters]


async def _check_remote(target: str, name: str, timeout_s: float) -> ProbeResult:
    async with grpc.aio.insecure_channel(target) as channel:
        stub = pb_grpc.AdminServiceStub(channel)
        r = await stub.CheckAdapter(pb.CheckAdapterRequest(name=name), timeout=timeout_s)
    return ProbeResult(
        name=r.name,
        status=AnswerStatus(vpb.SourceStatus.Name(r.status).removeprefix("SOURCE_STATUS_")),
        error=r.error,
        latency_ms=r.latency_ms,
        attempts=r.attempts,
        records=r.records,
        subjects=r.subjects,
        circuit_state=_CIRCUIT.get(r.circuit_state, CircuitState.CLOSED),
    )


async def _check_local(items: list[LoadedAdapter], name: str, timeout_s: float) -> ProbeResult:
    try:
        item = find(items, name)
        if item is None:
            raise LookupError(f"no source named {name!r} in the configuration")
        return await probe(item, load_settings(), timeout_s)
    finally:
        await close_sources(items)


@command(adapters_app, "list")
def list_adapters(target: TargetOption = None) -> None:
    """Print every data source: name, kind (plugin or declarative), the distribution and version
    that provide it, category and department.

    With --target, also the live figures of a running gateway: circuit state, p50/p99 latency
    and error rate over the recent calls, and today's quota left.
    """
    console = Console()
    if target:
        try:
            views = asyncio.run(_list_remote(target))
        except grpc.RpcError as exc:
            fail(console, f"{target}: {exc.code().name} {exc.details()}")
    else:
        items = _load_local(console)
        views = sorted((describe(i) for i in items), key=lambda v: v.name)
        asyncio.run(close_sources(items))
    console.print(_table(views, live=bool(target)))


@command(adapters_app, "check")
def check_adapter(
    name: Annotated[str, typer.Argument(help="the source to probe, as `adapters list` names it")],
    target: TargetOption = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the answer")] = 5.0,
) -> None:
    """Probe one source now with a real query: for its configured probe subject
    (`[adapters.<name>] probe_id_number`), or for nobody.

    Healthy means the department answered (OK or NOT_FOUND). Exit 0 healthy, 1 not.
    """
    console = Console()
    try:
        if target:
            result = asyncio.run(_check_remote(target, name, timeout))
        else:
            result = asyncio.run(_check_local(_load_local(console), name, timeout))
    except grpc.RpcError as exc:
        fail(console, f"{target}: {exc.code().name} {exc.details()}")
    except LookupError as exc:
        fail(console, str(exc))
    mark = "[green]✓ healthy[/]" if result.healthy else "[red]✗ not healthy[/]"
    console.print(
        f"{mark} {result.name}: {result.status.value} in {result.latency_ms:.1f} ms, "
        f"{result.attempts} attempt(s), {result.records} record(s) for {result.subjects} "
        f"subject(s), circuit {result.circuit_state.value}"
    )
    if result.error:
        console.print(f"  {result.error}")
    raise typer.Exit(0 if result.healthy else 1)
