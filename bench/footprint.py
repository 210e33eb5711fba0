"""``footprint``: the work one verification costs, measured in-process and deterministically.

The served benchmarks swing by ±10 % with the machine's load; these figures do not. Subject:
the gateway's pipeline in-process (no gRPC; seven in-process instant sources, Ed25519, audit
leaves and the background integrator, SQLite), ``pipeline.submit`` from 32 callers in a closed
loop, 3,000 verifications per round after 200 of warm-up (``--quick``: 300 after 50), each round
a fresh database in a fresh child process. Per verification it reports:

1. CPU: the process's ``time.process_time()`` (every thread), beside a baseline that only
   DSSE-signs (Ed25519) and SHA-256-hashes a payload the size of a real report;
2. bytes written: the process's ``wchar`` (``/proc/self/io``; logging goes to ``os.devnull``
   at WARNING, so it is SQLite: WAL frames and checkpoints), beside the logical bytes stored
   (every text and blob value of the gateway and audit tables, over the number of reports):
   the ratio is SQLite's write amplification;
3. the database file (main + ``-wal``) after the gateway closed, over the number of reports.

1 and 2 are measured again with **one caller** (a third of the verifications, half the
warm-up): every group-commit transaction then holds a single write, as below saturation, where
``latency`` runs; the difference to 32 callers is what batching saves.

Nothing is judged: the point is to make changes measurable.
"""

from __future__ import annotations

import dataclasses

from bench._common import Options
from bench._footprint import FootprintSpec, measure, sign_and_hash
from bench._procs import in_child
from bench.harness import Result, Rounds, Target, alternate

__all__ = ["NAME", "footprint_results", "run"]

NAME = "footprint"
REPORT = Target("report")
PROBE = FootprintSpec(n=200, warmup=0)  # one request per benchmark household


def run(opts: Options) -> list[Result]:
    n, warmup = (300, 50) if opts.quick else (3_000, 200)
    payload = in_child(measure, PROBE)["payload_bytes"]  # the baseline signs as many bytes
    spec = FootprintSpec(n, warmup, opts.concurrency, round(payload), opts.event_loop)
    rounds = alternate(
        opts.rounds, lambda: in_child(measure, spec), lambda: in_child(sign_and_hash, spec)
    )
    # one caller: every transaction holds one request's write, as below saturation
    alone = dataclasses.replace(spec, n=n // 3, warmup=warmup // 2, concurrency=1)
    lone_rounds = alternate(
        opts.rounds, lambda: in_child(measure, alone), lambda: in_child(sign_and_hash, alone)
    )
    cpu, written, file = footprint_results(rounds, spec)
    lone = [
        dataclasses.replace(result, metric=f"{result.metric}, one caller")
        for result in footprint_results(lone_rounds, alone)[:2]  # its file: the same rows
    ]
    return [cpu, written, *lone, file]


def footprint_results(rounds: Rounds, spec: FootprintSpec) -> list[Result]:
    """CPU beside signing and hashing; bytes written and file size beside the logical bytes."""
    s, b, load = rounds.subject, rounds.baseline, rounds.load
    counts = f"{spec.n:,} after {spec.warmup:,} warm-up, {spec.concurrency} callers"
    return [
        Result(
            NAME,
            "CPU per verification",
            "ms",
            s["cpu_ms"],
            REPORT,
            b["cpu_ms"],
            "sign+hash",
            load,
            f"{counts}; baseline payload {spec.payload_bytes:,} bytes",
        ),
        Result(
            NAME,
            "written per verification",
            "bytes",
            s["wchar"],
            REPORT,
            s["logical"],
            "logical",
            load,
            "wchar of /proc/self/io (SQLite WAL and checkpoints) over the logical bytes stored",
        ),
        Result(
            NAME,
            "database file per verification",
            "bytes",
            s["db_file"],
            REPORT,
            s["logical"],
            "logical",
            load,
            "main file + -wal after closing, over every stored report (warm-up included)",
        ),
    ]
