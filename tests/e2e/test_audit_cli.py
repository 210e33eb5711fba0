"""The auditor's CLI: export a bundle, verify it offline, verify the log, rotate keys."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from typer.testing import CliRunner, Result

from audit.sql import checkpoints_table, leaves
from gateway.api._proto.hedui.v1 import audit_pb2 as apb
from gateway.api._proto.hedui.v1 import audit_pb2_grpc as apb_grpc
from gateway.app import Gateway
from gateway.cli import app
from gateway.client import Client, request_from_case


async def hedui(gateway: Gateway, *args: str) -> Result:
    """Run ``hedui ARGS`` in a thread (it runs its own event loop) on the gateway's settings."""
    env = {
        "HEDUI_DATABASE_URL": gateway.settings.database_url,
        "HEDUI_KEY_DIR": str(gateway.settings.key_dir),
        "HEDUI_LOG_ORIGIN": gateway.settings.log_origin,
        "COLUMNS": "200",
    }
    return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)


async def exported(
    client: Client, gateway: Gateway, case: dict[str, Any], tmp_path: Path, tag: str
) -> tuple[str, Path]:
    """Submit ``case``, sign a checkpoint over it, export its bundle; the report id and file."""
    today = datetime.now(UTC).date()
    response = await client.submit(request_from_case(case, today=today, request_id=tag))
    await gateway.integrator.run_once()
    path = tmp_path / f"{tag}.json"
    result = await hedui(gateway, "report", "export", response.report.report_id, "-o", str(path))
    assert result.exit_code == 0, result.output
    return response.report.report_id, path


def edit(path: Path, change: Any) -> Path:
    """A copy of the bundle with ``change`` applied to its JSON document."""
    doc = json.loads(path.read_text())
    change(doc)
    out = path.with_name("edited-" + path.name)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    return out


def flip_payload(doc: dict[str, Any]) -> None:
    payload = bytearray(base64.b64decode(doc["envelope"]["payload"]))
    payload[payload.index(b'"complete":') + len(b'"complete":')] ^= 0x01  # t → u
    doc["envelope"]["payload"] = base64.b64encode(bytes(payload)).decode()


def edit_raw(doc: dict[str, Any]) -> None:
    answer = next(a for a in doc["answers"] if a["raw"])
    raw = base64.b64decode(answer["raw"]).replace(b"{", b"{ ", 1)
    answer["raw"] = base64.b64encode(raw).decode()


def flip_proof(doc: dict[str, Any]) -> None:
    first = doc["log"]["inclusion_proof"][0]
    doc["log"]["inclusion_proof"][0] = ("0" if first[0] != "0" else "1") + first[1:]


def edit_checkpoint(doc: dict[str, Any]) -> None:
    origin, size, rest = doc["log"]["checkpoint"].split("\n", 2)
    doc["log"]["checkpoint"] = f"{origin}\n{int(size) + 1}\n{rest}"


