"""Logging: JSON and console rendering, request ids, and masking of ID numbers and names."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import structlog
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import regions
from gateway.domain import Member
from gateway.idnumber import check_digit
from gateway.logging import (
    bind_request,
    configure_logging,
    mask_id_numbers,
    mask_name,
)

ID = "610102198001011237"
ID_X = "11010519491231002X"


def capture(json_lines: bool = True, level: str = "debug") -> io.StringIO:
    """Configure logging into a fresh buffer and return it."""
    buffer = io.StringIO()
    configure_logging(json=json_lines, level=level, file=buffer)
    return buffer


def lines(buffer: io.StringIO) -> list[dict[str, object]]:
    """The JSON lines written so far."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


@pytest.fixture(autouse=True)
def _reset_structlog() -> Iterator[None]:
    """Leave structlog as we found it."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def test_json_lines_with_utc_iso_timestamp_and_level() -> None:
    """Production output is one JSON object per line with an ISO UTC timestamp and the level."""
    buffer = capture()
    structlog.get_logger().info("started", port=50051)
    (line,) = lines(buffer)
    assert (line["event"], line["level"], line["port"]) == ("started", "info", 50051)
    stamp = datetime.fromisoformat(str(line["timestamp"]))
    assert stamp.utcoffset() == timedelta(0)


def test_level_filters() -> None:
    """Lines below the configured level are dropped; unknown levels are refused."""
    buffer = capture(level="warning")
    structlog.get_logger().info("quiet")
    structlog.get_logger().warning("loud")
    assert [line["event"] for line in lines(buffer)] == ["loud"]
    with pytest.raises(ValueError, match="unknown log level 'chatty'"):
        configure_logging(json=True, level="chatty")


def test_request_id_is_bound_within_the_block() -> None:
    """Every line inside bind_request carries its request_id; lines after it do not."""
    buffer = capture()
    log = structlog.get_logger()
    with bind_request("req-42"):
        log.info("one")
        log.info("two")
    log.info("after")
    assert [line.get("request_id") for line in lines(buffer)] == ["req-42", "req-42", None]


def test_request_ids_do_not_leak_between_tasks() -> None:
    """Concurrent asyncio tasks each log their own request_id."""
    buffer = capture()

    async def handle(request_id: str) -> None:
        with bind_request(request_id):
            await asyncio.sleep(0)
            structlog.get_logger().info("handled", expected=request_id)

    async def main() -> None:
        await asyncio.gather(*(handle(f"r{i}") for i in range(5)))

    asyncio.run(main())
    assert all(line["request_id"] == line["expected"] for line in lines(buffer))


def test_id_numbers_are_masked_everywhere() -> None:
    """ID numbers are masked in the event, in values, in nested structures, keys and numbers."""
    buffer = capture()
    structlog.get_logger().info(
        f"checking {ID} and {ID_X.lower()}",
        id_number=ID,
        nested={"members": [{"id": ID_X}, (ID, 1)], ID: "as a key"},
        as_int=int(ID),
        as_set={ID},
    )
    out = buffer.getvalue()
    for secret in (ID, ID_X, ID_X.lower()):
        assert secret not in out
    assert "610102***********7" in out
    assert "110105***********X" in out


def test_exception_text_is_masked() -> None:
    """An ID number inside an exception message or traceback does not survive."""
    buffer = capture()
    try:
        raise ValueError(f"source rejected {ID}")
    except ValueError:
        structlog.get_logger().exception("query failed")
    (line,) = lines(buffer)
    assert "610102***********7" in str(line["exception"])
    assert ID not in buffer.getvalue()


def test_name_keys_are_masked() -> None:
    """Values of name, *_name and nested name keys keep only their first character."""
    buffer = capture()
    structlog.get_logger().info(
        "member", name="张三丰", member_name="李四", household={"head": {"name": "王五"}}
    )
    (line,) = lines(buffer)
    assert (line["name"], line["member_name"]) == ("张**", "李*")
    assert line["household"] == {"head": {"name": "王*"}}


def test_structlog_own_name_keys_are_kept() -> None:
    """Callsite keys such as func_name are not personal data and stay readable."""
    buffer = capture()
    structlog.get_logger().info("x", func_name="handle", adapter="hukou")
    assert lines(buffer)[0]["func_name"] == "handle"


def test_logged_dataclass_is_masked() -> None:
    """A domain object logged whole is turned into a dict whose ID and name are masked."""
    buffer = capture()
    structlog.get_logger().info("member", member=Member(id_number=ID, name="张三", relation="self"))
    (line,) = lines(buffer)
    assert line["member"]["id_number"] == "610102***********7"  # type: ignore[index]
    assert line["member"]["name"] == "张*"  # type: ignore[index]


def test_console_output_is_readable_and_masked() -> None:
    """The console renderer writes key=value text, masked the same way, without colour codes."""
    buffer = capture(json_lines=False)
    with bind_request("req-7"):
        structlog.get_logger().info(f"hello {ID}", member_name="张三")
    out = buffer.getvalue()
    assert "hello 610102***********7" in out
    assert "request_id=req-7" in out
    assert ID not in out
    assert "张三" not in out
    assert "\x1b[" not in out


def test_faker_names_never_survive() -> None:
    """Faker zh_CN names logged under name keys never appear in the output."""
    fake = Faker("zh_CN")
    fake.seed_instance(2260)
    buffer = capture()
    names = [fake.name() for _ in range(50)]
    for name in names:
        structlog.get_logger().info("m", member_name=name, member={"name": name})
    out = buffer.getvalue()
    assert not [name for name in names if name in out]


def test_mask_helpers() -> None:
    """mask_id_numbers keeps 6 + 1 characters of long digit runs; mask_name keeps the surname."""
    assert mask_id_numbers(f"a{ID}b") == "a610102***********7b"
    assert mask_id_numbers("12345678901234567") == "12345678901234567"  # 17 digits: not an ID
    assert (mask_name("张三"), mask_name("张"), mask_name("")) == ("张*", "*", "*")


def test_ids_inside_longer_digit_runs_are_masked() -> None:
    """An ID glued to other digits (17 before it, 17 after it) is still masked."""
    for text in ("1" * 17 + ID, ID + "2" * 17, "9" * 17 + ID_X + "x" * 5):
        assert ID not in mask_id_numbers(text)
        assert ID_X not in mask_id_numbers(text)


_ids = st.builds(
    lambda province, birth, tail: province + tail[:4] + f"{birth:%Y%m%d}" + tail[4:],
    st.sampled_from(sorted(regions.province_prefixes())),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 1, 1)),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
).map(lambda first17: first17 + check_digit(first17))


_texts = st.one_of(st.text(max_size=40), st.text(alphabet="0123456789Xx -", max_size=40))


@settings(max_examples=150, deadline=None)
@given(_ids, _texts, _texts, st.booleans())
def test_no_id_number_survives_in_any_text(number: str, before: str, after: str, js: bool) -> None:
    """A valid ID number embedded in arbitrary text never appears in the rendered line."""
    buffer = capture(json_lines=js)
    text = before + number + after
    structlog.get_logger().info(text, detail=text, nested=[{"note": text}])
    assert number not in buffer.getvalue()
