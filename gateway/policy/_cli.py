"""``hedui policy``: check policy files, explain a stored report's calculation.

Exit codes: 0 valid / printed, 1 a file is invalid or the report has no assessment, 2 bad usage.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from gateway.policy._load import check_policy_file

__all__ = ["explain_lines", "policy_app"]

policy_app = typer.Typer(
    help="Policy files (rules as data): check them; explain a report's calculation trace.",
    no_args_is_help=True,
)


@policy_app.command("check")
def check(
    files: Annotated[list[Path], typer.Argument(help="policy files (TOML) to validate")],
) -> None:
    """Validate each FILE; print its version and digest, or every problem as FILE: KEY: REASON."""
    failed = False
    for path in files:
        document, errors = check_policy_file(path)
        for error in errors:
            typer.echo(str(error), err=True)
        if document is not None:
            typer.echo(
                f"{path}: OK {document.region}/{document.programme} "
                f"{document.version} {document.digest}"
            )
        failed = failed or bool(errors)
    raise typer.Exit(1 if failed else 0)


@policy_app.command("explain")
def explain(report_id: Annotated[str, typer.Argument(help="the report's id")]) -> None:
    """Print the assessment of a stored report: pinned policies, outcomes, calculation trace."""
    payload = asyncio.run(_payload(report_id))
    if payload is None:
        typer.echo(f"no report {report_id!r}", err=True)
        raise typer.Exit(1)
    lines = explain_lines(payload)
    for line in lines:
        typer.echo(line)
    raise typer.Exit(0 if payload.get("assessment") else 1)


async def _payload(report_id: str) -> dict[str, Any] | None:
    """The signed payload of a stored report; the read is recorded in the audit log."""
    from audit.events import ReportRead, entry_bytes
    from audit.sql import SqlStorage
    from gateway.config import load_settings
    from gateway.db import create_engine
    from gateway.store import Store

    engine = create_engine(load_settings().database_url)
    try:
        store = Store(engine, SqlStorage(engine))
        stored = await store.get_report(report_id)
        if stored is None:
            return None
        read = ReportRead(
            report_id=report_id, reader="hedui policy explain", read_at=datetime.now(UTC)
        )
        await store.record_read(entry_bytes(read))
        data: dict[str, Any] = json.loads(stored.payload)
        return data
    finally:
        await engine.dispose()


def explain_lines(payload: dict[str, Any]) -> list[str]:
    """The human-readable trace of a report payload (pure; also used by the tests)."""
    assessment = payload.get("assessment")
    if not assessment:
        return [f"report {payload.get('report_id')} has no assessment (made before policies)"]
    out = [f"report {payload['report_id']}  as of {assessment['as_of']}"]
    for programme in assessment["programmes"]:
        out += _programme_lines(programme)
    tolerances = assessment.get("tolerances", [])
    out += ["", "== declared-versus-verified tolerances"] if tolerances else []
    out += [
        f"  {t['name']} = {t['value']} ({t['origin']}"
        f"{', illustrative' if t['illustrative'] else ''}): {t['reference']}"
        for t in tolerances
    ]
    return out


def _programme_lines(programme: dict[str, Any]) -> list[str]:
    pin = programme["policy"]
    name = f"{pin['version']} {pin['digest']}" if pin else "no policy"
    out = ["", f"== {programme['programme']}: {name}"]
    for step in programme["trace"]:
        who = f" [{step['subject_id']}]" if step["subject_id"] else ""
        out.append(f"  {step['step']}{who}: {step['value']} — {step['explain']}")
        out += [
            f"      parameter {p['name']} = {p['value']}"
            f"{' (illustrative)' if p['illustrative'] else ''}: {p['reference']}"
            for p in step["parameters"]
        ]
        out += [
            f"      fact {i['source']} {i['record_id']} as of {i['as_of']}" for i in step["inputs"]
        ]
    for outcome in programme["outcomes"]:
        who = f" member {outcome['subject_id']}" if outcome["subject_id"] else ""
        grace = outcome["grace"]
        until = f" (渐退 {grace['start']} → {grace['end']})" if grace else ""
        decided = ", ".join(outcome["decided_by"])
        out.append(f"  => {outcome['unit']}{who}: {outcome['decision']}{until} by {decided}")
    return out
