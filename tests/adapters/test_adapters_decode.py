"""Adapter plumbing without the simulator: exact money, schema errors, MockTransport requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.base import (
    AdapterConfig,
    AdapterError,
    MalformedAnswer,
    SourceDenied,
    SourceTimeout,
)
from adapters.builtin import BankAdapter, HukouAdapter, SocialInsuranceAdapter
from adapters.records import BankAccount, InsuranceRecord, RegistrationRecord
from adapters.simulator import DEPARTMENTS
from adapters.testing import make_query

AS_OF = date(2025, 6, 30)
ID = "11010519491231002X"
PERSON = RegistrationRecord(
    record_id="RK1", subject_id=ID, name="张三", gender="M", birth_date=date(1949, 12, 31),
    household_number="000000001", relation_to_head="self", region_code="110105", status="active",
)  # fmt: skip
WAGE = InsuranceRecord(
    record_id="SI1", subject_id=ID, scheme="employee_pension", role="contribution",
    monthly_amount_fen=450_050, employer="某某有限公司", since=date(2020, 1, 1), status="active",
)  # fmt: skip
ACCOUNT = BankAccount(
    record_id="62001", subject_id=ID, bank="中国银行", account_type="time",
    balance_fen=1_234_567, balance_date=AS_OF,
)  # fmt: skip


def _doc(department: str, record: Any) -> dict[str, Any]:
    """The department's answer about ``record`` as the simulator spells it."""
    doc = DEPARTMENTS[department].answer([(ID, [record])], AS_OF)
    assert doc is not None
    return doc


