"""``python -m bench [NAME …]``: run benchmarks, print a table, save JSON in ``bench/results``."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench import REGISTRY
from bench._common import RESULTS_DIR, Options
from bench.harness import Result, print_table, uptime, write_json

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run hedui's benchmarks, each against a baseline measured in the same run.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help="benchmarks to run (default: all but selftest): " + ", ".join(REGISTRY),
    )
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="short runs, 10⁵ audit leaves")
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    parser.add_argument(
        "--soak-seconds",
        type=float,
        default=60.0,
        help="memory soak length (600 for the full figure)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="closed-loop client callers")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (gateway and echo alike; hedui serve --workers)",
    )
    parser.add_argument(
        "--channels", type=int, default=None, help="client channels (default: one per worker)"
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="pipeline/http/latency: the gateway on fresh local PostgreSQL databases, not SQLite",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="latency: the open-loop rate (req/s) instead of half of the measured saturation, "
        "to compare two versions at the same load",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the pipeline server")
    parser.add_argument(
        "--loop",
        choices=("asyncio", "uvloop"),
        default="asyncio",
        help="every server's event loop, the baselines' too (default asyncio, as hedui serve)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named benchmarks (all but ``selftest`` by default); 0 when every target passes."""
    args = _parser().parse_args(argv)
    unknown = [n for n in args.names if n not in REGISTRY]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
        return 2
    if args.rate is not None and args.rate <= 0:
        print(f"--rate must be a positive number of requests per second, not {args.rate}")
        return 2
    names = args.names or [n for n in REGISTRY if n != "selftest"]
    opts = Options(
        rounds=args.rounds or (1 if args.quick else 3),
        quick=args.quick,
        soak_seconds=args.soak_seconds,
        profile=args.profile,
        event_loop=args.loop,
        concurrency=args.concurrency,
        workers=args.workers,
        postgres=args.postgres,
        channels=args.channels or args.workers,
        rate=args.rate,
    )
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M:%S} UTC · {uptime()} · servers on {args.loop}")
    results: list[Result] = []
    for name in names:
        print(f"── {name} ──", flush=True)
        results += REGISTRY[name](opts)
        print_table([r for r in results if r.benchmark.startswith(name)])
    print_table(results)
    print(f"finished · {uptime()}")
    stamp = started.strftime("%Y%m%dT%H%M%S")
    path = args.json or RESULTS_DIR / f"{'-'.join(names)}-{stamp}.json"
    command = "python -m bench " + shlex.join(list(argv if argv is not None else sys.argv[1:]))
    write_json(results, path, command=command, started=started.isoformat(timespec="seconds"))
    print(f"results written to {path}")
    return 0 if all(r.passed is not False for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
