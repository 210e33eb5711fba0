"""Check a ``hedui.bundle.v1`` bundle with no server and no database.

Each check returns nothing or raises, saying what was expected and what was found; the runner
records every outcome, so one failure never hides another. In order:

1. **envelope signature** — DSSE v1 over PAE(payloadType, payload), Ed25519, by a trusted key;
2. **report leaf** — the leaf is a ``report_signed`` event for this report whose
   ``envelope_digest`` is SHA-256 of the envelope's canonical JSON;
3. **inclusion** — RFC 6962 §2.1.1: the leaf's hash and audit path give the checkpoint's root;
4. **checkpoint signature** — C2SP signed-note by a trusted note key, origin as expected;
5. **raw answers** — SHA-256 of every raw answer equals the ``raw_digest`` the report gives it;
6. **replay** — :func:`gateway.replay.replay_payload` (the gateway's own replay) rebuilds the
   payload byte for byte.

Trusted keys are the auditor's own (``--key``, ``--vkey``) when given — obtained from the
operator through another channel — otherwise the keys inside the bundle, which only show that
the bundle is consistent with itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.base import Adapter
from audit import dsse
from audit.checkpoint import Checkpoint, open_checkpoint
from audit.errors import CheckpointError, VerificationError
from audit.events import ReportSigned, parse_entry, sha256_hex
from audit.keys import keyid_of, load_public_pem
from audit.merkle import leaf_hash
from audit.note import NoteVerifier
from audit.proof import verify_inclusion
from gateway.bundle import Bundle
from gateway.fanout import raw_digest
from gateway.policy import PolicyLibrary
from gateway.replay import replay_payload

__all__ = [
    "CHECKS",
    "BundleCheckFailed",
    "CheckResult",
    "Context",
    "Trust",
    "bundle_trust",
    "verify_bundle",
]


@dataclasses.dataclass(frozen=True, slots=True)
class Trust:
    """The keys a check may rely on, and whether the auditor supplied them."""

    report_keys: Mapping[str, Ed25519PublicKey]
    note_keys: Sequence[NoteVerifier]
    report_keys_from_auditor: bool
    note_keys_from_auditor: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    """What the checks rely on: trusted keys, and the adapters and policies replay needs."""

    trust: Trust
    adapters: Mapping[str, Adapter]
    library: PolicyLibrary


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


class BundleCheckFailed(VerificationError):
    """A bundle check that is not a signature or proof failed (e.g. a digest mismatch)."""


def _signature(bundle: Bundle, ctx: Context) -> str:
    dsse.verify(bundle.envelope, ctx.trust.report_keys)
    keyids = ", ".join(s.keyid[:16] + "…" for s in bundle.envelope.signatures)
    return f"Ed25519 DSSE signature by {keyids}"


def _leaf(bundle: Bundle, ctx: Context) -> str:
    event = parse_entry(bundle.entry)
    if not isinstance(event, ReportSigned):
        raise BundleCheckFailed(
            f"leaf {bundle.leaf_index} is a {event.TYPE} event, not report_signed"
        )
    payload_id = json.loads(bundle.envelope.payload).get("report_id")
    if event.report_id != bundle.report_id or payload_id != bundle.report_id:
        raise BundleCheckFailed(
            f"report id: bundle {bundle.report_id}, leaf {event.report_id}, payload {payload_id}"
        )
    digest = sha256_hex(bundle.envelope.to_json())
    if event.envelope_digest != digest:
        raise BundleCheckFailed(
            f"envelope digest: the leaf says {event.envelope_digest}, the envelope is {digest}"
        )
    return f"leaf {bundle.leaf_index} is report_signed with envelope digest {digest[:16]}…"


def _unverified_checkpoint(bundle: Bundle) -> Checkpoint:
    text = bundle.checkpoint.split("\n\n", 1)[0] + "\n"
    return Checkpoint.from_body(text)


def _inclusion(bundle: Bundle, ctx: Context) -> str:
    checkpoint = _unverified_checkpoint(bundle)
    if checkpoint.size != bundle.tree_size:
        raise CheckpointError(
            f"the proof is for size {bundle.tree_size}, the checkpoint is for {checkpoint.size}"
        )
    leaf = leaf_hash(bundle.entry)
    verify_inclusion(
        leaf, bundle.leaf_index, bundle.tree_size, bundle.inclusion_proof, checkpoint.root_hash
    )
    hashes = len(bundle.inclusion_proof)
    return f"leaf {bundle.leaf_index} of {bundle.tree_size} ({hashes} hashes) reaches the root"


def _checkpoint(bundle: Bundle, ctx: Context) -> str:
    checkpoint = open_checkpoint(bundle.checkpoint, ctx.trust.note_keys, origin=bundle.origin)
    return f"{checkpoint.origin} size {checkpoint.size}, signed by a trusted note key"


def _answers(bundle: Bundle, ctx: Context) -> str:
    sources = json.loads(bundle.envelope.payload)["sources"]
    claimed = {s["source"]: s["raw_digest"] for s in sources}
    given = {a.source: raw_digest(a.raw) for a in bundle.answers}
    if set(claimed) != set(given):
        raise BundleCheckFailed(f"sources: report {sorted(claimed)}, answers {sorted(given)}")
    for source, digest in sorted(claimed.items()):
        if given[source] != digest:
            raise BundleCheckFailed(
                f"raw answer of {source}: the report says {digest}, the bytes give {given[source]}"
            )
    return f"{len(given)} raw answers match their digests in the report"


def _replay(bundle: Bundle, ctx: Context) -> str:
    payload, request, answers = bundle.envelope.payload, bundle.request, bundle.answers
    result = replay_payload(payload, request, answers, ctx.adapters, ctx.library)
    result.check()
    return f"{len(result.replayed)} bytes, identical (policy {result.policy_version})"


Check = Callable[[Bundle, "Context"], str]

CHECKS: tuple[tuple[str, Check], ...] = (
    ("envelope signature", _signature),
    ("report leaf", _leaf),
    ("inclusion in checkpoint", _inclusion),
    ("checkpoint signature", _checkpoint),
    ("raw answers", _answers),
    ("replay", _replay),
)


def bundle_trust(bundle: Bundle, pems: Sequence[bytes] = (), vkeys: Sequence[str] = ()) -> Trust:
    """The auditor's keys where given (report PEMs, note vkeys), else the bundle's own."""
    if pems:
        report = {keyid_of(k): k for k in (load_public_pem(p) for p in pems)}
    else:
        report = {k.keyid: load_public_pem(k.pem.encode()) for k in bundle.report_keys}
    if vkeys:
        notes = [NoteVerifier.from_vkey(v.strip()) for v in vkeys]
    else:
        notes = [NoteVerifier.from_vkey(k.vkey) for k in bundle.checkpoint_keys]
    return Trust(report, notes, bool(pems), bool(vkeys))


def verify_bundle(bundle: Bundle, ctx: Context) -> list[CheckResult]:
    """Run every check; a result per check, in order."""
    results = []
    for name, check in CHECKS:
        try:
            results.append(CheckResult(name, True, check(bundle, ctx)))
        except Exception as exc:  # every failure is reported, whatever raised it
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results