def _bytes(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _config(handler: Callable[[httpx.Request], httpx.Response], **options: Any) -> AdapterConfig:
    transport = httpx.MockTransport(handler)
    return AdapterConfig(
        name="test", base_url="http://dept.test", options={"transport": transport, **options}
    )


def _si_with_amount(amount: Any) -> bytes:
    doc = _doc("social_insurance", WAGE)
    doc["persons"][0]["items"][0]["monthlyAmount"] = amount
    return _bytes(doc)


def test_round_trip_through_department_shape() -> None:
    """Records survive the department's spelling and the adapter's mapping unchanged."""
    hukou = HukouAdapter(AdapterConfig(name="hukou"))
    bank = BankAdapter(AdapterConfig(name="bank"))
    assert hukou.decode(_bytes(_doc("household_registration", PERSON))) == (PERSON,)
    assert bank.decode(_bytes(_doc("bank", ACCOUNT))) == (ACCOUNT,)


@pytest.mark.parametrize(
    ("text", "fen"), [("1.1", 110), ("0.29", 29), ("4500", 450_000), ("1e2", 10_000)]
)
def test_json_number_yuan_convert_exactly(text: str, fen: int) -> None:
    """Yuan given as JSON numbers become exact fen (read as Decimal, never float)."""
    raw = _si_with_amount(0).replace(b'"monthlyAmount": 0', f'"monthlyAmount": {text}'.encode())
    (record,) = SocialInsuranceAdapter(AdapterConfig(name="si")).decode(raw)
    assert isinstance(record, InsuranceRecord)
    assert record.monthly_amount_fen == fen


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(queryDate="2025/06/30"), "queryDate"),
        (lambda d: d.pop("persons"), "persons"),
        (lambda d: d["persons"][0]["items"][0].update(monthlyAmount="12.345"), "monthlyAmount"),
        (lambda d: d["persons"][0]["items"][0].update(monthlyAmount=True), "monthlyAmount"),
        (lambda d: d["persons"][0]["items"][0].update(insuranceType="999"), "unknown code"),
        (lambda d: d["persons"][0].update(items={"a": 1}), "items"),
        (lambda d: d["persons"].append("x"), r"persons\[1\]"),
    ],
)
def test_schema_mismatch_is_malformed(
    mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    """A wrong type, a missing key, a bad code or a third decimal raises MalformedAnswer."""
    doc = _doc("social_insurance", WAGE)
    mutate(doc)
    with pytest.raises(MalformedAnswer, match=message):
        SocialInsuranceAdapter(AdapterConfig(name="si")).decode(_bytes(doc))


@pytest.mark.parametrize(
    "raw", [b"", b"\xff\xfe", b"[]", b"null", b'{"department": "x"', b"<html>"]
)
def test_garbage_is_malformed(raw: bytes) -> None:
    """Empty, non-UTF-8, non-object and cut-off bodies raise MalformedAnswer."""
    with pytest.raises(MalformedAnswer):
        HukouAdapter(AdapterConfig(name="hukou")).decode(raw)


def test_foreign_currency_is_malformed() -> None:
    """A bank account that is not in CNY is not silently summed as fen."""
    doc = _doc("bank", ACCOUNT)
    doc["customers"][0]["accounts"][0]["currency"] = "USD"
    with pytest.raises(MalformedAnswer, match="currency"):
        BankAdapter(AdapterConfig(name="bank")).decode(_bytes(doc))


def test_unknown_relation_code_is_other() -> None:
    """A GB/T 4761 relation code outside the table maps to 'other', not an error."""
    doc = _doc("household_registration", PERSON)
    doc["results"][0]["person"]["yhzgx"] = "71"
    (record,) = HukouAdapter(AdapterConfig(name="hukou")).decode(_bytes(doc))
    assert isinstance(record, RegistrationRecord)
    assert record.relation_to_head == "other"


@pytest.mark.asyncio
async def test_fetch_posts_the_shared_request_and_keeps_exact_bytes() -> None:
    """fetch POSTs ids, as_of, purpose and authorization; it returns the bytes as sent."""
    body = _bytes(_doc("household_registration", PERSON)) + b"\n"
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    adapter = HukouAdapter(_config(handler))
    raw = await adapter.fetch(make_query(ID, request_id="req-9"))
    await adapter.aclose()
    sent = json.loads(seen[0].content)
    assert (seen[0].method, seen[0].url.path) == ("POST", "/hukou/v1/persons:query")
    assert seen[0].headers["X-Request-Id"] == "req-9"
    assert sent == {"request_id": "req-9", "id_numbers": [ID], "as_of": "2025-06-30",
                    "purpose": "APPLICATION", "authorization_ref": "AUTH-TEST"}  # fmt: skip
    assert (raw.body, raw.department, raw.as_of) == (body, "公安机关户籍管理", AS_OF)


@pytest.mark.asyncio
async def test_path_option_overrides_the_department_path() -> None:
    """options['path'] points an adapter at another path of the same API shape."""
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, content=_bytes(_doc("household_registration", PERSON)))

    adapter = HukouAdapter(_config(handler, path="/gab/v3/query"))
    await adapter.fetch(make_query(ID))
    await adapter.aclose()
    assert paths == ["/gab/v3/query"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error"), [(401, SourceDenied), (302, AdapterError), (503, AdapterError)]
)
async def test_status_codes_map_to_adapter_errors(status: int, error: type[AdapterError]) -> None:
    """401 is SourceDenied; redirects and 503 (even with an HTML body) are AdapterError."""
    adapter = HukouAdapter(_config(lambda _: httpx.Response(status, content=b"<html>")))
    with pytest.raises(error, match=f"HTTP {status}") as caught:
        await adapter.fetch(make_query(ID))
    await adapter.aclose()
    assert type(caught.value) is error


@pytest.mark.asyncio
async def test_no_time_left_fails_without_asking() -> None:
    """A query with no time left raises SourceTimeout and sends nothing."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    adapter = HukouAdapter(_config(handler))
    with pytest.raises(SourceTimeout):
        await adapter.fetch(make_query(ID, timeout_s=0.0))
    await adapter.aclose()
    assert calls == []
