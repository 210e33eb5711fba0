"""Sampling a server process with py-spy and summarising the profile as top frames.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;… count``). The summary
lists frames by *self* samples (where the CPU is spent) and by *inclusive* samples (what the
time is spent under).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

__all__ = ["py_spy_during", "summarise"]


def py_spy_during(pid: int, out: Path, seconds: float) -> Callable[[], None]:
    """Start sampling ``pid`` for ``seconds``; the returned function waits and summarises."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
    command += ["--format", "raw", "--output", str(out), "--nonblocking"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def finish() -> None:
        try:
            _, err = process.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()  # our own py-spy, by its handle
            _, err = process.communicate()
        if process.returncode != 0 or not out.exists():
            print(f"py-spy failed ({process.returncode}): {err.decode(errors='replace')[-500:]}")
            return
        print(summarise(out))

    return finish


def summarise(collapsed: Path, top: int = 25) -> str:
    """The ``top`` frames by self and by inclusive samples, as text."""
    own: Counter[str] = Counter()
    under: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            under[frame] += count
    lines = [f"py-spy: {total} samples from {collapsed}", "", "self %   frame"]
    lines += [f"{100 * n / total:5.1f}   {f}" for f, n in own.most_common(top)]
    lines += ["", "incl %   frame"]
    lines += [f"{100 * n / total:5.1f}   {f}" for f, n in under.most_common(top)]
    return "\n".join(lines)
