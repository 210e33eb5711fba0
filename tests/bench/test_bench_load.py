"""bench._load: a gateway reply whose departments did not answer counts as an error."""

from __future__ import annotations

import time

from bench._load import LoadSpec, _Recorder
from gateway.api._proto.hedui.v1 import verification_pb2 as pb


def _reply(*statuses: int) -> bytes:
    reply = pb.SubmitVerificationResponse()
    for n, status in enumerate(statuses):
        reply.report.sources.add(source=f"s{n}", status=status, latency_us=1000 * (n + 1))
    return bytes(reply.SerializeToString())


def _recorder(check_sources: int) -> _Recorder:
    spec = LoadSpec("127.0.0.1:9", [], duration_s=60, warmup_s=0, check_sources=check_sources)
    return _Recorder(spec)  # warm-up 0: every reply from now on is measured


def test_failed_sources_in_checked_replies_are_errors() -> None:
    """With check_sources=1, every source that is neither OK nor NOT_FOUND is counted by status."""
    recorder = _recorder(check_sources=1)
    answered = _reply(pb.SOURCE_STATUS_OK, pb.SOURCE_STATUS_NOT_FOUND)
    failed = _reply(pb.SOURCE_STATUS_UNAVAILABLE, pb.SOURCE_STATUS_TIMEOUT, pb.SOURCE_STATUS_OK)
    for response in (answered, failed, failed):
        recorder.done(time.perf_counter(), response)
    result = recorder.result()
    assert result.completed == 3
    assert result.errors == {
        "source SOURCE_STATUS_UNAVAILABLE": 2,
        "source SOURCE_STATUS_TIMEOUT": 2,
    }


def test_only_every_nth_reply_is_read_and_none_without_the_check() -> None:
    """check_sources=n reads replies 1, n+1, …; 0 none (the echo's replies are not reports)."""
    failed = _reply(pb.SOURCE_STATUS_DENIED)
    sampled, unchecked = _recorder(check_sources=4), _recorder(check_sources=0)
    for _ in range(8):
        sampled.done(time.perf_counter(), failed)
        unchecked.done(time.perf_counter(), b"\x00" * 16)
    assert sampled.result().errors == {"source SOURCE_STATUS_DENIED": 2}
    assert unchecked.result().errors == {}