@pytest.mark.asyncio
async def test_exported_bundle_passes_every_check(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    """An unedited bundle passes all six checks, with the bundle's keys and the auditor's."""
    pinned = next(c for c in cases if c["region_code"].startswith("61"))  # replays a policy file
    _, path = await exported(client, gateway, pinned, tmp_path, "cli-ok")
    assert json.loads(path.read_text())["envelope"]["payload"]
    result = await hedui(gateway, "audit", "verify-bundle", str(path))
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 6
    assert "all checks passed" in result.output
    assert "--key and --vkey" in result.output  # the warning about self-supplied keys
    pem = tmp_path / "report.pem"
    pem.write_text(gateway.keys.public_keys("report")[0].pem)
    vkey = gateway.integrator.signer.verifier().vkey()
    own = await hedui(
        gateway, "audit", "verify-bundle", str(path), "--key", str(pem), "--vkey", vkey
    )
    assert own.exit_code == 0, own.output
    assert "note:" not in own.output


EDITS = [
    (flip_payload, "envelope signature"),
    (edit_raw, "raw answers"),
    (flip_proof, "inclusion in checkpoint"),
    (edit_checkpoint, "checkpoint signature"),
]


@pytest.mark.asyncio
async def test_hand_edited_bundles_fail_naming_the_check(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    """Editing a payload byte, a raw answer, a proof hash or a checkpoint line fails that check."""
    _, path = await exported(client, gateway, cases[1], tmp_path, "cli-edit")
    for change, check in EDITS:
        result = await hedui(gateway, "audit", "verify-bundle", str(edit(path, change)))
        assert result.exit_code == 1, (check, result.output)
        assert f"✗ {check}:" in result.output, result.output
        assert f"FAILED: {check}" in result.output or f", {check}" in result.output


@pytest.mark.asyncio
async def test_wrong_auditor_key_fails_the_signature(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    """A bundle checked against a key the auditor trusts but that did not sign it fails."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.keys import Ed25519Signer

    _, path = await exported(client, gateway, cases[2], tmp_path, "cli-key")
    pem = tmp_path / "other.pem"
    pem.write_text(Ed25519Signer(Ed25519PrivateKey.generate()).public_pem())
    result = await hedui(gateway, "audit", "verify-bundle", str(path), "--key", str(pem))
    assert result.exit_code == 1
    assert "✗ envelope signature" in result.output


@pytest.mark.asyncio
async def test_verify_log_passes_then_names_tampered_leaf_and_checkpoint(
    client: Client, gateway: Gateway, cases: list[dict[str, Any]], tmp_path: Path
) -> None:
    """verify-log passes a clean log, names an edited leaf, and catches an edited checkpoint."""
    _, _path = await exported(client, gateway, cases[3], tmp_path, "cli-log")
    clean = await hedui(gateway, "audit", "verify-log")
    assert clean.exit_code == 0, clean.output
    note = (await gateway.audit_log.latest_checkpoint()) or pytest.fail("no checkpoint")
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(checkpoints_table)
            .where(checkpoints_table.c.size == note.size)
            .values(note=note.note.replace("\n\n", "\nextra line\n\n", 1))
        )
    bad_checkpoint = await hedui(gateway, "audit", "verify-log")
    assert bad_checkpoint.exit_code == 1
    assert f"checkpoint at size {note.size}" in bad_checkpoint.output
    async with gateway.engine.begin() as conn:
        await conn.execute(
            update(checkpoints_table)
            .where(checkpoints_table.c.size == note.size)
            .values(note=note.note)
        )
        await conn.execute(update(leaves).where(leaves.c.idx == 3).values(entry=b"{}"))
    bad_leaf = await hedui(gateway, "audit", "verify-log")
    assert bad_leaf.exit_code == 1
    assert "first tampered entry: leaf 3" in bad_leaf.output


@pytest.mark.asyncio
async def test_key_rotation_is_logged_and_listed(client: Client, gateway: Gateway) -> None:
    """`hedui keys rotate` logs KeyRetired/KeyCreated; ListSigningKeys lists the retired key."""
    before = gateway.keys.public_keys("report")
    result = await hedui(gateway, "keys", "rotate", "--role", "report")
    assert result.exit_code == 0, result.output
    size = await gateway.audit_log.size()
    kinds = [json.loads(e)["type"] for e in await gateway.audit_log.entries(size - 2, size)]
    assert kinds == ["key_retired", "key_created"]
    stub = apb_grpc.AuditServiceStub(client.channel)
    keys = (await stub.ListSigningKeys(apb.ListSigningKeysRequest())).keys
    report_keys = {k.key_id: k for k in keys if k.role == "report"}
    assert len(report_keys) == 2
    old = report_keys[before[0].keyid]
    assert old.HasField("retired_at")
    assert old.public_key_pem == before[0].pem
    assert sum(not k.HasField("retired_at") for k in report_keys.values()) == 1
    assert all(k.note_vkey for k in keys if k.role == "checkpoint")
