"""The benchmark harness's CPU accounting of a server's processes and threads."""

from __future__ import annotations

import os
import threading
import time

from bench._procs import cpu_seconds, main_thread_cpu_seconds


def _burn(seconds: float) -> None:
    """Use ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_second_threads_cpu_counts_for_the_process_but_not_for_its_main_thread() -> None:
    """``main_thread_cpu_seconds`` leaves out what the other threads used; ``cpu_seconds`` not."""
    pid = os.getpid()
    whole, main = cpu_seconds(pid), main_thread_cpu_seconds(pid)
    worker = threading.Thread(target=_burn, args=(0.3,))
    worker.start()
    worker.join()  # the main thread sleeps meanwhile
    whole, main = cpu_seconds(pid) - whole, main_thread_cpu_seconds(pid) - main
    assert whole >= 0.25  # /proc counts in clock ticks (10 ms)
    assert main < 0.1
